"""A fake Supabase Storage on loopback, serving the two download endpoints the tap uses.

Endpoints, as documented (supabase.com/docs/guides/storage/serving/downloads; docs/sources.md
§2.3): `GET /storage/v1/object/public/<bucket>/<path>` serves objects of a public bucket to
anyone; `GET /storage/v1/object/authenticated/<bucket>/<path>` needs `Authorization: Bearer
<key>` (and the `apikey` header Supabase's gateway expects) and serves any bucket. Unknown
objects answer 400 with `{"statusCode": "404", "error": "not_found"}` as Storage does.
"""

from __future__ import annotations

from urllib.parse import unquote, urlsplit

from fakes.loopback import LoopbackServer, QuietHandler


class FakeStorage(LoopbackServer):
    def __init__(self, files: dict[str, bytes], *, public: bool = True, key: str = "sb_secret_x"):
        self.files = files  # "<bucket>/<path>" → content
        self.public = public
        self.key = key
        self.calls: list[tuple[str, str, dict]] = []  # (endpoint kind, object, headers)

    def handler(self) -> type[QuietHandler]:
        fake = self

        class Handler(QuietHandler):
            def do_GET(self) -> None:
                path = unquote(urlsplit(self.path).path)
                prefix = "/storage/v1/object/"
                kind, _, obj = path.removeprefix(prefix).partition("/")
                fake.calls.append((kind, obj, dict(self.headers)))
                if not path.startswith(prefix) or kind not in ("public", "authenticated"):
                    return self.send_json(404, {"error": "not found"})
                if kind == "public" and not fake.public:
                    return self.send_json(
                        400,
                        {"statusCode": "404", "error": "not_found", "message": "Object not found"},
                    )
                if kind == "authenticated" and (
                    self.headers.get("Authorization") != f"Bearer {fake.key}"
                    or self.headers.get("apikey") != fake.key
                ):
                    return self.send_json(
                        400,
                        {
                            "statusCode": "403",
                            "error": "Unauthorized",
                            "message": "invalid signature",
                        },
                    )
                body = fake.files.get(obj)
                if body is None:
                    return self.send_json(
                        400,
                        {"statusCode": "404", "error": "not_found", "message": "Object not found"},
                    )
                return self.send(200, body, "application/octet-stream")

        return Handler
