"""References found in the data: which columns hold the keys of another stream.

- a **reference**: a column whose non-empty sample values are keys of another stream
  (:func:`best_target`); a relation only when at least :data:`STRONG` of them resolve;
- a **polymorphic parent**: a type column (``parent_type``, ``related_to_type``, ``*_object``)
  beside an id column with the same stem, whose values name streams or objects
  (:func:`polymorphic_pairs`); each row's id is looked up in the stream its type names.

Only columns whose name says they may hold a key are candidates (:func:`is_candidate`): a column
of small integers could otherwise "resolve" into any stream keyed 1, 2, 3 … Stream names given in
a type column are matched exactly (singular, plural, object name, label), then by rapidfuzz
similarity, never by a hand-written scorer.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field

from crm2twenty_common.twenty import camel_case, plural, singular
from rapidfuzz import fuzz, process

from crm2twenty_mapper.sampling import StreamSample

STRONG = 0.95  # the share of non-empty values that must resolve (issue 12: "≥ 95 %")
WEAK = 0.5  # below this a candidate is not worth a reviewer's time, unless its name insists
_NAME_MATCH = 88  # rapidfuzz ratio for a type value to name a stream ("Compnay" → companies)
_CANDIDATE = re.compile(r"(id|ids|_ref|_key|_code|_no|_num|_number)$")
_TYPE_COLUMN = re.compile(r"^(?P<stem>.+?)_?(type|object|entity|table|kind|model)$")
_ID_SUFFIXES = ("_id", "id", "_key", "_ref")


def is_candidate(column: str) -> bool:
    """A column whose name says it may hold another record's key."""
    return bool(_CANDIDATE.search(column.lower()))


def may_refer(column: str) -> bool:
    """A candidate, or a type column that may pair with one."""
    return is_candidate(column) or bool(_TYPE_COLUMN.match(column))


def stem_of(column: str) -> str:
    """``client_company_id`` → ``client_company``; ``parent_type`` → ``parent``."""
    m = _TYPE_COLUMN.match(column)
    if m:
        return m.group("stem").rstrip("_")
    for suffix in _ID_SUFFIXES:
        if column.lower().endswith(suffix) and len(column) > len(suffix):
            return column[: -len(suffix)].rstrip("_")
    return column


@dataclass(frozen=True)
class Resolution:
    """How a column's sample values resolve into one stream."""

    stream: str
    resolved: int
    total: int

    @property
    def share(self) -> float:
        return self.resolved / self.total if self.total else 0.0


def resolution(values: list, target: StreamSample) -> Resolution:
    hits = sum(1 for v in values if target.has_key(v))
    return Resolution(target.stream, hits, len(values))


@dataclass(frozen=True)
class Candidates:
    """Where a column's values resolve: the best stream, and the others that fit as well."""

    best: Resolution
    name_score: float  # rapidfuzz similarity of the column's stem to the best stream's names
    rivals: tuple[str, ...] = ()  # other streams at least STRONG of the values resolve into

    @property
    def ambiguous(self) -> bool:
        """Several streams fit and the column's name does not say which (keys 1, 2, 3 …)."""
        return bool(self.rivals) and self.name_score < _NAME_MATCH


def best_target(
    column: str, values: list, streams: Mapping[str, StreamSample], names: Mapping[str, str]
) -> Candidates | None:
    """The stream most of ``values`` resolve into; a tie goes to the stream whose name is most
    like the column's (``client_company_id`` → companies). ``names``: stream → object."""
    if not values:
        return None
    found = [resolution(values, s) for s in streams.values() if s.key is not None and len(s.keys)]
    found = [r for r in found if r.resolved]
    if not found:
        return None
    stem = _norm(stem_of(column))

    def similarity(r: Resolution) -> float:
        return max(
            fuzz.partial_ratio(stem, _norm(singular(r.stream))),
            fuzz.partial_ratio(stem, _norm(names.get(r.stream, r.stream))),
        )

    best = max(found, key=lambda r: (round(r.share, 2), similarity(r), r.stream))
    rivals = tuple(r.stream for r in found if r.stream != best.stream and r.share >= STRONG)
    return Candidates(best, similarity(best), rivals)


