"""One stream per PracticeHub list endpoint, paged by ``links.next`` and resumable page by page."""

from __future__ import annotations

import datetime as dt
import re
import typing as t
from pathlib import Path
from zoneinfo import ZoneInfo

from crm2twenty_common.sdk_compat import KeepsAnnotations
from singer_sdk.helpers.conform import TypeConformanceLevel
from singer_sdk.helpers.types import Context

from tap_practicehub.client import PracticeHubClient, PracticeHubError, with_params

if t.TYPE_CHECKING:
    from singer_sdk import Tap

PAGE_SIZE_MAX = 100  # PracticeHub's documented default and maximum

S = {"type": ["string", "null"]}
I = {"type": ["integer", "null"]}  # noqa: E741
N = {"type": ["number", "null"]}
B = {"type": ["boolean", "null"]}
D = {"type": ["string", "null"], "format": "date"}
DT = {"type": ["string", "null"], "format": "date-time"}
OBJ = {"type": ["object", "null"]}


def ref(stream: str) -> dict:
    """A foreign key: ``x-references`` tells the mapper which stream it points at."""
    return {**I, "x-references": stream}


STAMPS: dict[str, dict] = {"created": DT, "updated": DT}
# Fields seen by community clients (docs/sources.md §3.6), plus the usual
# contact fields; anything else an account returns can be added with `extra_fields`.
STREAMS: dict[str, dict[str, dict]] = {
    "practitioners": {
        "id": I,
        "first_name": S,
        "last_name": S,
        "email": S,
        "active": B,
        **STAMPS,
    },
    "appointment_types": {"id": I, "name": S, "duration": N, "price": N, **STAMPS},
    "payment_methods": {"id": I, "name": S, **STAMPS},
    "patients": {
        "id": I,
        "patient_number": S,
        "first_name": S,
        "last_name": S,
        "email": S,
        "phone": S,
        "mobile": S,
        "date_of_birth": D,
        "gender": S,
        "address_line1": S,
        "address_line2": S,
        "city": S,
        "postcode": S,
        "country": S,
        "tags": {"type": ["array", "null"], "items": {"type": "string"}},
        "practitioner_id": ref("practitioners"),
        **STAMPS,
    },
    "appointments": {
        "id": I,
        "patient_id": ref("patients"),
        "practitioner_id": ref("practitioners"),
        "appointment_type_id": ref("appointment_types"),
        "location": S,
        "status": S,
        "start": DT,
        "end": DT,
        "duration": N,
        "cancelDate": DT,
        **STAMPS,
    },
    "invoices": {
        "id": I,
        "patient_id": ref("patients"),
        "appointment_id": ref("appointments"),
        "number": S,
        "total": N,
        "amount": N,
        "status": S,
        **STAMPS,
    },
    "payments": {
        "id": I,
        "patient_id": ref("patients"),
        "amount": N,
        "payment_type_id": ref("payment_methods"),
        "service": S,
        "note": S,
        **STAMPS,
    },
    "patient_packages": {
        "id": I,
        "name": S,
        "price": N,
        "sessions": N,
        "patient_id": ref("patients"),
        "subscribed_patients": {"type": ["array", "null"], "items": OBJ},
        **STAMPS,
    },
    "patient_logs": {
        "id": I,
        "patient_id": ref("patients"),
        "practitioner_id": ref("practitioners"),
        "type": S,
        "sub_type": S,
        "data": S,
        **STAMPS,
    },
    "files": {
        "id": I,
        "file_name": S,
        "size": I,
        "entity_type": S,
        "file_type": S,
        "description": S,
        "mime_type": S,
        "patient_id": ref("patients"),
        "url": S,
        "local_path": S,
        "file_exists": B,
        **STAMPS,
    },
}
# Lookups first: the mapper resolves practitioners and appointment types as later streams pass.
ORDER = list(STREAMS)
FULL_TABLE = {"practitioners", "appointment_types", "payment_methods"}
TYPES: dict[str, dict] = {
    "string": S,
    "integer": I,
    "number": N,
    "boolean": B,
    "date": D,
    "date-time": DT,
    "object": OBJ,
    "array": {"type": ["array", "null"]},
}


def schema_for(name: str, extra: dict[str, str] | None) -> dict[str, dict]:
    props = {k: dict(v) for k, v in STREAMS.get(name, {"id": I, **STAMPS}).items()}
    for field, kind in (extra or {}).items():
        if kind not in TYPES:
            raise PracticeHubError(
                f"extra_fields.{name}.{field}: type {kind!r} is not one of {sorted(TYPES)}"
            )
        props[field] = dict(TYPES[kind])
    return props


