"""One stream per Atomic CRM table, plus `attachments` (files named in jsonb columns) and
`_notices` (what the migration report must say)."""

from __future__ import annotations

import re
import typing as t

from crm2twenty_common.sdk_compat import KeepsAnnotations
from singer_sdk.helpers.conform import TypeConformanceLevel
from singer_sdk.helpers.types import Context
from singer_sdk.singerlib import CatalogEntry, MetadataMapping, Schema
from singer_sdk.sql import SQLStream
from singer_sdk.streams import Stream

from tap_supabase_atomic import db
from tap_supabase_atomic.storage import rafiles

if t.TYPE_CHECKING:
    from singer_sdk import Tap
    from sqlalchemy.sql import Select

    from tap_supabase_atomic.source import Source

_STR = {"type": ["string", "null"]}
_STRINGS = {"type": ["array", "null"], "items": {"type": "string"}}


def _shape(nullable: bool, *names: str) -> dict:
    """An object with these text properties (any other kept: additionalProperties)."""
    return {
        "type": ["object", "null"] if nullable else "object",
        "properties": {n: _STR for n in names},
        "additionalProperties": True,
    }


# Their shapes (docs/sources.md §2.1): a file `{src, title, path?, type?}`, e-mails
# `[{email, type}]`, phones `[{number, type}]`.
_RAFILE = _shape(True, "src", "title", "path", "type")
_RAFILES = {"type": ["array", "null"], "items": _shape(False, "src", "title", "path", "type")}
_EMAILS = {"type": ["array", "null"], "items": _shape(False, "email", "type")}
_PHONES = {"type": ["array", "null"], "items": _shape(False, "number", "type")}

# jsonb columns whose shape Atomic fixes (types.ts), so the schema can say object or array
SHAPES: dict[str, dict[str, dict]] = {
    "companies": {"logo": _RAFILE, "context_links": {"type": ["array", "null"]}},
    "contacts": {"avatar": _RAFILE, "email_jsonb": _EMAILS, "phone_jsonb": _PHONES},
    "sales": {"avatar": _RAFILE},
    "contact_notes": {"attachments": _RAFILES},
    "deal_notes": {"attachments": _RAFILES},
    "configuration": {"config": {"type": ["object", "null"]}},
}
# foreign keys → the stream they point at (the mapper makes them relations)
REFERENCES = {
    "company_id": "companies",
    "contact_id": "contacts",
    "deal_id": "deals",
    "sales_id": "sales",
}
# legacy column → current column (docs/sources.md §2.4: snake_case renaming of 2026-01-15)
RENAMED = {"companies": {"stateAbbr": "state_abbr"}}
# legacy contacts (before 2025-01): one e-mail and two phones, folded into the jsonb lists
LEGACY_PHONES = ("phone_1_number", "phone_1_type", "phone_2_number", "phone_2_type")
# (stream, column) → the pick-list that labels it; the label is emitted as `<column>_label`
LABELLED = {
    ("companies", "sector"): "companySectors",
    ("contacts", "status"): "noteStatuses",
    ("contact_notes", "status"): "noteStatuses",
    ("deals", "stage"): "dealStages",
    ("deals", "category"): "dealCategories",
    ("tasks", "type"): "taskTypes",
}
# columns the tap adds, with their schemas (documented in the README)
DERIVED: dict[str, dict[str, dict]] = {
    "companies": {"revenue_amount": {"type": ["number", "null"]}, "currency": _STR},
    "contacts": {
        "emails": _STRINGS,
        "phones": _STRINGS,
        "tag_names": _STRINGS,
        "avatar_url": _STR,
    },
    "deals": {"currency": _STR},
    "tasks": {"done": {"type": ["boolean", "null"]}},
}


