"""The one sink class: every stream's records go to the run's spool, nothing is sent early."""

from __future__ import annotations

import typing as t

from crm2twenty_common.sdk_compat import KeepsRecordsAsSent
from crm2twenty_common.singer_input import NumberedReader
from singer_sdk.sinks import BatchSink

if t.TYPE_CHECKING:
    from target_twenty.migration import Migration


class SpoolSink(KeepsRecordsAsSent, BatchSink):
    """Hands each record to the migration's spool; draining is the migration's job."""

    migration: Migration
    reader: NumberedReader  # the target's: the input line being handled

    def __init__(
        self, target: t.Any, stream_name: str, schema: dict, key_properties: t.Sequence[str] | None
    ) -> None:
        super().__init__(target, stream_name, schema, key_properties)
        # A sink is made for each new SCHEMA of a stream: the migration plans from it.
        self.migration.on_schema(stream_name, schema, list(key_properties or []))

    @property
    def is_full(self) -> bool:
        # Never drain mid-stream: Twenty needs every parent before any child.
        return False

    def get_validator(self) -> None:
        # The migration checks every value against its Twenty field type and rejects or
        # repairs the record; the SDK validator would abort the whole run on the first one.
        # (Its timestamp parsing is skipped too, by KeepsRecordsAsSent: values stay as sent.)
        return None

    def process_record(self, record: dict, context: dict) -> None:
        self.migration.on_record(self.stream_name, record, self.reader.line_number)

    def process_batch(self, context: dict) -> None:
        """Nothing to do per batch: the whole migration is written at end of input."""
