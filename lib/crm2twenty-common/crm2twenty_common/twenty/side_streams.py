"""The suite's side streams: the ``_``-prefixed pseudo-streams the plugins pass to each other
besides Twenty-shaped records, their names, their SCHEMAs and typed records.

- ``_rejects``: rows that could not become records (taps with ``stage`` ``tap``, the mapper with
  ``map``, target-twenty adds its own), listed in the run's rejects file;
- ``_repairs``: values the mapper changed to make them valid, listed in the repairs file;
- ``_notices``: what a tap could not read or had to decide, in words, for the report; and each
  of the suite's plugins says on it that it started, completed or failed (completion.py);
- ``_summary``: the mapper's per-stream counts (read, mapped, rejected, ignored);
- ``_review``: what the mapper inferred from the data on weak evidence (a run without a confirmed
  rules file), for the report's **Needs review**;
- ``_inventory``: what cannot move to Twenty (reports, security profiles, reminders, settings),
  one item per thing the source shows, or what to collect by hand where it shows nothing; the
  report gives each section its own heading.

Any other stream whose name starts with ``_`` (``_owner``, ``_workflow`` …) is one the rules
keep out of Twenty on purpose; :func:`is_side_stream` covers them all.
"""

from __future__ import annotations

import dataclasses
import typing as t

SIDE_PREFIX = "_"
REJECTS = "_rejects"
REPAIRS = "_repairs"
NOTICES = "_notices"
SUMMARY = "_summary"
REVIEW = "_review"
INVENTORY = "_inventory"
# The bookkeeping streams of the pipeline itself, each with a fixed schema below.
BOOKKEEPING = frozenset({REJECTS, REPAIRS, NOTICES, SUMMARY, REVIEW, INVENTORY})

_TEXT_OR_NULL: dict[str, t.Any] = {"type": ["string", "null"]}

REJECTS_SCHEMA: dict[str, t.Any] = {
    "type": "object",
    "properties": {
        "stage": {"type": "string"},
        "source_stream": _TEXT_OR_NULL,
        "source_key": _TEXT_OR_NULL,
        "object": _TEXT_OR_NULL,
        "reason": {"type": "string"},
        "location": _TEXT_OR_NULL,
        "raw": _TEXT_OR_NULL,
    },
}
REPAIRS_SCHEMA: dict[str, t.Any] = {
    "type": "object",
    "properties": {
        "stage": {"type": "string"},
        "source_stream": _TEXT_OR_NULL,
        "source_key": _TEXT_OR_NULL,
        "object": _TEXT_OR_NULL,
        "field": _TEXT_OR_NULL,
        "value": _TEXT_OR_NULL,
        "reason": _TEXT_OR_NULL,
        "location": _TEXT_OR_NULL,
    },
}
NOTICES_SCHEMA: dict[str, t.Any] = {
    "type": "object",
    "properties": {
        "source": {"type": "string"},
        "notice": {"type": "string"},
        # A plugin's own run status (crm2twenty_common.completion): set on the notices that say
        # a plugin started, completed or failed, absent on the others.
        "status": {"type": ["string", "null"], "enum": ["started", "completed", "failed", None]},
        "stage": _TEXT_OR_NULL,
        "error": _TEXT_OR_NULL,
    },
}
# Key properties, for a target that keys what it stores: a notice is its plugin's sentence
# (a repeated sentence says nothing new); a tap's reject is its row, by stream and file:line.
NOTICES_KEY = ("source", "notice")
TAP_REJECTS_KEY = ("source_stream", "location")
SUMMARY_SCHEMA: dict[str, t.Any] = {
    "type": "object",
    "properties": {
        "source": {"type": "string"},
        "rules": {"type": "string"},
        "stream": {"type": "string"},
        "read": {"type": "integer"},
        "mapped": {"type": "integer"},
        "rejected": {"type": "integer"},
        "ignored": {"type": "integer"},
        "ignored_because": {"type": ["string", "null"]},
    },
}
REVIEW_SCHEMA: dict[str, t.Any] = {
    "type": "object",
    "properties": {
        "source": {"type": "string"},
        "stream": {"type": "string"},
        "column": {"type": "string"},
        "outcome": {"type": "string"},
        "evidence": {"type": "string"},
        "question": {"type": "string"},
        "figure": {"type": ["number", "null"]},
    },
}
INVENTORY_SCHEMA: dict[str, t.Any] = {
    "type": "object",
    "properties": {
        "source": {"type": "string"},
        "section": {"type": "string"},
        "name": _TEXT_OR_NULL,
        "details": {"type": ["object", "null"], "additionalProperties": {"type": "string"}},
        "by_hand": _TEXT_OR_NULL,
    },
}
SIDE_SCHEMAS: dict[str, dict[str, t.Any]] = {
    REJECTS: REJECTS_SCHEMA,
    REPAIRS: REPAIRS_SCHEMA,
    NOTICES: NOTICES_SCHEMA,
    SUMMARY: SUMMARY_SCHEMA,
    REVIEW: REVIEW_SCHEMA,
    INVENTORY: INVENTORY_SCHEMA,
}


