"""Spool files: a killed run's spool is removed by the next run; a live or kept one is not."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

from target_twenty.spool import Source, Spool, dump_data, remove_interrupted


def test_the_next_run_removes_an_interrupted_runs_spool(tmp_path: Path) -> None:
    # A run killed with -9 while it held its spool: the process is gone, its files stay.
    killed = tmp_path / "20261201T000000Z-dead" / "spool.sqlite"
    script = (
        "import os, sys; from pathlib import Path; from target_twenty.spool import Spool;"
        "Spool(Path(sys.argv[1])); os.kill(os.getpid(), 9)"
    )
    subprocess.run([sys.executable, "-c", script, str(killed)], check=False)
    assert killed.exists() and killed.with_name("spool.sqlite.lock").exists()
    # A finished run that kept its spool on purpose (keep_spool): it has its report.
    kept = tmp_path / "20261201T000001Z-kept" / "spool.sqlite"
    Spool(kept).close()
    (kept.parent / "report.json").write_text("{}", encoding="utf-8")
    # Another run, alive right now.
    live = Spool(tmp_path / "20261201T000002Z-live" / "spool.sqlite")
    current = Spool(tmp_path / "20261201T000003Z-this" / "spool.sqlite")
    try:
        removed = remove_interrupted(tmp_path, current.path)
        assert removed == [killed]
        assert not killed.exists() and not killed.with_name("spool.sqlite.lock").exists()
        assert kept.exists() and live.path.exists() and current.path.exists()
    finally:
        live.close()
        current.close()
    assert not live.path.with_name("spool.sqlite.lock").exists()  # closing lets go of it


def test_pending_records_stream_one_object_in_arrival_order(tmp_path: Path) -> None:
    """The writers' read: only pending records of the object, oldest first, each with its id,
    the JSON read back as it was spooled (non-ASCII text, nesting, numbers)."""
    spool = Spool(tmp_path / "spool.sqlite")
    records: list[tuple[str, str, dict[str, Any]]] = [
        ("person", "p1", {"name": {"firstName": "Zoë"}, "n": 1.5}),
        ("company", "c1", {"name": "Acme"}),
        ("person", "p2", {"name": {"firstName": "Ana"}, "tags": ["a", "b"]}),
        ("person", "p3", {"name": {"firstName": "Rejected"}}),
        ("person", "p4", {"name": {"firstName": "Late"}, "companyId": "c1"}),
    ]
    for obj, rid, data in records:
        spool.add_record(spool.next_seq(), obj, rid, Source(), dump_data(data), [], [], [])
    spool.finish_input()
    spool.reject(4, "test")
    got = list(spool.pending_records("person"))
    assert [r["id"] for r in got] == ["p1", "p2", "p4"]
    assert got[0] == {"name": {"firstName": "Zoë"}, "n": 1.5, "id": "p1"}
    assert [r["id"] for r in spool.pending_records("person", needs="companyId")] == ["p4"]
    spool.close()
