"""The Twenty REST client: one session, one pacer per workspace, the suite's retry policy
(``RetryPolicy``, on the ``backoff`` package), Twenty's own error messages.

Facts it follows (docs/twenty-contract.md §2): ``Authorization: Bearer <key>``; responses carry
their payload under a single key of ``data`` whose name changes across versions (parsed
generically); created metadata comes back bare; 429 carries no Retry-After on v2.21 (newer
versions send ``Retry-After`` and ``X-RateLimit-*``: honoured when present); one batch call costs
one request of the rate limit.
"""

from __future__ import annotations

import base64
import binascii
import json
import logging
import mimetypes
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import requests
from crm2twenty_common.pacer import Pacer, RetryPolicy

from target_twenty.outcome import RequestKind, RequestLog, RequestStats
from target_twenty.workspace import Workspace

RETRYABLE = {429, 500, 502, 503, 504}
PACE_MARGIN = 0.015


def limited(method: str, path: str) -> bool:
    """Whether Twenty's rate limit counts this call: record reads and writes do; the metadata API
    and the file upload on ``/metadata`` do not (docs/twenty-contract.md §2.10, §2.13), so they
    take no token and wait for none (an older server's ``/graphql`` upload is paced, unknown)."""
    kind = request_kind(method, path)
    return kind in (RequestKind.READ, RequestKind.WRITE) or path == "/graphql"


class TwentyError(Exception):
    """Twenty refused a request; ``messages`` are the server's own words."""

    def __init__(self, status: int, messages: list[str], method: str, path: str) -> None:
        self.status, self.messages, self.method, self.path = status, messages, method, path
        super().__init__(f"{method} {path} → {status}: {'; '.join(messages)}")


def stopped(what: str, exc: TwentyError) -> str:
    """The message for a load or a rollback a failed request stopped: what failed, and that
    the same command, run again, finishes (the audit log keeps what was done)."""
    if exc.status in (401, 403):
        why = f"Twenty refused the API key ({exc.status} on {exc.method} {exc.path}: "
        why += f"{'; '.join(exc.messages)})"
        fix = "with a valid key for this workspace"
    elif exc.status == 0:
        why, fix = f"Twenty did not answer ({exc})", "once the server answers again"
    elif exc.status >= 500:
        why, fix = f"Twenty kept failing ({exc})", "once the server works again"
    else:
        why, fix = f"Twenty refused a request ({exc})", "once that is fixed"
    return (
        f"{what} stopped: {why}. What was done so far is recorded in the audit log; "
        f"{fix}, run the same command again to finish."
    )


def _messages(response: requests.Response) -> list[str]:
    try:
        body = response.json()
    except ValueError:
        return [response.text[:500] or response.reason]
    if isinstance(body, dict):
        if body.get("messages"):
            return [str(m) for m in body["messages"]]
        errors = body.get("errors")
        if isinstance(errors, dict):  # METADATA_VALIDATION_ERROR
            return [
                f"{e.get('code')}: {e.get('message')}"
                for group in errors.values()
                for item in group
                for e in item.get("errors", [])
            ] or [json.dumps(body)]
        if isinstance(errors, list):  # GraphQL
            return [e.get("message", json.dumps(e)) for e in errors]
        return [str(body.get("message") or body.get("error") or json.dumps(body)[:500])]
    return [str(body)[:500]]


def workspace_of(api_key: str) -> str:
    """The workspace id a Twenty API key is for: its JWT claims carry ``workspaceId``
    (docs/twenty-contract.md §2.12). Read without verifying the signature (only Twenty can);
    the key itself never appears in the error."""
    parts = api_key.split(".")
    try:
        if len(parts) != 3:
            raise ValueError("not three dot-separated parts")
        claims = json.loads(base64.urlsafe_b64decode(parts[1] + "=" * (-len(parts[1]) % 4)))
        workspace = claims.get("workspaceId") or claims.get("sub")
        if not isinstance(workspace, str) or not workspace:
            raise ValueError("no workspaceId claim")
    except (ValueError, binascii.Error, AttributeError) as exc:
        raise ValueError(
            "the API key is not a Twenty API key (a JWT whose claims name its workspace: "
            f"{exc}); copy it again from Settings → APIs & Webhooks"
        ) from None
    return workspace


