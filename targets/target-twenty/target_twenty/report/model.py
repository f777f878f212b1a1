"""The run's result as typed values: ``RunReport`` and its parts, and their JSON form.

``report.builder`` fills a ``RunReport`` at the end of the run; ``write_json`` writes report.json
(its JSON Schema is ``report.schema.json`` beside this module); ``report.render`` turns it into
report.md. Field order is the order of the keys in report.json.

Serialising: a field whose default is ``None`` is left out of the JSON while it is ``None``
(mode-specific parts such as ``api`` or ``dry_run``, the optional ``skipped`` counts); a
required field that is ``None`` is written as ``null``.
"""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass, field
from enum import Enum
from pathlib import Path
from typing import Any

from crm2twenty_common.members import MemberList

from target_twenty.outcome import (
    ApiStats,
    CsvOutputs,
    DryRunPlan,
    Merge,
    OwnerMatching,
    PreflightSummary,
    ProvisioningNeeds,
    RecordCycle,
    RequestStats,
    SampleDiff,
)


class Mode(str, Enum):
    CSV = "csv"
    API = "api"


class RunKind(str, Enum):
    """What the run set out to do (report.scope decides; the top of report.md says it)."""

    DRY_RUN = "dry_run"  # nothing written
    SAMPLE = "sample"  # a few records of each object; the rest skipped
    FULL = "full"  # the input carries every record earlier runs wrote (or there were none)
    DELTA = "delta"  # the input leaves out records earlier runs wrote: it is what changed


class Outcome(str, Enum):
    """Whether the run's input was whole (target_twenty.upstream decides)."""

    COMPLETE = "complete"  # every tap and mapper of the suite said it completed
    UNCONFIRMED = "unconfirmed"  # the tap says nothing of its run (not one of the suite)
    INCOMPLETE = "incomplete"  # a plugin started and never said it completed
    FAILED = "failed"  # a plugin said it failed

    @property
    def holds_back(self) -> bool:
        """Whether the records received are held back (nothing written, no STATE)."""
        return self in (Outcome.INCOMPLETE, Outcome.FAILED)


@dataclass
class PluginRun:
    """What one plugin upstream said of its run."""

    plugin: str
    stage: str  # tap | mapper
    status: str  # started | completed | failed
    error: str | None = None


@dataclass
class RunStatus:
    outcome: Outcome
    summary: str  # one sentence: who completed, or who failed and why
    plugins: list[PluginRun]
    held_back: int = 0  # records received and not written because the input is not whole
    # "target": target-twenty itself stopped while writing (its input was whole); None: the
    # outcome is the plugins' upstream
    failed_in: str | None = None


@dataclass
class RunScope:
    kind: RunKind
    earlier_records: int  # records earlier runs of this migration wrote (the registry)
    carried_again: int  # of those, how many this run's input carries again


@dataclass
class ObjectCount:
    """Per Twenty object: received = written + merged + rejected (+ skipped, + unchanged)."""

    object: str
    received: int
    written: int
    merged: int
    rejected: int
    skipped: int | None = None  # a sample or dry run leaves these for the full run
    unchanged: int | None = None  # API mode: what Twenty confirmed last time, not sent
    balanced: bool = False


@dataclass
class SourceCount:
    """Per source stream: read = written + merged + rejected + ignored (+ skipped,
    + unchanged)."""

    stream: str
    read: int
    rejected_by_tap: int
    rejected_by_mapper: int
    ignored: int
    ignored_because: str | None
    written: int
    merged: int
    rejected_by_target: int
    skipped: int | None = None
    unchanged: int | None = None
    lost_in_transit: int | None = None  # the mapper's count and the target's disagree
    rejected: int = 0  # by tap + mapper + target
    balanced: bool = False


@dataclass
class OwnersReport:
    used: list[str]  # distinct owner e-mails the records point at
    source_users: list[dict[str, Any]]  # the source's users (the _owner side stream)
    orphans: list[str]  # e-mails that matched no workspace member
    note: str
    matching: OwnerMatching | None = None  # per owner link, when members are known
    # every owner e-mail with its name, status and records, and the CSV of those to invite
    members: MemberList = field(default_factory=MemberList)


@dataclass
class RejectsSummary:
    count: int
    file: str
    top_reasons: list[tuple[str, int]]  # reason with values blanked out, how many


@dataclass
class ProblemExample:
    """One reject or repair, as a line of rejects.csv / repairs.csv says it."""

    stage: str  # tap | mapper | target
    source_stream: str | None
    source_key: str | None  # the source record's id
    location: str | None  # file:line (or table and key)
    field: str | None
    value: str | None
    reason: str


@dataclass
class ReasonCount:
    """Problems of one kind: the reason with its values blanked, how many, the first one."""

    reason: str
    count: int
    example: ProblemExample


@dataclass
class ReviewItem:
    """A column the mapper inferred on weak evidence (the ``_review`` side stream): what it did,
    the evidence with its figure, and the question for a person."""

    stream: str
    column: str
    outcome: str
    evidence: str
    question: str
    figure: float | None = None


