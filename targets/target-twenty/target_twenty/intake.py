"""The spool stage: each SCHEMA becomes a plan, each RECORD a checked row in the spool.

A value Twenty's field type refuses is found here, as the record arrives: it is repaired (left
empty) or, with ``on_invalid_value: reject``, the record is rejected (spool.py writes both).
Relations by id, owner e-mails and unique values are extracted on arrival so that the checks
at end of input are SQL over indexed tables. Side streams (``_rejects``, ``_summary``, …) are
kept as they come, for the report.

Input any Singer tap may send is checked here too: a record whose key is null or empty, or whose
id is not a UUID, is rejected (it has no identity: two of them would be one record); a value too
large for Twenty is handled by limits.py. A record of a plain stream names its input line.
"""

from __future__ import annotations

import hashlib
import json
import logging
import time
import uuid
from dataclasses import dataclass, field
from enum import Enum
from typing import Any

from crm2twenty_common.twenty import (
    INTENT_KEYWORD,
    PROVENANCE_PROPERTY,
    raw_field_label,
    raw_field_name,
)

from target_twenty import limits
from target_twenty.checks import OnProblem
from target_twenty.plan import FieldPlan, ObjectPlan, build_plan, is_internal
from target_twenty.spool import Source, Spool, dump_data
from target_twenty.values import (
    TEXT_KINDS,
    UUID_TEXT,
    InvalidValue,
    Normaliser,
    normaliser,
    plain,
    strip_nul,
    verbatim,
)
from target_twenty.workspace import UNIQUE_SUBFIELDS, Workspace, unique_key

PROVENANCE = PROVENANCE_PROPERTY
_PLAIN_NS = uuid.UUID("0b4f3c52-7d2e-5a9b-8f16-3c1d2e4f5a6b")


