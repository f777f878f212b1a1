"""What every fake remote system shares: real HTTP on 127.0.0.1, served from a thread.

A fake subclasses :class:`LoopbackServer` and returns its request handler (a
:class:`QuietHandler`) from :meth:`~LoopbackServer.handler`; ``start()`` serves it on a free
port (``url``: the origin plus the fake's ``base_path``); ``stop()``, or leaving the ``with``
block, stops it.

Not pytest-httpserver: a handler there returns a werkzeug ``Response``, so the fake Twenty could
not close a connection without answering (its dropped write); and werkzeug would be one more
package for what the stdlib server below already does.
"""

from __future__ import annotations

import contextlib
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, TypeVar

Fake = TypeVar("Fake", bound="LoopbackServer")


class QuietHandler(BaseHTTPRequestHandler):
    """HTTP/1.1 (keep-alive, as the real servers), no access log on stderr."""

    protocol_version = "HTTP/1.1"
    # TCP_NODELAY, as real servers set it: the headers and the body go out in two writes, and
    # with Nagle on the body waited for the client's delayed ACK (~40 ms on every request).
    disable_nagle_algorithm = True

    def log_message(self, *args: Any) -> None:
        return

    def body(self) -> bytes:
        """The request's body (``Content-Length`` bytes; fewer if the client went away)."""
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def send(
        self, status: int, data: bytes, content_type: str, headers: dict | None = None
    ) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        # the client may have given up waiting (a timeout test, a killed process)
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):
            self.wfile.write(data)

    def send_json(self, status: int, body: Any, headers: dict | None = None) -> None:
        self.send(status, json.dumps(body).encode(), "application/json", headers)


class LoopbackServer:
    """Start/stop of a fake on a free loopback port; ``url`` is where it answers."""

    base_path = ""  # the API's base path, appended to the origin in ``url``
    server: ThreadingHTTPServer | None = None
    origin = ""  # http://127.0.0.1:<port>
    url = ""

    def handler(self) -> type[QuietHandler]:
        """The request handler class (usually defined inside, closing over the fake)."""
        raise NotImplementedError

    def start(self) -> str:
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self.handler())
        threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.01}, daemon=True
        ).start()
        self.origin = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.url = self.origin + self.base_path
        return self.url

    def stop(self) -> None:
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()
            self.server = None

    def __enter__(self: Fake) -> Fake:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()
