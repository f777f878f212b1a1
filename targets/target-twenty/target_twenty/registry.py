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
    """The registry database, attached to the spool connection as ``reg``."""

    def __init__(self, path: Path, db: sqlite3.Connection) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self.db = db
        db.execute("ATTACH DATABASE ? AS reg", (str(path),))
        db.executescript(_TABLES)

    def owner_of(self, obj: str, field: str, ukey: str) -> str | None:
        row = self.db.execute(
            "SELECT id FROM reg.known_uniques WHERE object=? AND field=? AND ukey=?",
            (obj, field, ukey),
        ).fetchone()
        return row[0] if row else None

    def count(self) -> int:
        return self.db.execute("SELECT COUNT(*) FROM reg.known").fetchone()[0]

    def remember_written(self, run: str, objects: list[str], only_written: bool = False) -> None:
        """After a successful write: every record of ``objects`` that was written (with
        ``only_written``, just those in the temp table ``written``: what Twenty confirmed)."""
        if not objects:
            return
        marks = ",".join("?" * len(objects))
        confirmed = (
            (" AND EXISTS (SELECT 1 FROM temp.written w WHERE w.object = r.object AND w.id = r.id)")
            if only_written
            else ""
        )
        self.db.execute("BEGIN")
        self.db.execute(
            f"INSERT OR REPLACE INTO reg.known(object, id, run) SELECT r.object, r.id, ? FROM "  # noqa: S608 - placeholders only
            f"records r WHERE r.status IS NULL AND r.object IN ({marks}){confirmed}",
            (run, *objects),
        )
        self.db.execute(
            f"INSERT OR REPLACE INTO reg.known_uniques(object, field, ukey, id) "  # noqa: S608
            f"SELECT u.object, u.field, u.ukey, r.id FROM uniques u JOIN records r ON "
            f"r.seq = u.seq AND r.status IS NULL WHERE u.object IN ({marks}){confirmed}",
            objects,
        )
        self.db.execute("COMMIT")

    def forget(self, run: str, ids: list[tuple[str, str]]) -> None:
        """After a rollback: the records that run created are gone."""
        self.db.execute("BEGIN")
        self.db.executemany("DELETE FROM reg.known WHERE object=? AND id=?", ids)
        self.db.executemany("DELETE FROM reg.known_uniques WHERE object=? AND id=?", ids)
        self.db.execute("COMMIT")
