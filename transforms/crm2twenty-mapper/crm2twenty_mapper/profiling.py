"""The source profile: what a migration will meet, measured on the tap's output, no Twenty needed.

The tap's records go through the mapping run itself — a run without a confirmed rules file
(deferred.py: the built-in rules plus what the data needs, decided from the same sample as the
proposal), or the confirmed rules (runtime.py) — and the profile reads both sides:

- the source records: per stream the record count; per column the fill rate, the distinct
  count, its kind (patterns.classify on the stream's first :data:`sampling.SAMPLE_ROWS` rows, as
  inference decides it; a type the tap's schema gives is taken as it is) and the share of all its
  values that parse as that kind;
- the mapped records: duplicate candidates (e-mails, company domains, person name + company,
  compared as Twenty compares unique values: ``crm2twenty_common.twenty.unique``), the values
  Twenty would refuse (the mapper's repairs), the rows that will not move (rejects), the owner
  links and the source's users (the member list: ``crm2twenty_common.members``), and the
  records per object, priced in API requests by ``crm2twenty_common.twenty.load``.
"""

from __future__ import annotations

import time
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from crm2twenty_common.members import member_list
from crm2twenty_common.reasons import generic
from crm2twenty_common.twenty import (
    INTENT_KEYWORD,
    NOTICES,
    PROVENANCE_PROPERTY,
    REJECTS,
    REPAIRS,
    REVIEW,
)
from crm2twenty_common.twenty.load import batches, minutes
from crm2twenty_common.twenty.unique import unique_key
from singer_sdk.singerlib import Message, RecordMessage, SchemaMessage

from crm2twenty_mapper.deferred import InferringRun
from crm2twenty_mapper.patterns import Classified, classify
from crm2twenty_mapper.profile_model import (
    ColumnProfile,
    DuplicateCandidates,
    DuplicateGroup,
    DuplicateKind,
    LoadCost,
    ObjectCost,
    Refusal,
    RejectReason,
    SourceProfile,
    StreamProfile,
)
from crm2twenty_mapper.runtime import Runtime
from crm2twenty_mapper.sampling import SAMPLE_ROWS

DISTINCT_CAP = 100_000  # distinct values counted per column; beyond, "more than"
EXAMPLES = 3
DUPLICATE_EXAMPLES = 10
_TAP_TYPES: dict[str, type | tuple[type, ...]] = {
    "integer": int,
    "number": (int, float),
    "boolean": bool,
}


def _empty(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip()) or value in ([], {})


@dataclass
class _Column:
    """One column's running figures."""

    name: str
    tap_type: str | None  # integer, number, boolean, date, date-time, object, array (or None)
    filled: int = 0
    hashes: set[int] = field(default_factory=set)
    capped: bool = False
    pending: list[str] = field(default_factory=list)  # the sample's values, until classified
    kind: Classified | None = None
    parses: int = 0
    misses: list[str] = field(default_factory=list)

    def add(self, value: Any, sampling: bool) -> None:
        if _empty(value):
            return
        self.filled += 1
        if not self.capped:
            self.hashes.add(hash(str(value)))
            self.capped = len(self.hashes) > DISTINCT_CAP
        if self.tap_type is not None:
            self._count(self._typed(value), value)
        elif not isinstance(value, str):  # a structured value the schema calls text
            self._count(True, value)
        elif self.kind is not None:
            self._count(self.kind.parses(value.strip()), value)
        elif sampling:
            self.pending.append(value.strip())
        else:  # a value after the sample, before classify() ran: not possible (see decide)
            raise AssertionError("column classified late")

    def _typed(self, value: Any) -> bool:
        wanted = _TAP_TYPES.get(self.tap_type or "")
        if wanted is None:  # dates, objects, arrays: the tap parsed them already
            return True
        if self.tap_type != "boolean" and isinstance(value, bool):
            return False
        return isinstance(value, wanted)

    def _count(self, ok: bool, value: Any) -> None:
        if ok:
            self.parses += 1
        elif len(self.misses) < EXAMPLES:
            self.misses.append(str(value)[:80])

    def decide(self) -> None:
        """Classify the sample's text values (patterns.classify) and test them."""
        if self.tap_type is not None or self.kind is not None:
            return
        self.kind = classify(self.pending, self.name) if self.pending else None
        held, self.pending = self.pending, []
        for value in held:
            self._count(self.kind is not None and self.kind.parses(value), value)

    def result(self, records: int) -> ColumnProfile:
        self.decide()
        if self.tap_type is not None:
            inferred, by = self.tap_type, "tap"
        else:
            inferred, by = (self.kind.kind.value if self.kind else "text"), "values"
        distinct = DISTINCT_CAP if self.capped else len(self.hashes)
        return ColumnProfile(
            column=self.name,
            filled=self.filled,
            fill_rate=round(self.filled / records, 4) if records else 0.0,
            distinct=distinct,
            distinct_capped=self.capped,
            inferred=inferred,
            typed_by=by,
            parses=self.parses,
            parse_share=round(self.parses / self.filled, 4) if self.filled else 0.0,
            not_parsing=list(self.misses),
        )