class AtomicStream(KeepsAnnotations, SQLStream):
    """Every row of one Atomic CRM table, legacy names read as the current ones."""

    TYPE_CONFORMANCE_LEVEL = TypeConformanceLevel.ROOT_ONLY

    def __init__(self, tap: Tap, table: db.Table, source: Source) -> None:
        self.table = table
        self.source = source
        stream = table.stream
        cols = table.columns
        renamed = RENAMED.get(stream, {})
        props: dict[str, dict] = {}
        for name, column in cols.items():
            if stream == "contacts" and (name == "email" or name in LEGACY_PHONES):
                continue
            out = renamed.get(name, name)
            props[out] = dict(
                SHAPES.get(stream, {}).get(out) or source.connector.column_schema(column)
            )
            if out not in SHAPES.get(stream, {}) and column.type in ("json", "jsonb"):
                kinds = db.json_kinds(source.conn, source.schema, table.name, column)
                props[out]["type"] = [*(["array"] if kinds == {"array"} else ["object"]), "null"]
            if out in REFERENCES and out.endswith("_id"):
                props[out]["x-references"] = REFERENCES[out]
        if stream == "contacts":
            props.setdefault("email_jsonb", dict(_EMAILS))
            props.setdefault("phone_jsonb", dict(_EMAILS))
        for (s, labelled), kind in LABELLED.items():
            if s == stream and labelled in props:
                # the whole pick-list, in Atomic's order: the mapper creates every option, even
                # those no row uses
                listed = [item["label"] for item in source.enumerations.items.get(kind, [])]
                props.setdefault(f"{labelled}_label", {**_STR, "x-options": listed})
        for name, spec in DERIVED.get(stream, {}).items():
            props.setdefault(name, dict(spec))  # a real column of that name wins
        self.derived = {n for n in DERIVED.get(stream, {}) if n not in cols}
        self._atomic_schema = {"type": "object", "properties": props}
        incremental = bool(tap.config.get("deals_incremental")) and stream == "deals"
        key = "updated_at" if incremental and "updated_at" in cols else None
        method = "INCREMENTAL" if key else "FULL_TABLE"
        entry = CatalogEntry(
            tap_stream_id=stream,
            stream=stream,
            table=table.name,
            key_properties=["id"],
            replication_key=key,
            replication_method=method,
            schema=Schema.from_dict(self._atomic_schema),
            metadata=MetadataMapping.get_standard_metadata(
                schema=self._atomic_schema,
                schema_name=source.schema,
                key_properties=["id"],
                valid_replication_keys=[key] if key else None,
                replication_method=method,
                selected_by_default=True,
            ),
        )
        super().__init__(tap, entry.to_dict(), source.connector)
        self.replication_key = key

    @property
    def schema(self) -> dict:
        return self._atomic_schema  # the catalog entry's Schema object drops `x-` keywords

    @property
    def metadata(self) -> MetadataMapping:
        # Stream's answer (the input catalog's selection, else the discovered metadata), not
        # SQLStream's, which reads the entry the stream was built from: a SQLTap builds its
        # streams from the input catalog, this tap from discovery.
        return Stream.metadata.fget(self)  # type: ignore[attr-defined]

    def build_query(self, *, context: Context | None = None) -> Select:
        # The table's real columns (the schema also has derived and renamed ones); the SDK adds
        # the replication key's filter and order, and the limit; id makes the order total.
        table = db.table(self.source.schema, self.table.name, self.table.columns)
        query = self.apply_query_filters(table.select(), table, context=context)
        return self.apply_query_limit(query.order_by(table.c.id).execution_options(yield_per=2000))

    def get_records(self, context: Context | None) -> t.Iterable[dict]:
        src = self.source
        db.check_access(src.conn, src.schema, self.table.name)
        src.prepare(self.table.stream)  # before the cursor opens: lookups use the same connection
        for row in src.conn.execute(self.build_query(context=context)).mappings():
            yield self.shape({c: db.to_json(v) for c, v in row.items()})

    def shape(self, row: dict) -> dict:
        stream = self.table.stream
        for old, new in RENAMED.get(stream, {}).items():
            if old in row:
                row[new] = row.pop(old)
        enums = self.source.enumerations
        for (s, column), kind in LABELLED.items():
            if s == stream and column in row:
                row[f"{column}_label"] = enums.label(kind, row[column])
        if stream == "contacts":
            self._contact(row)
        elif stream == "companies":
            if "revenue_amount" in self.derived:
                row["revenue_amount"] = amount(row.get("revenue"))
            if "currency" in self.derived:
                row["currency"] = enums.currency  # Atomic shows every amount in this currency
        elif stream == "deals" and "currency" in self.derived:
            row["currency"] = enums.currency
        elif stream == "tasks" and "done" in self.derived:
            row["done"] = row.get("done_date") is not None
        return row

    def _contact(self, row: dict) -> None:
        if "email_jsonb" not in self.table.columns:
            email = row.pop("email", None)
            row["email_jsonb"] = [{"email": email, "type": "Work"}] if email else []
        if "phone_jsonb" not in self.table.columns:
            phones = []
            for n in (1, 2):
                number, kind = row.pop(f"phone_{n}_number", None), row.pop(f"phone_{n}_type", None)
                if number:
                    phones.append({"number": number, "type": kind or "Work"})
            row["phone_jsonb"] = phones
        row["emails"] = _values(row.get("email_jsonb"), "email", self, row)
        row["phones"] = _values(row.get("phone_jsonb"), "number", self, row)
        self.source.count_types("e-mail", row.get("email_jsonb"), "email")
        self.source.count_types("phone", row.get("phone_jsonb"), "number")
        if "avatar_url" in self.derived:
            row["avatar_url"] = avatar_url(row.get("avatar"))
        if "tag_names" in self.derived:
            names, missing = self.source.tag_names(row.get("tags") or [])
            row["tag_names"] = names or None
            for tag in missing:
                self.source.notice_missing_tag(row["id"], tag)


