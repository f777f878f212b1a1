"""A run without a confirmed rules file: the built-in rules, plus what the data needs, decided
from the same evidence the proposal uses, so that the proposal's rules file reproduces the run.

The mapper streams, but inference needs to see data before it can compile a stream:

- a stream whose unnamed columns cannot be references is decided from its own first rows: they
  are held in memory (:data:`sampling.SAMPLE_ROWS` at most) until the sample is full or the
  stream ends, then mapped, and the rest of the stream passes straight through;
- a stream with a column that may be a reference (``*_id``, ``parent_type`` …) needs the keys of
  every stream, including those the tap sends later (notes before matters): its records are
  spooled to a temporary file until the end of the input, and so are those of every stream
  after it, to keep the tap's order (lookup tables fill as their stream passes). target-twenty
  holds every record until the end of its input anyway, so nothing is written later than before.

Every stream's keys are collected as it passes (8 bytes a key, sampling.KeySet); STATE messages
are held while records are, so a bookmark never gets ahead of the records it covers. The
compiled plans and the runtime's record path are the confirmed-rules run's own (runtime.py).
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from typing import IO, Any

import msgspec
from crm2twenty_common.twenty import INVENTORY, REVIEW, REVIEW_SCHEMA, Review
from singer_sdk.singerlib import Message, RecordMessage, SchemaMessage

from crm2twenty_mapper import rules as rules_mod
from crm2twenty_mapper.proposal import Proposer
from crm2twenty_mapper.runtime import Runtime
from crm2twenty_mapper.sampling import SAMPLE_ROWS, Sampler
from crm2twenty_mapper.side_streams import NOTICES, REJECTS

_SAMPLING, _WAITING, _LIVE = "sampling", "waiting", "live"


class InferringRun:
    """The mapper's message handling when the rules are the built-in ones, unconfirmed."""

    def __init__(
        self,
        data: dict[str, Any],
        where: str,
        options: dict[str, Any] | None,
        namespace: str,
        keep_source_values: int = 0,
        sample_rows: int = SAMPLE_ROWS,
        defaults: dict[str, Any] | None = None,
    ) -> None:
        self.where = where
        self.options = options
        self.rules = rules_mod.parse(data, where, options, defaults)
        self.runtime = Runtime(self.rules, namespace, keep_source_values)
        self.sampler = Sampler(self.rules, sample_rows)
        self.proposer = Proposer(data, where, self.sampler.streams, options)
        self.state: dict[str, str] = {}
        self.held: dict[str, list[tuple[dict, int | None]]] = {}  # sampling streams' rows
        self.schemas: dict[str, tuple[dict, list[str]]] = {}
        self.waiting: list[str] = []  # streams decided at the end, in the tap's order
        self.spool: IO[bytes] | None = None
        self.states: list[dict] = []
        self._current: str | None = None

    @property
    def counts(self) -> Any:
        return self.runtime.counts

    # ---- messages -----------------------------------------------------------------------

    def on_schema(self, stream: str, schema: dict, key_properties: list[str]) -> Iterator[Message]:
        if stream in (REJECTS, NOTICES, INVENTORY):
            yield from self.runtime.on_schema(stream, schema, key_properties)
            return
        if self._current not in (None, stream):
            yield from self._sample_done(self._current)
        self._current = stream
        self.sampler.on_schema(stream, schema, key_properties)
        self.schemas[stream] = (schema, list(key_properties))
        if stream in self.state:
            if self.state[stream] == _LIVE:
                yield from self.runtime.on_schema(stream, schema, key_properties)
            return
        if self.waiting or self.proposer.needs_keys(stream):
            self.state[stream] = _WAITING
            self.waiting.append(stream)
            if self.spool is None:
                self.spool = tempfile.TemporaryFile()  # noqa: SIM115 (closed at the end)
        elif self.proposer.unnamed(stream):
            self.state[stream] = _SAMPLING
            self.held[stream] = []
        else:
            yield from self._go_live(stream)

    def on_record(self, stream: str, record: dict, line: int | None = None) -> Iterator[Message]:
        """``line``: the record's input line, kept with a held record for its reject."""
        state = self.state.get(stream)
        if state is None:  # side streams, and a record before its SCHEMA (the runtime says so)
            yield from self.runtime.on_record(stream, record, line)
            return
        self.sampler.on_record(stream, record)
        if state == _LIVE:
            yield from self.runtime.on_record(stream, record, line)
        elif state == _SAMPLING:
            rows = self.held[stream]
            rows.append((record, line))
            if len(rows) >= self.sampler.limit:
                yield from self._sample_done(stream)
        else:
            assert self.spool is not None
            self.spool.write(msgspec.json.encode((stream, record, line)) + b"\n")

    def on_state(self, value: dict) -> Iterator[Message]:
        if self.held or self.waiting:
            self.states.append(value)
            return
        yield from self.runtime.on_state(value)

    def end(self) -> Iterator[Message]:
        """Decide what waited, map it, and release the held STATE messages."""
        for stream in list(self.held):
            yield from self._sample_done(stream)
        for stream in self.waiting:
            yield from self._go_live(stream)
        if self.spool is not None:
            self.spool.seek(0)
            decode = msgspec.json.Decoder(tuple[str, dict, int | None]).decode
            for held in self.spool:
                stream, record, line = decode(held)
                yield from self.runtime.on_record(stream, record, line)
            self.spool.close()
            self.spool = None
        self.waiting = []
        for value in self.states:
            yield from self.runtime.on_state(value)
        self.states = []
        yield from self.reviews()

    def summary(self) -> Iterator[Message]:
        yield from self.end()
        yield from self.runtime.summary()

    def reviews(self) -> Iterator[Message]:
        """The ``_review`` stream: what was inferred on weak evidence, for the report."""
        items = [d for d in self.proposer.decisions if d.review]
        if not items:
            return
        yield SchemaMessage(stream=REVIEW, schema=REVIEW_SCHEMA, key_properties=[])
        for d in items:
            yield RecordMessage(
                stream=REVIEW,
                record=Review(
                    self.rules.source,
                    d.stream,
                    d.column,
                    d.outcome,
                    d.evidence,
                    d.review or "",
                    d.figure,
                ).as_record(),
            )

    # ---- deciding -----------------------------------------------------------------------

    def _sample_done(self, stream: str) -> Iterator[Message]:
        rows = self.held.pop(stream, None)
        if rows is None:
            return
        yield from self._go_live(stream)
        for record, line in rows:
            yield from self.runtime.on_record(stream, record, line)

    def _go_live(self, stream: str) -> Iterator[Message]:
        """Decide the stream's rules, hand them to the runtime, and compile them."""
        self.proposer.decide(stream)
        decided = rules_mod.parse(self.proposer.data, self.where, self.options)
        if stream in decided.streams:
            specs = decided.streams[stream]
            self.rules.streams[stream] = specs
            self.rules.objects.update(decided.objects)
            primary = next(o for i, o in enumerate(specs) if o.get("primary", i == 0))
            self.runtime.catalog.add_stream(stream, primary["object"], primary.get("key", "id"))
        self.state[stream] = _LIVE
        schema, keys = self.schemas[stream]
        yield from self.runtime.on_schema(stream, schema, keys)
