"""The audit log: every write of every API run, kept in the state directory for rollback.

For each record a run wrote: whether it created it, updated it (with the values it had before,
so a rollback can put them back) or restored it from the trash; and every piece of metadata
it created or changed.

The log is written ahead: a batch's intent (its ids, and for updates the values they replace)
is recorded *before* the request leaves, marked pending, and confirmed with Twenty's answer
(or dropped when Twenty refused the batch: batches are all or nothing, docs/twenty-contract.md
§2.5). A run killed at any moment therefore leaves at most a pending batch that may or may not
have landed, and rollback undoes it as if it had: destroying ids that do not exist and putting
back values that were never replaced are both harmless.

Rollback marks each write undone as its request is confirmed, so a rollback killed half-way
resumes where it stopped and undoes nothing twice.
"""

from __future__ import annotations

import json
import sqlite3
import threading
import time
from dataclasses import dataclass
from enum import Enum
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
# Added after the first release; an older audit.sqlite gets them on open.
_COLUMNS = {
    # sent / source: the body Twenty confirmed and the source values it was made from (verify)
    "writes": {
        "pending": "INTEGER",
        "undone": "TEXT",
        "creator": "TEXT",
        "sent": "TEXT",
        "source": "TEXT",
    },
    "metadata": {"pending": "INTEGER", "undone": "TEXT"},
    "runs": {"workspace": "TEXT"},  # the API key's workspace (docs/twenty-contract.md §2.12)
}


class Action(str, Enum):
    CREATED = "created"
    UPDATED = "updated"
    RESTORED = "restored"  # taken out of the trash
    # Twenty matched our record to another one through a unique value (§2.6) and updated that
    # one; its earlier values were not read, so a rollback leaves it as written.
    MATCHED = "matched"


@dataclass(frozen=True)
class Write:
    id: str
    action: Action
    prior: dict[str, Any] | None = None
    # an updated record's creator (``creator_of``): a rollback that finds another creator in
    # Twenty's answer knows its upsert made the record anew (someone had destroyed it)
    creator: dict[str, Any] | None = None
    # the body sent (what verify compares Twenty's copy with) and where it came from
    sent: dict[str, Any] | None = None
    source: SentSource | None = None


@dataclass(frozen=True)
class SentSource:
    """The source record a body was made from: its stream and key, and per body field (a
    composite's ``field.sub``) the source value, when the mapper kept it
    (``keep_source_values``)."""

    stream: str | None
    key: str | None
    values: dict[str, Any] | None

    def dump(self) -> str:
        return json.dumps(
            {"stream": self.stream, "key": self.key, "values": self.values}, default=str
        )

    @classmethod
    def load(cls, text: str | None) -> SentSource | None:
        if not text:
            return None
        data = json.loads(text)
        return cls(data.get("stream"), data.get("key"), data.get("values"))


@dataclass
class LastSent:
    """What the migration last sent one record: its fields, the run that sent each, the
    source it came from, and the runs that wrote it (oldest first)."""

    body: dict[str, Any]
    run_of: dict[str, str]
    source: SentSource | None
    runs: list[str]


@dataclass(frozen=True)
class Logged:
    """A write as the audit log holds it."""

    seq: int
    object: str
    plural: str
    id: str
    action: Action
    prior: dict[str, Any] | None
    pending: bool  # sent (or about to be) but never confirmed: the run was killed
    undone: bool
    creator: dict[str, Any] | None = None


@dataclass(frozen=True)
class MetaWrite:
    seq: int
    kind: str  # object | field | options
    id: str
    object: str | None
    name: str | None
    prior: Any
    pending: bool
    undone: bool


@dataclass(frozen=True)
class RunInfo:
    run: str
    migration: str
    started: str
    finished: str | None
    rolled_back: str | None
    writes: int
    left: int  # writes not yet undone (a rollback killed half-way leaves some)
    order: int  # runs started in the same second keep the order they started in
    workspace: str | None = None  # None: a run from before workspaces were recorded


