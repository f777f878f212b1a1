"""Sage CRM's REST API (``sagecrm2``, 2019 R2 and later).

``GET {base}/sdata/{install}j/sagecrm2/-/{resource}`` with Basic auth answers
``{"$totalResults", "$startIndex", "$itemsPerPage", "$resources": [...]}``; pages come from
``startIndex`` (1-based) and ``count``; ``where=`` filters with ``@date@`` literals;
``$prototypes`` lists the entities and their fields (docs/sources.md §1.2). ``orderBy`` exists
only from 2024 R2, so results are not assumed sorted. The REST API cannot filter on NULL, so
deleted rows are dropped after reading.
"""

from __future__ import annotations

import contextlib
import logging
import time
from collections.abc import Iterator
from typing import Any

import requests
from crm2twenty_common.pacer import backoff, retry_after

from tap_sage_crm.entities import EntityInfo
from tap_sage_crm.soap import SageError

LOG = logging.getLogger("tap-sage-crm")


class RestSession:
    def __init__(
        self,
        base_url: str,
        install: str,
        username: str,
        password: str,
        *,
        timeout: float,
        max_retries: int,
        page_size: int,
    ) -> None:
        self.base = f"{base_url.rstrip('/')}/sdata/{install}j/sagecrm2/-/"
        self.http = requests.Session()
        self.http.auth = (username, password)
        self.timeout, self.max_retries, self.page_size = timeout, max_retries, page_size

    def open(self) -> None:
        """Nothing to open: the REST service is stateless."""

    def close(self) -> None:
        self.http.close()

    def _get(self, resource: str, params: dict | None = None) -> Any:
        attempt = 0
        while True:
            attempt += 1
            try:
                answer = self.http.get(self.base + resource, params=params, timeout=self.timeout)
            except (requests.ConnectionError, requests.Timeout) as exc:
                if attempt > self.max_retries:
                    raise SageError(f"Sage CRM REST did not answer GET {resource}: {exc}") from exc
                time.sleep(backoff(attempt, base=0.5, cap=30))
                continue
            if answer.status_code in (429, 500, 502, 503, 504) and attempt <= self.max_retries:
                time.sleep(retry_after(answer.headers) or backoff(attempt, base=0.5, cap=30))
                continue
            if answer.status_code >= 400:
                detail = answer.text[:300]
                with contextlib.suppress(ValueError, KeyError, TypeError):  # not a diagnosis
                    detail = "; ".join(d.get("$message", "") for d in answer.json()["$diagnoses"])
                raise SageError(
                    f"Sage CRM REST refused GET {resource} ({answer.status_code}): {detail}"
                )
            return answer.json()

    def metadata(self) -> list[EntityInfo]:
        out = []
        for item in self._get("$prototypes").get("$resources", []):
            proto = self._get(f"$prototypes/{item['$key']}")
            fields = {f["name"].lower(): f["type"] for f in proto.get("fields", [])}
            lookups = {
                f["name"].lower(): f["lookupentity"]
                for f in proto.get("fields", [])
                if f.get("lookupentity")
            }
            out.append(
                EntityInfo(
                    stream="",
                    entity=proto["$key"],
                    prefix=proto.get("prefix", ""),
                    idfield=proto.get("idfield", "").lower(),
                    custom=bool(proto.get("custom")),
                    fields=fields,
                    lookups=lookups,
                )
            )
        return out

    def records(
        self, entity: str, fields: list[str], where: str, orderby: str
    ) -> Iterator[dict[str, Any]]:
        start = 1
        while True:
            params: dict[str, Any] = {"startIndex": start, "count": self.page_size}
            if where:
                params["where"] = where
            page = self._get(entity.lower(), params)
            resources = page.get("$resources", [])
            for row in resources:
                yield {k.lower(): v for k, v in row.items() if not k.startswith("$")}
            start += len(resources)
            if not resources or start > int(page.get("$totalResults", 0)):
                return