def _values(items: t.Any, key: str, stream: AtomicStream, row: dict) -> list[str] | None:
    """`[{"email": …, "type": …}, …]` → the addresses (or numbers), in order."""
    if items is None:
        return None
    if not isinstance(items, list) or not all(isinstance(i, dict) for i in items):
        raise ValueError(
            f"contacts row {row.get('id')}: {key} list is not a JSON array of objects "
            f"with {key!r}: {str(items)[:200]}"
        )
    return [str(i[key]).strip() for i in items if i.get(key) and str(i[key]).strip()] or None


def avatar_url(avatar: t.Any) -> str | None:
    """A contact's avatar (an RAFile ``{src, …}``) as the URL Twenty's person ``avatarUrl``
    holds (docs/twenty-contract.md §4.5); ``{"src": "ERROR"}`` is no picture (sources §2.5)."""
    src = avatar.get("src") if isinstance(avatar, dict) else None
    if not isinstance(src, str) or not src.strip().lower().startswith(("https://", "http://")):
        return None
    return src.strip()


_AMOUNT = re.compile(r"^[^\d\-]*(-?\d[\d,.\s]*?)\s*(k|m|mn|b|bn)?\b[^\d]*$", re.I)
_SCALE = {"k": 1e3, "m": 1e6, "mn": 1e6, "b": 1e9, "bn": 1e9}


def amount(text: t.Any) -> float | int | None:
    """Atomic's free-text revenue (`$1,500,000`, `2.5M`, `750k €`) as a number, or None."""
    if text is None:
        return None
    match = _AMOUNT.match(str(text).strip())
    if not match:
        return None
    digits = match[1].replace(" ", "").replace(",", "")
    try:
        value = float(digits) * _SCALE.get((match[2] or "").lower(), 1)
    except ValueError:
        return None
    return int(value) if value == int(value) else value