def request_kind(method: str, path: str) -> RequestKind:
    """Metadata reads and writes, file uploads (GraphQL), record reads, record writes."""
    if path.startswith("/rest/metadata"):
        return RequestKind.METADATA
    if not path.startswith("/rest/"):
        return RequestKind.UPLOAD
    return RequestKind.READ if method == "GET" else RequestKind.WRITE


def unwrap(body: Any) -> Any:
    """The payload of a response: the single value under ``data`` (or the bare body)."""
    if isinstance(body, dict) and "data" in body:
        data = body["data"]
        if isinstance(data, dict) and len(data) == 1:
            return next(iter(data.values()))
        return data
    return body


class TwentyClient:
    def __init__(
        self,
        api_url: str,
        api_key: str,
        *,
        requests_per_minute: int,
        timeout: float = 60.0,
        max_retries: int = 8,
        backoff_seconds: float = 1.0,
        logger: logging.Logger | None = None,
    ) -> None:
        self.base = api_url.rstrip("/")
        self.workspace_id = workspace_of(api_key)  # state is tied to it (registry, audit)
        self.session = requests.Session()
        self.session.headers["Authorization"] = f"Bearer {api_key}"
        # Twenty's bucket as Twenty counts it (docs/twenty-contract.md §2.10), started empty;
        # the margin covers a request that arrives later after its predecessor than it left
        # (the server counts arrivals, we count departures): 15 ms at 100/min (0.615 s a
        # request, 97.5 % of the ceiling; 0 × 429 after a drained bucket on a real v2.21.0
        # and on the fake), at most 5 % of the interval at higher limits.
        margin = min(PACE_MARGIN, 0.05 * 60.0 / requests_per_minute)
        self.pacer = Pacer(limit=requests_per_minute, window=60.0, margin=margin)
        self.timeout = timeout
        self.max_retries = max_retries
        self.logger = logger or logging.getLogger("target-twenty.api")
        self.stats = RequestStats()
        # when each try started, for the report's load over time
        self.log = RequestLog(self.pacer.limit, self.pacer.window)
        self._stats_lock = threading.Lock()  # batches of one object run in threads
        self.latency_total = 0.0
        # The suite's one retry policy around each try; a 429 counts as a try here (the pacer
        # keeps them rare), so ``max_retries`` bounds every request.
        policy = RetryPolicy(max_tries=max_retries + 1, base=backoff_seconds, cap=60.0)
        self._send = policy.decorate(
            self._attempt,
            (requests.HTTPError, requests.ConnectionError, requests.Timeout),
            on_backoff=self._backing_off,
        )

    def _count(self, kind: RequestKind, waited: float, started: float, paced: bool) -> None:
        with self._stats_lock:
            self.stats.add(kind)
            self.stats.waited_seconds += waited
            (self.log.limited if paced else self.log.other).append(started)

    # ---- transport ----------------------------------------------------------------------

    def request(
        self,
        method: str,
        path: str,
        *,
        params: dict | None = None,
        body: Any = None,
        files: dict | None = None,
        data: dict | None = None,
    ) -> Any:
        send = {
            "params": params,
            "files": files,
            "data": data,
            "json": body if files is None else None,
        }
        try:
            response = self._send(method, path, send)
        except requests.HTTPError as exc:  # a retryable answer, past the retries
            assert exc.response is not None  # _attempt raises it with the answer
            response = exc.response
        except (requests.ConnectionError, requests.Timeout) as exc:
            tries = self.max_retries + 1
            raise TwentyError(0, [f"no answer after {tries} tries: {exc}"], method, path) from exc
        if response.status_code >= 400:
            raise TwentyError(response.status_code, _messages(response), method, path)
        if not response.content:
            return None
        return response.json()

    def _attempt(self, method: str, path: str, send: dict[str, Any]) -> requests.Response:
        """One try, paced: the metadata API and uploads are not limited
        (docs/twenty-contract.md §2.13), so they only wait out a pause. Every try is counted
        (each costs one request of the limit); a retryable answer raises for the policy."""
        paced = limited(method, path)
        # Built (the batch encoded, the environment's proxy and netrc settings read) before the
        # token is taken: the pacer counts from its departure and Twenty from its arrival, and
        # the margin between the two must not be spent on our own work — encoding a batch of
        # 200 on a busy machine, or the first request's set-up (20 ms under load), outgrew it.
        prepared = self.session.prepare_request(
            requests.Request(method, f"{self.base}{path}", **send)
        )
        settings = self.session.merge_environment_settings(prepared.url, {}, None, None, None)
        waited = self.pacer.acquire() if paced else self.pacer.hold()
        started = time.monotonic()
        try:
            response = self.session.send(prepared, timeout=self.timeout, **settings)
        finally:
            self._count(request_kind(method, path), waited, started, paced)
        with self._stats_lock:
            self.latency_total += time.monotonic() - started
            self.stats.rate_limited += response.status_code == 429
            if response.status_code == 429:
                self.log.refused.append(started)
        if response.status_code in RETRYABLE:
            raise requests.HTTPError(f"{response.status_code}", response=response)
        return response

    def _backing_off(self, details: Any) -> None:
        """Before a retry sleeps: every thread pauses as long (the pacer's pause-everyone:
        a 429 means the bucket is shared and empty), and the retry is counted."""
        wait, failure = details["wait"], details["exception"]
        answer = getattr(failure, "response", None)
        why = answer.status_code if answer is not None else type(failure).__name__
        with self._stats_lock:
            self.stats.retries += 1
            self.stats.waited_seconds += wait
        self.logger.info("retrying after %s in %.1f s (attempt %d)", why, wait, details["tries"])
        self.pacer.pause(wait)

    @property
    def mean_latency(self) -> float:
        return self.latency_total / max(self.stats.requests, 1)

    # ---- metadata -----------------------------------------------------------------------

    def metadata_objects(self) -> Any:
        return self.request("GET", "/rest/metadata/objects", params={"limit": 1000})

    def create_object(self, body: dict) -> dict:
        return unwrap(self.request("POST", "/rest/metadata/objects", body=body))

    def create_field(self, body: dict) -> dict:
        return unwrap(self.request("POST", "/rest/metadata/fields", body=body))

    def patch_field(self, field_id: str, body: dict) -> dict:
        return unwrap(self.request("PATCH", f"/rest/metadata/fields/{field_id}", body=body))

    def delete_field(self, field_id: str) -> None:
        self.request("DELETE", f"/rest/metadata/fields/{field_id}")

    def delete_object(self, object_id: str) -> None:
        self.request("DELETE", f"/rest/metadata/objects/{object_id}")

    # ---- records ------------------------------------------------------------------------

    def records(
        self, plural: str, filter_: str | None = None, page_size: int = 200
    ) -> Iterator[dict]:
        params: dict[str, Any] = {"limit": page_size}
        if filter_:
            params["filter"] = filter_
        while True:
            body = self.request("GET", f"/rest/{plural}", params=params)
            yield from unwrap(body) or []
            info = body.get("pageInfo") or {}
            if not info.get("hasNextPage") or not info.get("endCursor"):
                return
            params["starting_after"] = info["endCursor"]

    def batch_upsert(self, plural: str, rows: list[dict]) -> list[dict]:
        return (
            unwrap(
                self.request("POST", f"/rest/batch/{plural}", params={"upsert": "true"}, body=rows)
            )
            or []
        )

    def delete_where(self, plural: str, filter_: str, *, soft: bool = False) -> list[dict]:
        """``DELETE /rest/{plural}?filter=…``: destroys (or with ``soft``, trashes) every
        record the filter matches, at most ``MUTATION_MAXIMUM_AFFECTED_RECORDS`` (default 100)
        of them (docs/twenty-contract.md §2.8); the answer lists them."""
        params = {"filter": filter_, **({"soft_delete": "true"} if soft else {})}
        return unwrap(self.request("DELETE", f"/rest/{plural}", params=params)) or []

    def update(self, plural: str, rid: str, body: dict) -> dict:
        return unwrap(self.request("PATCH", f"/rest/{plural}/{rid}", body=body))

    def destroy(self, plural: str, rid: str) -> None:
        self.request("DELETE", f"/rest/{plural}/{rid}")

    def soft_delete(self, plural: str, rid: str) -> None:
        self.request("DELETE", f"/rest/{plural}/{rid}", params={"soft_delete": "true"})

    def restore(self, plural: str, rid: str) -> dict:
        return unwrap(self.request("PATCH", f"/rest/restore/{plural}/{rid}"))

    # ---- files --------------------------------------------------------------------------

    def upload_file(self, field_id: str, path: Path, name: str) -> dict:
        """Current generation: multipart GraphQL ``uploadFilesFieldFile`` on ``/metadata``."""
        operations = {
            "query": "mutation($file: Upload!, $fieldMetadataId: String!){ "
            "uploadFilesFieldFile(file:$file, fieldMetadataId:$fieldMetadataId)"
            "{ id path size url } }",
            "variables": {"file": None, "fieldMetadataId": field_id},
        }
        return self._graphql_upload("/metadata", operations, path, name)

    def upload_legacy(self, path: Path, name: str) -> str:
        """Older servers (attachment ``fullPath``): ``uploadFile`` on ``/graphql``."""
        operations = {
            "query": "mutation($file: Upload!, $fileFolder: FileFolder){ "
            "uploadFile(file:$file, fileFolder:$fileFolder) }",
            "variables": {"file": None, "fileFolder": "Attachment"},
        }
        result = self._graphql_upload("/graphql", operations, path, name)
        return result if isinstance(result, str) else result.get("path")

    def _graphql_upload(self, endpoint: str, operations: dict, path: Path, name: str) -> Any:
        mime = mimetypes.guess_type(name)[0] or "application/octet-stream"
        with path.open("rb") as handle:
            content = handle.read()
        body = self.request(
            "POST",
            endpoint,
            data={
                "operations": json.dumps(operations),
                "map": json.dumps({"0": ["variables.file"]}),
            },
            files={"0": (name, content, mime)},
        )
        if isinstance(body, dict) and body.get("errors"):
            raise TwentyError(200, [e.get("message", "") for e in body["errors"]], "POST", endpoint)
        return unwrap(body)


def id_filter(ids: list[str], column: str = "id") -> str:
    """``id[in]:["…","…"]``: the records with these ids (docs/twenty-contract.md §2.9)."""
    return f"{column}[in]:[{','.join(json.dumps(x) for x in ids)}]"


def client_for(config: dict[str, Any], logger: Any) -> TwentyClient:
    """The client the settings describe (``requests_per_minute`` already defaulted)."""
    return TwentyClient(
        config["api_url"],
        config["api_key"],
        requests_per_minute=int(config["requests_per_minute"]),
        timeout=float(config.get("request_timeout", 60)),
        max_retries=int(config.get("max_retries", 8)),
        backoff_seconds=float(config.get("backoff_seconds", 1)),
        logger=logger,
    )


def fetch_workspace(client: TwentyClient) -> Workspace:
    """The live workspace's metadata."""
    return Workspace.from_payload(client.metadata_objects(), f"{client.base} (live metadata)")
