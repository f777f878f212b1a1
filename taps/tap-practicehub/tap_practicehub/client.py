"""PracticeHub's REST API on the SDK's RESTStream: one paced, authenticated GET per page.

Facts (docs/sources.md §3.1–§3.4): the key goes in ``x-practicehub-key`` and
``x-app-details: appname=contact@email`` is required; pages are
``{"total_entries", "data", "links": {"next", …}}`` with ``page_size`` ≤ 100, ``links.next``
absent on the last page. Community clients report about one request a second, answered 429
beyond it, so every request of the tap waits for the tap's one pacer first.

SDK parts: :class:`~singer_sdk.authenticators.APIKeyAuthenticator` (the key),
:class:`~singer_sdk.pagination.BaseHATEOASPaginator` (``links.next``), ``validate_response``,
the backoff hooks fed by the tap's :class:`~crm2twenty_common.pacer.RetryPolicy` and the pacer
plugged into the public ``request_decorator`` hook (both through
:class:`~crm2twenty_common.rest_retries.PolicyRetries`).
"""

from __future__ import annotations

import datetime as dt
import json
import re
import typing as t
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from importlib import resources
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit
from zoneinfo import ZoneInfo

import requests
from crm2twenty_common.pacer import Pacer, RetryPolicy
from crm2twenty_common.rest_retries import PolicyRetries
from crm2twenty_common.sdk_compat import KeepsAnnotations
from singer_sdk.authenticators import APIKeyAuthenticator
from singer_sdk.exceptions import FatalAPIError, RetriableAPIError
from singer_sdk.helpers.conform import TypeConformanceLevel
from singer_sdk.pagination import BaseHATEOASPaginator

if t.TYPE_CHECKING:
    from singer_sdk import Tap
    from singer_sdk.helpers.types import Context
    from singer_sdk.streams.rest import HTTPRequest, PageContext

APP_DETAILS = re.compile(r"^[^=\s]+=[^@\s=]+@[^@\s]+$")  # appname=contact@email
PAGE_SIZE_MAX = 100  # PracticeHub's documented default and maximum


class PracticeHubError(Exception):
    """A refusal or an unreadable answer, with the endpoint it concerns."""


class Throttled(Exception):
    """A 429: the API asking us to slow down, not a failure. Retried on its own budget
    (``RetryPolicy.throttled_tries``), outside the SDK's failure retries."""

    def __init__(self, message: str, response: requests.Response) -> None:
        super().__init__(message)
        self.response = response


def base_url(config: Mapping[str, t.Any]) -> str:
    if config.get("api_url"):
        return str(config["api_url"]).rstrip("/")
    if config.get("account"):
        return f"https://{config['account'].strip()}.neptune.practicehub.io/api"
    raise PracticeHubError("Set `account` (your PracticeHub sub-domain) or `api_url`.")


def check_app_details(value: str) -> None:
    if not APP_DETAILS.match(value or ""):
        raise PracticeHubError(
            f"app_details must read `appname=contact@email` (PracticeHub's x-app-details "
            f"header), e.g. `crm2twenty=it@clinic.example`; got {value!r}."
        )


def with_params(url: str, params: Mapping[str, t.Any]) -> str:
    """``url`` with ``params`` added where it lacks them (``links.next`` may drop our
    page size or filters; it keeps its own page number)."""
    parts = urlsplit(url)
    query = dict(parse_qsl(parts.query, keep_blank_values=True))
    for key, value in params.items():
        query.setdefault(key, str(value))
    return urlunsplit(parts._replace(query=urlencode(query)))


def same_request(a: str, b: str) -> bool:
    """The same path and the same query parameters, in whatever order."""
    pa, pb = urlsplit(a), urlsplit(b)
    return (pa.path, sorted(parse_qsl(pa.query))) == (pb.path, sorted(parse_qsl(pb.query)))


def endpoint_of(url: str, base: str) -> str:
    """``/patients?page=3`` — how errors and logs name a request (never the key)."""
    parts = urlsplit(url)
    path, base_path = parts.path, urlsplit(base).path
    if path.startswith(base_path):
        path = path[len(base_path) :] or "/"
    page = dict(parse_qsl(parts.query)).get("page")
    return f"{path}?page={page}" if page else path


def load_schema(name: str) -> dict[str, t.Any]:
    """A stream's static schema, ``schemas/<name>.json`` (fields community clients have seen,
    docs/sources.md §3.6; foreign keys carry ``x-references``)."""
    text = (
        resources.files("tap_practicehub").joinpath("schemas").joinpath(f"{name}.json").read_text()
    )
    return t.cast("dict[str, t.Any]", json.loads(text))


