"""The only place the suite touches singer-sdk's private internals (pinned 0.54.9).

Each item says why no public hook serves; tests/test_sdk_compat.py fails when the pinned SDK
changes one of them (the name, its signature, or the behaviour relied on). Everything else in the
suite uses the SDK's public API; what was private before and now is public:

- a mapper writes messages with the public ``InlineMapper.write_message(message)`` in a loop,
  not ``_write_messages``;
- a stream flushes STATE mid-sync with the public ``Tap.state_writer.write_state(stream.tap_state)``
  (what ``Stream._write_state_message`` does inside), not by calling the private method;
- a stream reads the catalog's schema through the public ``Stream.effective_schema``, not
  ``_input_schema``.
"""

from __future__ import annotations

import math
import sys
import typing as t

from singer_sdk.mapper import SameRecordTransform
from singer_sdk.sinks import Sink
from singer_sdk.streams import Stream
from singer_sdk.target_base import Target

from crm2twenty_common.annotations import with_annotations

if t.TYPE_CHECKING:
    from types import FrameType

    from singer_sdk import singerlib as singer

# The singer-sdk these overrides were checked against (the plugins pin ~=0.54.9).
CHECKED_SDK = "0.54.9"


class KeepsAnnotations(Stream):
    """A stream whose SCHEMA messages carry the ``x-`` keywords of its own properties.

    Private: ``Stream._generate_schema_messages``. The SDK builds SCHEMA messages from the stream
    maps, which it registers from the catalog entry's Schema object; that class drops every
    keyword it does not know (``x-references``). No public hook sits between the stream maps and
    the message: re-registering stream maps (``PluginMapper.register_raw_stream_schema``) would
    mean re-doing the SDK's catalog selection, so this wraps the generator instead.
    """

    def _generate_schema_messages(self) -> t.Generator[singer.SchemaMessage, None, None]:
        for message in super()._generate_schema_messages():
            with_annotations(self.schema, message.schema)
            yield message


class DrainsOnlyAtEndOfInput(Target):
    """A target whose sinks are drained once, at end of input, never because records aged.

    Private: ``Target._MAX_RECORD_AGE_IN_MINUTES`` (5 in 0.54.9). After that many minutes the SDK
    drains every sink and then emits the latest STATE, even when no sink is full. A target that
    must see every stream before writing any (parents before children) would so acknowledge
    records it has not written. ``Sink.is_full`` (public) stops size-based draining only; no
    setting or public attribute governs the age.
    """

    _MAX_RECORD_AGE_IN_MINUTES: float = float("inf")


# sha256 of ``inspect.getsource(Target._process_record_message)`` in CHECKED_SDK.
RECORD_MESSAGE_SOURCE = "08aaf4096e2d39e7c3826848feebbaac40fb7b3e67fe863576cde90e4e425dfc"

# The ``_sdc_`` properties ``Sink._remove_sdc_metadata_from_record`` removes (the test checks
# that the pinned SDK removes these and no other).
SDC_METADATA = frozenset(
    {
        "_sdc_extracted_at",
        "_sdc_received_at",
        "_sdc_batched_at",
        "_sdc_deleted_at",
        "_sdc_sequence",
        "_sdc_table_version",
        "_sdc_sync_started_at",
    }
)


