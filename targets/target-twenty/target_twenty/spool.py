"""The on-disk spool: every record of the run, held until the end of input.

Twenty needs parents before children and one dangling id fails a whole batch, so nothing can be
written until every stream has arrived. A migration can be millions of records, so they wait in
SQLite, not in RAM; the checks that span records (duplicates, dangling references, cycles) are
SQL over indexed tables. The spool is scratch space for one run: it is rebuilt every run (the
tap re-sends what the target did not acknowledge), so it skips journaling and fsync.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any, NamedTuple

_SCHEMA = """
CREATE TABLE records(
    seq INTEGER PRIMARY KEY,      -- arrival order
    object TEXT NOT NULL,
    id TEXT NOT NULL,
    stream TEXT,                  -- source stream (mapper provenance)
    skey TEXT,                    -- source key
    location TEXT,                -- file:line when the tap knew it
    is_primary INTEGER NOT NULL,  -- the record that stands for its source row
    data TEXT NOT NULL,           -- JSON of the record, mapper property names
    status TEXT,                  -- NULL = to write | rejected | merged
    reason TEXT,
    survivor TEXT                 -- id of the record a merged one was merged into
);
CREATE TABLE refs(                -- relations by id, extracted on arrival
    seq INTEGER NOT NULL, object TEXT NOT NULL, id TEXT NOT NULL, prop TEXT NOT NULL,
    target_object TEXT NOT NULL, target_id TEXT NOT NULL
);
CREATE TABLE owners(              -- relations to workspace members by e-mail
    seq INTEGER NOT NULL, object TEXT NOT NULL, id TEXT NOT NULL, prop TEXT NOT NULL,
    email TEXT NOT NULL
);
CREATE TABLE uniques(             -- values of unique fields: normalised, and as sent
    seq INTEGER NOT NULL, object TEXT NOT NULL, field TEXT NOT NULL, ukey TEXT NOT NULL,
    value TEXT NOT NULL
);
CREATE TABLE external(            -- records found in the workspace that this run relies on
    object TEXT NOT NULL, id TEXT NOT NULL, deleted INTEGER NOT NULL DEFAULT 0,
    data TEXT, PRIMARY KEY(object, id)
) WITHOUT ROWID;
CREATE TABLE side(                -- _rejects, _repairs, _summary, _owner, _workflow
    seq INTEGER PRIMARY KEY, stream TEXT NOT NULL, data TEXT NOT NULL
);
CREATE TABLE problems(            -- what the target itself found: rejects and repairs
    seq INTEGER PRIMARY KEY, kind TEXT NOT NULL, record_seq INTEGER, object TEXT, id TEXT,
    stream TEXT, skey TEXT, location TEXT, field TEXT, value TEXT, reason TEXT NOT NULL
);
"""

_INDEXES = """
CREATE INDEX IF NOT EXISTS records_object_id ON records(object, id);
CREATE INDEX IF NOT EXISTS refs_target ON refs(target_object, target_id);
CREATE INDEX IF NOT EXISTS refs_seq ON refs(seq);
CREATE INDEX IF NOT EXISTS uniques_key ON uniques(object, field, ukey);
"""

_FLUSH_AT = 5000


class Spool:
    """Buffered inserts into a scratch SQLite database."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        if path.exists():
            path.unlink()
        self.path = path
        self.db = sqlite3.connect(str(path), isolation_level=None, check_same_thread=False)
        for pragma in (
            "journal_mode=OFF",
            "synchronous=OFF",
            "temp_store=FILE",
            "cache_size=-16384",
        ):
            self.db.execute(f"PRAGMA {pragma}")
        self.db.executescript(_SCHEMA)
        self._seq = 0
        self._records: list[tuple] = []
        self._refs: list[tuple] = []
        self._owners: list[tuple] = []
        self._uniques: list[tuple] = []
        self._side: list[tuple] = []
        self.indexed = False

    def next_seq(self) -> int:
        self._seq += 1
        return self._seq

    def add_record(
        self,
        seq: int,
        obj: str,
        rid: str,
        prov: dict[str, Any],
        data: str,
        refs: list[tuple],
        owners: list[tuple],
        uniques: list[tuple],
    ) -> None:
        self._records.append(
            (
                seq,
                obj,
                rid,
                prov.get("stream"),
                prov.get("key"),
                prov.get("location"),
                1 if prov.get("primary", True) else 0,
                data,
            )
        )
        for prop, target, tid in refs:
            self._refs.append((seq, obj, rid, prop, target, tid))
        for prop, email in owners:
            self._owners.append((seq, obj, rid, prop, email))
        for fname, ukey, value in uniques:
            self._uniques.append((seq, obj, fname, ukey, value))
        if len(self._records) >= _FLUSH_AT:
            self.flush()

    def add_side(self, stream: str, record: dict) -> None:
        self._side.append((self.next_seq(), stream, json.dumps(record, default=str)))
        if len(self._side) >= _FLUSH_AT:
            self.flush()

    def add_problem(
        self,
        kind: str,
        reason: str,
        *,
        record_seq: int | None = None,
        obj: str | None = None,
        rid: str | None = None,
        prov: dict | None = None,
        field: str | None = None,
        value: Any = None,
    ) -> None:
        prov = prov or {}
        self.db.execute(
            "INSERT INTO problems(kind, record_seq, object, id, stream, skey, location, field,"
            " value, reason) VALUES (?,?,?,?,?,?,?,?,?,?)",
            (
                kind,
                record_seq,
                obj,
                rid,
                prov.get("stream"),
                prov.get("key"),
                prov.get("location"),
                field,
                None
                if value is None
                else (value if isinstance(value, str) else json.dumps(value, default=str)),
                reason,
            ),
        )

    def flush(self) -> None:
        cur = self.db.cursor()
        cur.execute("BEGIN")
        if self._records:
            cur.executemany(
                "INSERT INTO records(seq, object, id, stream, skey, location,"
                " is_primary, data) VALUES (?,?,?,?,?,?,?,?)",
                self._records,
            )
        if self._refs:
            cur.executemany("INSERT INTO refs VALUES (?,?,?,?,?,?)", self._refs)
        if self._owners:
            cur.executemany("INSERT INTO owners VALUES (?,?,?,?,?)", self._owners)
        if self._uniques:
            cur.executemany("INSERT INTO uniques VALUES (?,?,?,?,?)", self._uniques)
        if self._side:
            cur.executemany("INSERT INTO side VALUES (?,?,?)", self._side)
        cur.execute("COMMIT")
        self._records.clear()
        self._refs.clear()
        self._owners.clear()
        self._uniques.clear()
        self._side.clear()

    def finish_input(self) -> None:
        """Flush what is buffered and build the indexes the end-of-run checks need."""
        self.flush()
        if not self.indexed:
            self.db.executescript(_INDEXES)
            self.indexed = True

    def side(self, stream: str) -> Iterator[dict]:
        for (data,) in self.db.execute(
            "SELECT data FROM side WHERE stream=? ORDER BY seq", (stream,)
        ):
            yield json.loads(data)

    def query(self, sql: str, params: tuple = ()) -> list[tuple]:
        return self.db.execute(sql, params).fetchall()

    def close(self) -> None:
        self.db.close()

    # ---- report queries ----
    # What report.builder reads at the end of the run: the report's only way into the spool.

    def object_tallies(self) -> list[ObjectTally]:
        """Per object, by name: how many records arrived and how many were merged, rejected
        or skipped (the rest are to be written)."""
        return [
            ObjectTally(obj, received, merged or 0, rejected or 0, skipped or 0)
            for obj, received, merged, rejected, skipped in self.db.execute(
                "SELECT object, COUNT(*), SUM(status='merged'), SUM(status='rejected'), "
                "SUM(status='skipped') FROM records GROUP BY object ORDER BY object"
            )
        ]

    def primary_fates(self) -> list[tuple[str, str, str | None, int]]:
        """``(stream, object, status, count)`` of the records that stand for a source row."""
        return self.db.execute(
            "SELECT stream, object, status, COUNT(*) FROM records WHERE is_primary=1 AND "
            "stream IS NOT NULL GROUP BY stream, object, status"
        ).fetchall()

    def side_streams(self) -> list[str]:
        return [s for (s,) in self.db.execute("SELECT DISTINCT stream FROM side ORDER BY stream")]

    def problems(self) -> Iterator[Problem]:
        """The target's own rejects and repairs, in the order they were found."""
        for row in self.db.execute(
            "SELECT kind, object, id, stream, skey, location, field, value, reason "
            "FROM problems ORDER BY seq"
        ):
            yield Problem(*row)

    def owner_emails(self) -> list[str]:
        """Distinct owner e-mails the records point at, sorted."""
        return [e for (e,) in self.db.execute("SELECT DISTINCT email FROM owners ORDER BY email")]

    def records_of(self, obj: str) -> Iterator[SpooledRecord]:
        """Every record of one object, in arrival order, with its fate."""
        for rid, data, status, reason, skey in self.db.execute(
            "SELECT id, data, status, reason, skey FROM records WHERE object=? ORDER BY seq",
            (obj,),
        ):
            yield SpooledRecord(rid, json.loads(data), status, reason, skey)


class ObjectTally(NamedTuple):
    object: str
    received: int
    merged: int
    rejected: int
    skipped: int


class Problem(NamedTuple):
    kind: str  # reject | repair
    object: str | None
    id: str | None
    stream: str | None
    skey: str | None
    location: str | None
    field: str | None
    value: str | None
    reason: str


class SpooledRecord(NamedTuple):
    id: str
    data: dict[str, Any]
    status: str | None
    reason: str | None
    skey: str | None
