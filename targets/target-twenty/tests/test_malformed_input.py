"""Malformed input from any Singer tap: one clear error naming the input line and stream, or a
reject with the reason; never a traceback, never two records collapsed into one."""

from __future__ import annotations

import io
import json
from contextlib import redirect_stdout
from pathlib import Path
from typing import Any

import pytest
from crm2twenty_common.singer_input import InputError, RecordBeforeSchema
from target_twenty import limits
from target_twenty.target import TargetTwenty
from twenty_builders import PERSON, Run, record

WIDGETS = {
    "type": "SCHEMA",
    "stream": "widgets",
    "key_properties": ["code"],
    "schema": {
        "properties": {
            "code": {"type": ["string", "null"]},
            "name": {"type": ["string", "null"]},
        }
    },
}


def _widget(**values: Any) -> dict:
    return {"type": "RECORD", "stream": "widgets", "record": values}


def _listen(tmp_path: Path, lines: list[str], **config: Any) -> Run:
    output = tmp_path / "out"
    target = TargetTwenty(config={"output_dir": str(output), **config}, validate_config=True)
    buffer = io.StringIO()
    with redirect_stdout(buffer):
        target.listen(io.StringIO("".join(line + "\n" for line in lines)))
    return Run(output, buffer.getvalue())


def _json(*messages: dict) -> list[str]:
    return [json.dumps(m) for m in messages]


def test_a_line_that_is_not_json_stops_the_run_naming_the_line(tmp_path: Path) -> None:
    lines = [*_json(WIDGETS, _widget(code="1")), "", "INFO starting sync of widgets"]
    with pytest.raises(InputError) as caught:
        _listen(tmp_path, lines)
    # the blank line 3 is skipped but counted: the bad line is the 4th of the input
    assert str(caught.value).startswith("input line 4: not a JSON message (")
    assert str(caught.value).endswith("'INFO starting sync of widgets'")


@pytest.mark.parametrize(
    ("line", "says"),
    [
        ("[1, 2]", "input line 2: not a Singer message (a JSON object with a \"type\"): '[1, 2]'"),
        ('{"type": "HELLO"}', "input line 2: unknown Singer message type 'HELLO'"),
        ('{"type": "RECORD", "stream": "widgets"}', "input line 2, stream widgets: Line is"),
    ],
)
def test_a_json_line_that_is_no_usable_message_names_its_line(
    tmp_path: Path, line: str, says: str
) -> None:
    with pytest.raises(InputError) as caught:
        _listen(tmp_path, [json.dumps(WIDGETS), line])
    assert str(caught.value).startswith(says)


def test_a_record_before_its_schema_names_the_line_and_stream(tmp_path: Path) -> None:
    lines = _json(WIDGETS, _widget(code="1"), {"type": "RECORD", "stream": "gadgets", "record": {}})
    with pytest.raises(RecordBeforeSchema) as caught:
        _listen(tmp_path, lines)
    assert str(caught.value) == (
        "input line 3, stream gadgets: a RECORD before any SCHEMA of its stream "
        "(a Singer tap sends a stream's SCHEMA first)"
    )


def test_records_without_a_key_are_rejected_one_by_one_with_their_line(tmp_path: Path) -> None:
    run = _listen(
        tmp_path,
        _json(
            WIDGETS,
            _widget(code=None, name="null key"),
            _widget(code="  ", name="empty key"),
            _widget(name="no key"),
            _widget(code=None, name="another null key"),
            _widget(code="W1", name="kept"),
        ),
    )
    rejects = run.side("rejects.csv")
    assert [(r["source_stream"], r["location"], r["reason"].split(":")[0]) for r in rejects] == [
        ("widgets", "input line 2", "its key code is null"),
        ("widgets", "input line 3", "its key code is empty"),
        ("widgets", "input line 4", "its key code is missing"),
        ("widgets", "input line 5", "its key code is null"),
    ]
    assert len({r["id"] for r in rejects}) == 4  # four records, not one overwritten thrice
    assert [r["Name"] for r in run.csv("*widget*.csv")] == ["kept"]
    counts = run.counts("widget")
    assert (counts["received"], counts["written"], counts["rejected"]) == (5, 1, 4)
    # the counts add up (the run as a whole is "unconfirmed": no suite tap said it completed)
    assert counts["balanced"] is True
    (source,) = run.report["sources"]
    assert (source["stream"], source["read"], source["rejected"], source["balanced"]) == (
        "widgets",
        5,
        4,
        True,
    )


