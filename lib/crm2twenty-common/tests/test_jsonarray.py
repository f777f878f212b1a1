"""JSON array export files: streamed elements, their lines, keys as columns, broken JSON."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from crm2twenty_common.exports import BadRow, ExportError, JsonArrayFile
from crm2twenty_common.exports import jsonarray as ja
from crm2twenty_common.exports.headers import alias_table
from export_rows import good_rows


def test_elements_become_rows_keyed_by_resolved_keys_with_their_start_line(tmp_path: Path) -> None:
    path = tmp_path / "w.json"
    path.write_text(
        '[\n  {"id": "W1", "Event": "contact.created", "active": true,\n'
        '   "actions": [{"type": "mail"}], "n": 2.5},\n'
        '  {"id": "W2", "extra": null}\n]\n'
    )
    source = JsonArrayFile(path, aliases=alias_table({"trigger": ("event",)}))
    assert source.columns == ["id", "trigger", "active", "actions", "n", "extra"]
    rows = list(source.rows())
    assert rows == [
        (
            2,
            {
                "id": "W1",
                "trigger": "contact.created",
                "active": "true",
                "actions": '[{"type": "mail"}]',
                "n": "2.5",
                "extra": None,
            },
        ),
        (
            4,
            {
                "id": "W2",
                "trigger": None,
                "active": None,
                "actions": None,
                "n": None,
                "extra": None,
            },
        ),
    ]


def test_a_large_array_streams_across_buffer_refills(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setattr(ja, "CHUNK_CHARS", 64)  # many refills, elements cut anywhere
    items = [{"id": i, "text": "x" * (i % 50), "n": 10 ** (i % 12)} for i in range(500)]
    path = tmp_path / "w.json"
    path.write_text("[\r\n" + ",\r\n".join(json.dumps(i) for i in items) + "\r\n]")
    rows = good_rows(JsonArrayFile(path).rows())
    assert [r[1]["n"] for r in rows] == [str(i["n"]) for i in items]  # numbers not cut short
    assert [r[0] for r in rows] == list(range(2, 502))  # CRLF counted once


def test_a_non_object_element_is_a_bad_row_and_reading_goes_on(tmp_path: Path) -> None:
    path = tmp_path / "w.json"
    path.write_text('[{"id": 1},\n "oops",\n {"id": 2}]')
    rows = list(JsonArrayFile(path).rows())
    assert rows[1] == BadRow("w.json", 2, "a JSON str, not an object", '"oops"')
    assert [r[1]["id"] for r in good_rows([rows[0], rows[2]])] == ["1", "2"]


def test_invalid_json_is_a_bad_row_at_its_line_and_stops_the_file(tmp_path: Path) -> None:
    path = tmp_path / "w.json"
    path.write_text('[{"id": 1},\n {"id": 2,,},\n {"id": 3}]')
    rows = list(JsonArrayFile(path).rows())
    assert rows[0] == (1, {"id": "1"})
    bad = rows[1]
    assert isinstance(bad, BadRow) and bad.line == 2
    assert "invalid JSON" in bad.reason and "rest of the file cannot be read" in bad.reason
    assert len(rows) == 2


def test_an_unclosed_array_is_reported(tmp_path: Path) -> None:
    path = tmp_path / "w.json"
    path.write_text('[{"id": 1},\n')
    rows = list(JsonArrayFile(path).rows())
    assert rows[0] == (1, {"id": "1"})
    assert isinstance(rows[1], BadRow) and "not closed" in rows[1].reason


def test_a_top_level_object_is_an_error(tmp_path: Path) -> None:
    path = tmp_path / "w.json"
    path.write_text('{"workflows": []}')
    with pytest.raises(ExportError, match=r"w.json:1: expected a JSON array of objects"):
        JsonArrayFile(path)


def test_an_empty_array_or_file_has_no_columns(tmp_path: Path) -> None:
    path = tmp_path / "w.json"
    for text in ("[]", "  \n", "[\n]"):
        path.write_text(text)
        source = JsonArrayFile(path)
        assert not source.has_header and list(source.rows()) == []
