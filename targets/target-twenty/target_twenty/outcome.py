"""What a writer hands back: the typed result of the write stage, read by the report.

Both writers (CSV files in ``write/csv``, Twenty's API in ``write/api``) end the run's write stage
with one ``WriteOutcome``: the load order they used, what the checks decided (merges, record
cycles), how many records of each object they wrote, what the workspace must gain, the owner
matching, and what only one mode has (CSV files; API counts, pre-flight, dry-run plan, sample
diff). ``report.builder`` turns it, with the spool's counts, into the ``RunReport``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum
from typing import Any

from target_twenty.order import LoadOrder

# ---- what the checks decided ------------------------------------------------------------


@dataclass
class Merge:
    """A record folded into a duplicate (a row of merges.csv)."""

    object: str
    merged_id: str
    merged_source: str
    survivor_id: str
    survivor_source: str
    reason: str


@dataclass
class RecordCycle:
    """Records that are their own ancestor through a self-relation; one link was dropped."""

    object: str
    field: str
    records: list[str]
    dropped_from: str


# ---- what the workspace must gain -------------------------------------------------------


@dataclass
class NewObject:
    nameSingular: str  # Twenty's metadata names, as the report has always said
    namePlural: str
    labelSingular: str
    labelPlural: str


@dataclass
class NewField:
    object: str
    name: str
    type: str
    label: str
    relationTarget: str | None = None  # only for RELATION fields
    options: list[dict[str, Any]] | None = None  # SELECT / MULTI_SELECT: as the schema gives them
    unique: bool | None = None  # only when the field must be unique


@dataclass
class NewOptions:
    """SELECT options an existing field lacks."""

    object: str
    field: str
    add: list[dict[str, Any]]  # as the stream's schema gives them (value, label, …)


@dataclass
class ProvisioningNeeds:
    objects: list[NewObject] = field(default_factory=list)
    fields: list[NewField] = field(default_factory=list)
    options: list[NewOptions] = field(default_factory=list)

    def any(self) -> bool:
        return bool(self.objects or self.fields or self.options)


# ---- CSV mode ----------------------------------------------------------------------------


@dataclass
class CsvFile:
    file: str
    object: str
    rows: int
    second_pass: bool


@dataclass
class CsvOutputs:
    csv: list[CsvFile]
    leftovers: dict[str, int]  # what only API mode can load: object (or "<object> owners") → n
    leftovers_file: str | None
    neutralised: int  # cells prefixed with ' so spreadsheets do not run them as formulas
    label_clashes: list[str]


# ---- API mode ----------------------------------------------------------------------------


class Decision(str, Enum):
    """What ``on_duplicate`` decided for a record already in the workspace."""

    LINK = "link"
    MERGE = "merge"
    REJECT = "reject"


@dataclass
class WorkspaceMatch:
    """A record of ours whose unique value already belongs to a workspace record."""

    object: str
    source: str
    our_id: str
    existing_id: str
    field: str
    value: str
    in_trash: bool
    decision: Decision


@dataclass
class ObjectRef:
    object: str
    id: str


@dataclass
class PreflightSummary:
    matched: list[WorkspaceMatch]
    restored: list[ObjectRef]  # trashed workspace records restored so that links can land


class RequestKind(str, Enum):
    """What a request is for: each costs one request of Twenty's rate limit."""

    READ = "reads"  # GET of records (pre-flight, members, prior values, sample read-back)
    WRITE = "writes"  # record batches, restores
    METADATA = "metadata"  # /rest/metadata: reading and changing the data model
    UPLOAD = "uploads"  # a file, on the GraphQL endpoints


@dataclass
class RequestStats:
    """Requests sent by kind (retries included: each costs one of the limit), retries, 429s,
    and the seconds requests were held back by the pacer (the limit, or a pause after 429)."""

    reads: int = 0
    writes: int = 0
    metadata: int = 0
    uploads: int = 0
    retries: int = 0
    rate_limited: int = 0
    waited_seconds: float = 0.0

    @property
    def requests(self) -> int:
        return self.reads + self.writes + self.metadata + self.uploads

    def add(self, kind: RequestKind) -> None:
        setattr(self, kind.value, getattr(self, kind.value) + 1)