class Timestamps:
    """PracticeHub's naive ``YYYY-MM-DD HH:MM:SS`` in the account's zone ↔ ISO 8601 UTC."""

    def __init__(self, zone: str) -> None:
        self.zone = ZoneInfo(zone)

    def parse(self, value: t.Any) -> dt.datetime | None:
        if value in (None, ""):
            return None
        when = dt.datetime.fromisoformat(str(value).replace("Z", "+00:00"))
        if when.tzinfo is None:
            when = when.replace(tzinfo=self.zone)
        return when.astimezone(dt.timezone.utc)

    def iso(self, value: t.Any) -> str | None:
        when = self.parse(value)
        return when.isoformat() if when else None

    def filter_value(self, when: dt.datetime) -> str:
        return when.astimezone(self.zone).strftime("%Y-%m-%d %H:%M:%S")


class PracticeHubStream(KeepsAnnotations):
    """All rows of one list endpoint. State keeps, while a sync runs, the next page to ask
    (``progress``), so a run killed at page 200 resumes at page 201; a completed stream keeps
    only its ``updated`` bookmark. Rows served twice are passed once and counted."""

    TYPE_CONFORMANCE_LEVEL = TypeConformanceLevel.ROOT_ONLY
    primary_keys: t.ClassVar[list[str]] = ["id"]

    def __init__(self, tap: Tap, name: str, endpoint: str, props: dict[str, dict]) -> None:
        self.endpoint = endpoint.strip("/")
        self.date_fields = [k for k, v in props.items() if v.get("format") == "date-time"]
        self.day_fields = [k for k, v in props.items() if v.get("format") == "date"]
        super().__init__(tap, schema={"type": "object", "properties": props}, name=name)
        self.tap = tap  # the SDK keeps it only as the private `_tap`
        self.state_writer = tap.state_writer
        if name not in FULL_TABLE and "updated" in props:
            self.replication_key = "updated"
        self.times = Timestamps(tap.config.get("timezone") or "UTC")
        self.filters = (tap.config.get("filters") or {}).get(name) or {}
        self.page_size = min(int(tap.config.get("page_size") or PAGE_SIZE_MAX), PAGE_SIZE_MAX)
        download = tap.config.get("download_dir")
        self.download_dir = Path(download) if download and name == "files" else None

    @property
    def client(self) -> PracticeHubClient:
        return self.tap.client  # type: ignore[attr-defined]

    def get_replication_key_signpost(self, context: Context | None = None) -> t.Any:
        # Resuming: the bookmark must not pass the start of the interrupted run, whose pages
        # (already read) may hold rows changed since.
        signpost = super().get_replication_key_signpost(context)
        started = (self.stream_state.get("progress") or {}).get("started")
        if signpost and started:
            return min(signpost, dt.datetime.fromisoformat(started))
        return signpost

    def _params(self, since: dt.datetime | None) -> dict[str, t.Any]:
        params: dict[str, t.Any] = {"page_size": self.page_size, **self.filters}
        if since is not None:
            params["updated"] = f"gte:{self.times.filter_value(since)}"
        return params

    def get_records(self, context: Context | None) -> t.Iterable[dict]:
        state = self.stream_state
        progress = state.get("progress")
        if progress and not str(progress.get("next", "")).startswith(self.client.base):
            self.logger.warning("%s: saved progress is for another host; starting over", self.name)
            progress = None
        if progress:
            since = dt.datetime.fromisoformat(progress["since"]) if progress["since"] else None
            url = progress["next"]
            self.logger.info(
                "%s: resuming at page %d (after %d rows read by an interrupted run)",
                self.name,
                progress["pages"] + 1,
                progress["rows"],
            )
        else:
            since = self.get_starting_timestamp(context) if self.replication_key else None
            url = with_params(f"{self.client.base}/{self.endpoint}", self._params(since))
            progress = {
                "since": since.isoformat() if since else None,
                "started": dt.datetime.now(dt.timezone.utc).isoformat(),
                "pages": 0,
                "rows": 0,
                "next": url,
            }
        params = self._params(since)
        seen: set[t.Any] = set()
        repeats = older = 0
        total: int | None = None
        while url:
            page = self.client.get_page(url)
            where = self.client.endpoint_of(url)
            if total is None and isinstance(page.get("total_entries"), int):
                total = page["total_entries"]
            for raw in page["data"]:
                if not isinstance(raw, dict) or raw.get("id") is None:
                    raise PracticeHubError(
                        f"GET {where}: a row without an id, which this tap needs to "
                        f"de-duplicate: {str(raw)[:200]}"
                    )
                progress["rows"] += 1
                if raw["id"] in seen:
                    repeats += 1
                    continue
                seen.add(raw["id"])
                record = self._shape(raw, where)
                updated = record.get("updated")
                if since and updated and dt.datetime.fromisoformat(updated) < since:
                    older += 1  # the filter was not applied: an unchanged row
                    continue
                yield record
            following = (page.get("links") or {}).get("next")
            if following:
                following = with_params(following, params)
                if following == url:
                    raise PracticeHubError(f"GET {where}: links.next points at the same page")
            progress["pages"] += 1
            progress["next"] = following
            state["progress"] = progress
            self._flush_state()
            url = following
        state.pop("progress", None)
        self._report(progress, total, len(seen), repeats, older, since)

    def _flush_state(self) -> None:
        # The SDK writes STATE every 10,000 records; a page is our unit of progress, so its
        # state goes out as soon as its rows are written. Public pieces only: what the SDK's
        # own (private) flush does — make sure the stream has its state entry, write the tap
        # state through the tap's state writer (which skips an unchanged state), mark it flushed.
        _ = self.stream_state
        self.state_writer.write_state(self.tap_state)
        self.state_manager.is_flushed = True

    def _report(
        self,
        progress: dict,
        total: int | None,
        distinct: int,
        repeats: int,
        older: int,
        since: dt.datetime | None,
    ) -> None:
        notes = self.tap.notices  # type: ignore[attr-defined]
        self.logger.info(
            "%s: %d pages, %d rows, %d distinct, %d repeated across pages (total_entries %s)",
            self.name,
            progress["pages"],
            progress["rows"],
            distinct,
            repeats,
            total,
        )
        if self.name == "patients":
            notes.append(
                "PracticeHub has no companies: its patients become standalone people in "
                "Twenty (no company)."
            )
        if repeats:
            notes.append(
                f"/{self.endpoint}: {repeats} rows were served again on later pages; "
                f"each record was passed once ({distinct} distinct)."
            )
        if total is not None and progress["rows"] < total:
            notes.append(
                f"/{self.endpoint}: total_entries said {total} rows but the pages held "
                f"{progress['rows']}; records may be missing (run again to check)."
            )
        if older and since is not None:  # rows older than a bookmark: so there is one
            notes.append(
                f"/{self.endpoint}: the filter updated=gte:{self.times.filter_value(since)} "
                f"was ignored by the API ({older} unchanged rows older than the bookmark came "
                "back); they were dropped here, but every run reads the whole list."
            )
            self.logger.warning(notes[-1])

    def _shape(self, raw: dict, where: str) -> dict:
        record = dict(raw)
        for field in self.date_fields:
            try:
                record[field] = self.times.iso(record.get(field))
            except ValueError as exc:
                raise PracticeHubError(
                    f"GET {where}: record {raw['id']} has {field}={raw.get(field)!r}, "
                    "not a date-time"
                ) from exc
        for field in self.day_fields:
            value = record.get(field)
            record[field] = str(value)[:10] if value else None
        if self.name == "patient_packages" and record.get("patient_id") is None:
            # often null: the patient is in subscribed_patients (docs/sources.md §3.5)
            subscribed = [
                s.get("patient_id")
                for s in record.get("subscribed_patients") or []
                if isinstance(s, dict)
            ]
            record["patient_id"] = next((p for p in subscribed if p is not None), None)
        if self.download_dir is not None and record.get("url"):
            name = re.sub(r"[^\w.\- ]", "_", str(record.get("file_name") or "file"))
            dest = self.download_dir / f"{record['id']}-{name}"
            ok = self.client.download(record["url"], dest, record.get("size"))
            record["local_path"] = str(dest.resolve()) if ok else None
            record["file_exists"] = ok
        return record


class ExtraStream(PracticeHubStream):
    """A list endpoint named in `extra_streams`: id and dates as columns, the whole row in
    ``record`` (its fields are not known in advance)."""

    def _shape(self, raw: dict, where: str) -> dict:
        record = super()._shape(raw, where)
        return {**record, "record": raw}