class HandsRecordsStraightToSinks(Target):
    """A target whose RECORD messages reach their sink without the SDK's per-record steps that
    change nothing when the stream is mapped as it came (no ``stream_maps``, no flattening).

    Private: ``Target._process_record_message`` (RECORD_MESSAGE_SOURCE: a digest of its source
    in the pinned SDK, so that any change to it fails the test). For every record it copies the
    record, runs the stream's pass-through map, checks the message's keys, pops seven ``_sdc_``
    properties one by one and measures the records' age: a fifth of target-twenty's time on a
    large input. No public hook replaces the per-record loop. For a stream whose only map is
    the SDK's ``SameRecordTransform`` without flattening, this does the steps that change
    something, in the SDK's order (``_sdc_`` properties removed only when there is one; the age
    measured only when there is an age limit); any other stream, or a message without its keys,
    goes the SDK's way.
    """

    def _process_record_message(self, message_dict: dict) -> None:
        stream = message_dict.get("stream")
        record = message_dict.get("record")
        maps = self.mapper.stream_maps.get(stream) if type(stream) is str else None
        if (
            maps is None
            or type(record) is not dict
            or len(maps) != 1
            or type(maps[0]) is not SameRecordTransform
            or maps[0].flattening_enabled
            or maps[0].stream_alias != stream
        ):
            super()._process_record_message(message_dict)
            return
        sink = self.get_sink(stream, record=record)
        if sink.include_sdc_metadata_properties:
            super()._process_record_message(message_dict)
            return
        context = sink._get_context(record)
        if not SDC_METADATA.isdisjoint(record):
            sink._remove_sdc_metadata_from_record(record)
        sink._validate_and_parse(record)
        record = sink.preprocess_record(record, context)
        sink._singer_validate_message(record)
        sink.tally_record_read()
        sink.process_record(record, context)
        sink.record_counter_metric.increment()
        sink._after_process_record(context)
        if sink.is_full:
            self.logger.info(
                "Target sink for '%s' is full. Current size is '%s'. Draining...",
                sink.stream_name,
                sink.current_size,
            )
            self.drain_one(sink)
        if not math.isinf(self._MAX_RECORD_AGE_IN_MINUTES):
            self._handle_max_record_age()


class StopsWithoutStateOnSignal(Target):
    """A target that, on SIGTERM/SIGINT, exits without draining or emitting STATE.

    Private: ``PluginBase._handle_termination`` (the signal handler the SDK installs; the
    Target's drains all sinks and writes the latest STATE, meltano/sdk#3775). That would
    acknowledge records a migration never wrote; stopping without state makes the next run
    re-send them, which deterministic ids make idempotent. The SDK installs the handler itself
    in ``PluginBase.__init__``; there is no public hook or setting for it.
    """

    def _handle_termination(self, signum: int, frame: FrameType | None) -> None:
        self.logger.warning("Received signal %d: stopping without writing state", signum)
        sys.exit(128 + signum)


class KeepsRecordsAsSent(Sink):
    """A sink that gets each record exactly as it came: not validated, timestamps not parsed,
    key properties not required (a record without one is the sink's to reject).

    Private: ``Sink._validate_and_parse``. The target calls it on every record before the public
    ``preprocess_record``, and it parses date-time strings into ``datetime`` objects in place.
    ``get_validator() -> None`` (public) turns validation off but not that parsing, and
    ``datetime_error_treatment`` only decides what happens when parsing fails. A target that
    checks values against its own field types (and reports the original text) needs them as
    sent.
    """

    def _validate_and_parse(self, record: dict) -> dict:
        return record

    def _singer_validate_message(self, record: dict) -> None:
        """Private: ``Sink._singer_validate_message``, called on every record after
        ``preprocess_record``, raises ``MissingKeyPropertiesError`` (and stops the run) for a
        record without a key property; no setting or public hook turns it off. A target that
        rejects such a record with its input line and goes on needs it to arrive."""


def config_input(kwargs: dict[str, t.Any]) -> tuple[dict[str, t.Any], bool]:
    """The configuration the command line gave ``invoke`` (the ``config`` keyword): the merged
    config files and whether ``--config ENV`` asks for the environment too.

    Private: ``plugin_base._ConfigInput`` (its ``config`` and ``parse_env`` fields), which the
    SDK's click command builds from ``--config`` and hands to ``invoke``. A plugin that must know
    a setting before the SDK builds it (the completion notices go out first) has no public way
    to read it.
    """
    given = kwargs.get("config")
    if given is None:
        return {}, False
    return dict(given.config), bool(given.parse_env)
