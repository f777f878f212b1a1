"""Fails when the pinned singer-sdk changes a private internal that sdk_compat relies on: the
name, its signature, and the behaviour each override changes (checked both without and with it).
"""

from __future__ import annotations

import hashlib
import inspect
import io
import json
import signal
import time
import typing as t
from contextlib import redirect_stdout
from importlib.metadata import version

import pytest
from crm2twenty_common import sdk_compat
from singer_sdk import Stream, Tap
from singer_sdk.exceptions import MissingKeyPropertiesError
from singer_sdk.mapper_base import InlineMapper
from singer_sdk.plugin_base import PluginBase
from singer_sdk.sinks import BatchSink, Sink
from singer_sdk.target_base import Target

SCHEMA = {
    "type": "object",
    "properties": {
        "id": {"type": "string"},
        "companyId": {"type": ["string", "null"], "x-references": "companies"},
        "at": {"type": ["string", "null"], "format": "date-time"},
    },
}


def _params(func: t.Callable) -> list[str]:
    return list(inspect.signature(func).parameters)


def test_the_pinned_sdk_is_the_one_checked() -> None:
    assert version("singer-sdk") == sdk_compat.CHECKED_SDK


# ---- Stream._generate_schema_messages -------------------------------------------------------


class _Plain(Stream):
    name = "contacts"
    primary_keys: t.ClassVar[list[str]] = ["id"]
    schema: t.ClassVar[dict] = SCHEMA

    def get_records(self, context: t.Mapping[str, t.Any] | None) -> t.Iterable[dict]:
        yield {"id": "1", "companyId": "2", "at": None}


class _Annotated(sdk_compat.KeepsAnnotations, _Plain):
    pass


class _Tap(Tap):
    name = "tap-compat"
    config_jsonschema: t.ClassVar[dict] = {"type": "object", "properties": {}}
    stream_class: type[Stream] = _Plain

    def discover_streams(self) -> list[Stream]:
        return [self.stream_class(self)]


def _schema_messages(stream_class: type[Stream]) -> list[dict]:
    tap_class = type("T", (_Tap,), {"stream_class": stream_class})
    tap = tap_class(config={}, parse_env_config=False)
    out = io.StringIO()
    with redirect_stdout(out):
        tap.sync_all()
    lines = [json.loads(line) for line in out.getvalue().splitlines()]
    return [m for m in lines if m["type"] == "SCHEMA"]


def test_generate_schema_messages_is_still_the_hook() -> None:
    hook = Stream._generate_schema_messages
    assert _params(hook) == ["self"]
    assert inspect.isgeneratorfunction(hook)
    assert "_generate_schema_messages()" in inspect.getsource(Stream._write_schema_message)


def test_the_sdk_still_drops_annotations_and_the_override_keeps_them() -> None:
    (plain,) = _schema_messages(_Plain)
    assert "x-references" not in plain["schema"]["properties"]["companyId"]
    (kept,) = _schema_messages(_Annotated)
    assert kept["schema"]["properties"]["companyId"]["x-references"] == "companies"
    assert kept["schema"]["properties"]["at"] == plain["schema"]["properties"]["at"]


# ---- Target._MAX_RECORD_AGE_IN_MINUTES, Sink._validate_and_parse ---------------------------


class _Sink(BatchSink):
    seen: t.ClassVar[list[t.Any]] = []
    batches: t.ClassVar[list[int]] = []

    def process_record(self, record: dict, context: dict) -> None:
        self.seen.append(record.get("at"))
        super().process_record(record, context)

    def process_batch(self, context: dict) -> None:
        self.batches.append(len(context.get("records", [])))


class _AsSentSink(sdk_compat.KeepsRecordsAsSent, _Sink):
    pass


class _Target(Target):
    name = "target-compat"
    config_jsonschema: t.ClassVar[dict] = {"type": "object", "properties": {}}
    default_sink_class = _Sink


class _EndOnly(sdk_compat.DrainsOnlyAtEndOfInput, _Target):
    pass


class _NoState(sdk_compat.StopsWithoutStateOnSignal, _Target):
    pass


@pytest.fixture(autouse=True)
def _restore_signal_handlers() -> t.Iterator[None]:
    # Constructing a plugin installs its termination handler process-wide.
    saved = {s: signal.getsignal(s) for s in (signal.SIGINT, signal.SIGTERM)}
    _Sink.seen.clear()
    _Sink.batches.clear()
    yield
    for sig, handler in saved.items():
        signal.signal(sig, handler)


