"""A fake Twenty server on loopback, for target-twenty's API-mode tests and benchmarks.

It follows Twenty's contract as observed on a real v2.21.0 server (docs/twenty-contract.md
§2–§5; the captured files are in twenty_contract/), not target-twenty's assumptions:

- starts from the real workspace metadata (twenty_contract/metadata-objects.json) and answers
  ``/rest/metadata/objects`` in either of the two shapes a v2.21 server uses;
- batch create ``POST /rest/batch/{plural}`` with ``?upsert=true``: client ids kept, upsert
  matching on ``id`` and every unique field *including soft-deleted rows*, which are restored
  and keep their old id (the new id is discarded); a plain create with a taken unique value →
  400 ``A duplicate entry was detected``; more than ``batch_cap`` records → 400
  ``Maximum number of records to upsert is N.``; batches are all-or-nothing and the error
  does not say which row failed;
- a relation to a missing record → 400 ``insert or update on table … violates foreign key
  constraint …``; an unknown field → 400 ``Object company doesn't have any "employees"
  field.``; SELECT values and number/boolean/date-time values are validated with the
  server's messages;
- phones are validated as v2.21 does (country code, calling code, the number, and that they
  agree), with its messages (docs/twenty-contract.md §7);
- values are answered as v2.21 stores them (docs/twenty-contract.md §4.6): e-mails lower-cased,
  phone numbers as national numbers, URLs with a scheme normalised, date-times in UTC with
  milliseconds, file entries with their extension and URL;
- ``createdAt`` is kept as sent; ``createdBy`` is kept when it carries a name, else
  ``{"source": "API"}``;
- ``DELETE /rest/{plural}/{id}`` destroys; ``?soft_delete=true`` soft-deletes (GET then 404);
  restore is ``PATCH /rest/restore/{plural}/{id}`` (the v2.21 OpenAPI path);
- list: ``limit`` default 60, clamped to 200, ``starting_after`` cursors, id order, filters
  ``field[op]:value`` with ``and(…)``/``or(…)``/``not(…)``; soft-deleted rows only when the
  filter names ``deletedAt``;
- rate limit: a token bucket of N tokens per window per workspace, refilled continuously but
  rounded down on every request let through, counting record calls only; then 429 with the
  exact body of response-429.json and, like v2.21, no header (or, like newer versions,
  ``Retry-After`` and ``X-RateLimit-*`` when asked);
- batch upsert answers list the records updated first, then those created;
- metadata writes: custom objects (a ``name`` field; note/task targets and attachments gain
  ``target<Object>Id``), fields (names ``^[a-z][a-zA-Z0-9]*$``, reserved names, taken →
  ``NOT_AVAILABLE``, option values ``^[A-Z][A-Z0-9_]*$``), relations with
  ``relationCreationPayload`` (join column ``<name>Id``, inverse field named after
  ``targetFieldLabel``), option PATCHes that replace the whole list (options sent without
  their ids get new ids and records using them are reset — docs/twenty-contract.md §3.3);
  created objects and fields come back bare, not wrapped in ``data``;
- API keys are JWTs whose claims carry the workspace id (docs/twenty-contract.md §2.12); each
  fake is one workspace with its own id (``workspace_id``) and key;
- a JSON body over 10 MiB → 413 before anything else is read (docs/twenty-contract.md §2.14);
- file upload: multipart GraphQL ``uploadFilesFieldFile`` on ``/metadata``; a file id can be
  attached once only; a file id that names no uploaded file is refused.

Every request is also checked against the server's own OpenAPI documents
(openapi-core.json, openapi-metadata.json); ``violations`` lists what did not match.
"""

from __future__ import annotations

import base64
import copy
import datetime as dt
import functools
import json
import math
import os
import random
import re
import threading
import time
import uuid
from email.parser import BytesParser
from email.policy import HTTP
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import jsonschema
import phonenumbers

from fakes.loopback import LoopbackServer, QuietHandler

# The captured contract travels with the tests (see twenty_contract/README.md).
SHARED = Path(
    os.environ.get("CRM2TWENTY_TWENTY_CONTRACT", Path(__file__).with_name("twenty_contract"))
)

NAME = re.compile(r"^[a-z][a-zA-Z0-9]*$")
OPTION_VALUE = re.compile(r"^[A-Z][A-Z0-9_]*$")
RESERVED = {
    "role",
    "roles",
    "type",
    "types",
    "event",
    "events",
    "field",
    "fields",
    "link",
    "links",
    "address",
    "addresses",
    "currency",
    "currencies",
    "user",
    "users",
    "object",
    "objects",
    "index",
    "relation",
    "relations",
    "plan",
    "plans",
    "aggregate",
    "job",
    "jobs",
    "workspace",
    "workspaces",
    "fullNames",
}
# Standard relations whose target is not named by the join column (docs/twenty-contract.md §4.2).
RELATION_TARGETS = {
    "accountOwnerId": "workspaceMember",
    "ownerId": "workspaceMember",
    "assigneeId": "workspaceMember",
    "pointOfContactId": "person",
}
DROP = 0  # a status from ``handle``: close the connection without an answer
MORPH_OWNERS = ("noteTarget", "taskTarget", "attachment", "timelineActivity")
UNIQUE_SUB = {"EMAILS": "primaryEmail", "LINKS": "primaryLinkUrl"}


@functools.cache
def _load(name: str) -> dict:
    """A captured file, parsed once per process (callers copy what they change)."""
    return json.loads((SHARED / name).read_text(encoding="utf-8"))


def now_iso() -> str:
    return dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


# Twenty's JSON body limit: settings.storage.maxFileSize '10MB' (docs/twenty-contract.md §2.14)
JSON_BODY_LIMIT = 10 * 1024 * 1024


class HttpError(Exception):
    def __init__(self, status: int, body: dict, headers: dict | None = None) -> None:
        super().__init__(body)
        self.status, self.body, self.headers = status, body, headers or {}


def bad_request(message: str, code: str = "BAD_REQUEST") -> HttpError:
    return HttpError(
        400,
        {"statusCode": 400, "error": "BadRequestException", "messages": [message], "code": code},
    )


def metadata_error(code: str, message: str) -> HttpError:
    return HttpError(
        400,
        {
            "error": "METADATA_VALIDATION_ERROR",
            "errors": {"fieldMetadata": [{"errors": [{"code": code, "message": message}]}]},
        },
    )


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def api_key_for(workspace_id: str) -> str:
    """A key shaped like Twenty's: an ES256 JWT with ``sub``/``workspaceId`` = the workspace,
    ``type`` API_KEY, ``jti`` = the key's id, 100 years of validity (docs/twenty-contract.md
    §2.12). The fake compares keys as strings, so the signature is random bytes."""
    now = int(time.time())
    header = {"alg": "ES256", "typ": "JWT", "kid": str(uuid.uuid4())}
    claims = {
        "sub": workspace_id,
        "type": "API_KEY",
        "workspaceId": workspace_id,
        "iat": now,
        "exp": now + 100 * 365 * 86400,
        "jti": str(uuid.uuid4()),
    }
    parts = [_b64url(json.dumps(x, separators=(",", ":")).encode()) for x in (header, claims)]
    return ".".join([*parts, _b64url(os.urandom(64))])


# The default workspace of every fake, and its key (a module constant so tests can send it).
TEST_WORKSPACE = "2b7e4f0c-5a1d-4c3e-9f6a-0d1e2f3a4b5c"
TEST_API_KEY = api_key_for(TEST_WORKSPACE)


