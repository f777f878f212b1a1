"""A fake PracticeHub API over real HTTP on loopback, as docs/sources.md §3 says.

Official (developers.practicehub.io):
- auth: the API key in header ``x-practicehub-key``; ``x-app-details: appname=contact@email`` is
  also required (guide/authentication) — a missing or wrong one is refused here (401 / 400);
- one base URL per account, ``https://<account>.neptune.practicehub.io/api/...``; the fake serves
  ``http://127.0.0.1:<port>/api/...``;
- pagination: ``page_size`` defaults to and is capped at 100; answers are
  ``{"total_entries", "data", "links": {"previous", "self", "next"}}``, ``links.next`` is absent
  on the last page (guide/pagination). The guide shows ``links.next`` as ``?page=N``: the fake's
  drops the other parameters (page size, filters) unless ``links_keep_query``;
- filters ``?field=op:value`` (eq, ne, gt, gte, lt, lte, like, in, not-in, between, null,
  not-null) on any attribute; **invalid filters are silently ignored** (guide/filtering). The
  fake can also ignore every filter (``honour_filters=False``), as an account where ``updated``
  is not filterable would.

Community (QuiroFlow ``usePracticeHubApi``, posturefixx ``coaching-engine.js``):
- about one request per second; faster calls are answered 429 — here any request arriving less
  than ``min_interval`` after the previous one, with ``Retry-After: <retry_after>`` unless
  that is None (the header is not confirmed);
- records repeat across pages (``/invoices`` served 10,892 rows for 6,946 invoices), and
  ``total_entries`` counts the rows served; here every ``repeat_every``-th record is served a
  second time a few pages later;
- ``/files`` carries a pre-signed S3 ``url``; the fake serves it under ``/s3/`` without pacing
  and refuses it when the PracticeHub key is sent along (S3 is another host: the key must not go).
"""

from __future__ import annotations

import itertools
import random
import re
import threading
import time
from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

from fakes.loopback import LoopbackServer, QuietHandler

API_KEY = "ph-test-key"
APP_DETAILS = "crm2twenty=migrations@example.org"
MAX_PAGE = 100
APP_DETAILS_FORM = re.compile(r"^[^=\s]+=[^@\s=]+@[^@\s]+$")  # appname=contact@email
EPOCH = datetime(2024, 1, 1, tzinfo=timezone.utc)
DEFAULT_COUNTS = {
    "practitioners": 6,
    "appointment_types": 5,
    "payment_methods": 3,
    "patients": 250,
    "appointments": 400,
    "invoices": 150,
    "payments": 120,
    "patient_packages": 30,
    "patient_logs": 200,
    "files": 40,
}
TAGS = ["VIP", "Sports injury", "Post-op", "Insurance", "Newsletter"]
OPERATORS = {
    "eq",
    "ne",
    "gt",
    "gte",
    "lt",
    "lte",
    "between",
    "in",
    "not-in",
    "like",
    "null",
    "not-null",
}
STATUSES = ["processed", "cancelled", "missed", "pending"]


def stamp(when: datetime) -> str:
    return when.strftime("%Y-%m-%d %H:%M:%S")