def _input(records: int) -> io.StringIO:
    lines = [{"type": "SCHEMA", "stream": "contacts", "schema": SCHEMA, "key_properties": ["id"]}]
    for n in range(records):
        at = "2024-03-15T10:00:00Z"
        lines.append({"type": "RECORD", "stream": "contacts", "record": {"id": str(n), "at": at}})
        lines.append({"type": "STATE", "value": {"n": n}})
    return io.StringIO("".join(json.dumps(line) + "\n" for line in lines))


def _run(target: Target, records: int, *, aged: bool = False) -> list[dict]:
    if aged:  # the SDK's clock of the last full drain, set an hour back
        assert isinstance(target._last_full_drain_at, float)
        target._last_full_drain_at = time.time() - 3600
    out = io.StringIO()
    with redirect_stdout(out):
        target.listen(file_input=_input(records))
    return [json.loads(line) for line in out.getvalue().splitlines()]


def test_max_record_age_is_still_the_age_limit() -> None:
    assert Target._MAX_RECORD_AGE_IN_MINUTES == 5.0
    assert "_MAX_RECORD_AGE_IN_MINUTES" in inspect.getsource(Target._handle_max_record_age)


def test_aged_records_drain_and_emit_state_early_unless_overridden() -> None:
    _run(_Target(config={}, parse_env_config=False), 3, aged=True)
    assert _Sink.batches[0] == 1  # drained after the first record: its age
    _Sink.batches.clear()
    _run(_EndOnly(config={}, parse_env_config=False), 3, aged=True)
    assert _Sink.batches == [3]  # one drain, at end of input


def test_validate_and_parse_is_still_called_on_every_record() -> None:
    assert _params(Sink._validate_and_parse) == ["self", "record"]
    assert "._validate_and_parse(" in inspect.getsource(Target._process_record_message)


def test_records_parse_timestamps_unless_overridden() -> None:
    import datetime as dt

    _run(_Target(config={}, parse_env_config=False), 1)
    assert isinstance(_Sink.seen[0], dt.datetime)
    _Sink.seen.clear()
    target = _Target(config={}, parse_env_config=False)
    target.default_sink_class = _AsSentSink
    _run(target, 1)
    assert _Sink.seen == ["2024-03-15T10:00:00Z"]


def _keyless_input() -> io.StringIO:
    schema = {"type": "SCHEMA", "stream": "contacts", "schema": SCHEMA, "key_properties": ["id"]}
    record = {"type": "RECORD", "stream": "contacts", "record": {"at": "2024-03-15T10:00:00Z"}}
    return io.StringIO(json.dumps(schema) + "\n" + json.dumps(record) + "\n")


def test_singer_validate_message_still_refuses_a_record_without_its_key() -> None:
    assert _params(Sink._singer_validate_message) == ["self", "record"]
    assert "._singer_validate_message(" in inspect.getsource(Target._process_record_message)
    with pytest.raises(MissingKeyPropertiesError), redirect_stdout(io.StringIO()):
        _Target(config={}, parse_env_config=False).listen(file_input=_keyless_input())


def test_a_sink_keeping_records_as_sent_gets_a_record_without_its_key() -> None:
    target = _Target(config={}, parse_env_config=False)
    target.default_sink_class = _AsSentSink
    with redirect_stdout(io.StringIO()):
        target.listen(file_input=_keyless_input())
    assert _Sink.seen == ["2024-03-15T10:00:00Z"]


# ---- Target._process_record_message --------------------------------------------------------


class _Straight(sdk_compat.HandsRecordsStraightToSinks, _Target):
    pass


class _Kept(_Sink):
    kept: t.ClassVar[list[dict]] = []

    def process_record(self, record: dict, context: dict) -> None:
        self.kept.append(dict(record))
        super().process_record(record, context)


def test_process_record_message_is_still_the_one_checked() -> None:
    source = inspect.getsource(Target._process_record_message)
    assert hashlib.sha256(source.encode()).hexdigest() == sdk_compat.RECORD_MESSAGE_SOURCE


