"""Encoding detection: forced setting, BOMs, whole-file UTF-8 check, cp1252 fallback."""

from __future__ import annotations

import codecs
from pathlib import Path
from typing import Any

import pytest
from crm2twenty_common.exports import ExportFile
from crm2twenty_common.exports.encoding import CHUNK, detect_encoding
from export_rows import good_rows

TEXT = "id,name\n1,Zoë\n2,Łukasz\n"


def cells(path: Path, **kw: Any) -> list[str]:
    return [row["name"] for _, row in good_rows(ExportFile(path, **kw).rows())]


@pytest.mark.parametrize(
    ("raw", "codec"),
    [
        (TEXT.encode("utf-8"), "utf-8"),
        (codecs.BOM_UTF8 + TEXT.encode("utf-8"), "utf-8-sig"),
        (codecs.BOM_UTF16_LE + TEXT.encode("utf-16-le"), "utf-16"),
        (codecs.BOM_UTF16_BE + TEXT.encode("utf-16-be"), "utf-16"),
    ],
    ids=["utf8", "utf8-bom", "utf16-le-bom", "utf16-be-bom"],
)
def test_unicode_files_are_detected_and_read_back(tmp_path: Path, raw: bytes, codec: str) -> None:
    path = tmp_path / "p.csv"
    path.write_bytes(raw)
    assert detect_encoding(path) == codec
    assert ExportFile(path).raw_header == ["id", "name"]  # no BOM left on the first header
    assert cells(path) == ["Zoë", "Łukasz"]


def test_cp1252_is_the_fallback_and_keeps_accents_euro_and_smart_quotes(tmp_path: Path) -> None:
    path = tmp_path / "p.csv"
    path.write_bytes("id,name\n1,Café €5 “quoted” l’offre\n".encode("cp1252"))
    assert detect_encoding(path) == "cp1252"
    assert cells(path) == ["Café €5 “quoted” l’offre"]


def test_invalid_utf8_after_the_first_chunk_still_means_cp1252(tmp_path: Path) -> None:
    # The check covers the whole file, not a head sample.
    path = tmp_path / "p.csv"
    ascii_rows = b"1,plain ascii\n" * (CHUNK // 14 + 10)
    path.write_bytes(b"id,name\n" + ascii_rows + "2,é\n".encode("cp1252"))
    assert detect_encoding(path) == "cp1252"
    assert cells(path)[-1] == "é"


def test_a_utf8_sequence_split_across_chunks_is_still_utf8(tmp_path: Path) -> None:
    path = tmp_path / "p.csv"
    head = b"id,name\n1,"
    pad = b"a" * (CHUNK - len(head) - 1)
    path.write_bytes(head + pad + "é\n".encode())  # é's two bytes straddle the chunk border
    assert detect_encoding(path) == "utf-8"


def test_bytes_cp1252_leaves_undefined_are_read_not_refused(tmp_path: Path) -> None:
    path = tmp_path / "p.csv"
    path.write_bytes(b"id,name\n1,a\x81b\x9d\n")
    assert detect_encoding(path) == "cp1252"
    assert cells(path) == ["a\x81b\x9d"]


def test_a_forced_encoding_wins_over_detection(tmp_path: Path) -> None:
    path = tmp_path / "p.csv"
    path.write_bytes("id,name\n1,Zoë\n".encode())  # valid UTF-8 ...
    assert detect_encoding(path, "latin-1") == "iso8859-1"
    assert cells(path, encoding="latin-1") == ["ZoÃ«"]  # ... read as the user said


def test_an_unknown_encoding_name_is_a_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "p.csv"
    path.write_text(TEXT)
    with pytest.raises(ValueError, match="unknown encoding 'klingon-8'"):
        detect_encoding(path, "klingon-8")