class Audit:
    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self.db = sqlite3.connect(str(path), isolation_level=None, check_same_thread=False)
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.executescript(_TABLES)
        for table, columns in _COLUMNS.items():
            have = {r[1] for r in self.db.execute(f"PRAGMA table_info({table})")}
            for name, kind in columns.items():
                if name not in have:
                    self.db.execute(f"ALTER TABLE {table} ADD COLUMN {name} {kind}")
        # verify looks a record's writes up by id, across runs
        self.db.execute("CREATE INDEX IF NOT EXISTS writes_record ON writes(object, id, seq)")
        self.lock = threading.Lock()  # the loader's batches confirm from several threads

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

    # ---- record writes, ahead of the request ------------------------------------------

    def intend(self, run: str, obj: str, plural: str, writes: list[Write]) -> int:
        """Record a batch about to be sent, pending; returns its handle for confirm/drop."""
        with self.lock:
            self.db.execute("BEGIN IMMEDIATE")
            (batch,) = self.db.execute(
                "SELECT COALESCE(MAX(pending), 0) + 1 FROM writes"
            ).fetchone()
            self._insert(run, obj, plural, writes, batch)
            self.db.execute("COMMIT")
        return int(batch)

    def confirm(self, batch: int, run: str, obj: str, plural: str, writes: list[Write]) -> None:
        """Twenty answered: the pending intent becomes what it confirmed, in one transaction."""
        with self.lock:
            self.db.execute("BEGIN IMMEDIATE")
            self.db.execute("DELETE FROM writes WHERE pending=?", (batch,))
            self._insert(run, obj, plural, writes, None)
            self.db.execute("COMMIT")

    def drop(self, batch: int) -> None:
        """Twenty refused the batch: nothing of it was written."""
        with self.lock:
            self.db.execute("DELETE FROM writes WHERE pending=?", (batch,))

    def _insert(
        self, run: str, obj: str, plural: str, writes: list[Write], pending: int | None
    ) -> None:
        self.db.executemany(
            "INSERT INTO writes(run, object, plural, id, action, prior, pending, creator, sent, "
            "source) VALUES (?,?,?,?,?,?,?,?,?,?)",
            [
                (
                    run,
                    obj,
                    plural,
                    w.id,
                    w.action.value,
                    None if w.prior is None else json.dumps(w.prior),
                    pending,
                    None if w.creator is None else json.dumps(w.creator),
                    # the body only once Twenty confirmed it: an intent is not what was stored
                    None if w.sent is None or pending is not None else json.dumps(w.sent),
                    None if w.source is None or pending is not None else w.source.dump(),
                )
                for w in writes
            ],
        )

    # ---- metadata writes ----------------------------------------------------------------

    def intend_metadata(
        self,
        run: str,
        kind: str,
        obj: str | None,
        name: str | None,
        prior: Any = None,
        mid: str = "",
    ) -> int:
        """Before a metadata write. A new object or field has no id yet (rollback finds a
        pending one by its name); returns the row to confirm with the id Twenty gives."""
        with self.lock:
            cur = self.db.execute(
                "INSERT INTO metadata(run, kind, id, object, name, prior, pending) "
                "VALUES (?,?,?,?,?,?,1)",
                (run, kind, mid, obj, name, None if prior is None else json.dumps(prior)),
            )
        return int(cur.lastrowid or 0)

    def confirm_metadata(self, seq: int, mid: str) -> None:
        with self.lock:
            self.db.execute("UPDATE metadata SET id=?, pending=NULL WHERE seq=?", (mid, seq))

    # ---- reading --------------------------------------------------------------------------

    def runs(self) -> list[RunInfo]:
        return [
            RunInfo(*row)
            for row in self.db.execute(
                "SELECT r.run, r.migration, r.started, r.finished, r.rolled_back, "
                "(SELECT COUNT(*) FROM writes w WHERE w.run = r.run), "
                "(SELECT COUNT(*) FROM writes w WHERE w.run = r.run AND w.undone IS NULL), "
                "r.rowid, r.workspace FROM runs r ORDER BY r.rowid"
            )
        ]

    def writes(self, run: str) -> list[Logged]:
        return [
            Logged(
                seq,
                obj,
                plural,
                rid,
                Action(action),
                json.loads(prior) if prior else None,
                pending is not None,
                undone is not None,
                json.loads(creator) if creator else None,
            )
            for seq, obj, plural, rid, action, prior, pending, undone, creator in self.db.execute(
                "SELECT seq, object, plural, id, action, prior, pending, undone, creator "
                "FROM writes WHERE run=? ORDER BY seq",
                (run,),
            )
        ]

    def confirmed(self, run: str) -> set[tuple[str, str]]:
        """(object, id) of every record the run created or updated, as Twenty confirmed."""
        return {
            (w.object, w.id)
            for w in self.writes(run)
            if not w.pending and w.action in (Action.CREATED, Action.UPDATED)
        }

    def sent_records(self, run: str | None) -> list[tuple[str, str, str]]:
        """(object, plural, id) of every record whose body ``run`` sent and Twenty confirmed
        (``None``: every run's), not undone by a rollback, by object then id."""
        where = "run=? AND " if run is not None else ""
        return self.db.execute(
            "SELECT object, MAX(plural), id FROM writes WHERE "  # noqa: S608
            f"{where}sent IS NOT NULL AND pending IS NULL AND undone IS NULL "
            "GROUP BY object, id ORDER BY object, id",
            (run,) if run is not None else (),
        ).fetchall()

    def last_sent(self, obj: str, ids: list[str]) -> dict[str, LastSent]:
        """What these records should hold now: per record, every confirmed body any run sent
        it and no rollback undid, oldest first, each field as the last body that carried it
        (an upsert leaves fields it is not sent alone; a second pass sends one relation)."""
        out: dict[str, LastSent] = {}
        for i in range(0, len(ids), 500):
            chunk = ids[i : i + 500]
            marks = ",".join("?" * len(chunk))
            for rid, run, sent, source in self.db.execute(
                "SELECT id, run, sent, source FROM writes WHERE object=? "  # noqa: S608
                f"AND id IN ({marks}) AND sent IS NOT NULL AND pending IS NULL "
                "AND undone IS NULL ORDER BY seq",
                (obj, *chunk),
            ):
                last = out.setdefault(rid, LastSent({}, {}, None, []))
                body = json.loads(sent)
                origin = SentSource.load(source)
                for name, value in body.items():
                    last.body[name] = value
                    last.run_of[name] = run
                if origin is not None:
                    kept = (last.source.values if last.source else None) or {}
                    values = {**kept, **(origin.values or {})}
                    last.source = SentSource(origin.stream, origin.key, values or None)
                if run not in last.runs:
                    last.runs.append(run)
        return out

    def written_ids(self, run: str, obj: str) -> set[str]:
        return {
            r[0]
            for r in self.db.execute(
                "SELECT id FROM writes WHERE run=? AND object=? AND pending IS NULL", (run, obj)
            )
        }

    def metadata(self, run: str) -> list[MetaWrite]:
        return [
            MetaWrite(
                seq,
                kind,
                mid,
                obj,
                name,
                json.loads(prior) if prior else None,
                pending is not None,
                undone is not None,
            )
            for seq, kind, mid, obj, name, prior, pending, undone in self.db.execute(
                "SELECT seq, kind, id, object, name, prior, pending, undone FROM metadata "
                "WHERE run=? ORDER BY seq",
                (run,),
            )
        ]

    # ---- rollback's progress --------------------------------------------------------------

    def mark_undone(self, seqs: list[int], *, metadata: bool = False) -> None:
        table = "metadata" if metadata else "writes"
        with self.lock:
            self.db.execute("BEGIN IMMEDIATE")
            self.db.executemany(
                f"UPDATE {table} SET undone=? WHERE seq=?",  # noqa: S608
                [(_now(), s) for s in seqs],
            )
            self.db.execute("COMMIT")

    def mark_rolled_back(self, run: str) -> None:
        self.db.execute("UPDATE runs SET rolled_back=? WHERE run=?", (_now(), run))

    def close(self) -> None:
        self.db.close()


def creator_of(record: dict[str, Any]) -> dict[str, Any] | None:
    """Who made a record, as its ``createdBy`` says (an update leaves it as it was)."""
    made = record.get("createdBy")
    if not isinstance(made, dict):
        return None
    return {k: made.get(k) for k in ("source", "name", "workspaceMemberId")}


def _now() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
