"""The side streams: what the mapper tells target-twenty besides the mapped records.

- ``_rejects``: a source row no rule could map (the reason, the source key, the file:line the tap
  recorded, the raw row); tap rejects arriving on ``_rejects`` pass through;
- ``_repairs``: a field left empty because its value could not be made valid (the value kept,
  with the row's source key and file:line);
- ``_notices``: what a tap wants the run's report to say; passes through unchanged;
- ``_summary``: one record per source stream at the end (read, mapped, rejected, ignored).

Their names, SCHEMAs and record types are the suite's (crm2twenty_common.twenty, shared with the
taps and target-twenty); this module sends each side stream's SCHEMA once, before its first
record, and builds the mapper's records. A new side stream goes there, and its records here.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from crm2twenty_common.twenty import (
    NOTICES,
    REJECTS,
    REPAIRS,
    SIDE_SCHEMAS,
    SUMMARY,
    Reject,
    Repair,
    Summary,
)
from singer_sdk.singerlib import RecordMessage, SchemaMessage


@dataclass(frozen=True, slots=True)
class FieldRepair:
    """A field left empty by a compiled field: its path, the source value (JSON text), why."""

    field: str
    value: str
    reason: str


@dataclass(slots=True)
class StreamCounts:
    """What happened to the rows of one source stream (the ``_summary`` record's figures)."""

    read: int = 0
    mapped: int = 0
    rejected: int = 0
    ignored: int = 0


class SideStreams:
    """Builds side-stream messages; remembers which side-stream SCHEMAs are already out."""

    def __init__(self) -> None:
        self._announced: set[str] = set()

    def schema(self, name: str) -> list[SchemaMessage]:
        """The SCHEMA of side stream ``name`` the first time it is asked for, else nothing."""
        if name in self._announced:
            return []
        self._announced.add(name)
        return [SchemaMessage(stream=name, schema=SIDE_SCHEMAS[name], key_properties=[])]

    @staticmethod
    def reject(
        stream: str,
        key: str | None,
        obj: str | None,
        reason: str,
        location: str | None,
        record: dict,
    ) -> RecordMessage:
        raw = {k: v for k, v in record.items() if not k.startswith("_sdc_")}
        reject = Reject(
            stage="mapper",
            reason=reason,
            source_stream=stream,
            source_key=key,
            object=obj,
            location=location,
            raw=json.dumps(raw, default=str, ensure_ascii=False)[:2000],
        )
        return RecordMessage(stream=REJECTS, record=reject.as_record())

    @staticmethod
    def repair(
        stream: str, key: str, obj: str, repair: FieldRepair, location: str | None
    ) -> RecordMessage:
        record = Repair(
            stage="mapper",
            source_stream=stream,
            source_key=key,
            object=obj,
            field=repair.field,
            value=repair.value,
            reason=repair.reason,
            location=location,
        )
        return RecordMessage(stream=REPAIRS, record=record.as_record())

    @staticmethod
    def summary(
        source: str, rules: str, stream: str, counts: StreamCounts, ignored_because: str | None
    ) -> RecordMessage:
        summary = Summary(
            source=source,
            rules=rules,
            stream=stream,
            read=counts.read,
            mapped=counts.mapped,
            rejected=counts.rejected,
            ignored=counts.ignored,
            ignored_because=ignored_because,
        )
        return RecordMessage(stream=SUMMARY, record=summary.as_record())


def location(record: dict) -> str | None:
    """Where a row came from, as the tap recorded it: ``file:line``."""
    src = record.get("_sdc_source_file")
    if not src:
        return None
    line = record.get("_sdc_source_lineno")
    return f"{src}:{line}" if line is not None else str(src)


__all__ = [
    "NOTICES",
    "REJECTS",
    "REPAIRS",
    "SIDE_SCHEMAS",
    "SUMMARY",
    "FieldRepair",
    "SideStreams",
    "StreamCounts",
    "location",
]