class ConfigurationStream(Stream):
    """The `configuration` row with the pick-lists the migration used and where each came
    from (the table, the user's file, or the data)."""

    # Atomic's own table name, singular: its one settings row. The suite's streams are plural,
    # but a plural would name no table a user can find (README: streams are named as tables).
    name = "configuration"
    primary_keys: t.ClassVar[list[str]] = ["id"]
    schema: t.ClassVar[dict] = {
        "type": "object",
        "properties": {
            "id": {"type": "integer"},
            "config": {"type": ["object", "null"]},
            "enumerations": {"type": ["object", "null"]},
            "enumeration_sources": {"type": ["object", "null"]},
            "currency": {"type": ["string", "null"]},
        },
    }

    def __init__(self, tap: Tap, source: Source) -> None:
        super().__init__(tap)
        self.source = source

    def get_records(self, context: Context | None) -> t.Iterable[dict]:
        yield self.source.enumerations.record()


# jsonb file columns: (stream, column, kind of file)
FILE_COLUMNS = (
    ("companies", "logo", "logo"),
    ("contacts", "avatar", "avatar"),
    ("contact_notes", "attachments", "attachment"),
    ("deal_notes", "attachments", "attachment"),
)


class AttachmentsStream(Stream):
    """One row per file named in a jsonb column (note attachments, company logos, contact
    avatars), downloaded from Supabase Storage when a download folder is set."""

    name = "attachments"
    primary_keys: t.ClassVar[list[str]] = ["id"]
    schema: t.ClassVar[dict] = {
        "type": "object",
        "properties": {
            "id": {"type": "string"},
            "parent_stream": {"type": "string"},
            "parent_id": {"type": "integer"},
            "kind": {"type": "string"},
            "position": {"type": "integer"},
            "title": _STR,
            "src": _STR,
            "path": _STR,
            "mime_type": _STR,
            "external": {"type": "boolean"},
            "local_path": _STR,
            "file_exists": {"type": "boolean"},
            "file_size": {"type": ["integer", "null"]},
            "download_error": _STR,
        },
    }

    def __init__(self, tap: Tap, source: Source) -> None:
        super().__init__(tap)
        self.source = source

    def get_records(self, context: Context | None) -> t.Iterable[dict]:
        src = self.source
        storage = src.storage
        for stream, column, kind in FILE_COLUMNS:
            table = src.tables.get(stream)
            if table is None or column not in table.columns:
                continue
            db.check_access(src.conn, src.schema, table.name)
            rows = list(
                db.select_rows(src.conn, src.schema, table.name, ["id", column], order=["id"])
            )  # read first: downloads may be slow, and the cursor need not wait for them
            for row in rows:
                for position, f in enumerate(rafiles(row[column])):
                    if str(f.get("src") or "").strip().upper() == "ERROR" and not f.get("path"):
                        src.failed_avatars += 1  # the favicon trigger could not fetch it
                        continue
                    path = f.get("path") or None
                    if kind == "avatar" and path is None:
                        continue  # only a URL: the person's avatarUrl holds it (avatar_url)
                    rec = {
                        "id": f"{stream}:{row['id']}:{column}:{position}",
                        "parent_stream": stream,
                        "parent_id": row["id"],
                        "kind": kind,
                        "position": position,
                        "title": f.get("title") or _name_of(path or f.get("src")),
                        "src": f.get("src"),
                        "path": path,
                        "mime_type": f.get("type"),
                        "external": path is None,
                        "local_path": None,
                        "file_exists": False,
                        "file_size": None,
                        "download_error": None,
                    }
                    if path and storage is not None:
                        local, size, error = storage.fetch(str(path))
                        rec["local_path"] = str(local) if local else None
                        rec["file_exists"] = local is not None
                        rec["file_size"] = size
                        rec["download_error"] = error
                        if error:
                            src.download_errors.append(f"{stream} {row['id']}: {path}: {error}")
                    yield rec


def _name_of(ref: t.Any) -> str | None:
    if not ref:
        return None
    return str(ref).rstrip("/").rsplit("/", 1)[-1] or None
