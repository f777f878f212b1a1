"""The mapper fed by any Singer tap: a row it rejects names its input line when the tap names
no file, and bad input stops with one error naming the line and stream."""

from __future__ import annotations

import io
import json
from contextlib import redirect_stdout

import pytest
from crm2twenty_common.singer_input import InputError
from crm2twenty_mapper.mapper import Crm2TwentyMapper

WIDGETS = {
    "type": "SCHEMA",
    "stream": "widgets",
    "key_properties": ["code"],
    "schema": {
        "properties": {"code": {"type": ["string", "null"]}, "name": {"type": ["string", "null"]}}
    },
}


def _listen(*messages: dict | str, config: dict | None = None) -> list[dict]:
    mapper = Crm2TwentyMapper(config=config or {"rules": "allegory"}, validate_config=True)
    text = "".join((m if isinstance(m, str) else json.dumps(m)) + "\n" for m in messages)
    out = io.StringIO()
    with redirect_stdout(out):
        mapper.listen(io.StringIO(text))
    return [json.loads(line) for line in out.getvalue().splitlines()]


def _widget(**values: object) -> dict:
    return {"type": "RECORD", "stream": "widgets", "record": values}


@pytest.mark.parametrize(
    ("confirmed", "extra"),
    [
        (True, None),
        (False, None),  # inferred and mapped at once
        (False, "colour"),  # a column to sample first: records held in memory (deferred.py)
        (False, "company_id"),  # a possible reference: records spooled to the end
    ],
)
def test_a_keyless_row_of_a_tap_without_files_is_rejected_at_its_input_line(
    confirmed: bool, extra: str | None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MELTANO_EXTRACTOR_NAME", "tap-allegory-csv")
    config = {"rules": "allegory"} if confirmed else {"migration_namespace": "crm2twenty"}
    schema = json.loads(json.dumps(WIDGETS))
    if extra:
        schema["schema"]["properties"][extra] = {"type": ["string", "null"]}
    values = {extra: "x"} if extra else {}
    out = _listen(
        schema,
        _widget(code="W1", name="a", **values),
        "",
        _widget(code=None, name="b", **values),
        config=config,
    )
    rejects = [m["record"] for m in out if m["type"] == "RECORD" and m["stream"] == "_rejects"]
    assert [(r["source_stream"], r["location"]) for r in rejects] == [("widgets", "input line 4")]
    (summary,) = [m["record"] for m in out if m["type"] == "RECORD" and m["stream"] == "_summary"]
    assert (summary["read"], summary["mapped"], summary["rejected"]) == (2, 1, 1)


def test_a_record_before_its_schema_names_the_line_and_stream() -> None:
    with pytest.raises(InputError) as caught:
        _listen(WIDGETS, {"type": "RECORD", "stream": "gadgets", "record": {"code": "G1"}})
    assert str(caught.value) == (
        "input line 2, stream gadgets: record for stream 'gadgets' arrived before its SCHEMA"
    )


@pytest.mark.parametrize("confirmed", [True, False])
def test_a_stream_without_columns_has_its_rows_rejected_saying_why(
    confirmed: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MELTANO_EXTRACTOR_NAME", "tap-allegory-csv")
    config = {"rules": "allegory"} if confirmed else {"migration_namespace": "crm2twenty"}
    bare = {"type": "SCHEMA", "stream": "gadgets", "key_properties": [], "schema": {}}
    bare["schema"] = {"properties": {}}
    out = _listen(bare, {"type": "RECORD", "stream": "gadgets", "record": {}}, config=config)
    rejects = [m["record"] for m in out if m["type"] == "RECORD" and m["stream"] == "_rejects"]
    assert [(r["source_stream"], r["reason"]) for r in rejects] == [
        ("gadgets", "the stream declares no columns: there is nothing to map")
    ]