class FakeTwenty(LoopbackServer):
    """State and behaviour; ``start()`` serves it on 127.0.0.1 in a thread."""

    def __init__(
        self,
        *,
        api_key: str | None = None,
        workspace_id: str | None = None,
        metadata_shape: str = "objects",
        batch_cap: int = 200,
        mutation_cap: int | None = None,
        rate_limit: int | None = None,
        window: float = 60.0,
        retry_after_headers: bool = False,
        latency: float = 0.0,
        fault_rate: float = 0.0,
        seed: int = 7,
        members: tuple[str, ...] = ("admin@acme.test", "Bob.Owner@acme.test"),
        legacy_attachments: bool = False,
        clock: Any = time.monotonic,
    ) -> None:
        self.workspace_id = workspace_id or TEST_WORKSPACE
        self.api_key = api_key or (
            TEST_API_KEY if self.workspace_id == TEST_WORKSPACE else api_key_for(self.workspace_id)
        )
        self.metadata_shape = metadata_shape
        self.batch_cap = batch_cap
        self.mutation_cap = mutation_cap
        self.rate_limit, self.window = rate_limit, window
        self.clock = clock  # the limiter's (tests move it by hand)
        self.retry_after_headers = retry_after_headers
        self.latency, self.fault_rate = latency, fault_rate
        # Faults on record writes, counted down: answer 503 without writing; or write and drop
        # the connection before answering (the client never learns the batch landed).
        self.fail_writes = 0
        self.drop_writes = 0
        # Called with (method, path) as each request arrives: tests revoke the key or arm a
        # fault at a chosen moment.
        self.hook: Any = None
        self.random = random.Random(seed)
        self.lock = threading.RLock()
        self.objects: dict[str, dict] = {}
        raw = copy.deepcopy(_load("metadata-objects.json"))
        for obj in raw["data"]["objects"] if isinstance(raw["data"], dict) else raw["data"]:
            self.objects[obj["nameSingular"]] = copy.deepcopy(obj)
        self.records: dict[str, dict[str, dict]] = {name: {} for name in self.objects}
        self.relation_targets: dict[tuple[str, str | None], str] = {}
        self.inverses: dict[str, str] = {}
        self._unique_index: dict[str, dict[tuple[str, str], str]] = {}
        # An older server: attachments have `fullPath` and no `file` FILES field.
        self.legacy_attachments = legacy_attachments
        if legacy_attachments:
            attachment = self.objects["attachment"]
            attachment["fields"] = [f for f in attachment["fields"] if f["name"] != "file"]
        self.files: dict[str, dict] = {}
        self.attached_files: set[str] = set()
        self.bucket: tuple[int, int] | None = None  # (tokens, last refill in ms); None: full
        self.log: list[dict] = []
        self.violations: list[str] = []
        self.counts = {"requests": 0, "429": 0, "faults": 0}
        self.validator = OpenApiCheck()
        for email in members:
            mid = str(uuid.uuid4())
            self.records["workspaceMember"][mid] = {
                "id": mid,
                "userEmail": email,
                "name": {"firstName": "", "lastName": ""},
                "createdAt": now_iso(),
                "updatedAt": now_iso(),
                "deletedAt": None,
            }

    # ---- serving ------------------------------------------------------------------------

    def handler(self) -> type[QuietHandler]:
        fake = self

        class Handler(QuietHandler):
            def _serve(self, method: str) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.body()
                if len(body) < length:
                    return  # the client went away mid-request (killed): nothing to answer
                status, payload, headers = fake.handle(method, self.path, dict(self.headers), body)
                if status == DROP:
                    self.close_connection = True  # no answer at all
                    return
                if isinstance(payload, bytes):
                    return self.send(status, payload, "application/octet-stream", headers)
                self.send_json(status, payload, headers)

            def do_GET(self) -> None:
                self._serve("GET")

            def do_POST(self) -> None:
                self._serve("POST")

            def do_PATCH(self) -> None:
                self._serve("PATCH")

            def do_DELETE(self) -> None:
                self._serve("DELETE")

        return Handler

    # ---- dispatch -----------------------------------------------------------------------

    def handle(
        self, method: str, raw_path: str, headers: dict, body: bytes
    ) -> tuple[int, Any, dict]:
        if self.hook is not None:
            self.hook(method, raw_path)
        if self.latency:
            time.sleep(self.latency)
        parts = urlsplit(raw_path)
        path, query = parts.path, {k: v[-1] for k, v in parse_qs(parts.query).items()}
        entry = {"method": method, "path": path, "query": query, "time": time.monotonic()}
        try:
            if path.startswith("/files/"):
                return 200, self._download(path, query), {}
            auth = {k.lower(): v for k, v in headers.items()}.get("authorization", "")
            if auth != f"Bearer {self.api_key}":
                raise HttpError(
                    401,
                    {"statusCode": 401, "error": "Unauthorized", "messages": ["Invalid API key"]},
                )
            self._throttle(path)
            is_write = method != "GET" and path.startswith("/rest/") and "/metadata" not in path
            dropped = False
            with self.lock:
                if is_write and self.fail_writes:
                    self.fail_writes -= 1
                    self.counts["faults"] += 1
                    raise HttpError(503, {"statusCode": 503, "error": "Service Unavailable"})
                if is_write and self.drop_writes:
                    self.drop_writes -= 1
                    self.counts["faults"] += 1
                    dropped = True
            if self.fault_rate and self.random.random() < self.fault_rate:
                self.counts["faults"] += 1
                if self.random.random() < 0.5:
                    raise HttpError(503, {"statusCode": 503, "error": "Service Unavailable"})
                raise self._limited()
            content_type = {k.lower(): v for k, v in headers.items()}.get("content-type", "")
            if path in ("/metadata", "/graphql") and content_type.startswith("multipart/"):
                result = self._upload(path, content_type, body)
            else:
                if len(body) > JSON_BODY_LIMIT:  # docs/twenty-contract.md §2.14
                    raise HttpError(
                        413,
                        # the status is Twenty's (its body parser); these words are the fake's
                        {
                            "statusCode": 413,
                            "error": "Payload Too Large",
                            "messages": ["request entity too large"],
                        },
                    )
                payload = json.loads(body) if body else None
                if isinstance(payload, list):
                    entry["records"] = len(payload)  # a batch's size, for benchmarks
                self.validator.check(method, path, query, payload, self)
                with self.lock:
                    result = self._route(method, path, query, payload)
            status, out = result
            entry["status"] = status
            return (DROP if dropped else status), out, {}
        except HttpError as err:
            entry["status"] = err.status
            return err.status, err.body, err.headers
        finally:
            with self.lock:
                self.log.append(entry)

    def _limited(self, next_token_ms: float = 1000.0) -> HttpError:
        self.counts["429"] += 1
        body = json.loads((SHARED / "response-429.json").read_text(encoding="utf-8"))
        headers = {}
        if self.retry_after_headers:
            wait = max(math.ceil(next_token_ms / 1000), 1)
            headers = {
                "Retry-After": str(wait),
                "X-RateLimit-Limit": str(self.rate_limit),
                "X-RateLimit-Remaining": "0",
                "X-RateLimit-Reset": str(int(time.time()) + wait),
            }
        return HttpError(429, body, headers)

    def _throttle(self, path: str) -> None:
        """Twenty v2.21's limiter (docs/twenty-contract.md §2.10, §2.13): per workspace,
        ``rate_limit`` tokens; a request let through first refills, in whole tokens rounded
        down, what the time since the last one let through is worth (integer ms), then takes
        one; a refused request changes nothing. The bucket is kept for two windows, so a
        workspace idle that long starts full. Only record calls are counted: the metadata API
        and file uploads are not limited."""
        with self.lock:
            self.counts["requests"] += 1
            if self.rate_limit is None or not rate_limited(path):
                return
            now = int(self.clock() * 1000)
            window_ms = self.window * 1000
            tokens, at = self.bucket or (self.rate_limit, now)
            if now - at >= 2 * window_ms:
                tokens, at = self.rate_limit, now
            available = min(
                tokens + math.floor((now - at) * self.rate_limit / window_ms), self.rate_limit
            )
            if available < 1:
                raise self._limited(at + window_ms / self.rate_limit - now)
            self.bucket = (available - 1, now)

    def _route(self, method: str, path: str, query: dict, payload: Any) -> tuple[int, Any]:
        seg = [s for s in path.split("/") if s]
        if seg[:2] == ["rest", "metadata"]:
            return self._metadata(method, seg[2:], query, payload)
        if not seg or seg[0] != "rest":
            raise HttpError(404, {"statusCode": 404, "messages": [f"Cannot {method} {path}"]})
        seg = seg[1:]
        if seg[0] == "batch" and method == "POST":
            return self._create(self._by_plural(seg[1]), payload, query, batch=True)
        if seg[0] == "restore" and method == "PATCH":
            return self._restore(self._by_plural(seg[1]), seg[2])
        obj = self._by_plural(seg[0])
        if len(seg) == 1:
            if method == "GET":
                return self._list(obj, query)
            if method == "POST":
                return self._create(obj, payload, query, batch=False)
            if method == "DELETE":
                return self._delete_many(obj, query)
        elif method == "GET":
            return self._get_one(obj, seg[1])
        elif method == "PATCH":
            return self._update(obj, seg[1], payload)
        elif method == "DELETE":
            return self._delete(obj, seg[1], query.get("soft_delete") == "true")
        raise HttpError(404, {"statusCode": 404, "messages": [f"Cannot {method} {path}"]})

    def _by_plural(self, plural: str) -> dict:
        for obj in self.objects.values():
            if obj["namePlural"] == plural:
                return obj
        raise bad_request(f"object '{plural}' not found")

    # ---- records ------------------------------------------------------------------------

    def fields(self, obj: dict) -> dict[str, dict]:
        return {f["name"]: f for f in obj["fields"] if f.get("isActive", True)}

    def join_columns(self, obj: dict) -> dict[str, dict]:
        return {
            column: f
            for f in obj["fields"]
            if (column := (f.get("settings") or {}).get("joinColumnName"))
        }

    def target_of(self, obj: dict, column: str) -> str | None:
        if (obj["nameSingular"], column) in self.relation_targets:
            return self.relation_targets[(obj["nameSingular"], column)]
        if column in RELATION_TARGETS:
            return RELATION_TARGETS[column]
        stem = column[:-2]
        stem = stem[6].lower() + stem[7:] if stem.startswith("target") else stem
        return stem if stem in self.objects else None

    def _check_values(self, obj: dict, rec: dict, staged: dict | None = None) -> None:
        name = obj["nameSingular"]
        fields, joins = self.fields(obj), self.join_columns(obj)
        for key, value in rec.items():
            if key in ("id", "deletedAt"):
                continue
            if key in joins:
                if value is None:
                    continue
                target = self.target_of(obj, key)
                rows = (
                    staged
                    if target == name and staged is not None
                    else self.records.get(target or "", {})
                )
                if value not in rows:
                    raise bad_request(
                        f'insert or update on table "{name}" violates foreign key '
                        f'constraint "FK_{name}_{key}"'
                    )
                continue
            field = fields.get(key)
            if field is None or field["type"] in ("RELATION", "MORPH_RELATION"):
                raise bad_request(f'Object {name} doesn\'t have any "{key}" field.')
            self._check_value(field, value)

    def _check_value(self, field: dict, value: Any) -> None:
        kind, fname = field["type"], field["name"]
        if value is None:
            return
        if kind == "SELECT":
            values = [o["value"] for o in field.get("options") or []]
            if value not in values:
                raise bad_request(
                    f'Invalid value "{value}" for field "{fname}". Valid values '
                    f"are: {', '.join(values)}"
                )
        elif kind == "MULTI_SELECT":
            values = [o["value"] for o in field.get("options") or []]
            for v in value:
                if v not in values:
                    raise bad_request(
                        f'Invalid value "{v}" for field "{fname}". Valid values '
                        f"are: {', '.join(values)}"
                    )
        elif kind == "NUMBER" and (isinstance(value, bool) or not isinstance(value, int | float)):
            raise bad_request(f"Invalid number value '{value}' for field \"{fname}\"")
        elif kind == "BOOLEAN" and not isinstance(value, bool):
            raise bad_request(f"Invalid boolean value '{value}' for field \"{fname}\"")
        elif kind == "DATE_TIME":
            try:
                dt.datetime.fromisoformat(str(value).replace("Z", "+00:00"))
            except ValueError as exc:
                raise bad_request(
                    f"Invalid value '{value}' for date-time field \"{fname}\". "
                    "Expected format: 'YYYY-MM-DDTHH:mm:ssZ'"
                ) from exc
        elif kind == "PHONES" and isinstance(value, dict):
            check_phone(
                value.get("primaryPhoneNumber"),
                value.get("primaryPhoneCountryCode"),
                value.get("primaryPhoneCallingCode"),
            )
            for extra in value.get("additionalPhones") or []:
                check_phone(extra.get("number"), extra.get("countryCode"), extra.get("callingCode"))
        elif kind == "FILES":
            # docs/twenty-contract.md §5.3: a file id must name a file uploaded to this
            # workspace, and one not yet attached. The messages are v2.21's code's: the exact
            # answer has not been seen on the wire yet.
            for item in value:
                file_id = item.get("fileId")
                if file_id not in self.files:
                    raise bad_request(f"File not found: {file_id}")
                if file_id in self.attached_files:
                    raise bad_request(_ALREADY_ATTACHED.format(file_id))

    def _as_stored(self, obj: dict, rec: dict) -> None:
        """Values as the real v2.21.0 stores (and answers) them, docs/twenty-contract.md §4.6
        (captured in twenty_contract/value-spellings.json): e-mails lower-cased, a phone number
        as its national number, a URL with a scheme trimmed, its scheme and host lower-cased and
        without a trailing slash, a date-time in UTC with milliseconds, a file entry with its
        extension and URL."""
        fields = self.fields(obj)
        for key, value in list(rec.items()):
            field = fields.get(key)
            if field is None or value is None:
                continue
            kind = field["type"]
            if kind == "DATE_TIME" and isinstance(value, str):
                rec[key] = utc_millis(value)
            elif kind == "EMAILS" and isinstance(value, dict):
                if isinstance(value.get("primaryEmail"), str):
                    value["primaryEmail"] = value["primaryEmail"].lower()
                if isinstance(value.get("additionalEmails"), list):
                    value["additionalEmails"] = [
                        e.lower() if isinstance(e, str) else e for e in value["additionalEmails"]
                    ]
            elif kind == "PHONES" and isinstance(value, dict):
                country, calling = (
                    value.get("primaryPhoneCountryCode"),
                    value.get("primaryPhoneCallingCode"),
                )
                if value.get("primaryPhoneNumber"):
                    value["primaryPhoneNumber"] = national_number(
                        value["primaryPhoneNumber"], country, calling
                    )
                for extra in value.get("additionalPhones") or []:
                    if isinstance(extra, dict) and extra.get("number"):
                        extra["number"] = national_number(
                            extra["number"], extra.get("countryCode"), extra.get("callingCode")
                        )
            elif kind == "LINKS" and isinstance(value, dict):
                if isinstance(value.get("primaryLinkUrl"), str):
                    value["primaryLinkUrl"] = stored_url(value["primaryLinkUrl"])
                for link in value.get("secondaryLinks") or []:
                    if isinstance(link, dict) and isinstance(link.get("url"), str):
                        link["url"] = stored_url(link["url"])
            elif kind == "FILES" and isinstance(value, list):
                rec[key] = [self._file_entry(item) for item in value]

    def _file_entry(self, item: Any) -> Any:
        file = self.files.get(str(item.get("fileId"))) if isinstance(item, dict) else None
        if file is None:
            return item
        extension = os.path.splitext(str(item.get("label") or file["name"]))[1]
        url = f"{self.url}/files/{item['fileId']}?token={file['token']}"
        return {"extension": extension, **item, "url": url}

    def _unique_keys(self, obj: dict, rec: dict) -> list[tuple[str, str]]:
        keys = []
        for f in obj["fields"]:
            if not f.get("isUnique") or f["name"] == "id" or f["name"] not in rec:
                continue
            value = rec[f["name"]]
            sub = UNIQUE_SUB.get(f["type"])
            value = value.get(sub) if sub and isinstance(value, dict) else value
            if value not in (None, ""):
                keys.append(
                    (f["name"], str(value).lower() if f["type"] == "EMAILS" else str(value))
                )
        return keys

    def _index(self, obj: dict) -> dict[tuple[str, str], str]:
        """Unique value → record id, like the database's unique indexes (trash included).
        Entries can go stale (a record changed or destroyed): callers check the row."""
        name = obj["nameSingular"]
        if name not in self._unique_index:
            self._unique_index[name] = {
                key: rid
                for rid, row in self.records[name].items()
                for key in self._unique_keys(obj, row)
            }
        return self._unique_index[name]

    def _matches(
        self, obj: dict, rec: dict, rows: dict[str, dict], added: dict
    ) -> tuple[set[str], bool]:
        """Existing rows (soft-deleted included) sharing the id or a unique value; and
        whether the id itself matched. ``added`` indexes the rows staged in this batch."""
        by_id = rec.get("id") in rows
        found = {rec["id"]} if by_id else set()
        index = self._index(obj)
        for key in self._unique_keys(obj, rec):
            rid = added.get(key) or index.get(key)
            if rid in rows and key in self._unique_keys(obj, rows[rid]):
                found.add(rid)
        return found, by_id

    def _create(self, obj: dict, payload: Any, query: dict, *, batch: bool) -> tuple[int, Any]:
        items = payload if batch else [payload]
        if not isinstance(items, list) or not items:
            raise bad_request("Input must be a non-empty array")
        if len(items) > self.batch_cap:
            raise bad_request(
                f"Maximum number of records to upsert is {self.batch_cap}.",
                "TOO_MANY_RECORDS_TO_UPDATE",
            )
        upsert = query.get("upsert") == "true"
        staged = dict(self.records[obj["nameSingular"]])
        added: dict[tuple[str, str], str] = {}
        updated: list[dict] = []
        made: list[dict] = []
        for raw in items:
            rec = copy.deepcopy(raw)
            rec.setdefault("id", str(uuid.uuid4()))
            self._check_values(obj, rec, staged)
            self._as_stored(obj, rec)
            for file_item in rec.get("file") or []:
                if file_item.get("fileId") in {
                    f.get("fileId") for r in staged.values() for f in (r.get("file") or [])
                }:
                    raise bad_request(_ALREADY_ATTACHED.format(file_item.get("fileId")))
            matches, by_id = self._matches(obj, rec, staged, added)
            if matches and not upsert:
                raise bad_request("A duplicate entry was detected", "DUPLICATE_ENTRY")
            if len(matches) > 1:
                raise bad_request(
                    "Multiple records found with the same unique field values",
                    "UPSERT_MULTIPLE_MATCHING_RECORDS_CONFLICT",
                )
            if matches:
                existing = copy.deepcopy(staged[next(iter(matches))])
                rec.pop("id")
                rec.pop("createdBy", None)  # the creator is not overwritten on update
                if not by_id:
                    rec.pop("createdAt", None)  # a restored match keeps its id and createdAt
                existing.update(rec)
                existing["deletedAt"] = None
                existing["updatedAt"] = now_iso()
                staged[existing["id"]] = existing
                added.update(dict.fromkeys(self._unique_keys(obj, existing), existing["id"]))
                updated.append(existing)
            else:
                created = {"createdAt": now_iso(), **rec, "updatedAt": now_iso(), "deletedAt": None}
                if not (rec.get("createdBy") or {}).get("name"):
                    created["createdBy"] = {
                        "source": "API",
                        "name": "test key",
                        "workspaceMemberId": None,
                    }
                staged[created["id"]] = created
                added.update(dict.fromkeys(self._unique_keys(obj, created), created["id"]))
                made.append(created)
        # the answer lists the updated records first, then the created ones
        # (docs/twenty-contract.md §2.5)
        result = updated + made
        # all-or-nothing: only now is the batch committed
        self.records[obj["nameSingular"]] = staged
        self._index(obj).update(added)
        self._timeline(obj, updated, "updated")
        self._timeline(obj, made, "created")
        for rec in result:
            self.attached_files.update(f["fileId"] for f in rec.get("file") or [])
        cap = obj["namePlural"][:1].upper() + obj["namePlural"][1:]
        if batch:
            return 201, {"data": {f"create{cap}": result}}
        single = obj["nameSingular"][:1].upper() + obj["nameSingular"][1:]
        return 201, {"data": {f"create{single}": result[0]}}

    def _visible(self, obj: dict, include_deleted: bool) -> list[dict]:
        rows = self.records[obj["nameSingular"]].values()
        return sorted(
            (r for r in rows if include_deleted or not r.get("deletedAt")), key=lambda r: r["id"]
        )

    def _list(self, obj: dict, query: dict) -> tuple[int, Any]:
        flt = query.get("filter")
        condition = parse_filter(flt) if flt else None
        deleted_named = bool(flt and "deletedAt" in flt)
        rows = [r for r in self._visible(obj, deleted_named) if condition is None or condition(r)]
        total = len(rows)
        after = query.get("starting_after")
        if after:
            ids = [r["id"] for r in rows]
            if after not in ids:
                raise bad_request(f"Invalid cursor: {after}")
            rows = rows[ids.index(after) + 1 :]
        limit = min(int(query.get("limit", 60)), 200)
        page = rows[:limit]
        return 200, {
            "data": {obj["namePlural"]: page},
            "totalCount": total,
            "pageInfo": {
                "hasNextPage": len(rows) > limit,
                "hasPreviousPage": bool(after),
                "startCursor": page[0]["id"] if page else None,
                "endCursor": page[-1]["id"] if page else None,
            },
        }

    def _get_one(self, obj: dict, rid: str) -> tuple[int, Any]:
        row = self.records[obj["nameSingular"]].get(rid)
        if row is None or row.get("deletedAt"):
            raise HttpError(404, {"statusCode": 404, "messages": ["Record not found"]})
        return 200, {"data": {obj["nameSingular"]: row}}

    def _update(self, obj: dict, rid: str, payload: dict) -> tuple[int, Any]:
        row = self.records[obj["nameSingular"]].get(rid)
        if row is None or row.get("deletedAt"):
            raise HttpError(404, {"statusCode": 404, "messages": ["Record not found"]})
        self._check_values(obj, payload)
        payload = copy.deepcopy(payload)
        self._as_stored(obj, payload)
        row.update(payload)
        row["updatedAt"] = now_iso()
        self._timeline(obj, [row], "updated")
        self._index(obj).update(dict.fromkeys(self._unique_keys(obj, row), rid))
        single = obj["nameSingular"][:1].upper() + obj["nameSingular"][1:]
        return 200, {"data": {f"update{single}": row}}

    def _delete(self, obj: dict, rid: str, soft: bool) -> tuple[int, Any]:
        rows = self.records[obj["nameSingular"]]
        if rid not in rows:
            raise HttpError(404, {"statusCode": 404, "messages": ["Record not found"]})
        if soft:
            rows[rid]["deletedAt"] = now_iso()
        else:
            self._cascade(obj, {rid})
            del rows[rid]
        single = obj["nameSingular"][:1].upper() + obj["nameSingular"][1:]
        return 200, {"data": {f"{'delete' if soft else 'destroy'}{single}": {"id": rid}}}

    def _timeline(self, obj: dict, recs: list[dict], verb: str) -> None:
        """The server writes a timeline activity for every record created or updated
        (docs/twenty-contract.md §4.2); a note or task target also lands on its target's
        timeline, naming the note or task as the linked record (§2.11)."""
        name = obj["nameSingular"]
        if name in ("timelineActivity", "workspaceMember"):
            return
        columns = self.join_columns(self.objects["timelineActivity"])
        entries = []
        own = f"target{name[:1].upper()}{name[1:]}Id"
        linked = {"noteTarget": "noteId", "taskTarget": "taskId"}.get(name)
        for rec in recs:
            if own in columns:
                entries.append({own: rec["id"], "name": f"{name}.{verb}", "linkedRecordId": None})
            if not linked or verb != "created":
                continue
            for column, value in rec.items():
                if column.startswith("target") and column in columns and value:
                    entries.append(
                        {
                            column: value,
                            "name": f"linked-{linked[:-2]}.created",
                            "linkedRecordId": rec.get(linked),
                        }
                    )
        for entry in entries:
            aid = str(uuid.uuid4())
            stamp = now_iso()
            self.records["timelineActivity"][aid] = {
                "id": aid,
                "happensAt": stamp,
                "createdAt": stamp,
                "updatedAt": stamp,
                "deletedAt": None,
                **entry,
            }

    def _cascade(self, obj: dict, ids: set[str]) -> None:
        """Destroying a record: children pointing at it go or lose the link, as the join
        field's ``onDelete`` says (docs/twenty-contract.md §2.11); without one, targets go."""
        for other in self.objects.values():
            for column, join in self.join_columns(other).items():
                if self.target_of(other, column) != obj["nameSingular"]:
                    continue
                on_delete = (join.get("settings") or {}).get("onDelete")
                for child_id, child in list(self.records[other["nameSingular"]].items()):
                    if child.get(column) in ids:
                        if on_delete == "CASCADE" or (
                            on_delete is None and other["nameSingular"] in MORPH_OWNERS
                        ):
                            del self.records[other["nameSingular"]][child_id]
                        else:
                            child[column] = None

    def _delete_many(self, obj: dict, query: dict) -> tuple[int, Any]:
        if not query.get("filter"):
            raise bad_request("A filter is required to delete many records")
        condition = parse_filter(query["filter"])
        soft = query.get("soft_delete") == "true"
        gone = [r["id"] for r in self._visible(obj, True) if condition(r)]
        if self.mutation_cap is not None and len(gone) > self.mutation_cap:
            # v2.21.0 destroys every match (docs/twenty-contract.md §2.11, observed); an older
            # server refused a filter matching more than MUTATION_MAXIMUM_AFFECTED_RECORDS
            raise bad_request(
                f"Cannot delete {len(gone)} records at once: the maximum is {self.mutation_cap}",
                "TOO_MANY_RECORDS_AFFECTED",
            )
        rows = self.records[obj["nameSingular"]]
        if not soft:
            self._cascade(obj, set(gone))
        for rid in gone:
            if soft:
                rows[rid]["deletedAt"] = now_iso()
            else:
                del rows[rid]
        return 200, {"data": {f"delete{obj['namePlural']}": [{"id": r} for r in gone]}}

    def _restore(self, obj: dict, rid: str) -> tuple[int, Any]:
        row = self.records[obj["nameSingular"]].get(rid)
        if row is None:
            raise HttpError(404, {"statusCode": 404, "messages": ["Record not found"]})
        row["deletedAt"] = None
        single = obj["nameSingular"][:1].upper() + obj["nameSingular"][1:]
        return 200, {"data": {f"restore{single}": row}}

    # ---- metadata -----------------------------------------------------------------------

    def _metadata(self, method: str, seg: list[str], query: dict, payload: Any) -> tuple[int, Any]:
        kind = seg[0] if seg else ""
        if kind == "objects" and method == "GET" and len(seg) == 1:
            objs = [copy.deepcopy(o) for o in self.objects.values()]
            info = {"pageInfo": {"hasNextPage": False}, "totalCount": len(objs)}
            if self.metadata_shape == "flat":
                return 200, {"data": objs, **info}
            return 200, {"data": {"objects": objs}, **info}
        if kind == "objects" and method == "POST":
            return 201, self._create_object(payload)
        if kind == "objects" and method == "DELETE":
            return 200, self._delete_object(seg[1])
        if kind == "fields" and method == "POST":
            return 201, self._create_field(payload)
        if kind == "fields" and method == "GET" and len(seg) == 2:
            return 200, {"data": {"field": self._field_by_id(seg[1])[1]}}
        if kind == "fields" and method == "PATCH":
            return 200, {"data": {"updateOneField": self._patch_field(seg[1], payload)}}
        if kind == "fields" and method == "DELETE":
            for fid in (seg[1], self.inverses.pop(seg[1], None)):
                if fid is None:
                    continue
                obj, field = self._field_by_id(fid)
                obj["fields"].remove(field)
                self.inverses.pop(fid, None)
                column = (field.get("settings") or {}).get("joinColumnName")
                self.relation_targets.pop((obj["nameSingular"], column), None)
            return 200, {"data": {"deleteOneField": {"id": seg[1]}}}
        raise HttpError(404, {"statusCode": 404, "messages": [f"Cannot {method} metadata"]})

    def _new_field(self, obj: dict, name: str, label: str, kind: str | None, **extra: Any) -> dict:
        field = {
            "id": str(uuid.uuid4()),
            "name": name,
            "label": label,
            "type": kind,
            "objectMetadataId": obj["id"],
            "isActive": True,
            "isCustom": True,
            "isSystem": False,
            "isNullable": True,
            "isUnique": False,
            **extra,
        }
        obj["fields"].append(field)
        return field

    def _check_name(self, name: Any, taken: set[str]) -> None:
        if not isinstance(name, str) or not NAME.match(name) or len(name) > 63:
            raise metadata_error("INVALID_NAME", f'Name "{name}" is not valid')
        if name in RESERVED:
            raise metadata_error("RESERVED_KEYWORD", f'The name "{name}" is not available')
        if name in taken:
            raise metadata_error("NOT_AVAILABLE", f'Name "{name}" is not available')

    def _create_object(self, body: dict) -> dict:
        taken = {o["nameSingular"] for o in self.objects.values()} | {
            o["namePlural"] for o in self.objects.values()
        }
        for key in ("nameSingular", "namePlural"):
            self._check_name(body.get(key), taken)
        for key in ("labelSingular", "labelPlural"):
            if not body.get(key):
                raise metadata_error("INVALID_LABEL", f"{key} is required")
        obj = {
            "id": str(uuid.uuid4()),
            "isCustom": True,
            "isActive": True,
            "isSystem": False,
            "fields": [],
            **{k: body[k] for k in ("nameSingular", "namePlural", "labelSingular", "labelPlural")},
            "icon": body.get("icon"),
            "description": body.get("description"),
        }
        for name, label, kind in (
            ("id", "Id", "UUID"),
            ("name", "Name", "TEXT"),
            ("createdAt", "Creation date", "DATE_TIME"),
            ("updatedAt", "Last update", "DATE_TIME"),
            ("deletedAt", "Deleted at", "DATE_TIME"),
            ("createdBy", "Created by", "ACTOR"),
            ("position", "Position", "POSITION"),
        ):
            self._new_field(obj, name, label, kind, isCustom=False)
        self.objects[obj["nameSingular"]] = obj
        self.records[obj["nameSingular"]] = {}
        cap = obj["nameSingular"][:1].upper() + obj["nameSingular"][1:]
        for owner in MORPH_OWNERS:
            if owner in self.objects:
                self._new_field(
                    self.objects[owner],
                    f"target{cap}",
                    "Target",
                    "MORPH_RELATION",
                    settings={"relationType": "MANY_TO_ONE", "joinColumnName": f"target{cap}Id"},
                )
        return {k: v for k, v in obj.items() if k != "fields"}

    def _delete_object(self, oid: str) -> dict:
        obj = next((o for o in self.objects.values() if o["id"] == oid), None)
        if obj is None:
            raise HttpError(404, {"statusCode": 404, "messages": ["Object not found"]})
        del self.objects[obj["nameSingular"]]
        del self.records[obj["nameSingular"]]
        cap = obj["nameSingular"][:1].upper() + obj["nameSingular"][1:]
        for other in self.objects.values():
            other["fields"] = [
                f
                for f in other["fields"]
                if (f.get("settings") or {}).get("joinColumnName") != f"target{cap}Id"
                and self.relation_targets.get(
                    (other["nameSingular"], (f.get("settings") or {}).get("joinColumnName"))
                )
                != obj["nameSingular"]
            ]
        return {"data": {"deleteOneObject": {"id": oid}}}

    def _check_options(self, options: list[dict]) -> None:
        for option in options:
            if not OPTION_VALUE.match(str(option.get("value", ""))):
                raise metadata_error(
                    "INVALID_OPTION", f'Option value "{option.get("value")}" is not valid'
                )

    def _create_field(self, body: dict) -> dict:
        obj = next(
            (o for o in self.objects.values() if o["id"] == body.get("objectMetadataId")), None
        )
        if obj is None:
            raise metadata_error("OBJECT_NOT_FOUND", "Object metadata not found")
        taken = set(self.fields(obj)) | set(self.join_columns(obj))
        self._check_name(body.get("name"), taken)
        kind = body.get("type")
        options = body.get("options") or []
        self._check_options(options)
        if kind == "RELATION":
            rel = body.get("relationCreationPayload") or {}
            target = next(
                (o for o in self.objects.values() if o["id"] == rel.get("targetObjectMetadataId")),
                None,
            )
            if target is None or rel.get("type") != "MANY_TO_ONE":
                raise metadata_error("INVALID_RELATION", "Invalid relationCreationPayload")
            inverse = camel(rel.get("targetFieldLabel") or obj["labelPlural"])
            self._check_name(inverse, set(self.fields(target)) | set(self.join_columns(target)))
            field = self._new_field(
                obj,
                body["name"],
                body.get("label") or body["name"],
                "RELATION",
                settings={"relationType": "MANY_TO_ONE", "joinColumnName": f"{body['name']}Id"},
            )
            other = self._new_field(
                target,
                inverse,
                rel.get("targetFieldLabel") or inverse,
                "RELATION",
                settings={"relationType": "ONE_TO_MANY"},
            )
            # a relation is a pair: deleting one side deletes the other
            self.inverses[field["id"]] = other["id"]
            self.inverses[other["id"]] = field["id"]
            self.relation_targets[(obj["nameSingular"], f"{body['name']}Id")] = target[
                "nameSingular"
            ]
            return field
        opts = [
            {
                "id": str(uuid.uuid4()),
                "color": o.get("color", "gray"),
                "position": o.get("position", i),
                **o,
            }
            for i, o in enumerate(options)
        ]
        return self._new_field(
            obj,
            body["name"],
            body.get("label") or body["name"],
            kind,
            options=opts or None,
            isUnique=bool(body.get("isUnique")),
        )

    def _field_by_id(self, fid: str) -> tuple[dict, dict]:
        for obj in self.objects.values():
            for field in obj["fields"]:
                if field["id"] == fid:
                    return obj, field
        raise HttpError(404, {"statusCode": 404, "messages": ["Field not found"]})

    def _patch_field(self, fid: str, body: dict) -> dict:
        obj, field = self._field_by_id(fid)
        if "options" in body:
            self._check_options(body["options"])
            old = {o["id"]: o for o in field.get("options") or []}
            new = []
            for i, option in enumerate(body["options"]):
                entry = {"color": "gray", "position": i, **option}
                entry.setdefault("id", str(uuid.uuid4()))
                new.append(entry)
            kept = {o["id"] for o in new if o["id"] in old}
            lost = {o["value"] for oid, o in old.items() if oid not in kept}
            default = (field.get("defaultValue") or "").strip("'") or None
            for row in self.records[obj["nameSingular"]].values():
                if field["type"] == "SELECT" and row.get(field["name"]) in lost:
                    row[field["name"]] = default if not field.get("isNullable", True) else None
                elif field["type"] == "MULTI_SELECT" and row.get(field["name"]):
                    row[field["name"]] = [v for v in row[field["name"]] if v not in lost]
            field["options"] = new
        for key in ("label", "description", "icon", "isUnique"):
            if key in body:
                field[key] = body[key]
        return field

    # ---- files --------------------------------------------------------------------------

    def _upload(self, path: str, content_type: str, body: bytes) -> tuple[int, Any]:
        """Current servers: ``uploadFilesFieldFile`` on ``/metadata``; older ones (attachments
        with ``fullPath``, docs/twenty-contract.md §5.2): ``uploadFile`` on ``/graphql``, returning
        a path."""
        message = BytesParser(policy=HTTP).parsebytes(
            b"Content-Type: " + content_type.encode() + b"\r\n\r\n" + body
        )
        parts = {p.get_param("name", header="content-disposition"): p for p in message.iter_parts()}
        operations = json.loads(parts["operations"].get_content())
        mapping = json.loads(parts["map"].get_content())
        query = operations.get("query", "")
        legacy = path == "/graphql" and "uploadFile(" in query and self.legacy_attachments
        current = path == "/metadata" and "uploadFilesFieldFile" in query and not legacy
        if mapping != {"0": ["variables.file"]} or not (legacy or current):
            raise bad_request("Unsupported upload operation")
        if current:
            self._field_by_id(operations["variables"].get("fieldMetadataId"))
        data = parts["0"].get_payload(decode=True)
        fid = str(uuid.uuid4())
        token = uuid.uuid4().hex
        name = parts["0"].get_filename() or "file"
        self.files[fid] = {"bytes": data, "token": token, "name": name}
        if legacy:
            return 200, {"data": {"uploadFile": f"attachment/{fid}/{name}"}}
        return 200, {
            "data": {
                "uploadFilesFieldFile": {
                    "id": fid,
                    "path": f"attachment/{fid}/{name}",
                    "size": len(data),
                    "url": f"{self.url}/files/{fid}?token={token}",
                }
            }
        }

    def _download(self, path: str, query: dict) -> bytes:
        fid = path.rsplit("/", 1)[-1]
        file = self.files.get(fid)
        if file is None or query.get("token") != file["token"]:
            raise HttpError(403, {"statusCode": 403, "messages": ["Forbidden"]})
        return file["bytes"]

    # ---- test conveniences ------------------------------------------------------------

    def snapshot(self) -> dict:
        """Every object's fields and every record, for before/after comparisons; timeline
        activities left out (the server's history grows with every write: ``orphan_activities``
        checks those)."""
        with self.lock:
            return {
                "fields": {
                    n: sorted(
                        (
                            f["name"],
                            f["type"],
                            json.dumps(sorted(o["value"] for o in f.get("options") or [])),
                        )
                        for f in o["fields"]
                    )
                    for n, o in self.objects.items()
                },
                "records": {
                    n: copy.deepcopy(r) for n, r in self.records.items() if n != "timelineActivity"
                },
            }

    def orphan_activities(self) -> list[dict]:
        """Timeline activities whose record, or linked record, is gone."""
        targets = [
            c for c in self.join_columns(self.objects["timelineActivity"]) if c.startswith("target")
        ]
        every = {rid for rows in self.records.values() for rid in rows}
        with self.lock:
            return [
                a
                for a in self.records["timelineActivity"].values()
                if not any(a.get(c) for c in targets)
                or (a.get("linkedRecordId") and a["linkedRecordId"] not in every)
            ]

    def live(self, name: str) -> list[dict]:
        return [r for r in self.records[name].values() if not r.get("deletedAt")]