@dataclass
class RunCounts:
    """What one tap run's retries were for, for the closing log line (requests: the pacer's)."""

    throttled: int = 0
    retried: int = 0


@dataclass
class Session:
    """One tap run's connection to one account: its pacer (one instance per run, shared by
    every stream), its retry policy and its counts."""

    base: str
    pacer: Pacer
    policy: RetryPolicy
    timeout: float
    counts: RunCounts = field(default_factory=RunCounts)
    # one keep-alive connection for every stream: no new handshake per stream, and request
    # arrivals as evenly spaced as their departures
    http: requests.Session = field(default_factory=requests.Session)


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


class NextLink(BaseHATEOASPaginator):
    """``links.next`` until it is absent (docs/sources.md §3.2). A page whose rows were all
    passed already (repeats) or older than the bookmark is not the end: the link decides."""

    def get_next_url(self, response: requests.Response) -> str | None:
        links = response.json().get("links") or {}
        following = links.get("next")
        return str(following) if following else None

    def continue_if_empty(self, response: requests.Response) -> bool:
        return True


@dataclass
class Pass:
    """One sync of one stream: where it started, what it has read (``progress`` is what STATE
    keeps between pages), what it dropped."""

    since: dt.datetime | None
    progress: dict[str, t.Any]
    resume_url: str | None
    seen: set[t.Any] = field(default_factory=set)
    repeats: int = 0
    older: int = 0
    total: int | None = None
    where: str = ""  # the page being read, as errors name it


