"""Every reject and repair says where it comes from: a reject that follows another reject names
the first, and repairs carry their file:line and source id and are summed up by reason."""

from __future__ import annotations

from typing import Any

from crm2twenty_common.twenty import REJECTS_SCHEMA, REPAIRS_SCHEMA
from twenty_builders import PERSON, prop, record, rid, schema

NOTE = schema("note", {"title": prop("TEXT")})
NOTE_TARGET = schema(
    "noteTarget",
    {
        "noteId": prop("RELATION", target="note", match="id", required=True),
        "targetPersonId": prop("RELATION", target="person", match="id", required=True),
    },
)


def side(stream: str, schema_: dict) -> dict:
    return {"type": "SCHEMA", "stream": stream, "schema": schema_, "key_properties": []}


def upstream_reject(stage: str, key: str, obj: str | None, reason: str, line: int) -> dict:
    return {
        "type": "RECORD",
        "stream": "_rejects",
        "record": {
            "stage": stage,
            "source_stream": "contacts",
            "source_key": key,
            "object": obj,
            "reason": reason,
            "location": f"contacts.csv:{line}",
        },
    }


def target_of(key: str) -> dict:
    return record(
        "noteTarget",
        f"n:{key}",
        noteId=rid("note", "n"),
        targetPersonId=rid("person", key),
        refs={"targetPersonId": key},
    )


def test_a_reject_that_follows_an_upstream_reject_names_it(run_target) -> None:
    run = run_target(
        [
            PERSON,
            NOTE,
            NOTE_TARGET,
            side("_rejects", REJECTS_SCHEMA),
            upstream_reject("mapper", "P00451", "person", "contact has neither a name", 452),
            upstream_reject("tap", "P00460", None, "row has 9 fields, the header 8", 461),
            record("note", "n", title="Call"),
            target_of("P00451"),
            target_of("P00460"),
            target_of("P00999"),
        ]
    )
    reasons = {r["source_key"]: r["reason"] for r in run.side("rejects.csv")}
    assert reasons["n:P00451"] == (
        "targetPersonId points at person 'P00451', which was rejected by the mapper "
        "(contacts P00451, contacts.csv:452: contact has neither a name)"
    )
    assert reasons["n:P00460"] == (
        "targetPersonId points at person 'P00460', which was rejected by the tap "
        "(contacts P00460, contacts.csv:461: row has 9 fields, the header 8)"
    )
    assert reasons["n:P00999"] == (
        "targetPersonId points at person 'P00999', which is not in this migration"
    )


def test_repairs_carry_their_source_and_are_summed_up_by_reason(run_target) -> None:
    mapper_repair: dict[str, Any] = {
        "type": "RECORD",
        "stream": "_repairs",
        "record": {
            "stage": "mapper",
            "source_stream": "contacts",
            "source_key": "457",
            "object": "person",
            "field": "emails.primaryEmail",
            "value": '"bob@"',
            "reason": "'bob@' is not an e-mail address; left empty",
            "location": "contacts.csv:458",
        },
    }
    second = {**mapper_repair, "record": {**mapper_repair["record"], "source_key": "99"}}
    run = run_target(
        [
            PERSON,
            side("_repairs", REPAIRS_SCHEMA),
            mapper_repair,
            second,
            record("person", 1, line=2, name={"firstName": "A"}, companyId=rid("company", 4)),
        ]
    )
    repairs = run.side("repairs.csv")
    assert [(r["stage"], r["source_key"], r["location"]) for r in repairs] == [
        ("mapper", "457", "contacts.csv:458"),
        ("mapper", "99", "contacts.csv:458"),
        ("target", "1", "src_person.csv:2"),
    ]
    by_reason = run.report["repairs"]["by_reason"]
    assert [(g["count"], g["reason"]) for g in by_reason] == [
        (2, "… is not an e-mail address; left empty"),
        (1, "companyId points at company …, which is not in this migration; left empty"),
    ]
    assert by_reason[0]["example"] == {
        "stage": "mapper",
        "source_stream": "contacts",
        "source_key": "457",
        "location": "contacts.csv:458",
        "field": "emails.primaryEmail",
        "value": '"bob@"',
        "reason": "'bob@' is not an e-mail address; left empty",
    }
    md = (run.dir / "report.md").read_text(encoding="utf-8")
    assert (
        "  - 2 × `emails.primaryEmail`: … is not an e-mail address; left empty (mapper) — e.g. "
        'contacts 457 (contacts.csv:458), value `"bob@"`'
    ) in md
