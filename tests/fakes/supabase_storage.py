"""A fake Supabase Storage on loopback, serving the two download endpoints the tap uses.

Endpoints, as documented (supabase.com/docs/guides/storage/serving/downloads; docs/sources.md
§2.3): `GET /storage/v1/object/public/<bucket>/<path>` serves objects of a public bucket to
anyone; `GET /storage/v1/object/authenticated/<bucket>/<path>` needs `Authorization: Bearer
<key>` (and the `apikey` header Supabase's gateway expects) and serves any bucket. Unknown
objects answer 400 with `{"statusCode": "404", "error": "not_found"}` as Storage does.
"""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import unquote, urlsplit


class FakeStorage:
    def __init__(self, files: dict[str, bytes], *, public: bool = True, key: str = "sb_secret_x"):
        self.files = files  # "<bucket>/<path>" → content
        self.public = public
        self.key = key
        self.calls: list[tuple[str, str, dict]] = []  # (endpoint kind, object, headers)
        self._server: ThreadingHTTPServer | None = None

    def start(self) -> str:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:
                pass

            def do_GET(self) -> None:
                path = unquote(urlsplit(self.path).path)
                prefix = "/storage/v1/object/"
                kind, _, obj = path.removeprefix(prefix).partition("/")
                fake.calls.append((kind, obj, dict(self.headers)))
                if not path.startswith(prefix) or kind not in ("public", "authenticated"):
                    return self._json(404, {"error": "not found"})
                if kind == "public" and not fake.public:
                    return self._json(
                        400,
                        {"statusCode": "404", "error": "not_found", "message": "Object not found"},
                    )
                if kind == "authenticated" and (
                    self.headers.get("Authorization") != f"Bearer {fake.key}"
                    or self.headers.get("apikey") != fake.key
                ):
                    return self._json(
                        400,
                        {
                            "statusCode": "403",
                            "error": "Unauthorized",
                            "message": "invalid signature",
                        },
                    )
                body = fake.files.get(obj)
                if body is None:
                    return self._json(
                        400,
                        {"statusCode": "404", "error": "not_found", "message": "Object not found"},
                    )
                self.send_response(200)
                self.send_header("Content-Type", "application/octet-stream")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)
                return None

            def _json(self, status: int, body: dict) -> None:
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self.url

    @property
    def url(self) -> str:
        assert self._server is not None
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self) -> FakeStorage:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()