class Intake:
    """Plans by object and by stream, and the records spooled against them."""

    def __init__(
        self,
        spool: Spool,
        workspace: Workspace,
        on_invalid_value: OnProblem,
        logger: logging.Logger,
    ) -> None:
        self.spool = spool
        self.workspace = workspace
        self.on_invalid_value = on_invalid_value
        self.logger = logger
        self.plans: dict[str, ObjectPlan] = {}
        self.stream_plans: dict[str, ObjectPlan] = {}
        self.schemas: dict[str, dict] = {}
        self.stream_schemas: dict[str, tuple[dict, list[str]]] = {}
        self._warned: set[tuple[str, str]] = set()
        # per stream: its plan's fields as rules; cleared whenever a plan changes
        self._rules: dict[str, dict[str, _Rule]] = {}
        self.started = time.time()
        self.received = 0

    def on_schema(self, stream: str, schema: dict, key_properties: list[str]) -> None:
        if is_internal(stream):
            return
        name = (schema.get(INTENT_KEYWORD) or {}).get("object")
        previous = self.stream_plans.get(stream) or (self.plans.get(name) if name else None)
        plan = build_plan(stream, schema, key_properties, self.workspace, previous)
        self._rules.clear()
        self.stream_plans[stream] = plan
        self.plans[plan.name] = plan
        self.schemas[plan.name] = schema
        self.stream_schemas[stream] = (schema, list(key_properties))

    def replan(self, workspace: Workspace) -> None:
        """Rebuild every plan against a workspace that gained fields (after provisioning)."""
        self.workspace = workspace
        self.plans = {}
        self._rules.clear()
        for stream, (schema, keys) in self.stream_schemas.items():
            name = (schema.get(INTENT_KEYWORD) or {}).get("object")
            previous = self.plans.get(name) if name else None
            plan = build_plan(stream, schema, keys, workspace, previous)
            self.stream_plans[stream] = plan
            self.plans[plan.name] = plan

    def on_record(self, stream: str, record: dict, line: int | None = None) -> None:
        """Spool one RECORD; ``line``: its input line, named where a plain stream's is."""
        if is_internal(stream):
            self.spool.add_side(stream, plain(record))
            return
        plan = self.stream_plans[stream]
        spool = self.spool
        seq = spool.next_seq()
        identity = _record_id(plan, record, line if line is not None else seq)
        rid = identity.rid
        prov = record.get(PROVENANCE) or _plain_provenance(stream, identity.key, line)
        values = self._values(stream, plan, record, prov, strip=False)
        data_json = dump_data(values.data)
        if "\\u0000" in data_json:  # a NUL somewhere (JSON escapes it): the values again,
            values = self._values(stream, plan, record, prov, strip=True)  # NULs removed, listed
            data_json = dump_data(values.data)
        rejected = identity.problem or values.rejected
        if len(data_json) > limits.REQUEST_BYTES:  # measured again without the provenance
            sent = json.dumps({k: v for k, v in values.data.items() if k != PROVENANCE})
            rejected = rejected or limits.oversized(sent)
        spool.add_record(
            seq,
            plan.name,
            rid,
            Source.of(prov),
            data_json,
            values.refs,
            values.owners,
            values.uniques,
        )
        for prop, value, reason in values.repairs:
            spool.repair(seq, prop, value, reason)
        if rejected:
            spool.reject(seq, rejected)
        self.received += 1
        if self.received % 100_000 == 0:
            rate = self.received / max(time.time() - self.started, 1e-6)
            self.logger.info("received %d records (%.0f/s)", self.received, rate)

    def _values(
        self, stream: str, plan: ObjectPlan, record: dict, prov: dict, *, strip: bool
    ) -> _Values:
        """A record's checked values, what they link to, and what was repaired or is wrong.
        ``strip``: remove NUL characters (a second pass, only for a record that has one: the
        check for one per value was a tenth of the target's time)."""
        rules = self._rules.get(stream) or self._rules_for(stream, plan)
        out = _Values()
        data, repairs = out.data, out.repairs
        kept: dict[str, str] = {}  # a refused value's <field>Raw property → its text
        for prop, value in record.items():
            if value is None or prop == "id":
                continue
            rule = rules.get(prop)
            if rule is not None and rule.as_is and type(value) is str and not strip:
                data[prop] = value  # what every step below would leave it
                continue
            if rule is None:
                if prop in plan.internal:
                    # the provenance is made plain once, below: here it only keeps its place
                    data[prop] = None if prop == PROVENANCE else plain(value)
                elif (stream, prop) not in self._warned:
                    self._warned.add((stream, prop))
                    self.logger.warning(
                        "%s: property %r is not in the stream's schema; ignored", stream, prop
                    )
                continue
            fp = rule.field
            try:
                value = rule.normalise(value)
                if value is not None and rule.unique:
                    limits.check_unique_size(fp, _sent_unique(fp.kind, value))
            except InvalidValue as exc:
                reason = f"{fp.name}: {exc}"
                if self.on_invalid_value is OnProblem.REJECT:
                    out.rejected = out.rejected or reason
                else:
                    raw = self._raw_field(stream, fp)
                    rules = self._rules.get(stream) or self._rules_for(stream, plan)  # + raw
                    text = verbatim(fp.kind, value)
                    kept[raw] = f"{kept[raw]}; {text}" if raw in kept else text
                    repairs.append((prop, plain(value), f"{reason}; kept verbatim in {raw}"))
                continue
            if value is None:
                continue
            if strip:
                cleaned, had_nul = strip_nul(value)
                if had_nul:  # PostgreSQL's text cannot hold one (values.strip_nul)
                    repairs.append((prop, plain(value), f"{fp.name}: NUL characters removed"))
                    value = cleaned
            data[prop] = value
            if rule.link is _Link.OWNER:
                out.owners.append((prop, value.lower()))
            elif rule.link is _Link.REFERENCE:
                out.refs.append((prop, fp.target or "", value))
            elif rule.unique:
                ukey = unique_key(fp.kind, value)
                if ukey:
                    out.uniques.append((fp.name, ukey, _sent_unique(fp.kind, value)))
        for raw, text in kept.items():  # beside what the record itself put there
            data[raw] = f"{data[raw]}; {text}" if data.get(raw) else text
        data[PROVENANCE] = plain(prov)
        return out

    def _rules_for(self, stream: str, plan: ObjectPlan) -> dict[str, _Rule]:
        """What each property of ``stream`` needs per value, worked out once per plan."""
        rules = {}
        for prop, fp in plan.fields.items():
            owner = fp.kind == "RELATION" and fp.match == "userEmail"
            link = (
                _Link.OWNER if owner else _Link.REFERENCE if fp.kind == "RELATION" else _Link.NONE
            )
            unique = limits.is_unique(fp)
            as_is = fp.kind in TEXT_KINDS and not unique and link is _Link.NONE
            rules[prop] = _Rule(fp, normaliser("TEXT" if owner else fp.kind), unique, link, as_is)
        self._rules[stream] = rules
        return rules

    def _raw_field(self, stream: str, fp: FieldPlan) -> str:
        """The property that keeps, verbatim, a value of ``fp`` that is not its declared
        type: the TEXT field ``<field>Raw``, added to the stream's schema (so it survives a
        replan and is provisioned like any custom field) the first time it is needed."""
        name = raw_field_name(fp.name)
        schema, keys = self.stream_schemas[stream]
        if name not in (schema.get("properties") or {}):
            pschema = {
                "type": ["string", "null"],
                INTENT_KEYWORD: {"type": "TEXT", "label": raw_field_label(fp.label)},
            }
            schema = {**schema, "properties": {**schema.get("properties", {}), name: pschema}}
            self.stream_schemas[stream] = (schema, keys)
            plan = self.stream_plans[stream]
            self.schemas[plan.name] = schema
            part = {"properties": {name: pschema}, INTENT_KEYWORD: schema.get(INTENT_KEYWORD)}
            build_plan(stream, part, keys, self.workspace, plan)
            self._rules.clear()
        return name


