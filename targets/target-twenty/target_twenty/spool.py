"""The spool repository: every record of the run, held until the end of input.

Twenty needs parents before children and one dangling id fails a whole batch, so nothing can be
written until every stream has arrived. A migration can be millions of records, so they wait in
SQLite, not in RAM; the checks that span records (duplicates, dangling references, cycles) are
SQL over indexed tables. The spool is scratch space for one run: it is rebuilt every run (the
tap re-sends what the target did not acknowledge), so it skips journaling and fsync.

This module is the only one holding SQL against the spool's tables: every stage asks it through
typed methods (``pending(object)``, ``reject(seq, reason)``, ``mark(seq, Status.MERGED, …)``).
A record's fate is its ``Status``; rejects and repairs are written here, once, for every stage.
The registry of earlier runs (registry.py) is attached to the same connection as ``reg`` so the
checks can join against it.
"""

from __future__ import annotations

import json
import os
import sqlite3
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from enum import Enum
from pathlib import Path
from typing import Any

import msgspec

try:
    import fcntl
except ImportError:  # not on Windows: spools are then told apart by their report alone
    fcntl = None  # type: ignore[assignment]

_SCHEMA = """
CREATE TABLE records(
    seq INTEGER PRIMARY KEY,      -- arrival order
    object TEXT NOT NULL,
    id TEXT NOT NULL,
    stream TEXT,                  -- source stream (mapper provenance)
    skey TEXT,                    -- source key
    location TEXT,                -- file:line when the tap knew it
    is_primary INTEGER NOT NULL,  -- the record that stands for its source row
    status TEXT,                  -- Status: NULL = to write; rejected, merged, skipped, unchanged
    reason TEXT,
    survivor TEXT,                -- id of the record a merged one was merged into
    payload_hash TEXT             -- API mode: hash of the body sent (the registry keeps it)
);
-- A record's JSON (mapper property names), apart: the checks scan and join records by the
-- columns above, which then fit the page cache; the JSON is read when a record is written.
CREATE TABLE record_data(seq INTEGER PRIMARY KEY, data TEXT NOT NULL);
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
-- with the status: whether a referenced record is to be written is read from the index alone
-- (a lookup in the table, per reference, was most of the checks' time)
CREATE INDEX IF NOT EXISTS records_object_id ON records(object, id, status);
-- an object's pending records in arrival order (seq is the rowid, the index's last column):
-- one ordered pass per object, without sorting the object's records in a temporary table
CREATE INDEX IF NOT EXISTS records_object_status ON records(object, status);
CREATE INDEX IF NOT EXISTS refs_target ON refs(target_object, target_id);
CREATE INDEX IF NOT EXISTS refs_seq ON refs(seq);
-- a relation dropped or moved by the checks: without it, each one read the whole owners table
CREATE INDEX IF NOT EXISTS owners_seq ON owners(seq);
CREATE INDEX IF NOT EXISTS uniques_key ON uniques(object, field, ukey);
"""

_FLUSH_AT = 5000
_CACHE = -16384  # KiB of page cache
_SORT_CACHE = -4096  # after the input (finish_input)

# A record's JSON is written once on arrival and read back once or twice: msgspec, not json,
# which took a fifth of a CSV run. Only the spool reads it back, so its spelling (compact,
# UTF-8) is the spool's own; files written from it are encoded by their writers.
_encode = msgspec.json.Encoder().encode
_decode = msgspec.json.Decoder().decode


def dump_data(record: dict[str, Any]) -> str:
    """A record's properties as the spool stores them."""
    return _encode(record).decode()


def load_data(text: str) -> dict[str, Any]:
    return _decode(text)


# A Row's columns, and the join that gives them (``r``: records; ``d``: their JSON).
_RECORD_COLUMNS = (
    "r.seq, r.object, r.id, r.stream, r.skey, r.location, r.is_primary, d.data, r.status, r.reason"
)
_RECORDS = "records r JOIN record_data d ON d.seq = r.seq"


class Status(Enum):
    """A spooled record's fate. ``PENDING`` (stored as NULL) is still to be written."""

    PENDING = None
    REJECTED = "rejected"
    MERGED = "merged"
    SKIPPED = "skipped"  # a dry run or a sample left it out: a full run writes it
    UNCHANGED = "unchanged"  # API mode: the payload Twenty confirmed last time; not sent


