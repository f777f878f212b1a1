"""A file named like an export but not delimited text: one error naming the file and what it is."""

from __future__ import annotations

import logging
import random
import zlib
from pathlib import Path

import pytest
from crm2twenty_common.exports import ExportError, ExportFile


def write_file(folder: Path, name: str, data: str | bytes, encoding: str = "utf-8") -> Path:
    path = folder / name
    path.write_bytes(data if isinstance(data, bytes) else data.encode(encoding))
    return path


NOISE = random.Random(12).randbytes(4000)  # fixed: a test's input does not change per run
# The start of a real PNG: signature, IHDR chunk, then deflated (random-looking) image data.
PNG = (
    b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x10\x00\x00\x00\x10\x08\x06\x00\x00\x00"
    + zlib.compress(NOISE)
)
# An .xlsx is a ZIP archive.
XLSX = b"PK\x03\x04\x14\x00\x06\x00\x08\x00\x00\x00!\x00" + zlib.compress(NOISE)


@pytest.mark.parametrize(
    ("data", "looks_like"),
    [
        (PNG, "a Portable Network Graphics file (image/png)"),
        (XLSX, "a Microsoft Office 2007+ Open XML Format Document file"),
        (NOISE[:3000], "binary data, not text"),
    ],
)
def test_a_binary_file_is_named_for_what_it_is(
    tmp_path: Path, data: bytes, looks_like: str
) -> None:
    path = write_file(tmp_path, "people.csv", data)
    with pytest.raises(ExportError) as caught:
        ExportFile(path)
    assert str(caught.value).startswith(f"people.csv: not a text file, it looks like {looks_like}")


@pytest.mark.parametrize(
    ("text", "encoding"),
    [
        ("id,name\n1,Zoë\n", "utf-16"),  # half its bytes are NUL: still text
        ("id;name\n1;Ça va\n", "cp1252"),
        ("id,name\n1,A\x00na\n2,Bob\n", "utf-8"),  # one NUL: a bad row, not a binary file
    ],
)
def test_text_in_any_encoding_is_not_taken_for_binary(
    tmp_path: Path, text: str, encoding: str
) -> None:
    path = write_file(tmp_path, "people.csv", text, encoding)
    assert ExportFile(path).columns == ["id", "name"]


@pytest.mark.parametrize(
    ("data", "says"),
    [
        ('{"people": [{"id": 1}]}', "not a delimited file, it looks like a JSON document;"),
        ("<!DOCTYPE html>\n<html><body>Export</body></html>", "it looks like an HTML page;"),
        ("Dear customer\nyour export is attached\n", "its first line has no comma, semicolon or"),
    ],
)
def test_a_text_file_that_is_no_table_says_what_it_looks_like(
    tmp_path: Path, sync, data: str, says: str
) -> None:
    write_file(tmp_path, "people.csv", data)
    with pytest.raises(ExportError) as caught:
        sync()
    assert str(caught.value).startswith("people.csv: not a delimited file")
    assert says in str(caught.value)


def test_a_one_column_file_with_its_key_is_still_a_stream(tmp_path: Path, sync) -> None:
    write_file(tmp_path, "people.csv", "id\n1\n2\n")
    assert [r["id"] for r in sync().records("people")] == [1, 2]


def test_the_tap_warns_of_a_repeated_header_naming_the_file_and_columns(
    tmp_path: Path, sync, caplog: pytest.LogCaptureFixture
) -> None:
    write_file(tmp_path, "people.csv", "id,E-mail,E-mail\n1,a@x.org,b@x.org\n")
    with caplog.at_level(logging.WARNING):
        run = sync()
    (record,) = run.records("people")
    assert (record["email"], record["e_mail_2"]) == ("a@x.org", "b@x.org")
    assert [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING] == [
        "people.csv: the header 'E-mail' of column 3 repeats column 2's; it is read as e_mail_2"
    ]
