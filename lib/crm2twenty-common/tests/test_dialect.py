"""Delimiter sniffing (comma, semicolon, tab), the forced setting, and line endings."""

from __future__ import annotations

from pathlib import Path

import pytest
from crm2twenty_common.exports import ExportFile
from crm2twenty_common.exports.dialect import delimiter_setting, sniff_sample
from export_rows import good_rows


@pytest.mark.parametrize("delimiter", [",", ";", "\t"], ids=["comma", "semicolon", "tab"])
def test_delimiters_are_sniffed_and_rows_split_on_them(tmp_path: Path, delimiter: str) -> None:
    d = delimiter
    text = f'id{d}name{d}city\n1{d}"Ruiz, Ana; Jr"{d}Paris\n2{d}Bob{d}Lyon\n'
    path = tmp_path / "p.csv"
    path.write_text(text)
    export = ExportFile(path)
    assert export.delimiter == delimiter
    assert [row["name"] for _, row in good_rows(export.rows())] == ["Ruiz, Ana; Jr", "Bob"]


def test_the_header_line_corrects_a_fooled_sniffer() -> None:
    # One data row whose text is full of commas: the sniffer alone would pick a comma.
    sample = "id;note\n1;a, b, c, d, e, f\n"
    assert sniff_sample(sample) == ";"


def test_a_single_column_file_reads_as_comma() -> None:
    assert sniff_sample("id\n1\n2\n") == ","


@pytest.mark.parametrize(
    ("setting", "expected"),
    [
        (",", ","),
        (";", ";"),
        ("tab", "\t"),
        ("\\t", "\t"),
        ("\t", "\t"),
        ("Semicolon", ";"),
        ("pipe", "|"),
        (None, None),
        ("", None),
    ],
)
def test_delimiter_setting_spellings(setting: str | None, expected: str | None) -> None:
    assert delimiter_setting(setting) == expected


def test_an_unknown_delimiter_setting_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown delimiter"):
        delimiter_setting("#")


def test_a_forced_delimiter_wins(tmp_path: Path) -> None:
    path = tmp_path / "p.csv"
    path.write_text("id,name;x\n1,a;b\n")
    assert [row for _, row in good_rows(ExportFile(path, delimiter=";").rows())] == [
        {"id_name": "1,a", "x": "b"}
    ]


@pytest.mark.parametrize("newline", ["\r\n", "\r", "\n"], ids=["crlf", "cr", "lf"])
def test_line_endings_and_quoted_newlines_keep_line_numbers(tmp_path: Path, newline: str) -> None:
    nl = newline
    text = nl.join(["id,note", '1,"first', 'second"', "2,x", "", "3,y", "", ""])
    path = tmp_path / "p.csv"
    path.write_bytes(text.encode())
    rows = good_rows(ExportFile(path).rows())
    # the quoted cell spans lines 2-3, so row 2 starts on line 4; line 5 is blank
    assert [(line, row["id"]) for line, row in rows] == [(2, "1"), (4, "2"), (6, "3")]
    assert rows[0][1]["note"] == f"first{nl}second"
