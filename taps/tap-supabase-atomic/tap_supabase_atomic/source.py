"""What every stream of one run shares: the connector, the probed tables, the pick-lists."""

from __future__ import annotations

import atexit
import typing as t
from collections import Counter
from functools import cached_property

import sqlalchemy as sa

from tap_supabase_atomic import db, enums
from tap_supabase_atomic.connector import AtomicConnector
from tap_supabase_atomic.storage import Storage

# Sync order: sales first (the mapper looks owners up by sales id), then parents before children.
ORDER = ("sales", "tags", "companies", "contacts", "contact_notes", "deals", "deal_notes", "tasks")


class Source:
    """What the streams share: one connector (one snapshot), the probed tables, the pick-lists,
    the tags."""

    def __init__(self, config: t.Mapping[str, t.Any]) -> None:
        self.config = config
        self.schema = config.get("schema", "public")
        self.connector = AtomicConnector(dict(config))
        self._closes_at_exit = False
        self.missing_tags: dict[int, list[int]] = {}
        self.failed_avatars = 0
        self.download_errors: list[str] = []
        # kind ("e-mail", "phone") → Atomic's type (Work, Home, Other) → values of that type
        self.dropped_types: dict[str, Counter[str]] = {}

    @property
    def conn(self) -> sa.Connection:
        if not self._closes_at_exit:  # a discovery-only run never reaches sync_all's close
            atexit.register(self.close)
            self._closes_at_exit = True
        return self.connector.snapshot

    def close(self) -> None:
        self.connector.close()

    @cached_property
    def tables(self) -> dict[str, db.Table]:
        return db.probe(self.conn, self.schema)

    @cached_property
    def enumerations(self) -> enums.Enumerations:
        row: dict | None = None
        table = self.tables.get("configuration")
        if table is not None:
            db.check_access(self.conn, self.schema, table.name)
            rows = list(
                db.select_rows(self.conn, self.schema, table.name, ["id", "config"], order=["id"])
            )
            row = (rows[0]["config"] if rows else None) or {}  # an empty table means `{}`
            if not isinstance(row, dict):
                raise db.AtomicError(
                    f"configuration row {rows[0]['id']}: config is not a JSON object"
                )
        try:
            return enums.resolve(row, self.config.get("enumerations_file"))
        except enums.EnumerationFileError as exc:
            raise db.AtomicError(f"enumerations_file: {exc}") from None

    @cached_property
    def _tags(self) -> dict[int, str]:
        table = self.tables.get("tags")
        if table is None:
            return {}
        db.check_access(self.conn, self.schema, table.name)
        return {
            r["id"]: r["name"]
            for r in db.select_rows(
                self.conn, self.schema, table.name, ["id", "name"], order=["id"]
            )
        }

    def tag_names(self, ids: list) -> tuple[list[str], list[int]]:
        names, missing = [], []
        for tag in ids:
            if tag is None:
                continue
            name = self._tags.get(int(tag))
            if name is None:
                missing.append(int(tag))
            elif name not in names:
                names.append(name)
        return names, missing

    def prepare(self, stream: str) -> None:
        """Read what a stream's rows are labelled with (pick-lists, tag names) up front."""
        _ = self.enumerations
        if stream == "contacts":
            _ = self._tags

    def count_types(self, kind: str, items: t.Any, key: str) -> None:
        """Count the types of a contact's e-mails or phones, which Twenty cannot hold."""
        counts = self.dropped_types.setdefault(kind, Counter())
        for item in items if isinstance(items, list) else ():
            if isinstance(item, dict) and str(item.get(key) or "").strip():
                counts[str(item.get("type") or "no type")] += 1

    def notice_missing_tag(self, contact: int, tag: int) -> None:
        self.missing_tags.setdefault(tag, []).append(contact)

    @cached_property
    def storage(self) -> Storage | None:
        c = self.config
        if not c.get("download_dir"):
            return None
        if not c.get("storage_url"):
            raise db.AtomicError("download_dir is set but storage_url is not")
        return Storage(
            c["storage_url"],
            c.get("storage_bucket", "attachments"),
            c["download_dir"],
            key=c.get("storage_key"),
            access=c.get("storage_access", "auto"),
            timeout=float(c.get("timeout", 60)),
        )

    def _unlisted(self) -> list[str]:
        """A notice per pick-list whose values in the data it does not list: they keep their
        own value as label (and become options of their own in Twenty)."""
        out = []
        lists = self.enumerations
        for kind, columns in enums.KINDS.items():
            used: list[str] = []
            for stream, column in columns:
                table = self.tables.get(stream)
                if table is not None and column in table.columns:
                    db.check_access(self.conn, self.schema, table.name)
                    values = db.distinct_values(self.conn, self.schema, table.name, column)
                    used += [v for v in values if v not in used]
            unlisted = lists.unlisted(kind, used)
            if unlisted:
                shown = ", ".join(unlisted[:20]) + (" …" if len(unlisted) > 20 else "")
                out.append(
                    f"Atomic CRM {kind}: {len(unlisted)} value(s) found in the data are not in "
                    f"the pick-list ({lists.sources[kind]}), so they keep their own value as "
                    f"label: {shown}."
                )
        return out

    def notices(self) -> list[str]:
        out = self.enumerations.notices() + self._unlisted()
        for stream in ORDER:
            if stream not in self.tables:
                names = " or ".join(f'"{n}"' for n in db.TABLES[stream])
                out.append(f"Schema {self.schema} has no table {names}: {stream} were not read.")
        for tag, contacts in sorted(self.missing_tags.items()):
            shown = ", ".join(str(c) for c in contacts[:20])
            out.append(
                f"Tag id {tag} no longer exists in tags; it was dropped from contacts {shown}"
                + (" …" if len(contacts) > 20 else "")
                + "."
            )
        for kind, counts in self.dropped_types.items():
            if counts:
                shown = ", ".join(f"{n} {name}" for name, n in counts.most_common())
                out.append(
                    f"Atomic CRM {kind} types are dropped: Twenty's {kind}s carry no type "
                    f"(the first of a contact's list becomes the primary one): {shown}."
                )
        if self.failed_avatars:
            out.append(
                f'{self.failed_avatars} logo/avatar values are {{"src": "ERROR"}} (Atomic could '
                "not fetch them when the record was made); they are not files and were skipped."
            )
        for error in self.download_errors[:50]:
            out.append(f"Attachment not downloaded: {error}.")
        if len(self.download_errors) > 50:
            out.append(f"… and {len(self.download_errors) - 50} more attachments not downloaded.")
        return out