def _tap_type(schema: dict) -> str | None:
    kinds = schema.get("type") or []
    kinds = [kinds] if isinstance(kinds, str) else [k for k in kinds if k != "null"]
    if schema.get("format") in ("date", "date-time"):
        return str(schema["format"])
    for kind in ("boolean", "integer", "number", "object", "array"):
        if kind in kinds:
            return kind
    return None


@dataclass
class _Stream:
    name: str
    columns: dict[str, _Column] = field(default_factory=dict)
    records: int = 0
    rejects: Counter[tuple[str, str]] = field(default_factory=Counter)
    reject_keys: dict[tuple[str, str], str | None] = field(default_factory=dict)
    refusals: Counter[tuple[str, str]] = field(default_factory=Counter)
    refusal_examples: dict[tuple[str, str], str | None] = field(default_factory=dict)
    objects: dict[str, None] = field(default_factory=dict)


@dataclass
class _Object:
    records: int = 0
    uploads: int = 0
    owners: list[str] = field(default_factory=list)  # owner relation properties
    emails: list[str] = field(default_factory=list)  # EMAILS fields
    domains: list[str] = field(default_factory=list)  # a company's domainName (LINKS)


class Profiler:
    """Feeds the tap's messages to the mapping run and measures both sides."""

    def __init__(self, run: InferringRun | Runtime) -> None:
        self.run = run
        self.runtime = run.runtime if isinstance(run, InferringRun) else run
        self.streams: dict[str, _Stream] = {}
        self.objects: dict[str, _Object] = defaultdict(_Object)
        self.users: list[dict] = []
        self.owner_links: Counter[str] = Counter()
        self.notices: list[str] = []
        self.reviews: list[str] = []
        # kind → object → shared key → source records
        self.shared: dict[tuple[str, DuplicateKind, str], dict[str, list[str]]] = defaultdict(dict)
        self.company_names: dict[str, str] = {}

    # ---- input ------------------------------------------------------------------------

    def on_schema(self, stream: str, schema: dict, key_properties: list[str]) -> None:
        if not stream.startswith("_"):
            s = self.streams.setdefault(stream, _Stream(stream))
            for name, col in (schema.get("properties") or {}).items():
                if not name.startswith("_sdc_") and name not in s.columns:
                    s.columns[name] = _Column(name, _tap_type(col))
        self._take(self.run.on_schema(stream, schema, key_properties))

    def on_record(self, stream: str, record: dict, line: int | None = None) -> None:
        s = self.streams.get(stream)
        if s is not None:
            s.records += 1
            sampling = s.records <= SAMPLE_ROWS
            for name, col in s.columns.items():
                col.add(record.get(name), sampling)
            if s.records == SAMPLE_ROWS:
                for col in s.columns.values():
                    col.decide()
        self._take(self.run.on_record(stream, record, line))

    def end(self) -> None:
        if isinstance(self.run, InferringRun):
            self._take(self.run.end())

    # ---- the mapping run's output ------------------------------------------------------

    def _take(self, messages: Iterable[Message]) -> None:
        for m in messages:
            if isinstance(m, SchemaMessage):
                self._output_schema(m.stream, m.schema)
            elif isinstance(m, RecordMessage):
                self._output_record(m.stream, m.record)

    def _output_schema(self, obj: str, schema: dict) -> None:
        if obj.startswith("_"):
            return
        o = self.objects[obj]
        for prop, pschema in (schema.get("properties") or {}).items():
            intent = pschema.get(INTENT_KEYWORD) or {}
            kind = intent.get("type")
            if kind == "RELATION" and intent.get("match") == "userEmail":
                _add(o.owners, prop)
            elif kind == "EMAILS":
                _add(o.emails, prop)
            elif kind == "LINKS" and obj == "company" and prop == "domainName":
                _add(o.domains, prop)

    def _output_record(self, stream: str, rec: dict) -> None:
        if stream == "_owner":
            self.users.append(rec)
        elif stream == REPAIRS:
            s = self.streams.get(rec.get("source_stream") or "")
            if s is not None:
                at = (f"{rec.get('object')}.{rec.get('field')}", generic(str(rec.get("reason"))))
                s.refusals[at] += 1
                s.refusal_examples.setdefault(at, rec.get("value"))
        elif stream == REJECTS:
            s = self.streams.setdefault(rec.get("source_stream") or "?", _Stream("?"))
            at = (str(rec.get("stage")), generic(str(rec.get("reason"))))
            s.rejects[at] += 1
            s.reject_keys.setdefault(at, rec.get("source_key") or rec.get("location"))
        elif stream == NOTICES:
            if rec.get("notice") and not rec.get("status"):
                self.notices.append(str(rec["notice"]))
        elif stream == REVIEW:
            self.reviews.append(f"{rec['stream']}.{rec['column']}: {rec['question']}")
        elif not stream.startswith("_"):
            self._mapped(stream, rec)

    def _mapped(self, obj: str, rec: dict) -> None:
        o = self.objects[obj]
        o.records += 1
        prov = rec.get(PROVENANCE_PROPERTY) or {}
        source = f"{prov.get('stream')} {prov.get('key')}"
        if prov.get("stream") in self.streams:
            self.streams[prov["stream"]].objects[obj] = None
        if obj == "attachment" and (rec.get("_file") or {}).get("exists"):
            o.uploads += 1
        for prop in o.owners:
            if rec.get(prop):
                self.owner_links[str(rec[prop]).lower()] += 1
        for prop in o.emails:
            self._share(obj, DuplicateKind.EMAIL, prop, unique_key("EMAILS", rec.get(prop)), source)
        for prop in o.domains:
            self._share(obj, DuplicateKind.DOMAIN, prop, unique_key("LINKS", rec.get(prop)), source)
        if obj == "company" and rec.get("name"):
            self.company_names[str(rec["id"])] = str(rec["name"])
        if obj == "person" and rec.get("companyId") and isinstance(rec.get("name"), dict):
            name = " ".join(
                str(rec["name"].get(k) or "").strip() for k in ("firstName", "lastName")
            ).strip()
            if name:
                key = f"{name.lower()}\t{rec['companyId']}"
                self._share(obj, DuplicateKind.NAME_COMPANY, "name, companyId", key, source)

    def _share(
        self, obj: str, kind: DuplicateKind, prop: str, key: str | None, source: str
    ) -> None:
        if key:
            self.shared[(obj, kind, prop)].setdefault(key, []).append(source)

    # ---- the result -------------------------------------------------------------------

    def profile(
        self,
        batch_size: int,
        requests_per_minute: int,
        rate_source: str,
        members: list[str] | None = None,
    ) -> SourceProfile:
        counts = self.runtime.counts
        streams = []
        for s in self.streams.values():
            if s.name == "?":
                continue
            c = counts.get(s.name)
            streams.append(
                StreamProfile(
                    stream=s.name,
                    records=s.records,
                    objects=list(s.objects),
                    columns=[col.result(s.records) for col in s.columns.values()],
                    rejected=sum(s.rejects.values()),
                    rejects=[
                        RejectReason(stage, reason, n, s.reject_keys.get((stage, reason)))
                        for (stage, reason), n in s.rejects.most_common()
                    ],
                    refusals=[
                        Refusal(s.name, fld, reason, n, s.refusal_examples.get((fld, reason)))
                        for (fld, reason), n in s.refusals.most_common()
                    ],
                    ignored=c.ignored if c else 0,
                    ignored_because=self.runtime.ignored_because_text(s.name) if c else None,
                )
            )
        return SourceProfile(
            source=self.runtime.rules.label,
            rules=self.runtime.rules.path,
            generated_at=time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            records=sum(s.records for s in streams),
            streams=streams,
            duplicates=self._duplicates(),
            cost=self._cost(batch_size, requests_per_minute, rate_source),
            members=member_list(self.users, self.owner_links.items(), members),
            notices=self.notices,
            needs_review=self.reviews,
        )

    def _duplicates(self) -> list[DuplicateCandidates]:
        out = []
        for (obj, kind, prop), groups in self.shared.items():
            shared = sorted(
                ((k, v) for k, v in groups.items() if len(v) > 1), key=lambda kv: -len(kv[1])
            )
            out.append(
                DuplicateCandidates(
                    object=obj,
                    kind=kind,
                    fields=prop,
                    groups=len(shared),
                    records=sum(len(v) for _, v in shared),
                    examples=[
                        DuplicateGroup(self._shown(kind, k), len(v), v[:5])
                        for k, v in shared[:DUPLICATE_EXAMPLES]
                    ],
                )
            )
        return out

    def _shown(self, kind: DuplicateKind, key: str) -> str:
        if kind is not DuplicateKind.NAME_COMPANY:
            return key
        name, _, company = key.partition("\t")
        return f"{name} at {self.company_names.get(company, company)}"

    def _cost(self, batch_size: int, rpm: int, rate_source: str) -> LoadCost:
        objects = []
        for name, o in self.objects.items():
            if not o.records:
                continue
            n = batches(o.records, batch_size)
            requests = n + o.uploads
            objects.append(
                ObjectCost(name, o.records, n, o.uploads, requests, minutes(requests, rpm))
            )
        total = sum(o.requests for o in objects)
        return LoadCost(
            batch_size=batch_size,
            requests_per_minute=rpm,
            rate_source=rate_source,
            objects=objects,
            requests=total,
            minutes=minutes(total, rpm),
            note=(
                "First pass into an empty workspace: one batch request per "
                f"{batch_size} records of each object and one upload per attachment file. "
                "Metadata requests (provisioning) do not count against the rate limit; "
                "relations set in a second pass (self-references, cycles) and the reads a "
                "re-run makes add to it: target-twenty's dry run (dry_run: true) counts them."
            ),
        )


def _add(items: list[str], item: str) -> None:
    if item not in items:
        items.append(item)