class ProblemKind(Enum):
    REJECT = "reject"
    REPAIR = "repair"


@dataclass(frozen=True)
class Source:
    """Where a record came from: the mapper's provenance."""

    stream: str | None = None
    key: str | None = None
    location: str | None = None
    primary: bool = True

    @classmethod
    def of(cls, prov: dict[str, Any]) -> Source:
        return cls(
            prov.get("stream"), prov.get("key"), prov.get("location"), prov.get("primary", True)
        )


@dataclass(frozen=True)
class Row:
    """One spooled record."""

    seq: int
    object: str
    id: str
    source: Source
    data_json: str
    status: Status = Status.PENDING
    reason: str | None = None

    @property
    def data(self) -> dict[str, Any]:
        """The record's properties (a fresh dict each time: callers may change it)."""
        return load_data(self.data_json)

    def describe(self) -> str:
        """``stream key (file:line)``, or ``object id`` for a record without provenance."""
        s = self.source
        text = f"{s.stream} {s.key}" if s.stream else f"{self.object} {self.id}"
        return f"{text} ({s.location})" if s.location else text


@dataclass(frozen=True)
class Query:
    """A SELECT over the spool that another database attached to it copies from."""

    sql: str
    params: tuple[Any, ...]


def _marks(values: list[str]) -> str:
    return ",".join("?" * len(values))


@dataclass(frozen=True)
class UniqueClash:
    """Records sharing one unique value, or sharing it with a record an earlier run wrote."""

    object: str
    field: str
    ukey: str
    seqs: list[int]
    known_id: str | None


@dataclass(frozen=True)
class Dangling:
    """A relation whose target is neither to be written, nor known, nor in the workspace."""

    seq: int
    object: str
    prop: str
    target_object: str
    target_id: str
    target_reason: str | None  # the target's reject reason, when it was rejected
    source_data: str


@dataclass(frozen=True)
class Problem:
    """A reject or repair the target found (one line of rejects.csv / repairs.csv)."""

    kind: ProblemKind
    object: str | None
    id: str | None
    source: Source
    field: str | None
    value: str | None
    reason: str


def _row(r: tuple) -> Row:
    seq, obj, rid, stream, skey, location, primary, data, status, reason = r
    return Row(
        seq, obj, rid, Source(stream, skey, location, bool(primary)), data, Status(status), reason
    )