@dataclass
class TypeTarget:
    """The rows of a polymorphic pair whose type names one stream."""

    stream: str
    values: list[str]  # the type column's spellings of it, as seen
    rows: int = 0
    resolved: int = 0

    @property
    def share(self) -> float:
        return self.resolved / self.rows if self.rows else 0.0


@dataclass
class PolymorphicPair:
    """A type column and an id column: each row points at a record of the stream its type names."""

    type_column: str
    id_column: str
    rows: int = 0  # sample rows with a type
    targets: dict[str, TypeTarget] = field(default_factory=dict)
    unnamed: Counter = field(default_factory=Counter)  # type values naming no stream

    @property
    def stem(self) -> str:
        return stem_of(self.type_column)

    @property
    def named(self) -> int:
        return sum(t.rows for t in self.targets.values())

    @property
    def resolved(self) -> int:
        return sum(t.resolved for t in self.targets.values())

    @property
    def named_share(self) -> float:
        return self.named / self.rows if self.rows else 0.0

    @property
    def resolved_share(self) -> float:
        return self.resolved / self.named if self.named else 0.0

    @property
    def strong(self) -> bool:
        return self.named_share >= STRONG and self.resolved_share >= STRONG


def stream_names(streams: Mapping[str, str]) -> dict[str, str]:
    """Every spelling that names a stream: the stream, its singular, its object, their plurals
    (``contacts``, ``contact``, ``person``, ``people``), lower-cased with ``_`` for spaces."""
    index: dict[str, str] = {}
    for stream, obj in streams.items():
        for name in (stream, singular(stream), obj, plural(obj), camel_case(obj)):
            index.setdefault(_norm(name), stream)
    return index


def _norm(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", re.sub(r"(?<=[a-z])(?=[A-Z])", "_", text).lower()).strip("_")


def name_stream(value: str, index: Mapping[str, str]) -> str | None:
    """The stream a type value names, exactly or by rapidfuzz similarity."""
    norm = _norm(value)
    if not norm:
        return None
    if norm in index:
        return index[norm]
    if singular(norm) in index:
        return index[singular(norm)]
    hit = process.extractOne(norm, list(index), scorer=fuzz.ratio, score_cutoff=_NAME_MATCH)
    return index[hit[0]] if hit else None


def polymorphic_pairs(
    sample: StreamSample,
    columns: list[str],
    streams: Mapping[str, StreamSample],
    objects: Mapping[str, str],
) -> list[PolymorphicPair]:
    """Type/id column pairs among ``columns`` whose type values name streams, with how their
    sample rows resolve. ``objects``: stream → Twenty object (only streams that may be a parent)."""
    index = stream_names(objects)
    pairs = []
    for type_col in columns:
        m = _TYPE_COLUMN.match(type_col)
        if not m:
            continue
        stem = m.group("stem").rstrip("_")
        id_col = next((c for c in (f"{stem}_id", f"{stem}id", f"{stem}_key") if c in columns), None)
        if id_col is None:
            continue
        pair = PolymorphicPair(type_col, id_col)
        for row in sample.rows:
            kind = row.get(type_col)
            if kind is None or not str(kind).strip():
                continue
            pair.rows += 1
            target = name_stream(str(kind), index)
            if target is None:
                pair.unnamed[str(kind).strip()] += 1
                continue
            tt = pair.targets.setdefault(target, TypeTarget(target, []))
            spelled = str(kind).strip()
            if spelled not in tt.values:
                tt.values.append(spelled)
            tt.rows += 1
            if streams[target].has_key(row.get(id_col)):
                tt.resolved += 1
        if pair.targets:
            pairs.append(pair)
    return pairs
