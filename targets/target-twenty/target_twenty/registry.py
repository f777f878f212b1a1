"""What earlier runs of this migration wrote, kept in the state directory.

A delta run carries only the changed source records: a changed contact still points at its
company, which did not change and is not in this run's input. Without a memory of earlier runs
that reference would look dangling. The registry remembers each written record's id and unique
values, so a delta run resolves references and duplicates against everything loaded before.
(In CSV mode "written" means written to the CSV batches, which the user imports before the next
run; delete the state directory to start over.)
"""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from target_twenty.spool import Spool

_TABLES = """
CREATE TABLE IF NOT EXISTS reg.known(
    object TEXT NOT NULL, id TEXT NOT NULL, run TEXT NOT NULL, PRIMARY KEY(object, id)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS reg.known_uniques(
    object TEXT NOT NULL, field TEXT NOT NULL, ukey TEXT NOT NULL, id TEXT NOT NULL,
    PRIMARY KEY(object, field, ukey)
) WITHOUT ROWID;
"""


class Registry:
    """The registry database, attached to the spool connection as ``reg`` (so the spool's
    checks can join against it). Its SQL here is against its own tables only."""

    def __init__(self, path: Path, db: sqlite3.Connection) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self.db = db
        db.execute("ATTACH DATABASE ? AS reg", (str(path),))
        db.executescript(_TABLES)

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
        ``confirmed``, just those (object, id) Twenty confirmed)."""
        if not objects:
            return
        records = [
            (obj, rid, run)
            for obj, rid in spool.written(objects)
            if confirmed is None or (obj, rid) in confirmed
        ]
        uniques = [
            row
            for row in spool.written_uniques(objects)
            if confirmed is None or (row[0], row[3]) in confirmed
        ]
        self.db.execute("BEGIN")
        self.db.executemany(
            "INSERT OR REPLACE INTO reg.known(object, id, run) VALUES (?,?,?)", records
        )
        self.db.executemany(
            "INSERT OR REPLACE INTO reg.known_uniques(object, field, ukey, id) VALUES (?,?,?,?)",
            uniques,
        )
        self.db.execute("COMMIT")

    def forget(self, run: str, ids: list[tuple[str, str]]) -> None:
        """After a rollback: the records that run created are gone."""
        self.db.execute("BEGIN")
        self.db.executemany("DELETE FROM reg.known WHERE object=? AND id=?", ids)
        self.db.executemany("DELETE FROM reg.known_uniques WHERE object=? AND id=?", ids)
        self.db.execute("COMMIT")