class Spool:
    """The run's records in a scratch SQLite database, behind typed methods."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        if path.exists():
            path.unlink()
        self.path = path
        # Held while the run lives (the OS drops it when the process dies, kill -9 included),
        # so a later run can tell a live run's spool from an interrupted one's.
        self._lock = _hold(_lock_path(path))
        self.db = sqlite3.connect(str(path), isolation_level=None, check_same_thread=False)
        for pragma in (
            "journal_mode=OFF",
            "synchronous=OFF",
            "temp_store=FILE",
            f"cache_size={_CACHE}",
        ):
            self.db.execute(f"PRAGMA {pragma}")
        self.db.executescript(_SCHEMA)
        self._seq = 0
        self._records: list[tuple] = []
        self._data: list[tuple[int, str]] = []
        self._buffered: dict[int, tuple[str, str, Source]] = {}  # seq -> object, id, source
        self._refs: list[tuple] = []
        self._owners: list[tuple] = []
        self._uniques: list[tuple] = []
        self._side: list[tuple] = []
        self.indexed = False

    # ---- input ---------------------------------------------------------------------------

    def next_seq(self) -> int:
        self._seq += 1
        return self._seq

    def add_record(
        self,
        seq: int,
        obj: str,
        rid: str,
        source: Source,
        data: str,
        refs: list[tuple[str, str, str]],
        owners: list[tuple[str, str]],
        uniques: list[tuple[str, str, str]],
    ) -> None:
        """Buffer one record with its relations by id (prop, target object, target id), its
        owner e-mails (prop, e-mail) and its unique values (field, key, value as sent)."""
        self._records.append(
            (
                seq,
                obj,
                rid,
                source.stream,
                source.key,
                source.location,
                1 if source.primary else 0,
            )
        )
        self._data.append((seq, data))
        self._buffered[seq] = (obj, rid, source)
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

    def flush(self) -> None:
        cur = self.db.cursor()
        cur.execute("BEGIN")
        if self._records:
            cur.executemany(
                "INSERT INTO records(seq, object, id, stream, skey, location,"
                " is_primary) VALUES (?,?,?,?,?,?,?)",
                self._records,
            )
            cur.executemany("INSERT INTO record_data VALUES (?,?)", self._data)
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
        self._data.clear()
        self._buffered.clear()
        self._refs.clear()
        self._owners.clear()
        self._uniques.clear()
        self._side.clear()

    def finish_input(self) -> None:
        """Flush what is buffered and build the indexes the end-of-run checks need."""
        self.flush()
        if not self.indexed:
            # From here on SQLite sorts (index keys, GROUP BY, ORDER BY) in memory up to the
            # page cache's size: with the intake's cache, that memory grew with the migration up
            # to 16 MB (the peak RSS +17 % between 100 k and 1 M records); a quarter of it is
            # reached at any size
            self.db.execute(f"PRAGMA cache_size={_SORT_CACHE}")
            self.db.executescript(_INDEXES)
            self.indexed = True

    @contextmanager
    def transaction(self) -> Iterator[None]:
        self.db.execute("BEGIN")
        yield
        self.db.execute("COMMIT")

    def close(self) -> None:
        self.db.close()
        os.close(self._lock)
        _lock_path(self.path).unlink(missing_ok=True)

    # ---- a record's fate: the one place rejects and repairs are written -------------------

    def _who(self, seq: int) -> tuple[str | None, str | None, Source]:
        if seq in self._buffered:
            return self._buffered[seq]
        row = self.record(seq)
        return (row.object, row.id, row.source) if row else (None, None, Source())

    def _problem(
        self,
        kind: ProblemKind,
        seq: int,
        reason: str,
        field: str | None = None,
        value: Any = None,
    ) -> None:
        obj, rid, source = self._who(seq)
        self.db.execute(
            "INSERT INTO problems(kind, record_seq, object, id, stream, skey, location, field,"
            " value, reason) VALUES (?,?,?,?,?,?,?,?,?,?)",
            (
                kind.value,
                seq,
                obj,
                rid,
                source.stream,
                source.key,
                source.location,
                field,
                None
                if value is None
                else (value if isinstance(value, str) else json.dumps(value, default=str)),
                reason,
            ),
        )

    def reject(self, seq: int, reason: str) -> None:
        """The record is not written; ``reason`` goes to rejects.csv with its source."""
        if seq in self._buffered:
            self.flush()
        self.mark(seq, Status.REJECTED, reason=reason)
        self._problem(ProblemKind.REJECT, seq, reason)

    def repair(self, seq: int, field: str, value: Any, reason: str) -> None:
        """The record is written without ``field`` (or with a changed value, said by
        ``reason``); the line goes to repairs.csv."""
        self._problem(ProblemKind.REPAIR, seq, reason, field, value)

    def mark(
        self, seq: int, status: Status, *, reason: str | None = None, survivor: str | None = None
    ) -> None:
        """Set a record's status; a merged record names the ``survivor`` it was merged into."""
        if survivor is not None:
            self.db.execute(
                "UPDATE records SET status=?, survivor=?, reason=? WHERE seq=?",
                (status.value, survivor, reason, seq),
            )
        else:
            self.db.execute(
                "UPDATE records SET status=?, reason=? WHERE seq=?", (status.value, reason, seq)
            )

    def skip_pending(self, reason: str, keep: Iterable[int] | None = None) -> int:
        """Every record still to be written is skipped; with ``keep``, all but those (an empty
        ``keep`` skips none: a sample that chose nothing leaves everything as it was). Returns
        how many were skipped."""
        if keep is None:
            return self.db.execute(
                "UPDATE records SET status=?, reason=? WHERE status IS NULL",
                (Status.SKIPPED.value, reason),
            ).rowcount
        kept = tuple(keep)
        marks = ",".join("?" * len(kept)) or "NULL"
        return self.db.execute(
            f"UPDATE records SET status=?, reason=? WHERE status IS NULL "  # noqa: S608
            f"AND seq NOT IN ({marks})",
            (Status.SKIPPED.value, reason, *kept),
        ).rowcount

    # ---- reading records -------------------------------------------------------------------

    def record(self, seq: int) -> Row | None:
        r = self.db.execute(
            f"SELECT {_RECORD_COLUMNS} FROM {_RECORDS} WHERE r.seq=?",  # noqa: S608
            (seq,),
        ).fetchone()
        return _row(r) if r else None

    def find(self, obj: str, rid: str) -> Row | None:
        r = self.db.execute(
            f"SELECT {_RECORD_COLUMNS} FROM {_RECORDS} WHERE r.object=? AND r.id=?",  # noqa: S608
            (obj, rid),
        ).fetchone()
        return _row(r) if r else None

    def status(self, seq: int) -> Status:
        (status,) = self.db.execute("SELECT status FROM records WHERE seq=?", (seq,)).fetchone()
        return Status(status)

    def pending(self, obj: str, needs: str | None = None) -> list[Row]:
        """The records of ``obj`` still to be written, in arrival order (with ``needs``: only
        those holding a value for that property)."""
        sql = f"SELECT {_RECORD_COLUMNS} FROM {_RECORDS} WHERE r.object=? AND r.status IS NULL"  # noqa: S608
        params: tuple = (obj,)
        if needs:
            sql += " AND json_extract(d.data, ?) IS NOT NULL"
            params += (f'$."{needs}"',)
        return [_row(r) for r in self.db.execute(sql + " ORDER BY r.seq", params)]

    def pending_records(self, obj: str, needs: str | None = None) -> Iterator[dict[str, Any]]:
        """Like ``pending``, streamed, each record's properties with its ``id`` (what a writer
        reads: only one record at a time is in memory, however large the object)."""
        sql = f"SELECT r.id, d.data FROM {_RECORDS} WHERE r.object=? AND r.status IS NULL"  # noqa: S608
        params: tuple = (obj,)
        if needs:
            sql += " AND json_extract(d.data, ?) IS NOT NULL"
            params += (f'$."{needs}"',)
        for rid, data in self.db.execute(sql + " ORDER BY r.seq", params):
            record = _decode(data)
            record["id"] = rid
            yield record

    def all_of(self, obj: str) -> Iterator[Row]:
        """Every record of ``obj`` whatever its fate, in arrival order."""
        for r in self.db.execute(
            f"SELECT {_RECORD_COLUMNS} FROM {_RECORDS} WHERE r.object=? ORDER BY r.seq",  # noqa: S608
            (obj,),
        ):
            yield _row(r)

    def count_pending(self, obj: str, needs: str | None = None) -> int:
        sql = f"SELECT COUNT(*) FROM {_RECORDS} WHERE r.object=? AND r.status IS NULL"  # noqa: S608
        params: tuple = (obj,)
        if needs:
            sql += " AND json_extract(d.data, ?) IS NOT NULL"
            params += (f'$."{needs}"',)
        return int(self.db.execute(sql, params).fetchone()[0])

    def first_pending(self, obj: str, limit: int) -> list[int]:
        return [
            r[0]
            for r in self.db.execute(
                "SELECT seq FROM records WHERE object=? AND status IS NULL ORDER BY seq LIMIT ?",
                (obj, limit),
            )
        ]

    def parents(self, seqs: set[int]) -> set[int]:
        """The pending records these records point at."""
        marks = ",".join("?" * len(seqs))
        return {
            r[0]
            for r in self.db.execute(
                f"SELECT t.seq FROM refs r JOIN records t ON t.object = r.target_object AND "  # noqa: S608
                f"t.id = r.target_id AND t.status IS NULL WHERE r.seq IN ({marks})",
                tuple(seqs),
            )
        }

    def set_data(self, seq: int, record: dict[str, Any]) -> None:
        self.db.execute("UPDATE record_data SET data=? WHERE seq=?", (dump_data(record), seq))

    def set_hash(self, seq: int, payload_hash: str | None) -> None:
        """The hash of the body sent for this record (None: do not trust what was sent)."""
        self.db.execute("UPDATE records SET payload_hash=? WHERE seq=?", (payload_hash, seq))

    def written(self, objects: list[str], confirmed: set[tuple[str, str]] | None = None) -> Query:
        """(object, id, payload hash) of every record of ``objects`` that was to be written (with
        ``confirmed``: of those (object, id) only; without, CSV mode: nothing was sent, the hash
        is NULL), in (object, id) order: the registry, keyed so, is filled in order. A query, not
        rows: the registry copies them inside SQLite (streamed through Python, they were most of
        the audit stage)."""
        return Query(
            "SELECT r.object, r.id, "  # noqa: S608
            f"{'r.payload_hash' if confirmed is not None else 'NULL'} AS hash FROM records r "
            f"WHERE r.status IS NULL AND r.object IN ({_marks(objects)})"
            f"{self._confirmed(confirmed)} ORDER BY r.object, r.id",
            tuple(objects),
        )

    def written_uniques(
        self, objects: list[str], confirmed: set[tuple[str, str]] | None = None
    ) -> Query:
        """(object, field, key, id) of the unique values of those records."""
        return Query(
            "SELECT u.object, u.field, u.ukey, r.id FROM uniques u JOIN records r ON "  # noqa: S608
            f"r.seq = u.seq AND r.status IS NULL WHERE u.object IN ({_marks(objects)})"
            f"{self._confirmed(confirmed)}",
            tuple(objects),
        )

    def _confirmed(self, confirmed: set[tuple[str, str]] | None) -> str:
        """The condition that keeps records ``r`` among ``confirmed`` (none: every record)."""
        if confirmed is None:
            return ""
        return " AND " + self._among("confirmed", confirmed, "r.object", "r.id")

    def _among(
        self,
        table: str,
        rows: Iterable[tuple[Any, ...]],
        object_column: str,
        id_column: str,
        fill: str = "VALUES (?,?)",
    ) -> str:
        """A condition that (``object_column``, ``id_column``) is one of the (object, id) pairs
        ``rows`` give through ``fill``, held in the temporary table ``table`` (a set of pairs of
        any size, not one parameter per pair)."""
        self.db.execute(
            f"CREATE TEMP TABLE IF NOT EXISTS {table}(object TEXT, id TEXT, "
            "PRIMARY KEY(object, id)) WITHOUT ROWID"
        )
        self.db.execute(f"DELETE FROM temp.{table}")  # noqa: S608
        self.db.executemany(f"INSERT OR IGNORE INTO temp.{table} {fill}", rows)
        return (
            f"EXISTS (SELECT 1 FROM temp.{table} t "  # noqa: S608
            f"WHERE t.object = {object_column} AND t.id = {id_column})"
        )

    def count_known(self) -> int:
        """How many distinct records of this run the registry says an earlier run wrote."""
        return int(
            self.db.execute(
                "SELECT COUNT(*) FROM (SELECT DISTINCT object, id FROM records) r "
                "WHERE EXISTS (SELECT 1 FROM reg.known k WHERE k.object = r.object "
                "AND k.id = r.id)"
            ).fetchone()[0]
        )

    def merged_away(self) -> list[tuple[str, str, str, bool]]:
        """(object, id, survivor id, whether the survivor is a workspace record) of every
        record merged into another record."""
        return [
            (obj, rid, survivor, bool(external))
            for obj, rid, survivor, external in self.db.execute(
                "SELECT r.object, r.id, r.survivor, x.id IS NOT NULL FROM records r "
                "LEFT JOIN external x ON x.object = r.object AND x.id = r.survivor "
                "WHERE r.status = ? AND r.survivor IS NOT NULL AND r.survivor != r.id",
                (Status.MERGED.value,),
            )
        ]

    # ---- relations ---------------------------------------------------------------------------

    def retarget(self, seq: int, prop: str, target_id: str) -> None:
        """The relation ``prop`` of record ``seq`` now points at ``target_id``."""
        self.db.execute(
            "UPDATE refs SET target_id=? WHERE seq=? AND prop=?", (target_id, seq, prop)
        )

    def drop_relation(self, seq: int, prop: str) -> None:
        self.db.execute("DELETE FROM refs WHERE seq=? AND prop=?", (seq, prop))
        self.db.execute("DELETE FROM owners WHERE seq=? AND prop=?", (seq, prop))

    def move_relation(self, from_seq: int, to_seq: int, prop: str) -> None:
        """The record ``to_seq`` inherits ``prop``'s relation from ``from_seq`` (a merge)."""
        for table in ("refs", "owners"):
            self.db.execute(
                f"UPDATE {table} SET seq=?, id=(SELECT id FROM records WHERE seq=?) "  # noqa: S608
                f"WHERE seq=? AND prop=?",
                (to_seq, to_seq, from_seq, prop),
            )

    def references_to_merged(self) -> list[tuple[int, str, str]]:
        """(seq, prop, survivor id) of every relation pointing at a merged record: merged in
        this run, or (the registry) merged by an earlier run and not in this run's input."""
        self.db.execute(
            "CREATE TEMP TABLE merged_map AS SELECT object, id, survivor FROM records "
            "WHERE status='merged' AND survivor != id UNION ALL "
            "SELECT m.object, m.id, m.survivor FROM reg.merged m WHERE NOT EXISTS "
            "(SELECT 1 FROM records t WHERE t.object = m.object AND t.id = m.id)"
        )
        self.db.execute("CREATE INDEX temp.merged_map_key ON merged_map(object, id)")
        rows = self.db.execute(
            "SELECT r.seq, r.prop, m.survivor FROM refs r JOIN merged_map m ON "
            "m.object = r.target_object AND m.id = r.target_id"
        ).fetchall()
        self.db.execute("DROP TABLE temp.merged_map")
        return rows

    def dangling(self, rejected: Iterable[int] | None = None) -> list[Dangling]:
        """Relations of pending records whose target is not pending, not written by an earlier
        run (the registry) and not found in the workspace (``external``), in the order they
        were spooled. With ``rejected`` (the seqs of records just rejected), only the relations
        to those records: all that rejecting them can have left dangling (a whole pass again
        was most of the checks' time)."""
        only = ""
        if rejected is not None:
            among = self._among(
                "just_rejected",
                ((seq,) for seq in rejected),
                "r.target_object",
                "r.target_id",
                fill="SELECT object, id FROM records WHERE seq=?",
            )
            only = f"AND {among} "
        return [
            Dangling(*r)
            for r in self.db.execute(
                "SELECT r.seq, r.object, r.prop, r.target_object, r.target_id, "  # noqa: S608
                "(SELECT t.reason FROM records t WHERE t.object = r.target_object AND "
                "t.id = r.target_id AND t.status = 'rejected' LIMIT 1), "
                "(SELECT d.data FROM record_data d WHERE d.seq = r.seq) FROM refs r "
                "JOIN records src ON src.seq = r.seq AND src.status IS NULL "
                "LEFT JOIN records ok ON ok.object = r.target_object AND ok.id = r.target_id "
                "AND ok.status IS NULL "
                "LEFT JOIN reg.known k ON k.object = r.target_object AND k.id = r.target_id "
                "LEFT JOIN external x ON x.object = r.target_object AND x.id = r.target_id "
                f"WHERE ok.seq IS NULL AND k.id IS NULL AND x.id IS NULL {only}"
                "ORDER BY r.rowid"
            )
        ]

    def relation_edges(self, obj: str, prop: str) -> list[tuple[int, str, str]]:
        """(seq, id, target id) of the pending records of ``obj`` linked through ``prop``."""
        return self.db.execute(
            "SELECT r.seq, r.id, r.target_id FROM refs r JOIN records s ON "
            "s.seq = r.seq AND s.status IS NULL WHERE r.object=? AND r.prop=?",
            (obj, prop),
        ).fetchall()

    def adopt_id(self, seq: int, obj: str, old: str, new: str) -> None:
        """Record ``seq`` is written as ``new`` (a workspace record it merges into): its id and
        every reference to it follow, in the refs table and in the referring records' JSON."""
        self.db.execute("UPDATE records SET id=? WHERE seq=?", (new, seq))
        self.db.execute(
            "UPDATE refs SET target_id=? WHERE target_object=? AND target_id=?", (new, obj, old)
        )
        self.db.execute("UPDATE refs SET id=? WHERE seq=?", (new, seq))
        for ref_seq, prop in self.db.execute(
            "SELECT seq, prop FROM refs WHERE target_object=? AND target_id=?", (obj, new)
        ).fetchall():
            row = self.record(ref_seq)
            if row is None:
                continue
            record = row.data
            if record.get(prop) == old:
                record[prop] = new
                self.set_data(ref_seq, record)

    def owner_emails(self) -> list[str]:
        return [r[0] for r in self.db.execute("SELECT DISTINCT email FROM owners ORDER BY email")]

    def owner_links(self) -> list[tuple[str, int]]:
        """(owner e-mail, how many owner links name it) over the records written or to be
        written, skipped ones included (what a full run would match)."""
        return [
            (email, int(n))
            for email, n in self.db.execute(
                "SELECT o.email, COUNT(*) FROM owners o JOIN records r ON r.seq = o.seq "
                "WHERE r.status IS NULL OR r.status = ? GROUP BY o.email ORDER BY o.email",
                (Status.SKIPPED.value,),
            )
        ]

    # ---- duplicates ----------------------------------------------------------------------------

    def same_ids(self) -> list[tuple[str, str, list[int]]]:
        """(object, id, seqs in arrival order) of every id held by more than one record."""
        return [
            (obj, rid, sorted(int(s) for s in seqs.split(",")))
            for obj, rid, seqs in self.db.execute(
                "SELECT object, id, GROUP_CONCAT(seq) FROM records GROUP BY object, id "
                "HAVING COUNT(*) > 1"
            ).fetchall()
        ]

    def unique_clashes(self) -> list[UniqueClash]:
        """Unique values shared by several pending records, or with a record the registry
        says an earlier run wrote."""
        return [
            UniqueClash(obj, fname, ukey, sorted(int(s) for s in seqs.split(",")), known)
            for obj, fname, ukey, seqs, known in self.db.execute(
                "SELECT u.object, u.field, u.ukey, GROUP_CONCAT(u.seq), k.id FROM uniques u "
                "JOIN records r ON r.seq = u.seq AND r.status IS NULL "
                "LEFT JOIN reg.known_uniques k ON k.object = u.object AND k.field = u.field "
                "AND k.ukey = u.ukey "
                "GROUP BY u.object, u.field, u.ukey "
                "HAVING COUNT(*) > 1 OR SUM(k.id IS NOT NULL AND k.id != r.id) > 0"
            ).fetchall()
        ]

    def unique_values(
        self, obj: str, field: str, *, unregistered: bool = False
    ) -> list[tuple[str, list[int]]]:
        """(value as sent, seqs) of the pending records' values of one unique field; with
        ``unregistered``, only values the registry does not already give to the same record as
        Twenty confirmed it (a payload hash: CSV batches are not confirmed)."""
        mine = (
            " AND NOT EXISTS (SELECT 1 FROM reg.known_uniques k JOIN reg.known w ON "
            "w.object = k.object AND w.id = k.id AND w.hash IS NOT NULL WHERE "
            "k.object = u.object AND k.field = u.field AND k.ukey = u.ukey AND k.id = r.id)"
            if unregistered
            else ""
        )
        return [
            (value, [int(s) for s in seqs.split(",")])
            for value, seqs in self.db.execute(
                "SELECT u.value, GROUP_CONCAT(u.seq) FROM uniques u JOIN records r ON "  # noqa: S608
                f"r.seq = u.seq AND r.status IS NULL WHERE u.object=? AND u.field=?{mine} "
                "GROUP BY u.value",
                (obj, field),
            ).fetchall()
        ]

    def outside_options(self, obj: str, prop: str, allowed: set[str]) -> list[tuple[int, str]]:
        """(seq, raw value) of pending records whose SELECT / MULTI_SELECT value is not one of
        ``allowed``. Only those rows leave SQLite: reading every row's value would make the
        check's memory grow with the migration's size."""
        path = f'$."{prop}"'
        options = json.dumps(sorted(allowed))
        return self.db.execute(
            f"SELECT r.seq, json_extract(data, ?) FROM {_RECORDS} WHERE r.object=? AND "  # noqa: S608
            "r.status IS NULL AND CASE json_type(data, ?) "
            "WHEN 'array' THEN EXISTS (SELECT 1 FROM json_each(data, ?) e WHERE "
            "e.value NOT IN (SELECT value FROM json_each(?))) "
            "WHEN 'null' THEN 0 "
            "ELSE json_extract(data, ?) NOT IN (SELECT value FROM json_each(?)) END",
            (path, obj, path, path, options, path, options),
        ).fetchall()

    # ---- records found in the workspace ---------------------------------------------------------

    def add_external(self, obj: str, rid: str, data: dict[str, Any], deleted: bool = False) -> None:
        self.db.execute(
            "INSERT OR REPLACE INTO external(object, id, deleted, data) VALUES (?,?,?,?)",
            (obj, rid, int(deleted), json.dumps(data)),
        )

    def external(self, obj: str, ids: list[str]) -> dict[str, dict[str, Any]]:
        """The workspace's copy of these records, as read by the pre-flight."""
        marks = ",".join("?" * len(ids))
        return {
            rid: json.loads(data) if data else {}
            for rid, data in self.db.execute(
                f"SELECT id, data FROM external WHERE object=? AND id IN ({marks})",  # noqa: S608
                (obj, *ids),
            ).fetchall()
        }

    # ---- side streams and problems -----------------------------------------------------------

    def side(self, stream: str) -> Iterator[dict]:
        for (data,) in self.db.execute(
            "SELECT data FROM side WHERE stream=? ORDER BY seq", (stream,)
        ):
            yield json.loads(data)

    def problems(self) -> Iterator[Problem]:
        """The target's own rejects and repairs, in the order they were found."""
        for kind, obj, rid, stream, skey, loc, fld, value, reason in self.db.execute(
            "SELECT kind, object, id, stream, skey, location, field, value, reason "
            "FROM problems ORDER BY seq"
        ):
            yield Problem(
                ProblemKind(kind), obj, rid, Source(stream, skey, loc), fld, value, reason
            )

    # ---- report queries ----
    # What report/ reads at the end of the run, beside side(), problems(), owner_emails() and
    # all_of(): the counts that reconcile every object and source stream.

    def object_tallies(self) -> list[ObjectTally]:
        """Per object, by name: how many records arrived and how many were merged, rejected,
        skipped or unchanged (the rest are written, or to be)."""
        return [
            ObjectTally(obj, received, merged or 0, rejected or 0, skipped or 0, unchanged or 0)
            for obj, received, merged, rejected, skipped, unchanged in self.db.execute(
                "SELECT object, COUNT(*), SUM(status=?), SUM(status=?), SUM(status=?), "
                "SUM(status=?) FROM records GROUP BY object ORDER BY object",
                (
                    Status.MERGED.value,
                    Status.REJECTED.value,
                    Status.SKIPPED.value,
                    Status.UNCHANGED.value,
                ),
            )
        ]

    def primary_fates(self) -> list[tuple[str, str, Status, int]]:
        """``(stream, object, status, count)`` of the records that stand for a source row."""
        return [
            (stream, obj, Status(status), n)
            for stream, obj, status, n in self.db.execute(
                "SELECT stream, object, status, COUNT(*) FROM records WHERE is_primary=1 AND "
                "stream IS NOT NULL GROUP BY stream, object, status"
            )
        ]

    def side_streams(self) -> list[str]:
        """The side streams that arrived (_rejects, _summary, _owner, …), by name."""
        return [s for (s,) in self.db.execute("SELECT DISTINCT stream FROM side ORDER BY stream")]


