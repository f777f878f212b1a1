"""What the plugins' commands print by default, run as Meltano runs them (`--config ENV`):
no SDK `METRIC` lines unless `metrics_log_level` asks, no side streams unless `side_streams`
asks, and target-twenty, fed a tap with them off, saying which setting confirms the input.

The pipeline is the real commands piped together (tap | mapper | target) on the allegory tap's
fixture export (one users row has no id: a bad row).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
EXPORT = ROOT / "taps" / "tap-allegory-csv" / "tests" / "fixture_export"


def env(**settings: str) -> dict[str, str]:
    clean = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("MELTANO_", "TAP_", "TARGET_", "CRM2TWENTY_MAPPER_"))
    }
    return {
        **clean,
        "TAP_ALLEGORY_CSV_EXPORT_DIR": str(EXPORT),
        "TAP_ALLEGORY_CSV_ON_BAD_ROW": "reject",
        "CRM2TWENTY_MAPPER_RULES": "allegory",
        **settings,
    }


def tap(**settings: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(BIN / "tap-allegory-csv"), "--config", "ENV"],
        env=env(**settings),
        capture_output=True,
        text=True,
        timeout=300,
        check=True,
    )


def pipeline(tmp_path: Path, **settings: str) -> tuple[dict[str, str], Path]:
    """tap | mapper | target-twenty (CSV mode); returns each one's log and the run folder."""
    e = env(TARGET_TWENTY_OUTPUT_DIR=str(tmp_path / "out"), **settings)
    taps = subprocess.Popen(
        [str(BIN / "tap-allegory-csv"), "--config", "ENV"],
        env=e,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    mapper = subprocess.Popen(
        [str(BIN / "crm2twenty-mapper"), "--config", "ENV"],
        env=e,
        stdin=taps.stdout,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert taps.stdout is not None and mapper.stdout is not None
    taps.stdout.close()
    target = subprocess.run(
        [str(BIN / "target-twenty"), "--config", "ENV"],
        env=e,
        stdin=mapper.stdout,
        capture_output=True,
        text=True,
        timeout=600,
    )
    mapper.stdout.close()
    logs = [p.communicate(timeout=60)[1].decode() for p in (taps, mapper)]
    assert taps.returncode == mapper.returncode == target.returncode == 0, target.stderr[-2000:]
    out = tmp_path / "out"
    stderr = {"tap": logs[0], "mapper": logs[1], "target": target.stderr}
    return stderr, out / (out / "LATEST").read_text().strip()


def streams(stdout: str) -> dict[str, list[dict]]:
    found: dict[str, list[dict]] = {}
    for line in stdout.splitlines():
        message = json.loads(line)
        if message["type"] in ("SCHEMA", "RECORD"):
            found.setdefault(message["stream"], []).append(message)
    return found


def test_a_tap_sends_only_its_data_streams_by_default_and_logs_its_bad_rows() -> None:
    done = tap()
    sent = streams(done.stdout)
    assert "users" in sent and not [s for s in sent if s.startswith("_")]
    assert "bad row at users.csv:" in done.stderr  # the row is in the log, with file:line


def test_side_streams_on_adds_rejects_and_notices_with_keys_and_the_completion_notice() -> None:
    sent = streams(tap(TAP_ALLEGORY_CSV_SIDE_STREAMS="true").stdout)
    schemas = {m["stream"]: m for s in sent.values() for m in s if m["type"] == "SCHEMA"}
    assert schemas["_rejects"]["key_properties"] == ["source_stream", "location"]
    assert schemas["_notices"]["key_properties"] == ["source", "notice"]
    statuses = [m["record"]["status"] for m in sent["_notices"] if m["type"] == "RECORD"]
    assert statuses[0] == "started" and statuses[-1] == "completed"
    rejects = [m["record"] for m in sent["_rejects"] if m["type"] == "RECORD"]
    assert rejects and all(r["source_stream"] and r["location"] for r in rejects)


@pytest.fixture(scope="module")
def side_streams_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict[str, str], Path]:
    """The pipeline with side streams on and no METRIC lines asked for (two tests read it)."""
    return pipeline(tmp_path_factory.mktemp("side-streams"), TAP_ALLEGORY_CSV_SIDE_STREAMS="true")


def test_no_metric_lines_unless_asked(side_streams_run: tuple[dict[str, str], Path]) -> None:
    logs, _ = side_streams_run
    metrics = {name: log.count("METRIC") for name, log in logs.items()}
    assert metrics == {"tap": 0, "mapper": 0, "target": 0}


def test_metric_lines_when_asked(tmp_path: Path) -> None:
    asked = {
        f"{plugin}_METRICS_LOG_LEVEL": "INFO"
        for plugin in ("TAP_ALLEGORY_CSV", "CRM2TWENTY_MAPPER", "TARGET_TWENTY")
    }
    logs, _ = pipeline(tmp_path, TAP_ALLEGORY_CSV_SIDE_STREAMS="true", **asked)
    metrics = {name: log.count("METRIC") for name, log in logs.items()}
    assert all(metrics.values()), metrics  # each plugin logs them when asked


def test_the_target_says_which_setting_confirms_the_input(tmp_path: Path) -> None:
    logs, run = pipeline(tmp_path, MELTANO_EXTRACTOR_NAME="tap-allegory-csv")
    status = json.loads((run / "report.json").read_text(encoding="utf-8"))["status"]
    assert status["outcome"] == "unconfirmed"
    advice = "`meltano config set tap-allegory-csv side_streams true`"
    assert advice in status["summary"]
    assert advice in logs["target"]  # the log's warning says it too


def test_with_side_streams_on_the_same_run_is_complete(
    side_streams_run: tuple[dict[str, str], Path],
) -> None:
    _, run = side_streams_run
    report = json.loads((run / "report.json").read_text(encoding="utf-8"))
    assert report["status"]["outcome"] == "complete" and report["balanced"]
