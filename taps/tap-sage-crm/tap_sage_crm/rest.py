"""Sage CRM's REST API (``sagecrm2``, 2019 R2 and later) on the SDK's RESTStream.

``GET {base}/sdata/{install}j/sagecrm2/-/{resource}`` with Basic auth answers
``{"$totalResults", "$startIndex", "$itemsPerPage", "$resources": [...]}``; pages come from
``startIndex`` (1-based) and ``count``; ``where=`` filters with ``@date@`` literals;
``$prototypes`` lists the entities and their fields (docs/sources.md §1.2). ``orderBy`` exists
only from 2024 R2, so results are not assumed sorted. The REST API cannot filter on NULL, so
deleted rows are dropped after reading.

SDK parts: :class:`~singer_sdk.authenticators.BasicAuthenticator`,
:class:`~singer_sdk.pagination.OffsetPaginator` (``startIndex``), ``validate_response`` and the
backoff hooks (through :class:`~crm2twenty_common.rest_retries.PolicyRetries`, with the tap's
one :class:`~crm2twenty_common.pacer.RetryPolicy`, which the SOAP side uses too).
"""

from __future__ import annotations

import contextlib
import typing as t
from collections.abc import Iterator

import requests
from crm2twenty_common.pacer import RetryPolicy
from crm2twenty_common.rest_retries import PolicyRetries
from singer_sdk.authenticators import BasicAuthenticator
from singer_sdk.exceptions import RetriableAPIError
from singer_sdk.pagination import OffsetPaginator

from tap_sage_crm.entities import EntityInfo
from tap_sage_crm.soap import SageError
from tap_sage_crm.streams import SageStream

if t.TYPE_CHECKING:
    from singer_sdk import Tap
    from singer_sdk.helpers.types import Context

TRANSIENT = (RetriableAPIError, requests.ConnectionError, requests.Timeout)


def check(answer: requests.Response, resource: str) -> None:
    """Raise for an answer that is not a success: retriable (429, 5xx) or a clear refusal."""
    status = answer.status_code
    if status == 429 or status >= 500:
        raise RetriableAPIError(f"Sage CRM REST failed GET {resource} ({status})", answer)
    if status >= 400:
        detail = answer.text[:300]
        with contextlib.suppress(ValueError, KeyError, TypeError):  # not a diagnosis
            detail = "; ".join(d.get("$message", "") for d in answer.json()["$diagnoses"])
        raise SageError(f"Sage CRM REST refused GET {resource} ({status}): {detail}")


class SageRest:
    """The REST service for one tap run: its address, one ``requests.Session`` authenticated
    by the SDK's BasicAuthenticator, the run's retry policy. Streams read through it; discovery
    (``$prototypes``) asks it directly."""

    def __init__(
        self,
        base_url: str,
        install: str,
        username: str,
        password: str,
        *,
        timeout: float,
        policy: RetryPolicy,
        page_size: int,
    ) -> None:
        self.base = f"{base_url.rstrip('/')}/sdata/{install}j/sagecrm2/-/"
        self.auth = BasicAuthenticator(username=username, password=password)
        self.http = requests.Session()
        self.http.auth = self.auth
        self.timeout, self.policy, self.page_size = timeout, policy, page_size

    def open(self) -> None:
        """Nothing to open: the REST service is stateless."""

    def close(self) -> None:
        self.http.close()

    def get(self, resource: str) -> t.Any:
        def once() -> t.Any:
            answer = self.http.get(self.base + resource, timeout=self.timeout)
            check(answer, resource)
            return answer.json()

        try:
            return self.policy.decorate(once, TRANSIENT)()
        except TRANSIENT as exc:
            raise SageError(f"Sage CRM REST did not answer GET {resource}: {exc}") from exc

    def metadata(self) -> list[EntityInfo]:
        out = []
        for item in self.get("$prototypes").get("$resources", []):
            proto = self.get(f"$prototypes/{item['$key']}")
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


class StartIndex(OffsetPaginator):
    """``startIndex`` (1-based) moves by the rows a page held, until ``$totalResults``."""

    def get_next(self, response: requests.Response) -> int | None:
        return self.current_value + len(response.json().get("$resources") or [])

    def has_more(self, response: requests.Response) -> bool:
        page = response.json()
        held = len(page.get("$resources") or [])
        return bool(held) and self.current_value + held <= int(page.get("$totalResults", 0))


class SageRestStream(SageStream, PolicyRetries):
    """An entity read over REST: the rows of ``GET <entity>?where=…`` page by page."""

    def __init__(
        self, tap: Tap, info: EntityInfo, client: SageRest, references: dict[str, str]
    ) -> None:
        super().__init__(tap, info, client, references)
        self.rest = client
        self.path = info.entity.lower()

    @property
    def url_base(self) -> str:
        return self.rest.base

    @property
    def authenticator(self) -> BasicAuthenticator:
        return self.rest.auth

    @property
    def requests_session(self) -> requests.Session:
        return self.rest.http

    @property
    def timeout(self) -> int:
        return self.rest.timeout  # type: ignore[return-value]  # seconds, fractions too

    @property
    def retry_policy(self) -> RetryPolicy:
        return self.rest.policy

    def get_new_paginator(self) -> StartIndex:
        return StartIndex(start_value=1, page_size=self.rest.page_size)

    def get_url_params(self, context: Context | None, next_page_token: t.Any) -> dict[str, t.Any]:
        params: dict[str, t.Any] = {"startIndex": next_page_token, "count": self.rest.page_size}
        if context and context.get("where"):
            params["where"] = context["where"]
        return params

    def validate_response(self, response: requests.Response) -> None:
        check(response, self.path)

    def parse_response(self, response: requests.Response) -> t.Iterable[dict]:
        for row in response.json().get("$resources", []):
            yield {k.lower(): v for k, v in row.items() if not k.startswith("$")}

    def rows_of(
        self, info: EntityInfo, fields: list[str], where: str, orderby: str
    ) -> Iterator[dict[str, t.Any]]:
        # (REST answers every field; ``orderBy`` exists only from 2024 R2)
        stream = self if info is self.info else self.tap.streams[info.stream]
        assert isinstance(stream, SageRestStream)
        yield from stream.request_records({"where": where})
