"""The row reader: (line, dict) rows, blank lines, ragged rows, bad rows with their text."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from crm2twenty_common.exports import BadRow, ExportError, ExportFile
from crm2twenty_common.exports.rows import RAW_LIMIT
from export_rows import good_rows


def read(path: Path) -> list:
    return list(ExportFile(path).rows())


def test_rows_are_dicts_with_the_line_they_start_on(tmp_path: Path) -> None:
    path = tmp_path / "p.csv"
    path.write_text('\n\nid,name,note\n1,Ana,"two\nlines"\n2,Bob,\n')
    export = ExportFile(path)
    assert export.header_line == 3  # blank lines before the header are skipped
    assert list(export.rows()) == [
        (4, {"id": "1", "name": "Ana", "note": "two\nlines"}),
        (6, {"id": "2", "name": "Bob", "note": None}),
    ]


def test_blank_lines_anywhere_and_at_the_end_are_skipped(tmp_path: Path) -> None:
    path = tmp_path / "p.csv"
    path.write_text("id,name\n1,a\n\n,\n   \n2,b\n\n\n,,\n")
    assert [(line, row["id"]) for line, row in read(path)] == [(2, "1"), (6, "2")]


def test_short_rows_get_nulls_and_long_rows_with_empty_extras_are_fine(tmp_path: Path) -> None:
    path = tmp_path / "p.csv"
    path.write_text("id,name,city\n1,Ana\n2,Bob,Paris,,  \n")
    assert [row for _, row in read(path)] == [
        {"id": "1", "name": "Ana", "city": None},
        {"id": "2", "name": "Bob", "city": "Paris"},
    ]


def test_a_long_row_with_data_in_the_extra_cells_is_a_bad_row(tmp_path: Path) -> None:
    path = tmp_path / "p.csv"
    path.write_text("id,name\n1,Ana\n2,Bob,surplus\n3,Cy\n")
    rows = read(path)
    assert rows[1] == BadRow("p.csv", 3, "row has 3 cells but the header has 2", "2,Bob,surplus")
    assert rows[1].location == "p.csv:3"
    assert [r[1]["id"] for r in (rows[0], rows[2])] == ["1", "3"]  # the reader goes on


def test_an_unterminated_quote_at_the_end_is_a_bad_row_with_its_text(tmp_path: Path) -> None:
    path = tmp_path / "p.csv"
    path.write_text('id,name\n1,Ana\n2,"Bob\n3,Cy\n')
    rows = read(path)
    assert rows[0] == (2, {"id": "1", "name": "Ana"})
    bad = rows[1]
    assert isinstance(bad, BadRow)
    assert bad.line == 3
    assert "cannot be parsed as CSV" in bad.reason
    assert bad.raw_text == '2,"Bob\n3,Cy'
    assert len(rows) == 2


def test_text_after_a_closing_quote_is_a_bad_row(tmp_path: Path) -> None:
    path = tmp_path / "p.csv"
    path.write_text('id,name\n1,"Ana" Jr\n2,Bob\n')
    rows = read(path)
    assert isinstance(rows[0], BadRow) and rows[0].line == 2
    assert rows[1] == (3, {"id": "2", "name": "Bob"})


def test_a_nul_character_makes_a_bad_row_on_every_python(tmp_path: Path) -> None:
    path = tmp_path / "p.csv"
    path.write_bytes(b"id,name\n1,A\x00na\n2,Bob\n")
    rows = read(path)
    assert rows[0] == BadRow("p.csv", 2, "contains a NUL character", "1,A\x00na")
    assert rows[1] == (3, {"id": "2", "name": "Bob"})


def test_raw_text_is_cut_at_the_limit(tmp_path: Path) -> None:
    path = tmp_path / "p.csv"
    path.write_text("id,name\n1,Ana," + "x" * 5000 + "\n")
    (bad,) = read(path)
    assert isinstance(bad, BadRow)
    assert len(bad.raw_text or "") == RAW_LIMIT


def test_an_empty_file_has_no_header_and_no_rows(tmp_path: Path) -> None:
    path = tmp_path / "p.csv"
    path.write_text("\n\n")
    export = ExportFile(path)
    assert not export.has_header
    assert read(path) == []


def test_a_broken_header_is_an_error_naming_the_file(tmp_path: Path) -> None:
    path = tmp_path / "p.csv"
    path.write_text('id,"name\n')
    with pytest.raises(ExportError, match=r"p.csv:1: the header row cannot be parsed"):
        ExportFile(path)


def test_bytes_invalid_in_a_forced_encoding_are_an_error_naming_it(tmp_path: Path) -> None:
    path = tmp_path / "p.csv"
    path.write_bytes(b"id,name\n1,\xe9\n")
    export = ExportFile(path, encoding="cp1252")
    assert [row["name"] for _, row in good_rows(export.rows())] == ["é"]
    with pytest.raises(ExportError, match=r"p.csv: not valid utf-8 .*`encoding` setting"):
        list(ExportFile(path, encoding="utf-8").rows())


def _rss_bytes() -> int:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


@pytest.mark.skipif(not Path("/proc/self/statm").exists(), reason="reads Linux /proc")
def test_memory_stays_flat_over_a_million_rows(tmp_path: Path) -> None:
    path = tmp_path / "big.csv"
    with path.open("w") as handle:
        handle.write("id,name,amount\n")
        handle.writelines(f"{i},name {i},{i}.5\n" for i in range(1_000_000))
    count = last = 0
    rss: dict[int, int] = {}
    for line, _row in good_rows(ExportFile(path).rows()):
        count, last = count + 1, line
        if count in (100_000, 1_000_000):
            rss[count] = _rss_bytes()
    assert (count, last) == (1_000_000, 1_000_001)
    # Holding the 25 MB file's rows would add hundreds of MB between these two points.
    assert rss[1_000_000] - rss[100_000] < 8_000_000
