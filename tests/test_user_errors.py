"""An expected user error in a plugin's command: one ERROR line, exit status 1, no traceback
(unless CRM2TWENTY_DEBUG asks for one). Runs the installed executables, as Meltano does."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import zlib
from pathlib import Path

import pytest

BIN = Path(sys.executable).parent
PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + zlib.compress(bytes(range(256)) * 16)

pytestmark = pytest.mark.slow  # starts plugin executables


def _run(args: list[str], stdin: str = "", debug: bool = False) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k != "CRM2TWENTY_DEBUG"}
    if debug:
        env["CRM2TWENTY_DEBUG"] = "1"
    return subprocess.run(
        [str(BIN / args[0]), *args[1:]],
        input=stdin,
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )


def _errors(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if "ERROR" in line]


@pytest.fixture
def export_with_a_png(tmp_path: Path) -> Path:
    folder = tmp_path / "export"
    folder.mkdir()
    (folder / "contacts.csv").write_text("id,name\n1,Ana\n", encoding="utf-8")
    (folder / "companies.csv").write_bytes(PNG)
    config = tmp_path / "tap.json"
    config.write_text(json.dumps({"export_dir": str(folder), "side_streams": True}))
    return config


def test_a_png_named_like_a_csv_is_one_line_from_the_tap(export_with_a_png: Path) -> None:
    done = _run(["tap-allegory-csv", "--config", str(export_with_a_png)])
    assert done.returncode == 1
    assert "Traceback" not in done.stderr
    (line,) = _errors(done.stderr)
    assert line.endswith(
        "companies.csv: not a text file, it looks like a Portable Network Graphics file "
        "(image/png); put the CSV export there instead (or move the file out of the export folder)"
    )
    # no half stream: only the completion notices, the second saying the same one line
    messages = [json.loads(line) for line in done.stdout.splitlines()]
    assert {m["stream"] for m in messages} == {"_notices"}
    said = {m["record"]["status"]: m["record"] for m in messages if m["type"] == "RECORD"}
    assert sorted(said) == ["failed", "started"]
    assert line.endswith(said["failed"]["error"])


def test_crm2twenty_debug_shows_the_traceback(export_with_a_png: Path) -> None:
    done = _run(["tap-allegory-csv", "--config", str(export_with_a_png)], debug=True)
    assert done.returncode != 0
    assert "Traceback" in done.stderr
    assert "crm2twenty_common.exports.errors.ExportError: companies.csv: not a text" in done.stderr


SCHEMA = {
    "type": "SCHEMA",
    "stream": "widgets",
    "schema": {"properties": {"id": {"type": "string"}, "name": {"type": ["string", "null"]}}},
    "key_properties": ["id"],
}


@pytest.mark.parametrize("plugin", ["target-twenty", "crm2twenty-mapper"])
def test_a_line_that_is_not_json_is_one_line_from_the_mapper_and_target(
    tmp_path: Path, plugin: str
) -> None:
    config = tmp_path / "config.json"
    settings = {"output_dir": str(tmp_path / "out")} if plugin[0] == "t" else {"rules": "allegory"}
    config.write_text(json.dumps(settings))
    stdin = json.dumps(SCHEMA) + "\nWARNING: tap printed a log line on stdout\n"
    done = _run([plugin, "--config", str(config)], stdin)
    assert done.returncode == 1
    assert "Traceback" not in done.stderr
    (line,) = _errors(done.stderr)
    assert "input line 2: not a JSON message (" in line
    assert line.endswith("'WARNING: tap printed a log line on stdout'")
