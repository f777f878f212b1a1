"""End to end: every tap of the suite into another stack's target — target-jsonl from PyPI (the
project's `target-jsonl` loader) — with the tap's settings as another stack would have them
(`side_streams` off, its default), and the export taps also with it on.

The tap's output (`meltano invoke <tap>`) must be valid Singer with state: each RECORD comes
after its stream's SCHEMA and follows it, carries its key properties, and STATE is emitted;
target-jsonl must then take it whole (one line per record per stream) and emit that STATE.
The API and database taps read the loopback fakes of tests/fakes.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import e2e_run
import pytest
from fakes.atomic_db import AtomicDb
from fakes.practicehub import API_KEY, APP_DETAILS, FakePracticeHub
from fakes.sage import FakeSage
from jsonschema import Draft7Validator

pytestmark = pytest.mark.e2e
ROOT = e2e_run.ROOT
EXPORTS = {
    "tap-allegory-csv": ROOT / "examples" / "allegory" / "export",
    "tap-visualpractice": ROOT / "examples" / "visualpractice" / "export",
}
PRACTICEHUB_COUNTS = {  # one page each: ~11 requests, at the `test` environment's pace
    "practitioners": 3,
    "appointment_types": 2,
    "payment_methods": 2,
    "patients": 20,
    "appointments": 30,
    "invoices": 10,
    "payments": 8,
    "patient_packages": 4,
    "patient_logs": 12,
    "files": 3,
}


# snake_case, a side stream with a leading `_`: no `__`, no capital, no space
_STREAM_NAME = re.compile(r"_?[a-z][a-z0-9]*(_[a-z0-9]+)*")


class Stream:
    """What a Singer stream held: records per stream, the last STATE, every problem found."""

    def __init__(self, text: str) -> None:
        self.records: Counter[str] = Counter()
        self.keys: dict[str, list[str]] = {}
        self.states: list[dict] = []
        self.problems: list[str] = []
        validators: dict[str, Draft7Validator] = {}
        for number, line in enumerate(text.splitlines(), 1):
            message = json.loads(line)
            kind, stream = message["type"], message.get("stream")
            if kind == "SCHEMA":
                if not _STREAM_NAME.fullmatch(stream):  # issue 15: one convention, no `__`
                    self.problems.append(f"line {number}: stream {stream!r} is not snake_case")
                Draft7Validator.check_schema(message["schema"])
                validators[stream] = Draft7Validator(message["schema"])
                self.keys[stream] = message["key_properties"]
                missing = [k for k in self.keys[stream] if k not in message["schema"]["properties"]]
                if missing:
                    self.problems.append(f"line {number}: {stream} keys {missing} not in schema")
            elif kind == "RECORD":
                if stream not in validators:
                    self.problems.append(f"line {number}: RECORD of {stream} before its SCHEMA")
                    continue
                self.records[stream] += 1
                record = message["record"]
                for error in validators[stream].iter_errors(record):
                    self.problems.append(f"line {number}: {stream}: {error.message}")
                absent = [k for k in self.keys[stream] if record.get(k) is None]
                if absent:
                    self.problems.append(f"line {number}: {stream} record without key {absent}")
            elif kind == "STATE":
                self.states.append(message["value"])


def into_jsonl(tap: str, env: dict[str, str], tmp_path: Path, *, state_last: bool = True) -> Stream:
    """``meltano invoke <tap>``, checked, and its output fed to ``meltano invoke target-jsonl``
    (both in one Meltano process: tests/meltano_batch.py).

    target-jsonl emits the last STATE only when nothing follows it; with ``side_streams`` on,
    the tap's completion notice comes after its last STATE (it says the sync returned), so
    ``state_last`` is then False."""
    out, tapped, loaded = tmp_path / "jsonl", tmp_path / "tap.singer", tmp_path / "target.out"
    out.mkdir()
    results, log = e2e_run.meltano_batch(
        e2e_run.project_dir(),
        [
            {"args": ["invoke", tap], "env": env, "stdout": str(tapped)},
            {
                "args": ["invoke", "target-jsonl"],
                "env": {"TARGET_JSONL_DESTINATION_PATH": str(out)},
                "stdin": str(tapped),
                "stdout": str(loaded),
            },
        ],
    )
    assert [r["exit"] for r in results] == [0, 0], (results, log[-3000:])
    stream = Stream(tapped.read_text(encoding="utf-8"))
    assert stream.problems == []
    assert stream.records and stream.states, "no record or no STATE"
    written = {p.stem: len(p.read_text(encoding="utf-8").splitlines()) for p in out.glob("*")}
    assert written == dict(stream.records)
    if state_last:
        last = loaded.read_text(encoding="utf-8").strip().splitlines()[-1]
        assert json.loads(last) == stream.states[-1]
    return stream


def side_streams(stream: Stream) -> set[str]:
    return {s for s in stream.keys if s.startswith("_")}


@pytest.mark.parametrize("tap", sorted(EXPORTS))
def test_an_export_tap_sends_only_its_data_by_default(tap: str, tmp_path: Path) -> None:
    prefix = tap.upper().replace("-", "_")
    env = {f"{prefix}_EXPORT_DIR": str(EXPORTS[tap]), f"{prefix}_SIDE_STREAMS": "false"}
    stream = into_jsonl(tap, env, tmp_path)
    assert side_streams(stream) == set()


@pytest.mark.parametrize("tap", sorted(EXPORTS))
def test_an_export_tap_with_side_streams_keys_them(tap: str, tmp_path: Path) -> None:
    # meltano.yml turns side_streams on (and on_bad_row: reject): the samples have bad rows
    prefix = tap.upper().replace("-", "_")
    env = {f"{prefix}_EXPORT_DIR": str(EXPORTS[tap])}
    stream = into_jsonl(tap, env, tmp_path, state_last=False)
    assert side_streams(stream) == {"_rejects", "_notices"}
    assert stream.keys["_rejects"] == ["source_stream", "location"]
    assert stream.keys["_notices"] == ["source", "notice"]
    statuses = [m for m in stream.keys if m == "_notices"]
    assert statuses and stream.records["_notices"] >= 2  # started, completed


def test_sage_crm_into_jsonl(tmp_path: Path) -> None:
    with FakeSage(scale=0.05, batch_size=100) as fake:
        env = {
            "TAP_SAGE_CRM_BASE_URL": fake.url,
            "TAP_SAGE_CRM_USERNAME": "admin",
            "TAP_SAGE_CRM_PASSWORD": "s3cret",
            "TAP_SAGE_CRM_SIDE_STREAMS": "false",
        }
        stream = into_jsonl("tap-sage-crm", env, tmp_path)
    assert side_streams(stream) == set()
    assert stream.records["companies"] > 0


def test_practicehub_into_jsonl(tmp_path: Path) -> None:
    with FakePracticeHub(PRACTICEHUB_COUNTS, min_interval=0.05, retry_after=0.1) as fake:
        env = {
            "TAP_PRACTICEHUB_API_URL": fake.url,
            "TAP_PRACTICEHUB_API_KEY": API_KEY,
            "TAP_PRACTICEHUB_APP_DETAILS": APP_DETAILS,
            "TAP_PRACTICEHUB_SIDE_STREAMS": "false",
            # meltano.yml's environment for this fake: a request every 0.3 s, not every 1.05 s
            "MELTANO_ENVIRONMENT": "test",
        }
        stream = into_jsonl("tap-practicehub", env, tmp_path)
    assert side_streams(stream) == set()
    assert stream.records["patients"] == PRACTICEHUB_COUNTS["patients"]


@pytest.fixture
def atomic() -> Iterator[AtomicDb]:
    with AtomicDb() as db:
        yield db


@pytest.mark.postgres
def test_supabase_atomic_into_jsonl(atomic: AtomicDb, tmp_path: Path) -> None:
    env = {"TAP_SUPABASE_ATOMIC_DSN": atomic.dsn, "TAP_SUPABASE_ATOMIC_SIDE_STREAMS": "false"}
    stream = into_jsonl("tap-supabase-atomic", env, tmp_path)
    assert side_streams(stream) == set()
    assert stream.records["contacts"] > 0