def test_the_sdk_still_removes_exactly_these_sdc_properties() -> None:
    record = {f"_sdc_{n}": 1 for n in ("extracted_at", "other", "sequence")}
    record |= dict.fromkeys(sdk_compat.SDC_METADATA, 1)
    sink = _Sink(_Target(config={}, parse_env_config=False), "contacts", SCHEMA, ["id"])
    sink._remove_sdc_metadata_from_record(record)
    assert record == {"_sdc_other": 1}


def _records_seen(target_class: type[Target], config: dict) -> list[tuple[str, dict]]:
    _Kept.kept.clear()
    target = target_class(config=config, parse_env_config=False)
    target.default_sink_class = _Kept
    lines = [{"type": "SCHEMA", "stream": "contacts", "schema": SCHEMA, "key_properties": ["id"]}]
    for n in range(3):
        record = {"id": str(n), "companyId": "c", "at": None, "_sdc_sequence": n}
        lines.append({"type": "RECORD", "stream": "contacts", "record": record})
    with redirect_stdout(io.StringIO()):
        target.listen(file_input=io.StringIO("".join(json.dumps(x) + "\n" for x in lines)))
    sinks = [target.get_sink(name) for name in ("contacts", "people") if target.sink_exists(name)]
    # (the values of added _sdc_ properties are times and sequence numbers: only their names)
    kept = [{k: "_sdc_" if k.startswith("_sdc_") else v for k, v in r.items()} for r in _Kept.kept]
    return [(s.stream_name, r) for s in sinks for r in kept] + [
        ("counted", {"n": sum(s._total_records_read for s in sinks)})
    ]


@pytest.mark.parametrize(
    "config",
    [
        {},
        {"add_record_metadata": True},
        {"stream_maps": {"contacts": {"__alias__": "people", "companyId": "__NULL__"}}},
        {"flattening_enabled": True, "flattening_max_depth": 1},
    ],
)
def test_records_reach_the_sink_as_the_sdk_hands_them(config: dict) -> None:
    # the same records, counted alike, with and without the override: a pass-through stream
    # (the _sdc_ property removed) goes the short way, the others the SDK's
    assert _records_seen(_Straight, config) == _records_seen(_Target, config)


# ---- PluginBase._handle_termination ---------------------------------------------------------


def test_handle_termination_is_still_the_signal_handler() -> None:
    assert _params(PluginBase._handle_termination) == ["self", "signum", "frame"]
    assert _params(Target._handle_termination) == ["self", "signum", "frame"]
    target = _NoState(config={}, parse_env_config=False)
    assert signal.getsignal(signal.SIGTERM) == target._handle_termination


def test_termination_drains_and_emits_state_unless_overridden() -> None:
    target = _Target(config={}, parse_env_config=False)
    _run(target, 2)
    out = io.StringIO()
    with redirect_stdout(out), pytest.raises(SystemExit) as stopped:
        target._handle_termination(signal.SIGTERM, None)
    assert stopped.value.code == 0
    assert json.loads(out.getvalue()) == {"n": 1}  # a target echoes the bare state

    quiet = _NoState(config={}, parse_env_config=False)
    _run(quiet, 2)
    _Sink.batches.clear()
    out = io.StringIO()
    with redirect_stdout(out), pytest.raises(SystemExit) as stopped:
        quiet._handle_termination(signal.SIGTERM, None)
    assert stopped.value.code == 128 + signal.SIGTERM
    assert out.getvalue() == ""
    assert _Sink.batches == []


# ---- the public routes that replaced private ones -------------------------------------------


def test_public_replacements_exist() -> None:
    assert _params(InlineMapper.write_message) == ["self", "message"]
    assert "state_writer.write_state(self.tap_state)" in inspect.getsource(
        Stream._write_state_message
    )
    assert isinstance(inspect.getattr_static(Tap, "state_writer"), property)
    assert isinstance(inspect.getattr_static(Stream, "effective_schema"), property)


def test_the_command_line_still_hands_invoke_its_config_files_and_env_flag(tmp_path) -> None:
    from singer_sdk.plugin_base import _ConfigInput

    path = tmp_path / "config.json"
    path.write_text(json.dumps({"side_streams": True}), encoding="utf-8")
    given = _ConfigInput.from_cli_args(str(path), "ENV")
    assert sdk_compat.config_input({"config": given}) == ({"side_streams": True}, True)
    assert sdk_compat.config_input({}) == ({}, False)
    for invoke in (Tap.invoke, InlineMapper.invoke):
        assert "config" in _params(invoke)