def is_side_stream(stream: str) -> bool:
    """Whether ``stream`` is kept out of Twenty (bookkeeping or a ``_``-prefixed rules output)."""
    return stream.startswith(SIDE_PREFIX)


class _Record:
    """A side-stream record as the dict its SCHEMA describes (fields in schema order)."""

    def as_record(self) -> dict[str, t.Any]:
        return dataclasses.asdict(self)  # type: ignore[call-overload]


@dataclasses.dataclass(frozen=True)
class Reject(_Record):
    """A row that could not become a record: where it came from, where it is, and why."""

    stage: str
    reason: str
    source_stream: str | None = None
    source_key: str | None = None
    object: str | None = None
    location: str | None = None
    raw: str | None = None

    def as_record(self) -> dict[str, t.Any]:
        # The schema's order, which the rejects files keep.
        return {name: getattr(self, name) for name in REJECTS_SCHEMA["properties"]}


@dataclasses.dataclass(frozen=True)
class Repair(_Record):
    """A value the mapper changed to make it valid for its Twenty field."""

    stage: str
    source_stream: str | None = None
    source_key: str | None = None
    object: str | None = None
    field: str | None = None
    value: str | None = None
    reason: str | None = None
    location: str | None = None  # file:line (or table and key) of the source row


@dataclasses.dataclass(frozen=True)
class Notice(_Record):
    """One sentence a tap wants the migration report to say, or (``status`` set) what a
    plugin says of its own run: started, completed, or failed with ``error``."""

    source: str
    notice: str
    status: str | None = None
    stage: str | None = None  # tap | mapper, with a status
    error: str | None = None


@dataclasses.dataclass(frozen=True)
class Summary(_Record):
    """The mapper's counts for one source stream."""

    source: str
    rules: str
    stream: str
    read: int = 0
    mapped: int = 0
    rejected: int = 0
    ignored: int = 0
    ignored_because: str | None = None


@dataclasses.dataclass(frozen=True)
class Review(_Record):
    """A column whose mapping the mapper inferred on weak evidence: what it did, on what
    evidence (``figure``: the share of values it rests on), and the question for a person."""

    source: str
    stream: str
    column: str
    outcome: str
    evidence: str
    question: str
    figure: float | None = None


@dataclasses.dataclass(frozen=True)
class InventoryItem(_Record):
    """One thing that cannot move, as the source shows it (``name`` and ``details``: label →
    value, e.g. a report's entity, fields, filters and schedule), or (``by_hand``) what to
    collect by hand where the source shows nothing. ``section`` groups items in the report."""

    source: str
    section: str
    name: str | None = None
    details: dict[str, str] | None = None
    by_hand: str | None = None