@dataclass
class RequestLog:
    """When each request of the run started (monotonic seconds), for the report's load over
    time: those Twenty's rate limit counts apart from the rest, and when a 429 came back."""

    limit: int | None  # requests a window the pacer keeps to (None: not limited)
    window: float  # seconds
    limited: list[float] = field(default_factory=list)
    other: list[float] = field(default_factory=list)  # metadata and uploads: not limited
    refused: list[float] = field(default_factory=list)  # 429 answers

    def copy(self) -> RequestLog:
        return RequestLog(
            self.limit, self.window, list(self.limited), list(self.other), list(self.refused)
        )


@dataclass
class PlannedObject:
    object: str
    records: int
    requests: int  # every request loading it: batches, second-pass batches, uploads, reads
    uploads: int
    reads: int  # reads of the values its updates replace (for rollback)
    eta_minutes: float
    verify_reads: int = 0  # what ``verify`` will read back afterwards (not in ``requests``)


@dataclass
class DryRunPlan:
    """What a real run would send, every request counted (the reads made before the write
    stage, which a real run makes again, included), and how long it would take at the
    configured pace."""

    objects: list[PlannedObject]
    metadata_requests: int  # reading the data model and provisioning it
    restores: int
    reads: int  # every read: pre-flight, members, prior values
    writes: int  # record batches (second pass included) and restores
    uploads: int
    requests: int  # all of them
    reads_so_far: int  # the reads (data model included) this dry run made to plan
    requests_per_minute: int
    batch_size: int
    eta_minutes: float
    # ``verify`` after the load (not in ``requests``): its record reads and their time
    verify_requests: int = 0
    verify_minutes: float = 0.0


@dataclass
class ApiStats:
    created: dict[str, int]
    updated: dict[str, int]
    restored: list[ObjectRef]
    uploads: int
    requests: int
    retries: int
    rate_limited: int
    batch_size: int
    audit: str
    rollback: str  # the command that undoes this run, as it can be run


@dataclass
class FieldDiff:
    compared: int  # values read back (one per record that had the field)
    mismatches: int


@dataclass
class SampleDiff:
    """A sample run read back: rows are (object, id, source_stream, source_key, field,
    source_value, sent_value, twenty_value, flag), as in sample-diff.csv."""

    file: str
    records: int
    fields: int  # values compared: every mapped field, composites by sub-field, owners
    mismatches: int
    by_field: dict[str, FieldDiff]  # "object.field" (a composite's "object.field.sub")
    mismatched: list[list[str | None]]  # a record without provenance has no source stream/key
    examples: list[list[str | None]]


@dataclass
class OwnerMatching:
    """Owner links (a record's owner field with a source e-mail) over the records written or
    to be written, and what became of them."""

    links: int
    matched: int  # to the workspace member with that e-mail
    fallback: int  # to the fallback member (the e-mail matched none)
    unowned: int  # left empty (no member, no usable fallback)


# ---- the write stage's result ------------------------------------------------------------


@dataclass
class WriteOutcome:
    order: LoadOrder
    cycles: list[RecordCycle]
    merges: list[Merge]
    written: dict[str, int]  # object → records written (API: confirmed by Twenty)
    provisioning: ProvisioningNeeds
    members: dict[str, str]  # workspace members by lower-cased e-mail
    orphans: set[str]  # owner e-mails that matched no member
    owner_matching: OwnerMatching | None = None  # counted over every record, in every mode
    outputs: CsvOutputs | None = None  # CSV mode
    api: ApiStats | None = None  # API mode, unless a dry run
    dry_run: DryRunPlan | None = None
    sample: SampleDiff | None = None
    preflight: PreflightSummary | None = None  # API mode
    requests: RequestStats | None = None  # API mode: what this run sent
    request_log: RequestLog | None = None  # API mode: when it sent them