@dataclass(frozen=True)
class ObjectTally:
    object: str
    received: int
    merged: int
    rejected: int
    skipped: int
    unchanged: int = 0


# ---- spool files of interrupted runs ----------------------------------------------------


def _lock_path(spool: Path) -> Path:
    return spool.with_name(spool.name + ".lock")


def _hold(path: Path) -> int:
    """A descriptor with an exclusive lock on ``path`` (no lock where the OS has no ``flock``).
    A bare descriptor, not a file object: a run that dies before closing its spool must not
    warn about it; the OS releases the lock with the process."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT, 0o600)
    if fcntl is not None:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    return fd


def _in_use(lock: Path) -> bool:
    if fcntl is None or not lock.exists():
        return False
    with lock.open("a") as handle:
        try:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            return True  # a live run holds it
    return False


def remove_interrupted(output_dir: Path, current: Path) -> list[Path]:
    """Delete the spools that killed or crashed runs left in ``output_dir/<run>/``: a run
    folder without its report whose spool no live process holds. A finished run's spool is
    kept (``keep_spool``), and so is a spool another run is using now."""
    removed = []
    for spool in sorted(output_dir.glob("*/spool.sqlite")):
        if spool == current or (spool.parent / "report.json").exists():
            continue
        lock = _lock_path(spool)
        if _in_use(lock):
            continue
        for leftover in (spool, lock, *spool.parent.glob("spool.sqlite-*")):
            leftover.unlink(missing_ok=True)
        removed.append(spool)
    return removed