# A file attached twice (v2.21 code: files-field-sync.ts; docs/twenty-contract.md §5.3)
_ALREADY_ATTACHED = "File {} is already associated with a permanent files field"


def phone_error(message: str, code: str) -> HttpError:
    """A phone refusal as v2.21 answers it: 400, ``"error": "Error"`` and the exception's code
    (docs/twenty-contract.md §7)."""
    return HttpError(
        400, {"statusCode": 400, "error": "Error", "messages": [message], "code": code}
    )


def check_phone(number: Any, country: Any, calling: Any) -> None:
    """Twenty v2.21's phone validation on write, in its order and with its messages
    (docs/twenty-contract.md §7): the country code must be a country; the calling code one
    that exists and, with a country code, that country's; the number must parse (with the
    country, else the calling code, as default) and agree with both. phonenumbers stands for
    the server's libphonenumber-js (the same metadata, from Google's libphonenumber)."""
    country = country or None
    calling = calling or None
    if country and country not in phonenumbers.SUPPORTED_REGIONS:
        raise phone_error(f"Invalid country code {country}", "INVALID_PHONE_COUNTRY_CODE")
    code = None
    if calling:
        digits = str(calling).replace("+", "")
        code = int(digits) if digits.isdigit() else 0
        regions = phonenumbers.region_codes_for_country_code(code)
        if not regions or regions == ("ZZ",):
            raise phone_error(f"Invalid calling code {calling}", "INVALID_PHONE_CALLING_CODE")
        if country and country not in regions:
            raise phone_error(
                "Provided country code and calling code are conflicting",
                "CONFLICTING_PHONE_CALLING_CODE_AND_COUNTRY_CODE",
            )
    if not number:
        return
    default = country or (phonenumbers.region_code_for_country_code(code) if code else None)
    try:
        parsed = phonenumbers.parse(str(number), default)
    except phonenumbers.NumberParseException:
        raise phone_error(
            f"Provided phone number is invalid {number}", "INVALID_PHONE_NUMBER"
        ) from None
    inferred = phonenumbers.region_code_for_number(parsed)
    if inferred and country and inferred != country:
        raise phone_error(
            "Provided and inferred country code are conflicting", "CONFLICTING_PHONE_COUNTRY_CODE"
        )
    if code and parsed.country_code != code:
        raise phone_error(
            "Provided and inferred calling code are conflicting", "CONFLICTING_PHONE_CALLING_CODE"
        )