class FakePracticeHub(LoopbackServer):
    base_path = "/api"  # one base URL per account, …/api/… (see above)

    def __init__(
        self,
        counts: dict[str, int] | None = None,
        *,
        min_interval: float = 1.0,
        retry_after: float | None = 1.0,
        honour_filters: bool = True,
        repeat_every: int = 17,
        links_keep_query: bool = False,
        seed: int = 7,
    ) -> None:
        self.min_interval = min_interval
        self.retry_after = retry_after
        self.honour_filters = honour_filters
        self.repeat_every = repeat_every
        self.links_keep_query = links_keep_query
        self.data = self._generate({**DEFAULT_COUNTS, **(counts or {})}, seed)
        self.log: list[dict[str, Any]] = []  # every API request: t, endpoint, query, status
        self.downloads: list[str] = []
        self.fail_next: list[int] = []  # statuses answered (once each) before the next page
        self.stall_next = 0.0  # seconds the next API answer is held back (a client timeout)
        self._last = float("-inf")
        self._lock = threading.Lock()

    # -- data ------------------------------------------------------------------------------
    def _generate(self, counts: dict[str, int], seed: int) -> dict[str, list[dict]]:
        rnd = random.Random(seed)

        def times(i: int) -> tuple[str, str]:
            created = EPOCH + timedelta(hours=7 * i + rnd.randint(0, 6))
            return stamp(created), stamp(created + timedelta(days=rnd.randint(0, 90)))

        d: dict[str, list[dict]] = {}
        d["practitioners"] = [
            {
                "id": i,
                "first_name": f"Prac{i}",
                "last_name": "Therapist",
                "email": f"prac{i}@clinic.example.org",
                "active": int(i % 5 != 0),
                "created": times(i)[0],
                "updated": times(i)[1],
            }
            for i in range(1, counts["practitioners"] + 1)
        ]
        nprac = max(counts["practitioners"], 1)
        d["appointment_types"] = [
            {"id": i, "name": f"Type {i}", "duration": 15 * (i % 4 + 1), "price": 40.0 + i}
            for i in range(1, counts["appointment_types"] + 1)
        ]
        d["payment_methods"] = [
            {"id": i, "name": n}
            for i, n in enumerate(
                ["Card", "Cash", "Insurance", "Transfer"][: counts["payment_methods"]], 1
            )
        ]
        d["patients"] = []
        for i in range(1, counts["patients"] + 1):
            c, u = times(i)
            d["patients"].append(
                {
                    "id": i,
                    "patient_number": f"P{i:05d}",
                    "first_name": f"First{i}",
                    "last_name": f"Last{i}",
                    "email": f"patient{i}@mail.example.org" if i % 11 else None,
                    "phone": f"+44 7700 9{i % 100000:05d}" if i % 3 else None,
                    "date_of_birth": f"19{60 + i % 40}-0{1 + i % 9}-1{i % 10}",
                    "gender": ["female", "male", "other"][i % 3],
                    "address_line1": f"{i} High Street",
                    "city": "Bristol",
                    "postcode": "BS1 4DJ",
                    "country": "United Kingdom",
                    "tags": rnd.sample(TAGS, rnd.randint(0, 2)),
                    "practitioner_id": 1 + i % nprac,
                    # compliance fields an account defines for itself
                    "consent_given": bool(i % 4),
                    "consent_date": c[:10] if i % 4 else None,
                    "created": c,
                    "updated": u,
                }
            )
        npat = max(counts["patients"], 1)
        d["appointments"] = []
        for i in range(1, counts["appointments"] + 1):
            c, u = times(i)
            start = EPOCH + timedelta(days=i % 300, hours=9 + i % 8)
            dur = 15 * (i % 4 + 1)
            d["appointments"].append(
                {
                    "id": i,
                    "patient_id": 1 + i % npat,
                    "practitioner_id": 1 + i % nprac,
                    "appointment_type_id": 1 + i % max(counts["appointment_types"], 1),
                    "location": ["Main clinic", "Annex"][i % 2],
                    "status": STATUSES[i % 4],
                    "start": stamp(start),
                    "end": stamp(start + timedelta(minutes=dur)),
                    "duration": dur,
                    "cancelDate": stamp(start - timedelta(days=1)) if i % 4 == 1 else None,
                    "created": c,
                    "updated": u,
                }
            )
        d["invoices"] = []
        for i in range(1, counts["invoices"] + 1):
            c, u = times(i)
            d["invoices"].append(
                {
                    "id": i,
                    "patient_id": 1 + i % npat,
                    "appointment_id": 1 + i % max(counts["appointments"], 1),
                    "number": f"INV-{i:05d}",
                    "total": round(45 + i * 1.5, 2),
                    "status": ["paid", "unpaid", "void"][i % 3],
                    "created": c,
                    "updated": u,
                }
            )
        d["payments"] = []
        for i in range(1, counts["payments"] + 1):
            c, u = times(i)
            d["payments"].append(
                {
                    "id": i,
                    "patient_id": 1 + i % npat,
                    "amount": round(20 + i * 0.75, 2),
                    "payment_type_id": 1 + i % max(counts["payment_methods"], 1),
                    "service": "Physiotherapy",
                    "note": None,
                    "created": c,
                    "updated": u,
                }
            )
        d["patient_packages"] = []
        for i in range(1, counts["patient_packages"] + 1):
            c, u = times(i)
            pid = 1 + i % npat
            d["patient_packages"].append(
                {
                    "id": i,
                    "name": f"{5 + i % 3} session pack",
                    "price": 200.0 + i,
                    "sessions": 5 + i % 3,
                    # often null in the real API: subscribed_patients carries the patient
                    "patient_id": pid if i % 2 else None,
                    "subscribed_patients": [{"patient_id": pid}],
                    "created": c,
                    "updated": u,
                }
            )
        d["patient_logs"] = []
        for i in range(1, counts["patient_logs"] + 1):
            c, u = times(i)
            d["patient_logs"].append(
                {
                    "id": i,
                    "patient_id": 1 + i % npat,
                    "practitioner_id": 1 + i % nprac,
                    "type": "treatment_note",
                    "sub_type": ["subjective", "objective", "plan"][i % 3],
                    "data": f"<p>Session {i}: <b>improving</b> range of motion.</p>",
                    "created": c,
                    "updated": u,
                }
            )
        d["files"] = []
        for i in range(1, counts["files"] + 1):
            c, u = times(i)
            name = f"scan-{i}.pdf" if i % 2 else f"photo-{i}.jpg"
            d["files"].append(
                {
                    "id": i,
                    "size": 0,  # set once the content is known
                    "file_name": name,
                    "entity_type": "patient",
                    "file_type": "document" if i % 2 else "image",
                    "description": f"Upload {i}",
                    "mime_type": "application/pdf" if i % 2 else "image/jpeg",
                    "patient_id": 1 + i % npat,
                    "url": "",  # pre-signed, set when the server knows its address
                    "created": c,
                    "updated": u,
                }
            )
            d["files"][-1]["size"] = len(self.file_content(i))
        return d

    @staticmethod
    def file_content(file_id: int) -> bytes:
        return f"%PDF-fake file {file_id}\n".encode() * (1 + file_id % 5)

    def served(self, endpoint: str) -> list[dict]:
        """The rows in the order pages serve them: every ``repeat_every``-th record again,
        three rows later (so often on the next page), as the real API repeats records."""
        rows = list(self.data[endpoint])
        if self.repeat_every:
            for idx in range(len(rows) - 1, -1, -1):
                if (idx + 1) % self.repeat_every == 0:
                    rows.insert(min(idx + 4, len(rows)), rows[idx])
        return rows

    def repeats(self, endpoint: str) -> int:
        return len(self.served(endpoint)) - len(self.data[endpoint])

    # -- filters ---------------------------------------------------------------------------
    @staticmethod
    def _match(value: Any, op: str, arg: str) -> bool | None:
        """None when the filter is invalid (the real API then ignores it)."""
        if op in ("null", "not-null"):
            return (value is None) == (op == "null")
        if value is None:
            return False
        text = str(value)
        args = arg.split(",")
        num = isinstance(value, (int, float)) and not isinstance(value, bool)
        try:
            conv: Callable[[str], Any] = float if num else str
            a0 = conv(args[0])
            v: Any = float(value) if num else text
            if op == "eq":
                return v == a0
            if op == "ne":
                return v != a0
            if op == "gt":
                return v > a0
            if op == "gte":
                return v >= a0
            if op == "lt":
                return v < a0
            if op == "lte":
                return v <= a0
            if op == "between":
                return conv(args[0]) <= v <= conv(args[1])
            if op == "in":
                return text in args
            if op == "not-in":
                return text not in args
            if op == "like":
                return arg.strip("%").lower() in text.lower()
        except (ValueError, IndexError):
            return None
        return None

    def _filtered(self, endpoint: str, query: dict[str, str]) -> list[dict]:
        rows = self.served(endpoint)
        if not self.honour_filters:
            return rows
        fields = set().union(*(r.keys() for r in self.data[endpoint])) if rows else set()
        for name, raw in query.items():
            if name in ("page", "page_size") or name not in fields or ":" not in raw:
                continue  # an invalid filter: silently ignored
            op, arg = raw.split(":", 1)
            if op not in OPERATORS:
                continue
            rows = [r for r in rows if self._match(r.get(name), op, arg)]
        return rows

    # -- server ----------------------------------------------------------------------------
    def max_in_window(self, window: float = 1.0) -> int:
        """The most API requests (429s included) that arrived within any ``window`` seconds."""
        times = sorted(e["t"] for e in self.log)
        best, lo = 0, 0
        for hi, t in enumerate(times):
            while t - times[lo] >= window:
                lo += 1
            best = max(best, hi - lo + 1)
        return best

    def min_gap(self) -> float:
        times = sorted(e["t"] for e in self.log)
        return min((b - a for a, b in itertools.pairwise(times)), default=float("inf"))

    def requests(self, endpoint: str | None = None, status: int | None = None) -> list[dict]:
        return [
            e
            for e in self.log
            if (endpoint is None or e["endpoint"] == endpoint)
            and (status is None or e["status"] == status)
        ]

    def handler(self) -> type[QuietHandler]:
        fake = self

        class Handler(QuietHandler):
            def do_GET(self) -> None:
                parts = urlsplit(self.path)
                if parts.path.startswith("/s3/"):
                    return self._s3(parts.path)
                now = time.monotonic()
                endpoint = parts.path.removeprefix("/api/").strip("/")
                query = {k: v[-1] for k, v in parse_qs(parts.query).items()}
                with fake._lock:
                    too_soon = now - fake._last < fake.min_interval
                    fake._last = now
                    failure = fake.fail_next.pop(0) if fake.fail_next else None
                    stall = 0.0
                    if not failure and not too_soon:
                        stall, fake.stall_next = fake.stall_next, 0.0
                entry = {"t": now, "endpoint": endpoint, "query": query, "status": 200}
                fake.log.append(entry)

                def answer(status: int, body: Any, headers: dict | None = None) -> None:
                    entry["status"] = status
                    self.send_json(status, body, headers)

                if too_soon:
                    wait = fake.retry_after
                    head = {"Retry-After": f"{wait:g}"} if wait is not None else None
                    return answer(429, {"error": "Too Many Requests"}, head)
                if self.headers.get("x-practicehub-key") != API_KEY:
                    return answer(401, {"error": "Invalid API key"})
                details = self.headers.get("x-app-details") or ""
                if not APP_DETAILS_FORM.match(details):
                    return answer(400, {"error": "x-app-details header is required"})
                if failure:
                    return answer(failure, {"error": "Internal Server Error"})
                if stall:
                    time.sleep(stall)
                if endpoint not in fake.data:
                    return answer(404, {"error": f"Unknown endpoint {endpoint}"})
                rows = fake._filtered(endpoint, query)
                size = min(int(query.get("page_size") or MAX_PAGE), MAX_PAGE)
                page = max(int(query.get("page") or 1), 1)
                chunk = rows[(page - 1) * size : page * size]
                base = f"{fake.url}/{endpoint}"

                def link(p: int) -> str:
                    kept = query if fake.links_keep_query else {}
                    return f"{base}?{urlencode({**kept, 'page': p})}"

                links = {"self": link(page)}
                if page > 1:
                    links["previous"] = link(page - 1)
                if page * size < len(rows):
                    links["next"] = link(page + 1)
                if endpoint == "files":
                    chunk = [
                        {
                            **r,
                            "url": f"{fake.origin}/s3/files/{r['id']}/{r['file_name']}"
                            f"?X-Amz-Expires=300&X-Amz-Signature=fake{r['id']}",
                        }
                        for r in chunk
                    ]
                return answer(200, {"total_entries": len(rows), "data": chunk, "links": links})

            def _s3(self, path: str) -> None:
                if self.headers.get("x-practicehub-key"):
                    return self.send_json(403, {"error": "the PracticeHub key was sent to S3"})
                file_id = int(path.split("/")[3])
                data = fake.file_content(file_id)
                fake.downloads.append(path)
                self.send(200, data, "application/octet-stream")

        return Handler


if __name__ == "__main__":  # a fake to point a tap at by hand
    import sys

    with FakePracticeHub(min_interval=float(sys.argv[1]) if len(sys.argv) > 1 else 1.0) as f:
        print(f.url, flush=True)
        threading.Event().wait()
