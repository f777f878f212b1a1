"""What earlier runs of this migration wrote, kept in the state directory.

A delta run carries only the changed source records: a changed contact still points at its
company, which did not change and is not in this run's input. Without a memory of earlier runs
that reference would look dangling. The registry remembers each written record's id and unique
values, so a delta run resolves references and duplicates against everything loaded before.
(In CSV mode "written" means written to the CSV batches, which the user imports before the next
run; delete the state directory to start over.)

It also remembers which record each merged source record became (a duplicate merged into its
survivor, or linked to a workspace record): a later run that carries a reference to the merged
record but not the record itself (a delta, or a plain re-run whose taps re-send only some
streams) then points that reference at the survivor again, as the first run did, instead of
finding it dangling and writing the link empty.

In API mode it also keeps, per record, a hash of the body Twenty last confirmed, so a re-run or a
delta sends only what changed (CSV mode stores no hash: nothing confirms the files were imported).
The registry belongs to one workspace, the one the API key names (docs/twenty-contract.md §2.12):
the ids are derived from the source keys, so another workspace's registry would claim records
that workspace does not have.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from target_twenty.spool import Spool

_TABLES = """
CREATE TABLE IF NOT EXISTS reg.known(
    object TEXT NOT NULL, id TEXT NOT NULL, run TEXT NOT NULL, hash TEXT,
    PRIMARY KEY(object, id)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS reg.meta(key TEXT PRIMARY KEY, value TEXT) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS reg.merged(
    object TEXT NOT NULL, id TEXT NOT NULL, survivor TEXT NOT NULL, run TEXT NOT NULL,
    PRIMARY KEY(object, id)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS reg.known_uniques(
    object TEXT NOT NULL, field TEXT NOT NULL, ukey TEXT NOT NULL, id TEXT NOT NULL,
    PRIMARY KEY(object, field, ukey)
) WITHOUT ROWID;
"""


_CHUNK = 500  # ids per query, well under SQLite's limit on parameters


class WorkspaceMismatch(RuntimeError):
    """State (or a run) belongs to another workspace than the API key's."""

    def __init__(self, what: str, bound: str, given: str, remedy: str) -> None:
        super().__init__(
            f"{what} belongs to Twenty workspace {bound}, but the API key is for workspace "
            f"{given}: refusing to mix them. {remedy}"
        )
        self.bound, self.given = bound, given


class Registry:
    """The registry database, attached to the spool connection as ``reg`` (so the spool's
    checks can join against it). Its SQL here is against its own tables only."""

    def __init__(self, path: Path, db: sqlite3.Connection) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self.db = db
        db.execute("ATTACH DATABASE ? AS reg", (str(path),))
        db.executescript(_TABLES)
        columns = {r[1] for r in db.execute("PRAGMA reg.table_info(known)")}
        if "hash" not in columns:  # a registry from before payload hashes: none is trusted
            db.execute("ALTER TABLE reg.known ADD COLUMN hash TEXT")

    def workspace(self) -> str | None:
        """The workspace this state belongs to (None: not tied yet)."""
        row = self.db.execute("SELECT value FROM reg.meta WHERE key='workspace'").fetchone()
        return row[0] if row else None

    def check_workspace(self, workspace: str, *, bind: bool) -> None:
        """Refuse state of another workspace; with ``bind``, tie untied state to this one
        (state from before workspaces were recorded is adopted by the first that uses it)."""
        bound = self.workspace()
        if bound is not None and bound != workspace:
            raise WorkspaceMismatch(
                f"the state in {self.path.parent}",
                bound,
                workspace,
                f"Use another `state_dir` for workspace {workspace}, or the key of workspace "
                f"{bound}.",
            )
        if bound is None and bind:
            self.db.execute(
                "INSERT INTO reg.meta(key, value) VALUES ('workspace', ?)", (workspace,)
            )

    def hashes(self, obj: str, ids: list[str]) -> dict[str, str]:
        """id → hash of the payload Twenty last confirmed, for those of these ids that have one."""
        out: dict[str, str] = {}
        for i in range(0, len(ids), _CHUNK):
            chunk = ids[i : i + _CHUNK]
            marks = ",".join("?" * len(chunk))
            out.update(
                self.db.execute(
                    f"SELECT id, hash FROM reg.known WHERE object=? AND id IN ({marks}) "  # noqa: S608
                    "AND hash IS NOT NULL",
                    (obj, *chunk),
                ).fetchall()
            )
        return out

    def known(self, obj: str, ids: list[str]) -> set[str]:
        """Which of these ids an earlier run of this migration wrote."""
        if not ids:
            return set()
        marks = ",".join("?" * len(ids))
        return {
            r[0]
            for r in self.db.execute(
                f"SELECT id FROM reg.known WHERE object=? AND id IN ({marks})",  # noqa: S608
                (obj, *ids),
            )
        }

    def count(self) -> int:
        """How many records earlier runs of this migration wrote."""
        return int(self.db.execute("SELECT COUNT(*) FROM reg.known").fetchone()[0])

    def remember_written(
        self,
        run: str,
        spool: Spool,
        objects: list[str],
        confirmed: set[tuple[str, str]] | None = None,
    ) -> None:
        """After a successful write: every record of ``objects`` that was to be written (with
        ``confirmed``, just those (object, id) Twenty confirmed, with the hash of what was sent;
        without, CSV mode: no hash)."""
        if not objects:
            return

        merges = [
            (obj, rid, survivor, run)
            for obj, rid, survivor, external in spool.merged_away()
            # API mode: only merges into a record Twenty has (confirmed now, by an earlier
            # run, or found in the workspace)
            if confirmed is None
            or external
            or (obj, survivor) in confirmed
            or self.known(obj, [survivor])
        ]
        # copied inside SQLite from the spool's tables (same connection): the registry's share
        # of the run's memory does not grow with the migration
        written = spool.written(objects, confirmed)
        uniques = spool.written_uniques(objects, confirmed)
        self.db.execute("BEGIN")
        self.db.execute(
            "INSERT OR REPLACE INTO reg.known(object, id, run, hash) "  # noqa: S608
            f"SELECT object, id, ?, hash FROM ({written.sql})",
            (run, *written.params),
        )
        self.db.execute(
            "INSERT OR REPLACE INTO reg.known_uniques(object, field, ukey, id) "  # noqa: S608
            f"SELECT * FROM ({uniques.sql})",
            uniques.params,
        )
        # a record written now is no longer merged into another (its duplicate value changed);
        # with no merge remembered (a first run) there is nothing to look up for each record
        if self.db.execute("SELECT 1 FROM reg.merged LIMIT 1").fetchone():
            self.db.execute(
                "DELETE FROM reg.merged WHERE (object, id) IN "  # noqa: S608
                f"(SELECT object, id FROM ({written.sql}))",
                written.params,
            )
        self.db.executemany(
            "INSERT OR REPLACE INTO reg.merged(object, id, survivor, run) VALUES (?,?,?,?)",
            merges,
        )
        self.db.execute("COMMIT")

    def forget(self, run: str, ids: list[tuple[str, str]]) -> None:
        """After a rollback: the records that run created are gone, and those it last wrote
        hold other values again, so their hashes no longer say what Twenty has."""
        self.db.execute("BEGIN")
        self.db.execute("UPDATE reg.known SET hash=NULL WHERE run=?", (run,))
        self.db.executemany("DELETE FROM reg.known WHERE object=? AND id=?", ids)
        self.db.executemany("DELETE FROM reg.known_uniques WHERE object=? AND id=?", ids)
        self.db.execute("DELETE FROM reg.merged WHERE run=?", (run,))
        self.db.executemany("DELETE FROM reg.merged WHERE object=? AND survivor=?", ids)
        self.db.execute("COMMIT")
