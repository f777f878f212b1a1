"""What every end-to-end test does: run the real `meltano run <tap> mapper target-twenty` and
read what target-twenty wrote (its report, CSV batches and side files)."""

from __future__ import annotations

import csv
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
MELTANO = str(Path(sys.executable).parent / "meltano")
# What a `meltano run` shares that a parallel one must not: the system database (state) and
# .meltano/run/<plugin>/ (each run writes the tap's catalog there under one fixed name).
_PRIVATE = ("meltano.db", "run")


def allegory_stream(file_key: str) -> str:
    """The stream tap-allegory-csv makes of a file of the sample's expected.json ``rows``
    (``matters__contacts`` → ``matter_contacts``, ``workflows.json`` → ``workflows``)."""
    from tap_allegory_csv.streams import LAYOUT

    role = LAYOUT.classify(Path(file_key if "." in file_key else f"{file_key}.csv"))
    assert role is not None, file_key
    return role.stream


def project_dir() -> Path:
    """The Meltano project to run in: the checkout itself, or under pytest-xdist a project of the
    worker's own that shares the checkout's files and installed plugins (symlinks) but has its
    own system database and run folder, so that parallel pipelines cannot race."""
    worker = os.environ.get("PYTEST_XDIST_WORKER")
    if not worker:
        return ROOT
    tag = hashlib.sha1(str(ROOT).encode()).hexdigest()[:8]
    return shared_project(Path(tempfile.gettempdir()) / f"crm2twenty-meltano-{tag}-{worker}")


def shared_project(project: Path, own: tuple[str, ...] = ()) -> Path:
    """A Meltano project at ``project`` that shares the checkout's files and installed plugins
    (symlinks) but has its own meltano.yml (a copy, which `meltano config set` may rewrite), its
    own system database and run folder; entries named in ``own`` (e.g. .env) are not shared."""
    (project / ".meltano").mkdir(parents=True, exist_ok=True)
    # Meltano wants meltano.yml itself inside the project root: a copy, refreshed when it changed
    text = (ROOT / "meltano.yml").read_text(encoding="utf-8")
    mine = project / "meltano.yml"
    if mine.is_symlink() or not mine.exists() or mine.read_text(encoding="utf-8") != text:
        mine.unlink(missing_ok=True)
        mine.write_text(text, encoding="utf-8")
    for entry in ROOT.iterdir():
        if entry.name not in (".meltano", "output", "meltano.yml", *own):
            _link(project / entry.name, entry)
    for entry in (ROOT / ".meltano").iterdir():
        # (the database's -wal and -shm files, which a run in the checkout leaves, too)
        if entry.name.split("-")[0] not in _PRIVATE:
            _link(project / ".meltano" / entry.name, entry)
    return project


def _link(link: Path, target: Path) -> None:
    if not link.is_symlink():
        link.symlink_to(target)


def clean_env() -> dict[str, str]:
    """The caller's environment without any Meltano or plugin setting."""
    return {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("MELTANO_", "TAP_", "TARGET_", "CRM2TWENTY_MAPPER"))
    }


def meltano(
    args: list[str],
    output: Path,
    env: dict[str, str],
    *,
    fails: bool = False,
    project: Path | None = None,
    stdin: str | None = None,
) -> subprocess.CompletedProcess:
    """``meltano <args>`` in the project (default: ``project_dir()``) with only the given
    settings (the caller's MELTANO_/TAP_/TARGET_/CRM2TWENTY_MAPPER_ variables are dropped),
    ``stdin`` its input; it must succeed (with ``fails``: it must fail)."""
    clean = clean_env() | {"TARGET_TWENTY_OUTPUT_DIR": str(output), **env}
    done = subprocess.run(
        [MELTANO, *args],
        cwd=project or project_dir(),
        env=clean,
        input=stdin,
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert (done.returncode != 0) == fails, done.stderr[-3000:]
    return done


def meltano_run(
    tap: str, output: Path, suffix: str, env: dict[str, str], *extra: str, fails: bool = False
) -> dict:
    """One pipeline run with only the given settings; returns the run folder, its report.json
    and the log. With ``fails`` the run must fail (its folder is then the one ``LAST_RUN``
    names: a failed run does not move ``LATEST``)."""
    done = meltano(
        ["run", "--state-id-suffix", suffix, *extra, tap, "mapper", "target-twenty"],
        output,
        env,
        fails=fails,
    )
    run = output / (output / ("LAST_RUN" if fails else "LATEST")).read_text().strip()
    return {
        "dir": run,
        "report": json.loads((run / "report.json").read_text()),
        "log": done.stdout + done.stderr,
    }


def rerunnable(
    tmp_path_factory: Any, export: Path, name: str, run: Callable[[Path, Path, str], dict]
) -> dict:
    """``run`` over a copy of ``export`` that a later-run test may change and run again with the
    same state id suffix and output folder; the result holds them beside the run's own keys."""
    copy = tmp_path_factory.mktemp(name) / "export"
    shutil.copytree(export, copy)
    output = tmp_path_factory.mktemp("out")
    suffix = f"e2e-{uuid.uuid4().hex}"
    return {**run(copy, output, suffix), "export": copy, "output": output, "suffix": suffix}


def api_env(twenty: Any, state_dir: Path, fallback_owner: str = "admin@acme.test") -> dict:
    """target-twenty's settings for API mode into a fake Twenty, unthrottled for tests."""
    return {
        "TARGET_TWENTY_MODE": "api",
        "TARGET_TWENTY_API_URL": twenty.url,
        "TARGET_TWENTY_API_KEY": twenty.api_key,
        "TARGET_TWENTY_REQUESTS_PER_MINUTE": "600000",  # the fake limits nothing: no waits
        "TARGET_TWENTY_FALLBACK_OWNER_EMAIL": fallback_owner,
        "TARGET_TWENTY_STATE_DIR": str(state_dir),
    }


def csv_rows(run_dir: Path, pattern: str) -> list[dict]:
    """Rows of the run's CSV batches matching ``pattern`` (e.g. ``*-people-*.csv``), in order."""
    out: list[dict] = []
    for path in sorted((run_dir / "csv").glob(pattern)):
        with path.open(encoding="utf-8", newline="") as handle:
            out.extend(csv.DictReader(handle))
    return out


def side_rows(run_dir: Path, name: str) -> list[dict]:
    """A side file of the run: rejects.csv, merges.csv, repairs.csv, attachments-manifest.csv."""
    with (run_dir / name).open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def meltano_batch(project: Path, commands: list[dict]) -> tuple[list[dict], str]:
    """Quick ``meltano`` commands (``{"args": [...], "env": {...}}``, see tests/meltano_batch.py)
    run in order in ``project`` by one Python process, one Meltano import for all of them; each
    one's result (exit, stdout, error) and the batch's log (its stderr)."""
    # (the results file outside the project: that may be the checkout itself)
    with tempfile.TemporaryDirectory() as scratch:
        results = Path(scratch) / "batch-results.json"
        done = subprocess.run(
            [sys.executable, str(Path(__file__).with_name("meltano_batch.py")), str(results)],
            cwd=project,
            env=clean_env(),
            input=json.dumps(commands),
            capture_output=True,
            text=True,
            timeout=900,
        )
        assert done.returncode == 0, done.stderr[-3000:]
        return json.loads(results.read_text(encoding="utf-8")), done.stderr
