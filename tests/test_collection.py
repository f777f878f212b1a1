"""Collecting the suite needs no PostgreSQL and starts no server, process or thread: fixtures
do that, for the tests that run (issue 10, item 6). `pytest --collect-only` runs here with
tests/collection_guard.py, which makes each such attempt raise, and a PostgreSQL address where
nothing listens (a module that asked it at import would be skipped, and the run says so)."""

from __future__ import annotations

import os
import subprocess
import sys

import e2e_run
import pytest

# The SDK's test factory lists a tap's streams (one test per stream and field) when the test
# class is made, at import; these two taps discover their streams from the source itself (the
# Sage server's metadata; the database's tables and custom columns), so their modules start
# the fake Sage / make the database at import. They are the exceptions, named here.
AT_IMPORT = (
    "taps/tap-sage-crm/tests/test_core.py",
    "taps/tap-supabase-atomic/tests/test_core.py",
)


@pytest.mark.slow  # a pytest process collecting the whole suite
def test_collecting_needs_no_postgresql_and_starts_nothing() -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST_")}
    env["CRM2TWENTY_TEST_PG_DSN"] = "postgresql://postgres@127.0.0.1:1/postgres"
    env["PYTHONPATH"] = os.pathsep.join(
        filter(None, [str(e2e_run.ROOT / "tests"), env.get("PYTHONPATH")])
    )
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "--collect-only", "-q", "-rs", "-p", "collection_guard"]
        + [f"--ignore={path}" for path in AT_IMPORT],
        cwd=e2e_run.ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    summary = done.stdout.strip().splitlines()[-1]
    assert " tests collected in " in summary and "skipped" not in summary, summary
