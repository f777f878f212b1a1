"""The source profile as typed values, and its JSON form (profile.json).

profiling.py fills a :class:`SourceProfile` from a tap's output; profile.py writes it as
profile.json (:meth:`SourceProfile.to_json`) and profile.html.
"""

from __future__ import annotations

import dataclasses
import enum
import json
from dataclasses import dataclass, field
from typing import Any

from crm2twenty_common.members import MemberList


@dataclass(frozen=True)
class ColumnProfile:
    """One source column over every record of its stream."""

    column: str
    filled: int  # records with a non-empty value
    fill_rate: float  # filled / the stream's records
    distinct: int  # distinct non-empty values (counting stops at ``distinct_capped``)
    distinct_capped: bool
    inferred: str  # what its values are (patterns.ValueKind), or the type the tap gave it
    typed_by: str  # "tap" (its JSON schema) or "values" (the mapping inference)
    parses: int  # values that are of the inferred kind
    parse_share: float  # parses / filled
    not_parsing: list[str] = field(default_factory=list)  # a few values that are not


@dataclass(frozen=True)
class Refusal:
    """Values Twenty would refuse: the mapper keeps them verbatim in ``<field>Raw`` (a repair),
    never sends them to the field."""

    stream: str
    field: str  # object.field
    reason: str
    count: int
    example: str | None


@dataclass(frozen=True)
class RejectReason:
    """Rows that will not become records, by reason (the tap's or the rules')."""

    stage: str  # tap | mapper
    reason: str
    count: int
    example_key: str | None


@dataclass
class StreamProfile:
    stream: str
    records: int  # rows the tap sent (its own rejects not included)
    objects: list[str]  # the Twenty objects the stream's rows become
    columns: list[ColumnProfile]
    rejected: int = 0  # by the tap and by the rules
    rejects: list[RejectReason] = field(default_factory=list)
    refusals: list[Refusal] = field(default_factory=list)
    ignored: int = 0
    ignored_because: str | None = None


class DuplicateKind(str, enum.Enum):
    EMAIL = "e-mail"
    DOMAIN = "domain"
    NAME_COMPANY = "name + company"


@dataclass(frozen=True)
class DuplicateGroup:
    value: str  # the shared e-mail, domain, or "name at company"
    count: int
    records: list[str]  # the first source records that share it ("stream key")


@dataclass
class DuplicateCandidates:
    """Records of one object that share a value of one kind: candidates to merge."""

    object: str
    kind: DuplicateKind
    fields: str  # the Twenty field(s) compared
    groups: int  # values shared by more than one record
    records: int  # records in those groups
    examples: list[DuplicateGroup] = field(default_factory=list)  # largest first


@dataclass(frozen=True)
class ObjectCost:
    object: str
    records: int
    batches: int
    uploads: int  # attachment files, one request each
    requests: int
    minutes: float


@dataclass
class LoadCost:
    """What loading the mapped records through the API costs, first pass."""

    batch_size: int
    requests_per_minute: int
    rate_source: str  # where requests_per_minute comes from
    objects: list[ObjectCost]
    requests: int
    minutes: float
    note: str


@dataclass
class SourceProfile:
    source: str  # the rules' label of the source
    rules: str  # where the rules came from
    generated_at: str
    records: int
    streams: list[StreamProfile]
    duplicates: list[DuplicateCandidates]
    cost: LoadCost
    members: MemberList
    notices: list[str] = field(default_factory=list)  # what the tap said
    needs_review: list[str] = field(default_factory=list)  # weak inferences

    def to_data(self) -> dict[str, Any]:
        data = _data(self)
        assert isinstance(data, dict)
        return data

    def to_json(self) -> str:
        return json.dumps(self.to_data(), indent=2, ensure_ascii=False)


def _data(value: Any) -> Any:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: _data(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, list | tuple):
        return [_data(v) for v in value]
    if isinstance(value, dict):
        return {k: _data(v) for k, v in value.items()}
    return value
