"""The audit log: every write of every API run, kept in the state directory for rollback.

For each record a run wrote: whether it created it, updated it (with the values it had before,
so a rollback can put them back) or restored it from the trash; and every piece of metadata
it created or changed. Writes are recorded right after Twenty confirms them, in order, so an
interrupted run's audit is still complete up to its last confirmed batch.
"""

from __future__ import annotations

import json
import sqlite3
import time
from pathlib import Path
from typing import Any

from target_twenty.registry import WorkspaceMismatch

_TABLES = """
CREATE TABLE IF NOT EXISTS runs(
    run TEXT PRIMARY KEY, migration TEXT, api_url TEXT, started TEXT, finished TEXT,
    rolled_back TEXT
);
CREATE TABLE IF NOT EXISTS writes(
    seq INTEGER PRIMARY KEY AUTOINCREMENT, run TEXT NOT NULL, object TEXT NOT NULL,
    plural TEXT NOT NULL, id TEXT NOT NULL, action TEXT NOT NULL, prior TEXT
);
CREATE INDEX IF NOT EXISTS writes_run ON writes(run, seq);
CREATE TABLE IF NOT EXISTS metadata(
    seq INTEGER PRIMARY KEY AUTOINCREMENT, run TEXT NOT NULL, kind TEXT NOT NULL,
    id TEXT NOT NULL, object TEXT, name TEXT, prior TEXT
);
"""


class Audit:
    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self.db = sqlite3.connect(str(path), isolation_level=None, check_same_thread=False)
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.executescript(_TABLES)
        columns = {r[1] for r in self.db.execute("PRAGMA table_info(runs)")}
        if "workspace" not in columns:  # the API key's workspace (docs/twenty-contract.md §2.11)
            self.db.execute("ALTER TABLE runs ADD COLUMN workspace TEXT")

    def start(self, run: str, migration: str, api_url: str, workspace: str | None = None) -> None:
        self.db.execute(
            "INSERT OR IGNORE INTO runs(run, migration, api_url, started, workspace) "
            "VALUES (?,?,?,?,?)",
            (run, migration, api_url, _now(), workspace),
        )

    def workspace(self, run: str) -> str | None:
        """The workspace the run wrote to (None: a run from before workspaces were recorded)."""
        row = self.db.execute("SELECT workspace FROM runs WHERE run=?", (run,)).fetchone()
        return row[0] if row else None

    def check_workspace(self, run: str, workspace: str) -> None:
        """Refuse to undo a run with a key for another workspace: its ids mean nothing there."""
        wrote = self.workspace(run)
        if wrote is not None and wrote != workspace:
            raise WorkspaceMismatch(
                f"run {run}", wrote, workspace, f"Roll it back with a key of workspace {wrote}."
            )

    def finish(self, run: str) -> None:
        self.db.execute("UPDATE runs SET finished=? WHERE run=?", (_now(), run))

    def record_writes(
        self, run: str, obj: str, plural: str, rows: list[tuple[str, str, Any]]
    ) -> None:
        """``rows``: (id, created|updated|restored, prior values or None)."""
        self.db.execute("BEGIN")
        self.db.executemany(
            "INSERT INTO writes(run, object, plural, id, action, prior) VALUES (?,?,?,?,?,?)",
            [
                (run, obj, plural, rid, action, None if prior is None else json.dumps(prior))
                for rid, action, prior in rows
            ],
        )
        self.db.execute("COMMIT")

    def record_metadata(
        self, run: str, kind: str, mid: str, obj: str | None, name: str | None, prior: Any = None
    ) -> None:
        self.db.execute(
            "INSERT INTO metadata(run, kind, id, object, name, prior) VALUES (?,?,?,?,?,?)",
            (run, kind, mid, obj, name, None if prior is None else json.dumps(prior)),
        )

    def runs(self) -> list[tuple]:
        return self.db.execute(
            "SELECT r.run, r.migration, r.started, r.finished, r.rolled_back, "
            "(SELECT COUNT(*) FROM writes w WHERE w.run = r.run) FROM runs r ORDER BY r.started"
        ).fetchall()

    def writes(self, run: str) -> list[tuple[str, str, str, str, Any]]:
        return [
            (obj, plural, rid, action, json.loads(prior) if prior else None)
            for obj, plural, rid, action, prior in self.db.execute(
                "SELECT object, plural, id, action, prior FROM writes WHERE run=? ORDER BY seq",
                (run,),
            )
        ]

    def confirmed(self, run: str) -> set[tuple[str, str]]:
        """(object, id) of every record the run created or updated, as Twenty confirmed."""
        return {
            (obj, rid)
            for obj, _p, rid, action, _prior in self.writes(run)
            if action in ("created", "updated")
        }

    def written_ids(self, run: str, obj: str) -> set[str]:
        return {
            r[0]
            for r in self.db.execute("SELECT id FROM writes WHERE run=? AND object=?", (run, obj))
        }

    def metadata(self, run: str) -> list[tuple[str, str, str | None, str | None, Any]]:
        return [
            (kind, mid, obj, name, json.loads(prior) if prior else None)
            for kind, mid, obj, name, prior in self.db.execute(
                "SELECT kind, id, object, name, prior FROM metadata WHERE run=? ORDER BY seq",
                (run,),
            )
        ]

    def mark_rolled_back(self, run: str) -> None:
        self.db.execute("UPDATE runs SET rolled_back=? WHERE run=?", (_now(), run))

    def close(self) -> None:
        self.db.close()


def _now() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
