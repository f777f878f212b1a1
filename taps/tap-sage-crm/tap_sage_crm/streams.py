"""One stream per Sage CRM entity, its schema from Sage's own metadata."""

from __future__ import annotations

import datetime as dt
import typing as t
from pathlib import Path

from crm2twenty_common.sdk_compat import KeepsAnnotations
from singer_sdk.helpers.conform import TypeConformanceLevel
from singer_sdk.helpers.types import Context

from tap_sage_crm import query
from tap_sage_crm.entities import (
    COMPANY_ENTITY,
    LIBRARY_STREAM,
    PERSON_ENTITY,
    EntityInfo,
    json_schema,
)

if t.TYPE_CHECKING:
    from singer_sdk import Tap

_ARRAY = {"type": ["array", "null"], "items": {"type": "string"}}
# Companies and persons carry their e-mails and phones, assembled from the link tables
# (Sage 7.2+ keeps them out of the Company and Person tables).
ENRICHED = {"companies": COMPANY_ENTITY, "persons": PERSON_ENTITY}


def to_value(sage_type: str, value: t.Any) -> t.Any:
    """A SOAP text value (or a REST JSON value) as its JSON type; dates in UTC, which is how
    Sage sends them with "Send and return all dates and times in universal time"."""
    if value is None or value == "":
        return None
    if sage_type in ("Integer", "User Select", "Search Select Advanced"):
        return int(float(value))
    if sage_type in ("Currency", "Numeric"):
        return float(value)
    if sage_type == "Checkbox":
        return str(value).strip().lower() in ("y", "yes", "true", "1", "on")
    if sage_type in ("Date & Time", "Date Only"):
        when = query.instant(str(value).replace(" ", "T"))
        if sage_type == "Date Only":
            return when.date().isoformat()
        return when.replace(tzinfo=dt.timezone.utc).isoformat()
    return str(value)


