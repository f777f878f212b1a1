"""The side streams' schemas and typed records."""

from __future__ import annotations

import jsonschema
from crm2twenty_common.twenty import (
    BOOKKEEPING,
    NOTICES_SCHEMA,
    REJECTS,
    REJECTS_SCHEMA,
    REPAIRS_SCHEMA,
    SIDE_SCHEMAS,
    SUMMARY_SCHEMA,
    Notice,
    Reject,
    Repair,
    Summary,
    is_side_stream,
)


def test_records_match_their_schemas() -> None:
    cases = [
        (
            Reject(stage="tap", reason="bad quote", source_stream="contacts", location="x.csv:3"),
            REJECTS_SCHEMA,
        ),
        (
            Repair(stage="map", source_stream="contacts", field="emails", value="a@b.c"),
            REPAIRS_SCHEMA,
        ),
        (Notice(source="tap-sage-crm", notice="3 rows skipped"), NOTICES_SCHEMA),
        (
            Notice("tap-x", "tap-x failed: x.csv:3: ragged", "failed", "tap", "x.csv:3: ragged"),
            NOTICES_SCHEMA,
        ),
        (
            Summary(source="sage", rules="sage.yml", stream="contacts", read=3, mapped=2),
            SUMMARY_SCHEMA,
        ),
    ]
    for record, schema in cases:
        data = record.as_record()
        assert list(data) == list(schema["properties"])  # schema order, every property
        jsonschema.validate(data, schema)


def test_a_reject_needs_a_stage_and_a_reason() -> None:
    bad = {**Reject(stage="tap", reason="x").as_record(), "reason": None}
    try:
        jsonschema.validate(bad, REJECTS_SCHEMA)
    except jsonschema.ValidationError:
        pass
    else:  # pragma: no cover
        raise AssertionError("a reject without a reason passed")


def test_side_streams() -> None:
    assert set(SIDE_SCHEMAS) == BOOKKEEPING
    assert is_side_stream(REJECTS) and is_side_stream("_owner")
    assert not is_side_stream("people")