class PracticeHubStream(KeepsAnnotations, PolicyRetries):
    """All rows of one list endpoint. State keeps, while a sync runs, the next page to ask
    (``progress``), so a run killed at page 200 resumes at page 201; a completed stream keeps
    only its ``updated`` bookmark. Rows served twice are passed once and counted."""

    TYPE_CONFORMANCE_LEVEL = TypeConformanceLevel.ROOT_ONLY
    primary_keys: t.ClassVar[list[str]] = ["id"]
    replication_key = "updated"
    extra_retry_statuses: t.Sequence[int] = ()  # 429 is Throttled, handled apart

    def __init__(
        self,
        tap: Tap,
        session: Callable[[], Session],
        notices: list[str],
        *,
        name: str | None = None,
        path: str | None = None,
        schema: dict[str, t.Any] | None = None,
    ) -> None:
        name = name or self.name
        schema = schema or load_schema(name)
        extra = ((tap.config.get("extra_fields") or {}).get(name)) or {}
        schema = {**schema, "properties": {**schema["properties"], **extra_properties(name, extra)}}
        props = schema["properties"]
        self.session_of = session  # the tap's, made at the first request (after config checks)
        self.notices = notices
        self.date_fields = [k for k, v in props.items() if v.get("format") == "date-time"]
        self.day_fields = [k for k, v in props.items() if v.get("format") == "date"]
        super().__init__(tap, name=name, schema=schema, path=path or f"/{name}")
        self.state_writer = tap.state_writer
        self.times = Timestamps(tap.config.get("timezone") or "UTC")
        self.filters = (tap.config.get("filters") or {}).get(name) or {}
        self.page_size = min(int(tap.config.get("page_size") or PAGE_SIZE_MAX), PAGE_SIZE_MAX)
        self.current: Pass | None = None

    @property
    def session(self) -> Session:
        return self.session_of()

    @property
    def retry_policy(self) -> RetryPolicy:
        return self.session.policy

    @property
    def pacer(self) -> Pacer:
        return self.session.pacer

    # -- the SDK's HTTP hooks ---------------------------------------------------------------
    @property
    def requests_session(self) -> requests.Session:
        return self.session.http

    @property
    def url_base(self) -> str:
        return self.session.base

    @property
    def authenticator(self) -> APIKeyAuthenticator:
        return APIKeyAuthenticator(key="x-practicehub-key", value=self.config["api_key"])

    @property
    def http_headers(self) -> dict[str, str]:
        return {"x-app-details": self.config["app_details"], "Accept": "application/json"}

    @property
    def timeout(self) -> int:
        return self.session.timeout  # type: ignore[return-value]  # seconds, fractions too

    def get_new_paginator(self) -> NextLink:
        return NextLink()

    def get_http_request(self, *, page: PageContext) -> HTTPRequest:
        request = super().get_http_request(page=page)
        token = page.next_page_token
        url = token.geturl() if token else (self.current and self.current.resume_url)
        if url:  # links.next (or the page an interrupted run was at): its page, our params
            parts = urlsplit(url)
            request.url = urlunsplit(parts._replace(query=""))
            request.params = {**request.params, **dict(parse_qsl(parts.query))}
        return request

    def get_url_params(self, context: Context | None, next_page_token: t.Any) -> dict[str, t.Any]:
        assert self.current is not None
        return self.params_for(self.current.since)

    def params_for(self, since: dt.datetime | None) -> dict[str, t.Any]:
        params: dict[str, t.Any] = {"page_size": self.page_size, **self.filters}
        if since is not None:
            params["updated"] = f"gte:{self.times.filter_value(since)}"
        return params

    def throttle_retries(self, func: Callable[..., requests.Response]) -> Callable:
        return self.session.policy.decorate(
            func,
            (Throttled,),
            max_tries=self.session.policy.throttled_tries,
            on_backoff=self.backoff_handler,
            on_giveup=self.throttled_too_often,
        )

    def backoff_handler(self, details: t.Any) -> None:
        """Log the retry (the endpoint, never the key) and pause every stream for its wait."""
        error, wait = details.get("exception"), float(details.get("wait") or 0.0)
        name = self.endpoint_of(details["args"][0].url)
        if isinstance(error, Throttled):
            self.session.counts.throttled += 1
            self.logger.warning(
                "GET %s: 429 Too Many Requests; every request waits %.2f s", name, wait
            )
        else:
            self.session.counts.retried += 1
            if isinstance(error, RetriableAPIError) and error.response is not None:
                self.logger.warning("GET %s: %s; retrying", name, error.response.status_code)
            else:
                kind = type(error).__name__
                self.logger.warning("GET %s failed in transit (%s); retrying", name, kind)
        self.session.pacer.pause(wait)

    def throttled_too_often(self, details: t.Any) -> None:
        name = self.endpoint_of(details["args"][0].url)
        raise FatalAPIError(
            f"PracticeHub kept answering 429 to GET {name} ({details['tries']} times); "
            "raise min_interval_seconds."
        )

    def endpoint_of(self, url: str | None) -> str:
        return endpoint_of(url or "", self.session.base)

    def validate_response(self, response: requests.Response) -> None:
        name = self.endpoint_of(response.request.url)
        status, text = response.status_code, response.text[:200]
        if status == 429:
            raise Throttled(f"GET {name}: 429 Too Many Requests", response)
        if status >= 500:
            raise RetriableAPIError(f"PracticeHub failed GET {name} ({status}): {text}", response)
        if status in (401, 403):
            raise FatalAPIError(
                f"PracticeHub refused GET {name} ({status}): check api_key "
                f"(x-practicehub-key) and its permissions. {text}"
            )
        if status >= 400:
            raise FatalAPIError(f"PracticeHub refused GET {name} ({status}): {text}")
        try:
            page = response.json()
        except ValueError as exc:
            raise FatalAPIError(f"GET {name} did not answer JSON: {text!r}") from exc
        if not isinstance(page, dict) or not isinstance(page.get("data"), list):
            raise FatalAPIError(
                f"GET {name} did not answer a PracticeHub page "
                f'({{"total_entries", "data": [...], "links"}}): {str(page)[:200]}'
            )

    # -- records, page by page --------------------------------------------------------------
    def get_replication_key_signpost(self, context: Context | None = None) -> t.Any:
        # Resuming: the bookmark must not pass the start of the interrupted run, whose pages
        # (already read) may hold rows changed since.
        signpost = super().get_replication_key_signpost(context)
        started = (self.stream_state.get("progress") or {}).get("started")
        if signpost and started:
            return min(signpost, dt.datetime.fromisoformat(started))
        return signpost

    def get_records(self, context: Context | None) -> t.Iterable[dict[str, t.Any]]:
        self.current = self.start_pass(context)
        yield from super().get_records(context)
        self.stream_state.pop("progress", None)
        self.report(self.current)

    def start_pass(self, context: Context | None) -> Pass:
        progress = self.stream_state.get("progress")
        if progress and not str(progress.get("next", "")).startswith(self.session.base):
            self.logger.warning("%s: saved progress is for another host; starting over", self.name)
            progress = None
        if progress:
            since = dt.datetime.fromisoformat(progress["since"]) if progress["since"] else None
            self.logger.info(
                "%s: resuming at page %d (after %d rows read by an interrupted run)",
                self.name,
                progress["pages"] + 1,
                progress["rows"],
            )
            return Pass(since, progress, resume_url=progress["next"])
        since = self.get_starting_timestamp(context) if self.replication_key else None
        first = with_params(f"{self.session.base}{self.path}", self.params_for(since))
        progress = {
            "since": since.isoformat() if since else None,
            "started": dt.datetime.now(dt.timezone.utc).isoformat(),
            "pages": 0,
            "rows": 0,
            "next": first,
        }
        return Pass(since, progress, resume_url=None)

    def parse_response(self, response: requests.Response) -> t.Iterable[dict]:
        """The page's rows; once the last is written, the page counts as read: STATE records
        the next page to ask."""
        current = self.current
        assert current is not None
        page = response.json()
        if current.total is None and isinstance(page.get("total_entries"), int):
            current.total = page["total_entries"]
        where = current.where = self.endpoint_of(response.request.url)
        for raw in page["data"]:
            if not isinstance(raw, dict) or raw.get("id") is None:
                raise PracticeHubError(
                    f"GET {where}: a row without an id, which this tap needs to "
                    f"de-duplicate: {str(raw)[:200]}"
                )
            current.progress["rows"] += 1
            if raw["id"] in current.seen:
                current.repeats += 1
                continue
            current.seen.add(raw["id"])
            yield raw
        following = NextLink().get_next_url(response)
        if following:
            following = with_params(following, self.params_for(current.since))
            if same_request(following, response.request.url or ""):
                raise PracticeHubError(f"GET {where}: links.next points at the same page")
        current.progress["pages"] += 1
        current.progress["next"] = following
        self.stream_state["progress"] = current.progress
        self.flush_state()

    def post_process(self, row: dict, context: Context | None = None) -> dict | None:
        assert self.current is not None
        record = self.shape(row, self.current.where)
        updated = record.get("updated")
        since = self.current.since
        if since and updated and dt.datetime.fromisoformat(updated) < since:
            self.current.older += 1  # the filter was not applied: an unchanged row
            return None
        return record

    def shape(self, raw: dict, where: str) -> dict:
        record = dict(raw)
        for name in self.date_fields:
            try:
                record[name] = self.times.iso(record.get(name))
            except ValueError as exc:
                raise PracticeHubError(
                    f"GET {where}: record {raw['id']} has {name}={raw.get(name)!r}, not a date-time"
                ) from exc
        for name in self.day_fields:
            value = record.get(name)
            record[name] = str(value)[:10] if value else None
        return record

    def flush_state(self) -> None:
        # The SDK writes STATE every 10,000 records; a page is our unit of progress, so its
        # state goes out as soon as its rows are written. Public pieces only: what the SDK's
        # own (private) flush does — make sure the stream has its state entry, write the tap
        # state through the tap's state writer (which skips an unchanged state), mark it flushed.
        _ = self.stream_state
        self.state_writer.write_state(self.tap_state)
        self.state_manager.is_flushed = True

    def report(self, current: Pass) -> None:
        progress, total, distinct = current.progress, current.total, len(current.seen)
        self.logger.info(
            "%s: %d pages, %d rows, %d distinct, %d repeated across pages (total_entries %s)",
            self.name,
            progress["pages"],
            progress["rows"],
            distinct,
            current.repeats,
            total,
        )
        endpoint = self.path.strip("/")
        if current.repeats:
            self.notices.append(
                f"/{endpoint}: {current.repeats} rows were served again on later pages; "
                f"each record was passed once ({distinct} distinct)."
            )
        if total is not None and progress["rows"] < total:
            self.notices.append(
                f"/{endpoint}: total_entries said {total} rows but the pages held "
                f"{progress['rows']}; records may be missing (run again to check)."
            )
        if current.older and current.since is not None:  # rows older than a bookmark
            self.notices.append(
                f"/{endpoint}: the filter updated=gte:{self.times.filter_value(current.since)} "
                f"was ignored by the API ({current.older} unchanged rows older than the "
                "bookmark came back); they were dropped here, but every run reads the whole list."
            )
            self.logger.warning(self.notices[-1])


TYPES: dict[str, dict] = {
    "string": {"type": ["string", "null"]},
    "integer": {"type": ["integer", "null"]},
    "number": {"type": ["number", "null"]},
    "boolean": {"type": ["boolean", "null"]},
    "date": {"type": ["string", "null"], "format": "date"},
    "date-time": {"type": ["string", "null"], "format": "date-time"},
    "object": {"type": ["object", "null"]},
    "array": {"type": ["array", "null"]},
}


def extra_properties(stream: str, extra: Mapping[str, str]) -> dict[str, dict]:
    """`extra_fields` of one stream as schema properties."""
    props = {}
    for name, kind in extra.items():
        if kind not in TYPES:
            raise PracticeHubError(
                f"extra_fields.{stream}.{name}: type {kind!r} is not one of {sorted(TYPES)}"
            )
        props[name] = dict(TYPES[kind])
    return props
