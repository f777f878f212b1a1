"""PracticeHub's REST API: authenticated, paced GETs of one page at a time.

Facts (docs/sources.md §3.1–§3.4): the key goes in ``x-practicehub-key`` and
``x-app-details: appname=contact@email`` is required; pages are
``{"total_entries", "data", "links": {"next", …}}`` with ``page_size`` ≤ 100. Community clients
report about one request a second, answered 429 beyond it, so every request of the process
waits for one shared pacer first.
"""

from __future__ import annotations

import logging
import os
import re
import threading
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import requests
from crm2twenty_common.pacer import Pacer, backoff, retry_after

LOG = logging.getLogger("tap-practicehub")
APP_DETAILS = re.compile(r"^[^=\s]+=[^@\s=]+@[^@\s]+$")  # appname=contact@email
# A 429 is the API asking us to slow down, not a failure: the page is asked again this many
# times before the run gives up.
MAX_THROTTLED = 30

_PACER: Pacer | None = None
_PACER_LOCK = threading.Lock()


def process_pacer(min_interval: float) -> Pacer:
    """The one pacer of this process: whatever stream (or tap instance) asks, PracticeHub
    sees no two request starts closer than ``min_interval`` seconds."""
    global _PACER
    with _PACER_LOCK:
        if _PACER is None:
            _PACER = Pacer(min_interval=min_interval)
        _PACER.min_interval = min_interval
        return _PACER


class PracticeHubError(Exception):
    """A refusal or an unreadable answer, with the endpoint it concerns."""


def base_url(config: Mapping[str, Any]) -> str:
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


def with_params(url: str, params: dict[str, Any]) -> str:
    """``url`` with ``params`` added where it lacks them (``links.next`` may drop our
    page size or filters; it keeps its own page number)."""
    parts = urlsplit(url)
    query = dict(parse_qsl(parts.query, keep_blank_values=True))
    for key, value in params.items():
        query.setdefault(key, str(value))
    return urlunsplit(parts._replace(query=urlencode(query)))


class PracticeHubClient:
    def __init__(
        self,
        base: str,
        api_key: str,
        app_details: str,
        *,
        min_interval: float,
        timeout: float,
        max_retries: int,
    ) -> None:
        self.base = base.rstrip("/")
        self.pacer = process_pacer(min_interval)
        self.timeout, self.max_retries = timeout, max_retries
        self.http = requests.Session()
        self.http.headers.update(
            {
                "x-practicehub-key": api_key,
                "x-app-details": app_details,
                "Accept": "application/json",
            }
        )
        self.requests = 0
        self.throttled = 0
        self.retried = 0

    def close(self) -> None:
        self.http.close()

    def endpoint_of(self, url: str) -> str:
        """``/patients?page=3`` — how errors and logs name a request (never the key)."""
        parts = urlsplit(url)
        path = parts.path
        base_path = urlsplit(self.base).path
        if path.startswith(base_path):
            path = path[len(base_path) :] or "/"
        page = dict(parse_qsl(parts.query)).get("page")
        return f"{path}?page={page}" if page else path

    def get_page(self, url: str) -> dict[str, Any]:
        name = self.endpoint_of(url)
        failures = throttles = 0
        while True:
            self.pacer.acquire()
            self.requests += 1
            try:
                answer = self.http.get(url, timeout=self.timeout)
            except (requests.ConnectionError, requests.Timeout) as exc:
                failures += 1
                if failures > self.max_retries:
                    raise PracticeHubError(
                        f"PracticeHub did not answer GET {name} after {failures} tries: {exc}"
                    ) from exc
                self.retried += 1
                LOG.warning("GET %s failed in transit (%s); retrying", name, type(exc).__name__)
                self.pacer.pause(backoff(failures, base=1.0, cap=30))
                continue
            if answer.status_code == 429:
                throttles += 1
                self.throttled += 1
                if throttles > MAX_THROTTLED:
                    raise PracticeHubError(
                        f"PracticeHub kept answering 429 to GET {name} ({throttles} times); "
                        "raise min_interval_seconds."
                    )
                wait = retry_after(answer.headers)
                if wait is None:
                    wait = backoff(throttles, base=max(self.pacer.min_interval, 0.05), cap=60)
                LOG.warning("GET %s: 429 Too Many Requests; every request waits %.2f s", name, wait)
                self.pacer.pause(wait)  # everyone waits, then the same page is asked again
                continue
            if answer.status_code >= 500:
                failures += 1
                if failures > self.max_retries:
                    raise PracticeHubError(
                        f"PracticeHub failed GET {name} ({answer.status_code}) "
                        f"{failures} times: {answer.text[:200]}"
                    )
                self.retried += 1
                LOG.warning("GET %s: %s; retrying", name, answer.status_code)
                self.pacer.pause(retry_after(answer.headers) or backoff(failures, cap=30))
                continue
            if answer.status_code in (401, 403):
                raise PracticeHubError(
                    f"PracticeHub refused GET {name} ({answer.status_code}): check api_key "
                    f"(x-practicehub-key) and its permissions. {answer.text[:200]}"
                )
            if answer.status_code >= 400:
                raise PracticeHubError(
                    f"PracticeHub refused GET {name} ({answer.status_code}): {answer.text[:300]}"
                )
            try:
                page = answer.json()
            except ValueError as exc:
                raise PracticeHubError(
                    f"GET {name} did not answer JSON: {answer.text[:200]!r}"
                ) from exc
            if not isinstance(page, dict) or not isinstance(page.get("data"), list):
                raise PracticeHubError(
                    f"GET {name} did not answer a PracticeHub page "
                    f'({{"total_entries", "data": [...], "links"}}): {str(page)[:200]}'
                )
            return page

    def download(self, url: str, dest: Path, size: int | None) -> bool:
        """Fetch a pre-signed file URL into ``dest``; True when the file is there.

        The URL points at S3, not PracticeHub: it is fetched without the PracticeHub headers
        (the key must not travel to another host) and without PracticeHub's pacer."""
        if dest.is_file() and (size is None or dest.stat().st_size == size):
            return True  # fetched by an earlier (interrupted) run
        dest.parent.mkdir(parents=True, exist_ok=True)
        shown = urlsplit(url).path  # the signature in the query is a credential too
        for attempt in range(1, self.max_retries + 2):
            try:
                with requests.get(url, timeout=self.timeout, stream=True) as answer:
                    if answer.status_code >= 500 or answer.status_code == 429:
                        raise requests.ConnectionError(f"{answer.status_code}")
                    if answer.status_code >= 400:
                        LOG.warning("File %s not downloaded (%s)", shown, answer.status_code)
                        return False
                    part = dest.with_name(dest.name + ".part")
                    with part.open("wb") as handle:
                        for chunk in answer.iter_content(1 << 16):
                            handle.write(chunk)
                    os.replace(part, dest)
                    return True
            except (requests.ConnectionError, requests.Timeout) as exc:
                if attempt > self.max_retries:
                    LOG.warning("File %s not downloaded: %s", shown, exc)
                    return False
                time.sleep(backoff(attempt, base=0.5, cap=10))
        return False