class _Link(Enum):
    """What a field's value points at, if anything."""

    NONE = "none"
    OWNER = "owner"  # a workspace member, by e-mail
    REFERENCE = "reference"  # a record, by id


@dataclass(frozen=True)
class _Rule:
    """One field of a plan as each of its values needs it."""

    field: FieldPlan
    normalise: Normaliser  # values.normaliser of its kind (an owner e-mail: TEXT)
    unique: bool  # limits.is_unique: size-checked, and its key goes to the uniques
    link: _Link
    as_is: bool  # a text of this field is kept as it came (not unique, no link)


@dataclass
class _Values:
    """One record's checked values (``data``) and what the spool keeps beside them."""

    data: dict[str, Any] = field(default_factory=dict)
    refs: list[tuple[str, str, str]] = field(default_factory=list)
    owners: list[tuple[str, str]] = field(default_factory=list)
    uniques: list[tuple[str, str, str]] = field(default_factory=list)
    repairs: list[tuple[str, Any, str]] = field(default_factory=list)
    rejected: str | None = None


@dataclass(frozen=True)
class Identity:
    """A record's id, its key as text (plain streams), and why it has none (then rejected)."""

    rid: str
    key: str | None = None
    problem: str | None = None


def _record_id(plan: ObjectPlan, record: dict, line: int) -> Identity:
    rid = record.get("id")
    if type(rid) is str and UUID_TEXT.fullmatch(rid):
        return Identity(rid, rid)  # already as str(uuid.UUID(rid)) writes it
    try:
        return Identity(str(uuid.UUID(str(rid))), str(rid))
    except ValueError:
        pass
    # Without an identity the record gets an id of its own input line: it is rejected, and
    # two such records do not collide.
    lone = str(uuid.uuid5(_PLAIN_NS, f"{plan.stream}:input line {line}"))
    if not plan.plain:
        return Identity(lone, None, f"its id {rid!r} is not a UUID")
    # A plain Singer stream: a stable id from its key, so re-runs upsert.
    keys = plan.key_properties or []
    if rid is None and not keys:  # no key at all: the record's content is its identity
        digest = hashlib.sha1(json.dumps(plain(record), sort_keys=True).encode()).hexdigest()
        return Identity(str(uuid.uuid5(_PLAIN_NS, f"{plan.stream}:{digest}")))
    names = ["id"] if rid is not None else keys
    for name in names:
        value = record.get(name)
        if value is None or not str(value).strip():
            what = "missing" if name not in record else "null" if value is None else "empty"
            return Identity(
                lone,
                None,
                f"its key {name} is {what}: a record without a key has no identity "
                "(a second one would overwrite it)",
            )
    key = str(rid) if rid is not None else ":".join(str(record[k]) for k in keys)
    return Identity(str(uuid.uuid5(_PLAIN_NS, f"{plan.stream}:{key}")), key)


def _plain_provenance(stream: str, key: str | None, line: int | None) -> dict[str, Any]:
    """Where a record of a plain stream (no mapper provenance) came from: the input line."""
    prov: dict[str, Any] = {"stream": stream, "primary": True}
    if key is not None:
        prov["key"] = key
    if line is not None:
        prov["location"] = f"input line {line}"
    return prov


def _sent_unique(kind: str, value: Any) -> str:
    """The unique value as Twenty stores it (its upsert matches it exactly)."""
    sub = UNIQUE_SUBFIELDS.get(kind)
    if sub and isinstance(value, dict):
        return str(value.get(sub[0]) or "")
    return str(value)