@dataclass
class InventoryEntry:
    """One thing that cannot move, as the source shows it: its name and details (label →
    value: a report's entity, fields, filters, schedule; a profile's rights …)."""

    name: str
    details: dict[str, str] = field(default_factory=dict)


@dataclass
class InventorySection:
    """What cannot move, of one kind (the ``_inventory`` side stream): what the source shows,
    and what to collect by hand where it shows nothing."""

    source: str
    section: str
    items: list[InventoryEntry] = field(default_factory=list)
    by_hand: list[str] = field(default_factory=list)


@dataclass
class RepairsSummary:
    count: int
    file: str
    by_reason: list[ReasonCount] = field(default_factory=list)  # commonest first


@dataclass
class AttachmentsSummary:
    file: str
    total: int
    missing: int


@dataclass
class LoadOverTime:
    """API mode: the requests sent in each interval from the first to the last, against the
    rate limit (``report.load`` counts them from the client's log). The intervals are as long
    as keeps a long load to at most ~90 of them."""

    seconds: float  # from the first request's start to the last's
    interval_seconds: int
    limit: int | None  # requests a minute the run kept to (requests_per_minute)
    limit_per_interval: float | None  # the same limit over one interval
    limited: list[int]  # per interval: requests Twenty's limit counts (record reads and writes)
    other: list[int]  # per interval: metadata and file uploads, which it does not count
    refused: list[int]  # per interval: answers 429 (too many requests)


@dataclass
class RunOutputs:
    dir: str
    merges_file: str
    # CSV mode's files: its keys sit beside dir and merges_file in report.json
    csv_mode: CsvOutputs | None = field(default=None, metadata={"inline": True})


@dataclass
class RunReport:
    run_id: str
    mode: Mode
    scope: RunScope
    migration: str
    workspace: str  # where the workspace metadata came from
    started_at: str
    finished_at: str
    order: list[str]  # load order of the Twenty objects
    deferred: list[tuple[str, str]]  # (object, property) written in a second pass
    object_cycles: list[list[str]]
    record_cycles: list[RecordCycle]
    objects: list[ObjectCount]
    sources: list[SourceCount]
    provisioning: ProvisioningNeeds
    owners: OwnersReport
    merges: list[Merge]
    rejects: RejectsSummary
    repairs: RepairsSummary
    attachments: AttachmentsSummary | None  # None: the run had no attachments
    workflows: list[dict[str, Any]]  # source automations, as the mapper passed them on
    outputs: RunOutputs
    notices: list[str]  # from the source (the _notices side stream)
    api: ApiStats | None = None  # API mode, unless a dry run
    dry_run: DryRunPlan | None = None
    sample: SampleDiff | None = None
    preflight: PreflightSummary | None = None  # API mode
    workspace_id: str | None = None  # API mode: the workspace the API key names
    requests: RequestStats | None = None  # API mode: what the run sent, dry runs included
    load: LoadOverTime | None = None  # API mode: when it sent them, against the limit
    # what the mapper inferred on weak evidence (a run without a confirmed rules file)
    needs_review: list[ReviewItem] = field(default_factory=list)
    # what cannot move (source reports, security profiles, reminders, settings), by section
    inventories: list[InventorySection] = field(default_factory=list)
    balanced: bool = False  # every count adds up, and the input is known whole (status)
    complete: bool = False  # a FULL or DELTA run that skipped nothing: the migration is done
    status: RunStatus = field(  # whether the input was whole (FAILED and INCOMPLETE write nothing)
        default_factory=lambda: RunStatus(Outcome.UNCONFIRMED, "", [])
    )

    def to_data(self) -> dict[str, Any]:
        """The report as JSON-ready data, keys in report.json's order."""
        data = _data(self)
        assert isinstance(data, dict)
        return data

    def write_json(self, path: Path) -> None:
        """report.json, streamed to the file: the whole text at once (its owners list grows with
        the source's users) was the peak of the run's memory."""
        with path.open("w", encoding="utf-8") as out:
            json.dump(self.to_data(), out, indent=2, default=str)


def counts_add_up(report: RunReport) -> bool:
    """Whether every object's and every source stream's counts add up (``balanced`` also
    needs the input to be known whole)."""
    return all(r.balanced for r in report.objects) and all(r.balanced for r in report.sources)


def _data(value: Any) -> Any:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        out: dict[str, Any] = {}
        for f in dataclasses.fields(value):
            item = getattr(value, f.name)
            if f.metadata.get("inline"):
                if item is not None:
                    out.update(_data(item))
            elif item is not None or f.default is not None:
                out[f.name] = _data(item)
        return out
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, list | tuple):
        return [_data(v) for v in value]
    if isinstance(value, set):
        return sorted(_data(v) for v in value)
    if isinstance(value, dict):
        return {k: _data(v) for k, v in value.items()}
    return value