def utc_millis(value: str) -> str:
    """A date-time as v2.21 answers it: UTC, milliseconds, ``Z`` (docs/twenty-contract.md §4.6)."""
    when = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    if when.tzinfo is None:
        when = when.replace(tzinfo=dt.timezone.utc)
    return when.astimezone(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def national_number(number: Any, country: Any, calling: Any) -> Any:
    """A phone number as v2.21 stores it: its national significant number, the digits without
    calling code, trunk prefix or punctuation (docs/twenty-contract.md §4.6); one the parser
    cannot read (check_phone let it through) as sent."""
    digits = str(calling or "").replace("+", "")
    code = int(digits) if digits.isdigit() else 0
    default = country or (phonenumbers.region_code_for_country_code(code) if code else None)
    try:
        return phonenumbers.national_significant_number(phonenumbers.parse(str(number), default))
    except phonenumbers.NumberParseException:
        return number


def stored_url(url: str) -> str:
    """A link as v2.21 stores it (docs/twenty-contract.md §4.6): trimmed; with a scheme, the
    scheme and host lower-cased and a trailing slash dropped; without one, as sent."""
    url = url.strip()
    parts = urlsplit(url)
    if not parts.scheme or not parts.netloc:
        return url
    path = parts.path[:-1] if parts.path.endswith("/") else parts.path
    return parts._replace(
        scheme=parts.scheme.lower(), netloc=parts.netloc.lower(), path=path
    ).geturl()


def rate_limited(path: str) -> bool:
    """Record reads and writes (``/rest/<object>…``, ``/rest/batch/…``, ``/rest/restore/…``)
    go through the limiter; ``/rest/metadata/*``, the OpenAPI documents and the file upload on
    ``/metadata`` do not (docs/twenty-contract.md §2.10)."""
    return path.startswith("/rest/") and not path.startswith(("/rest/metadata", "/rest/open-api"))


def camel(text: str) -> str:
    words = re.findall(r"[A-Za-z0-9]+", text)
    return (
        (words[0][:1].lower() + words[0][1:] + "".join(w[:1].upper() + w[1:] for w in words[1:]))
        if words
        else "x"
    )


# ---- filters ---------------------------------------------------------------------------

_COND = re.compile(r"^([\w.]+)\[(\w+)\]:(.*)$", re.S)


def _split_args(text: str) -> list[str]:
    out, depth, quote, start = [], 0, None, 0
    for i, ch in enumerate(text):
        if quote:
            if ch == quote:
                quote = None
        elif ch in "\"'":
            quote = ch
        elif ch in "([":
            depth += 1
        elif ch in ")]":
            depth -= 1
        elif ch == "," and depth == 0:
            out.append(text[start:i])
            start = i + 1
    out.append(text[start:])
    return [p.strip() for p in out if p.strip()]


def _literal(text: str) -> Any:
    text = text.strip()
    if text.startswith("[") and text.endswith("]"):
        return [_literal(p) for p in _split_args(text[1:-1])]
    if len(text) >= 2 and text[0] == text[-1] and text[0] in "\"'":
        return text[1:-1]
    return text


def _get(record: dict, path: str) -> Any:
    value: Any = record
    for part in path.split("."):
        value = value.get(part) if isinstance(value, dict) else None
    return value


def parse_filter(text: str):
    """Twenty's REST filter: ``field[op]:value`` joined by commas (and), or and/or/not(…)."""
    text = text.strip()
    for conj in ("and", "or", "not"):
        if text.startswith(conj + "(") and text.endswith(")"):
            parts = [parse_filter(p) for p in _split_args(text[len(conj) + 1 : -1])]
            if conj == "and":
                return lambda r: all(p(r) for p in parts)
            if conj == "or":
                return lambda r: any(p(r) for p in parts)
            return lambda r: not all(p(r) for p in parts)
    parts = _split_args(text)
    if len(parts) > 1:
        subs = [parse_filter(p) for p in parts]
        return lambda r: all(s(r) for s in subs)
    match = _COND.match(text)
    if not match:
        raise bad_request(f"Invalid filter: {text}")
    field, op, raw = match.groups()
    value = _literal(raw)

    def test(record: dict) -> bool:
        actual = _get(record, field)
        if op == "is":
            return (actual is None) == (str(value).upper() == "NULL")
        if op == "eq":
            return actual is not None and str(actual) == str(value)
        if op == "neq":
            return str(actual) != str(value)
        if op == "in":
            return actual is not None and str(actual) in {str(v) for v in value}
        if op in ("like", "ilike"):
            pattern = "^" + re.escape(str(value)).replace("%", ".*") + "$"
            return (
                actual is not None
                and re.match(pattern, str(actual), re.I if op == "ilike" else 0) is not None
            )
        if op in ("gt", "gte", "lt", "lte"):
            if actual is None:
                return False
            a, b = str(actual), str(value)
            return {"gt": a > b, "gte": a >= b, "lt": a < b, "lte": a <= b}[op]
        if op == "startsWith":
            return str(actual or "").startswith(str(value))
        raise bad_request(f"Unknown comparator {op}")

    return test


# ---- OpenAPI ---------------------------------------------------------------------------


class OpenApiCheck:
    """Checks a request against the server's own OpenAPI documents.

    Custom objects are not in the captured documents (the real server regenerates them per
    workspace), so their paths are checked against the same operation of a standard object.
    One keyword is not enforced: the metadata document's option ``value`` pattern
    ``^[A-Z0-9]+_[A-Z0-9]+$`` (it would refuse ``A``, which the real server accepts —
    docs/twenty-contract.md §3.3 gives ``^[A-Z][A-Z0-9_]*$``); the fake enforces the measured one.
    """

    def __init__(self) -> None:
        self.core = _load("openapi-core.json")
        self.meta = copy.deepcopy(_load("openapi-metadata.json"))
        for schema in ("Field", "FieldForUpdate"):
            items = self.meta["components"]["schemas"][schema]["properties"]["options"]["items"]
            items["properties"]["value"].pop("pattern", None)

    def check(self, method: str, path: str, query: dict, body: Any, fake: FakeTwenty) -> None:
        if path.startswith("/rest/metadata/"):
            doc, rel = self.meta, path[len("/rest/metadata") :]
        elif path.startswith("/rest/"):
            doc, rel = self.core, path[len("/rest") :]
        else:
            fake.violations.append(f"{method} {path}: not an API path")
            return
        op, template = self._operation(doc, method.lower(), rel, fake)
        if op is None:
            fake.violations.append(f"{method} {path}: no such operation in the OpenAPI document")
            return
        params = {}
        for p in op.get("parameters", []):
            p = self._deref(doc, p)
            params[p["name"]] = p
        for name, value in query.items():
            if name not in params or params[name]["in"] != "query":
                fake.violations.append(f"{method} {path}: unknown query parameter {name!r}")
                continue
            schema = params[name].get("schema", {})
            typed = (
                {"true": True, "false": False}.get(value, value)
                if schema.get("type") == "boolean"
                else (
                    int(value)
                    if schema.get("type") == "integer" and value.lstrip("-").isdigit()
                    else value
                )
            )
            self._validate(doc, schema, typed, f"{method} {path} ?{name}", fake)
        if "requestBody" in op:
            schema = op["requestBody"]["content"]["application/json"]["schema"]
            if template != rel:
                schema = _rename_refs(schema, template, rel)
            components = doc["components"]
            if doc is self.core:
                components = self._live_options(components, rel, fake)
            self._validate({"components": components}, schema, body, f"{method} {path} body", fake)
        elif body is not None:
            fake.violations.append(f"{method} {path}: a body the operation does not take")

    def _operation(self, doc: dict, method: str, rel: str, fake: FakeTwenty):
        for template, ops in doc["paths"].items():
            if _path_matches(template, rel) and method in ops:
                return ops[method], template
        # a custom object: check against the same operation on companies
        seg = [s for s in rel.split("/") if s]
        plurals = {o["namePlural"] for o in fake.objects.values() if o.get("isCustom")}
        swapped = "/" + "/".join("companies" if s in plurals else s for s in seg)
        for template, ops in doc["paths"].items():
            if _path_matches(template, swapped) and method in ops:
                return ops[method], swapped
        return None, None

    @staticmethod
    def _live_options(components: dict, rel: str, fake: FakeTwenty) -> dict:
        """The real server regenerates its document per workspace: a SELECT field's enum is
        its current options, including those added since the capture; and a field the
        metadata says is nullable takes ``null`` (to clear it, as a rollback does)."""
        seg = [s for s in rel.split("/") if s and s not in ("batch", "restore")]
        obj = next((o for o in fake.objects.values() if seg and o["namePlural"] == seg[0]), None)
        if obj is None:
            return components
        name = obj["nameSingular"][:1].upper() + obj["nameSingular"][1:]
        schemas = dict(components["schemas"])
        for schema_name in (name, f"{name}ForUpdate"):
            if schema_name not in schemas:
                continue
            patched = copy.deepcopy(schemas[schema_name])
            for field in obj["fields"]:
                name = (field.get("settings") or {}).get("joinColumnName") or field["name"]
                target = patched.get("properties", {}).get(name)
                if target is None:
                    continue
                if field.get("isNullable", True):
                    # the documents never say "nullable"; the metadata does
                    patched["properties"][name] = {"anyOf": [target, {"type": "null"}]}
                if field["type"] not in ("SELECT", "MULTI_SELECT"):
                    continue
                values = [o["value"] for o in field.get("options") or []]
                if "enum" in target:
                    target["enum"] = values
                elif "enum" in target.get("items", {}):
                    target["items"]["enum"] = values
            schemas[schema_name] = patched
        return {**components, "schemas": schemas}

    @staticmethod
    def _deref(doc: dict, node: dict) -> dict:
        while isinstance(node, dict) and "$ref" in node:
            target: Any = doc
            for part in node["$ref"][2:].split("/"):
                target = target[part]
            node = target
        return node

    def _validate(self, doc: dict, schema: dict, value: Any, where: str, fake: FakeTwenty) -> None:
        resolver_doc = {**schema, "components": doc["components"]}
        try:
            jsonschema.validate(
                value,
                resolver_doc,
                cls=jsonschema.Draft202012Validator,
                format_checker=jsonschema.FormatChecker(formats=("uuid",)),
            )
        except jsonschema.ValidationError as err:
            fake.violations.append(f"{where}: {err.message} at {list(err.absolute_path)}")


def _path_matches(template: str, path: str) -> bool:
    t, p = template.strip("/").split("/"), path.strip("/").split("/")
    return len(t) == len(p) and all(
        a == b or (a.startswith("{") and a.endswith("}")) for a, b in zip(t, p, strict=True)
    )


def _rename_refs(schema: Any, template: str, rel: str) -> Any:
    """A custom object's body: any object is acceptable where a Company would be (the real
    document for it would list its own fields)."""
    text = json.dumps(schema).replace('"$ref": "#/components/schemas/Company"', '"type": "object"')
    return json.loads(text)