def test_a_plain_streams_record_names_its_input_line_in_repairs(tmp_path: Path) -> None:
    seen = {"type": ["string", "null"], "format": "date-time"}
    schema = {**WIDGETS, "schema": {"properties": {"code": {"type": "string"}, "seen": seen}}}
    run = _listen(tmp_path, _json(schema, _widget(code="W1", seen="yesterday")))
    (repair,) = run.side("repairs.csv")
    assert (repair["source_stream"], repair["source_key"], repair["location"]) == (
        "widgets",
        "W1",
        "input line 2",
    )


def test_a_mapper_record_whose_id_is_not_a_uuid_is_rejected(tmp_path: Path) -> None:
    bad = record("person", "P1", line=7)
    bad["record"]["id"] = "P1"
    run = _listen(tmp_path, _json(PERSON, bad, record("person", "P2", line=8)))
    (reject,) = run.side("rejects.csv")
    assert (reject["location"], reject["reason"]) == (
        "src_person.csv:7",
        "its id 'P1' is not a UUID",
    )
    assert run.counts("person")["written"] == 1


def _long_email(size: int) -> str:
    return "a" * (size - len("@example.org")) + "@example.org"


def test_a_unique_value_too_long_for_twentys_index_is_kept_whole_in_repairs(
    tmp_path: Path,
) -> None:
    long = _long_email(limits.UNIQUE_VALUE_BYTES + 1)
    fits = _long_email(limits.UNIQUE_VALUE_BYTES)
    run = _listen(
        tmp_path,
        _json(
            PERSON,
            record("person", "P1", line=2, emails={"primaryEmail": long}),
            record("person", "P2", line=3, emails={"primaryEmail": fits}),
        ),
    )
    (repair,) = run.side("repairs.csv")
    assert repair["location"] == "src_person.csv:2"
    assert repair["value"] == json.dumps({"primaryEmail": long})  # whole, not cut
    assert "2,705 bytes, more than the 2,704 bytes" in repair["reason"]
    people = {p["Id"]: p for p in run.csv("*people*")}
    assert len(people) == 2
    assert fits in {p["Emails / Primary Email"] for p in people.values()}
    assert long not in {p["Emails / Primary Email"] for p in people.values()}


def test_with_on_invalid_value_reject_a_too_long_unique_value_rejects_the_record(
    tmp_path: Path,
) -> None:
    long = _long_email(limits.UNIQUE_VALUE_BYTES + 1)
    run = _listen(
        tmp_path,
        _json(PERSON, record("person", "P1", line=2, emails={"primaryEmail": long})),
        on_invalid_value="reject",
    )
    (reject,) = run.side("rejects.csv")
    assert reject["reason"].startswith("emails: 2,705 bytes, more than the 2,704 bytes")
    assert run.counts("person")["rejected"] == 1


def test_a_record_larger_than_twentys_request_limit_is_rejected_not_cut(tmp_path: Path) -> None:
    body = "x" * (limits.REQUEST_BYTES + 1)
    run = _listen(
        tmp_path,
        _json(
            WIDGETS,
            _widget(code="big", name=body),
            _widget(code="small", name="y" * 1000),
        ),
    )
    (reject,) = run.side("rejects.csv")
    assert (reject["source_key"], reject["location"]) == ("big", "input line 2")
    assert reject["reason"].startswith("the record is 10.0 MB as JSON, more than the 10 MB")
    assert [r["Code"] for r in run.csv("*widget*.csv")] == ["small"]


def test_a_nul_character_is_removed_and_listed_as_a_repair(tmp_path: Path) -> None:
    """PostgreSQL's text cannot hold NUL: Twenty would refuse the record (and Python 3.10's
    csv module cannot write the cell)."""
    run = _listen(tmp_path, _json(WIDGETS, _widget(code="W1", name="Ac\u0000me")))
    (repair,) = run.side("repairs.csv")
    assert repair["reason"] == "name: NUL characters removed"
    (batch,) = sorted((run.dir / "csv").glob("*-widgets-*.csv"))
    assert "Acme" in batch.read_text(encoding="utf-8")
    assert "\u0000" not in batch.read_text(encoding="utf-8")
    assert run.counts("widget")["written"] == 1