class SageStream(KeepsAnnotations):
    """Rows of one entity; incremental by ``<prefix>_updateddate`` when the entity has one."""

    TYPE_CONFORMANCE_LEVEL = TypeConformanceLevel.ROOT_ONLY

    def __init__(
        self, tap: Tap, info: EntityInfo, client: t.Any, references: dict[str, str]
    ) -> None:
        self.info = info
        self.client = client
        self.soap = tap.config.get("api", "soap") == "soap"
        self.dialect = "sql" if self.soap else "sdata"
        self.skip_deleted = tap.config.get("deleted_records", "skip") == "skip"
        self.filters = (tap.config.get("filters") or {}).get(info.stream) or {}
        library = tap.config.get("library_dir")
        self.library = Path(library) if library else None
        props: dict[str, dict] = {}
        for name, sage_type in info.fields.items():
            props[name] = json_schema(sage_type)
            target = references.get((info.lookups.get(name) or "").lower())
            if target:
                props[name]["x-references"] = target  # the mapper makes it a relation
        props["is_deleted"] = {"type": "boolean"}
        if info.stream in ENRICHED:
            props["emails"] = dict(_ARRAY)
            props["phones"] = dict(_ARRAY)
        if info.stream == LIBRARY_STREAM:
            props["relative_path"] = {"type": ["string", "null"]}
            props["absolute_path"] = {"type": ["string", "null"]}
            props["file_exists"] = {"type": "boolean"}
        super().__init__(tap, schema={"type": "object", "properties": props}, name=info.stream)
        self.tap = tap  # the SDK keeps it only as the private `_tap`
        self.primary_keys = [info.idfield]
        updated = f"{info.prefix}_updateddate"
        if updated in info.fields:
            self.replication_key = updated

    @property
    def is_sorted(self) -> bool:
        # SOAP queries are ordered by the replication key, so the bookmark can move as rows
        # arrive (a resumable run); REST has no orderBy before 2024 R2.
        return self.soap and self.replication_key is not None

    def _where(self, context: Context | None) -> str:
        conditions = [
            query.condition(col, "eq", value, self.dialect) for col, value in self.filters.items()
        ]
        rk = self.replication_key
        start = self.get_starting_timestamp(context) if rk else None
        if rk and start is not None:
            conditions.append(query.condition(rk, "ge", query.instant(start), self.dialect))
        deleted = f"{self.info.prefix}_deleted"
        if self.skip_deleted and self.soap and deleted in self.info.fields:
            conditions.append(f"({deleted} is null or {deleted} = 0)")
        return query.where(conditions)

    def get_records(self, context: Context | None) -> t.Iterable[dict]:
        where = self._where(context)
        extra = self._contacts() if self.info.stream in ENRICHED else None
        deleted = f"{self.info.prefix}_deleted"
        orderby = (self.replication_key or self.info.idfield) if self.soap else ""
        fields = list(self.info.fields)
        for raw in self.rows_of(self.info, fields, where, orderby):
            row = {name: to_value(self.info.fields[name], raw.get(name)) for name in fields}
            row["is_deleted"] = bool(row.get(deleted))
            if row["is_deleted"] and self.skip_deleted:
                continue  # REST cannot filter on NULL: deleted rows are dropped here
            if extra is not None:
                emails, phones = extra
                key = row[self.info.idfield]
                row["emails"] = emails.get(key) or None
                row["phones"] = phones.get(key) or None
            if self.info.stream == LIBRARY_STREAM:
                relative = library_path(row)
                path = self.library.joinpath(relative) if self.library and relative else None
                row["relative_path"] = relative
                row["absolute_path"] = str(path) if path else None
                row["file_exists"] = bool(path and path.is_file())
            yield row

    def rows_of(
        self, info: EntityInfo, fields: list[str], where: str, orderby: str
    ) -> t.Iterator[dict[str, t.Any]]:
        """The rows of ``info``'s entity that match ``where`` (SOAP: one query, read to its
        end; the REST stream reads its pages)."""
        return t.cast(
            "t.Iterator[dict[str, t.Any]]", self.client.records(info.entity, fields, where, orderby)
        )

    def _contacts(self) -> tuple[dict[int, list[str]], dict[int, list[str]]]:
        """E-mail addresses and phone numbers by record id, from Email/EmailLink and
        Phone/PhoneLink (entity 5 = company, 13 = person); business ones first."""
        entity_id = ENRICHED[self.info.stream]
        tap_streams = self.tap.streams
        emails: dict[int, list[tuple[bool, str]]] = {}
        phones: dict[int, list[tuple[bool, str]]] = {}
        if "emails" in tap_streams and "email_links" in tap_streams:
            address = {
                int(r["emai_emailid"]): r.get("emai_emailaddress")
                for r in self._read("emails", ["emai_emailid", "emai_emailaddress"])
            }
            for link in self._read_links("email_links", "elink", entity_id):
                value = address.get(int(link["elink_emailid"]))
                if value:
                    _add(emails, int(link["elink_recordid"]), value, link.get("elink_type"))
        if "phones" in tap_streams and "phone_links" in tap_streams:
            numbers = {}
            for r in self._read(
                "phones", ["phon_phoneid", "phon_countrycode", "phon_areacode", "phon_number"]
            ):
                parts = [p for p in (r.get("phon_areacode"), r.get("phon_number")) if p]
                if parts:
                    code = f"+{r['phon_countrycode']} " if r.get("phon_countrycode") else ""
                    numbers[int(r["phon_phoneid"])] = code + " ".join(parts)
            for link in self._read_links("phone_links", "plink", entity_id):
                value = numbers.get(int(link["plink_phoneid"]))
                if value:
                    _add(phones, int(link["plink_recordid"]), value, link.get("plink_type"))
        return _ordered(emails), _ordered(phones)

    def _read(self, stream: str, fields: list[str], where: str = "") -> t.Iterator[dict]:
        info = t.cast("SageStream", self.tap.streams[stream]).info
        deleted = f"{info.prefix}_deleted"
        skip_clause = f"({deleted} is null or {deleted} = 0)"
        if self.soap and deleted in info.fields:
            where = query.where([c for c in (where, skip_clause) if c])
            fields = [*fields, deleted]
        elif deleted in info.fields:
            fields = [*fields, deleted]
        for row in self.rows_of(info, fields, where, info.idfield if self.soap else ""):
            if not row.get(deleted) or row.get(deleted) in ("0", 0):
                yield row

    def _read_links(self, stream: str, prefix: str, entity_id: int) -> t.Iterator[dict]:
        fields = [
            f"{prefix}_{c}"
            for c in (("emailid" if prefix == "elink" else "phoneid"), "recordid", "type")
        ]
        where = query.condition(f"{prefix}_entityid", "eq", entity_id, self.dialect)
        yield from self._read(stream, fields, where)


def library_path(row: dict) -> str | None:
    """A library row's file inside Sage's library folder, ``<libr_filepath>/<libr_filename>``
    (``..`` dropped, so it cannot leave the folder): known with or without ``library_dir``, so
    a file that cannot be found is named, not only its folder."""
    if not row.get("libr_filename"):
        return None
    parts = [
        p
        for p in str(row.get("libr_filepath") or "").replace("\\", "/").split("/")
        if p and p != ".."
    ]
    name = str(row["libr_filename"]).replace("\\", "/").rsplit("/", 1)[-1]
    return "/".join([*parts, name]) if name not in ("", ".", "..") else None


def _add(into: dict[int, list[tuple[bool, str]]], key: int, value: str, kind: str | None) -> None:
    values = into.setdefault(key, [])
    if all(v != value for _, v in values):
        values.append(((kind or "").lower() != "business", value))


def _ordered(found: dict[int, list[tuple[bool, str]]]) -> dict[int, list[str]]:
    """Business addresses first, each group in link order (the sort is stable)."""
    return {
        key: [v for _, v in sorted(values, key=lambda p: p[0])] for key, values in found.items()
    }
