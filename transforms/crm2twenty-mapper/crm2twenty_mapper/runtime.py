"""The mapping runtime: Singer messages in, Twenty-shaped Singer messages out.

On a SCHEMA it decides what the stream is (named in the rules, inferred by infer.py, ignored or
rejected) and has compile.py build its plan once; on a RECORD it applies that plan: rows are
ignored (``ignore_rows``), rejected, or mapped to one record per output, each with its
deterministic id and its provenance, plus the side-stream records (side_streams.py). Messages are
singer-sdk's ``singerlib`` types. A record is rejected here (a rule's reason) or by the compiled
fields (``Rejected``); nothing else drops a row.
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from itertools import repeat

from crm2twenty_common.twenty import INVENTORY, NOTICES_KEY, PROVENANCE_PROPERTY
from singer_sdk.singerlib import Message, RecordMessage, SchemaMessage, StateMessage

from crm2twenty_mapper import compile as compiler
from crm2twenty_mapper import infer
from crm2twenty_mapper.catalog import Catalog
from crm2twenty_mapper.compile import OutputPlan, StreamPlan
from crm2twenty_mapper.fields import Acc, Rejected
from crm2twenty_mapper.intent import ObjectSchema
from crm2twenty_mapper.lookup_table import LookupTable
from crm2twenty_mapper.rules import Rules, RulesError
from crm2twenty_mapper.side_streams import (
    NOTICES,
    REJECTS,
    REPAIRS,
    SUMMARY,
    SideStreams,
    StreamCounts,
    location,
)

_LIST_SPLIT = re.compile(r"[;,]")


class Runtime:
    """Maps the records of every source stream with one rules file."""

    def __init__(self, rules: Rules, namespace: str, keep_source_values: int = 0) -> None:
        self.rules = rules
        self.catalog = Catalog(rules, namespace)
        self.keep_source_values = keep_source_values
        self.side = SideStreams()
        self.plans: dict[str, StreamPlan] = {}
        self.ignored_streams: set[str] = set()
        self.ignore_rows = compiler.ignore_rows(self.catalog)
        self.ignored_because: dict[str, Counter] = defaultdict(Counter)  # stream → reason → n
        self.counts: dict[str, StreamCounts] = defaultdict(StreamCounts)
        # object → what its one SCHEMA said when it went out (see _object_schema_message, widened)
        self._sent: dict[str, _Sent] = {}
        self._notices_schema: dict | None = None  # the tap's `_notices` SCHEMA, passed once

    # ---- SCHEMA -------------------------------------------------------------------------

    def on_schema(self, stream: str, schema: dict, key_properties: list[str]) -> Iterator[Message]:
        """Compile the rules of ``stream`` against its source schema; yield changed SCHEMAs."""
        if stream == REJECTS:
            yield from self.side.schema(REJECTS)
            return
        if stream == NOTICES:  # what a tap wants the report to say
            if schema != self._notices_schema:  # a tap says it on every notice it sends
                self._notices_schema = schema
                yield SchemaMessage(stream=NOTICES, schema=schema, key_properties=list(NOTICES_KEY))
            return
        if stream == INVENTORY:  # what cannot move, for the report
            yield SchemaMessage(stream=INVENTORY, schema=schema, key_properties=[])
            return
        props = schema.get("properties", {})
        self.counts.setdefault(stream, StreamCounts())  # declared: in the summary, 0 rows or not
        if stream in self.rules.ignore_streams:
            self.ignored_streams.add(stream)
            return
        specs = self.rules.streams.get(stream)
        if specs is None:
            policy = self.rules.unmapped_streams
            if policy == "ignore":
                self.ignored_streams.add(stream)
                return
            if policy == "reject":
                self.plans[stream] = StreamPlan(stream, [])
                yield from self.side.schema(REJECTS)
                return
            specs = infer.stream_rules(self.catalog, stream, props, key_properties)
            if not specs:
                reason = "the stream declares no columns: there is nothing to map"
                self.plans[stream] = StreamPlan(stream, [], reject_reason=reason)
                yield from self.side.schema(REJECTS)
                return
        plan = compiler.compile_stream(self.catalog, stream, specs, props)
        self.plans[stream] = plan
        yield from self.side.schema(REJECTS)
        yield from self.side.schema(REPAIRS)
        for obj in dict.fromkeys(o.obj for o in plan.outputs):
            if obj not in self._sent:
                yield self._object_schema_message(obj)

    # One SCHEMA per output stream. An object's SCHEMA goes out when the first source stream
    # that writes it is compiled: complete for its records then, and it declares the object
    # even if no record follows. It grows afterwards: another source stream's rules add
    # fields, and the data adds pick-list options (`new_option`) and `<field>Raw` fields.
    # Each SCHEMA a Singer target receives that differs from the last makes it start a new
    # sink ("Schema has changed"), so the grown one is sent only when it is needed: at once
    # when a record carries a property the sent SCHEMA lacks (a target drops what its schema
    # does not declare), otherwise once, before the next STATE and at the end (widened()):
    # options are only the `x-twenty` intent, which target-twenty reads when it provisions,
    # after the last record, and the record values stay valid against the sent JSON schema.

    def _object_schema_message(self, obj: str) -> SchemaMessage:
        schema = self.catalog.schemas[obj]
        self._sent[obj] = _Sent(schema, schema.version, set(schema.properties))
        return SchemaMessage(stream=obj, schema=schema.message_schema(), key_properties=["id"])

    def widened(self) -> Iterator[SchemaMessage]:
        """The SCHEMA of each output stream that grew since it was sent (once per change)."""
        for obj, sent in self._sent.items():
            if sent.version != sent.schema.version:
                yield self._object_schema_message(obj)

    # ---- RECORD -------------------------------------------------------------------------

    def on_record(self, stream: str, record: dict, line: int | None = None) -> Iterator[Message]:
        """``line``: the record's input line, named by a reject when the tap names no file."""
        if stream in (NOTICES, INVENTORY):
            yield RecordMessage(stream=stream, record=record)
            return
        if stream == REJECTS:
            tap_counts = self.counts[record.get("source_stream") or "?"]
            tap_counts.read += 1
            tap_counts.rejected += 1
            yield RecordMessage(stream=REJECTS, record=record)
            return
        counts = self.counts[stream]
        counts.read += 1
        if stream in self.ignored_streams:
            counts.ignored += 1
            return
        for when, reason in self.ignore_rows:
            if when(record):
                counts.ignored += 1
                self.ignored_because[stream][reason] += 1
                return
        plan = self.plans.get(stream)
        if plan is None:
            raise RulesError(f"record for stream {stream!r} arrived before its SCHEMA")
        where = location(record)
        # a reject names the input line when the tap names no file (an API tap)
        at = where or (f"input line {line}" if line is not None else None)
        if not plan.outputs:
            counts.rejected += 1
            yield self.side.reject(
                stream,
                None,
                None,
                plan.reject_reason,
                at,
                record,
            )
            return
        if plan.lookups:
            tables = self.catalog.ctx.tables
            for name, template, column in plan.lookups:
                found = template.render(record)
                value = record.get(column)
                if found is not None and value is not None:
                    table = tables.get(name)
                    if table is None:
                        table = tables[name] = LookupTable()
                    table.put(found, value)
        produced: list[Message] = []
        mapped = False
        outputs = (
            _instances(plan.outputs, record) if plan.each else zip(plan.outputs, repeat(record))
        )
        for output, row in outputs:
            if output.primary and mapped:
                continue  # an earlier primary alternative took this row
            if output.when is not None and not output.when(row):
                continue
            key = output.key.render(row)
            if key is None:
                if output.primary:
                    counts.rejected += 1
                    reason = f"{output.obj}: key {output.key.template} is empty"
                    yield self.side.reject(stream, None, output.obj, reason, at, row)
                    return
                continue
            acc = Acc()
            try:
                values = output.build(row, acc)
            except Rejected as exc:
                yield self.side.reject(stream, key, output.obj, str(exc), at, row)
                if output.primary:
                    counts.rejected += 1
                    return
                continue
            values["id"] = output.record_id(key)
            provenance = values[PROVENANCE_PROPERTY] = {
                "stream": stream,
                "key": key,
                "location": where,
                "primary": output.primary,
            }
            if acc.refs:
                provenance["refs"] = acc.refs
            if counts.read <= self.keep_source_values:
                provenance["src"] = output.source_values(row)
            for repair in acc.repairs:
                produced.append(self.side.repair(stream, key, output.obj, repair, where))
            sent = self._sent[output.obj]
            if sent.fields != len(sent.schema.properties) and not sent.properties.issuperset(
                values
            ):
                yield self._object_schema_message(output.obj)  # a field added since it went out
            produced.append(RecordMessage(stream=output.obj, record=values))
            mapped = mapped or output.primary
        if not mapped:
            counts.rejected += 1
            yield self.side.reject(
                stream,
                None,
                None,
                "the row matches none of the stream's primary outputs (their `when` conditions)",
                at,
                record,
            )
            return
        counts.mapped += 1
        yield from produced

    # ---- STATE ------------------------------------------------------------------------

    def on_state(self, value: dict) -> Iterator[Message]:
        """A STATE passes through unchanged (Meltano stores what the target echoes back),
        after the grown SCHEMAs of the records it covers."""
        yield from self.widened()
        yield StateMessage(value=value)

    # ---- END ----------------------------------------------------------------------------

    def summary(self) -> Iterator[Message]:
        """The grown SCHEMAs, then the ``_summary`` stream: one record per source stream."""
        yield from self.widened()
        yield from self.side.schema(SUMMARY)
        for stream, counts in sorted(self.counts.items()):
            yield self.side.summary(
                self.rules.source,
                self.rules.path,
                stream,
                counts,
                self.ignored_because_text(stream),
            )

    def ignored_because_text(self, stream: str) -> str | None:
        if stream in self.ignored_streams:
            return self.rules.ignore_streams.get(stream) or (
                "not named in the rules (unmapped_streams: ignore)"
            )
        reasons = self.ignored_because.get(stream)
        return "; ".join(f"{why} ({n})" for why, n in reasons.items()) if reasons else None


@dataclass(slots=True)
class _Sent:
    """What an output stream's SCHEMA said when it was sent: its version and properties."""

    schema: ObjectSchema  # the growing one
    version: int
    properties: set[str]
    fields: int = 0  # how many properties (they are only ever added)

    def __post_init__(self) -> None:
        self.fields = len(self.properties)


def _instances(outputs: list[OutputPlan], record: dict) -> Iterator[tuple[OutputPlan, dict]]:
    """Each output once, or once per element of its ``each`` list column."""
    for output in outputs:
        if output.each is None:
            yield output, record
            continue
        items = record.get(output.each)
        if isinstance(items, str):
            items = [p.strip() for p in _LIST_SPLIT.split(items) if p.strip()]
        for index, item in enumerate(items or []):
            yield output, {**record, "_item": item, "_index": index}
