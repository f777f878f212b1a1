"""The ``_rejects`` stream: rows that could not become records, where they are and why.

Its schema is the suite's (``crm2twenty_common.twenty.REJECTS_SCHEMA``: the mapper and
target-twenty write the same stream). The tap's rows
have ``stage`` ``tap`` and ``object`` null. Bad rows are spooled to a temporary file while the
other streams sync (memory stays flat however many there are) and emitted by the ``_rejects``
stream, which the tap syncs last.
"""

from __future__ import annotations

import json
import tempfile
import typing as t
from collections.abc import Iterator

from singer_sdk.helpers.conform import TypeConformanceLevel
from singer_sdk.helpers.types import Context
from singer_sdk.streams import Stream

from crm2twenty_common.exports.rows import RAW_LIMIT, BadRow
from crm2twenty_common.twenty import REJECTS, REJECTS_SCHEMA, TAP_REJECTS_KEY, Reject

if t.TYPE_CHECKING:
    from singer_sdk import Tap

REJECTS_STREAM = REJECTS


class RejectSpool:
    """Bad rows of every stream, one JSON line each in an unnamed temporary file."""

    def __init__(self) -> None:
        self._file: t.IO[str] | None = None
        self.counts: dict[str, int] = {}
        self.stream: RejectsStream | None = None  # set by the stream that emits the spool

    @property
    def selected(self) -> bool:
        """Whether the ``_rejects`` stream will emit what is spooled."""
        return self.stream is not None and self.stream.selected

    def add(self, stream: str, bad: BadRow, source_key: str | None = None) -> None:
        if self._file is None:
            self._file = tempfile.TemporaryFile(mode="w+", encoding="utf-8")  # noqa: SIM115
        raw = bad.raw_text[:RAW_LIMIT] if bad.raw_text else None
        reject = Reject(
            stage="tap",
            reason=bad.reason,
            source_stream=stream,
            source_key=source_key,
            location=bad.location,
            raw=raw,
        )
        self._file.write(json.dumps(reject.as_record(), ensure_ascii=False) + "\n")
        self.counts[stream] = self.counts.get(stream, 0) + 1

    def close(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None

    def __del__(self) -> None:  # a sync that stopped early leaves its spool unread
        self.close()

    def __len__(self) -> int:
        return sum(self.counts.values())

    def drain(self) -> Iterator[dict]:
        """Every spooled reject, once: the spool is empty afterwards."""
        spool, self._file, self.counts = self._file, None, {}
        if spool is None:
            return
        with spool:
            spool.seek(0)
            for line in spool:
                yield json.loads(line)


class RejectsStream(Stream):
    """Rows of the other streams that could not become records (always synced last)."""

    name = REJECTS_STREAM
    primary_keys: t.ClassVar[list[str]] = list(TAP_REJECTS_KEY)
    TYPE_CONFORMANCE_LEVEL = TypeConformanceLevel.NONE  # the spool holds exact types

    def __init__(self, tap: Tap, spool: RejectSpool) -> None:
        super().__init__(tap, schema=REJECTS_SCHEMA, name=REJECTS_STREAM)
        self.spool = spool
        spool.stream = self

    def get_records(self, context: Context | None) -> t.Iterable[dict]:
        yield from self.spool.drain()
