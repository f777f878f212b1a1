"""Attachment files: Atomic's RAFile objects `{src, title, path?, type?}` and their download from
Supabase Storage into a local folder, so target-twenty can upload them."""

from __future__ import annotations

import typing as t
from pathlib import Path
from urllib.parse import quote

import requests


def rafiles(value: t.Any) -> list[dict]:
    """The RAFile objects of a jsonb value (one object, or a list of them)."""
    items = value if isinstance(value, list) else [value]
    return [i for i in items if isinstance(i, dict) and (i.get("src") or i.get("path"))]


class Storage:
    """Supabase Storage downloads.

    Endpoints (docs/sources.md §2.3, supabase.com/docs/guides/storage/serving/downloads):
    `GET /storage/v1/object/public/<bucket>/<path>` for public buckets, and
    `GET /storage/v1/object/authenticated/<bucket>/<path>` with `Authorization: Bearer <key>`
    and `apikey: <key>` for private ones."""

    def __init__(
        self,
        url: str,
        bucket: str,
        folder: str,
        key: str | None = None,
        access: str = "auto",
        timeout: float = 60,
    ) -> None:
        self.url = url.rstrip("/")
        self.bucket = bucket
        self.folder = Path(folder)
        self.key = key
        self.authenticated = access == "authenticated" or (access == "auto" and bool(key))
        self.timeout = timeout
        self.session = requests.Session()
        if self.authenticated and key:
            self.session.headers.update({"Authorization": f"Bearer {key}", "apikey": key})

    def fetch(self, path: str) -> tuple[Path | None, int | None, str | None]:
        """Download one object: (local file, size, None) or (None, None, why not)."""
        parts = [p for p in path.replace("\\", "/").split("/") if p and p not in (".", "..")]
        if not parts:
            return None, None, "empty storage path"
        local = self.folder.joinpath(self.bucket, *parts)
        if local.is_file():  # a re-run does not download again
            return local, local.stat().st_size, None
        kind = "authenticated" if self.authenticated else "public"
        url = f"{self.url}/storage/v1/object/{kind}/{quote(self.bucket)}/{quote('/'.join(parts))}"
        try:
            with self.session.get(url, timeout=self.timeout, stream=True) as response:
                if response.status_code != 200:
                    return None, None, f"Storage answered HTTP {response.status_code}"
                local.parent.mkdir(parents=True, exist_ok=True)
                partial = local.with_name(local.name + ".part")
                with partial.open("wb") as handle:
                    for chunk in response.iter_content(65536):
                        handle.write(chunk)
                partial.replace(local)
        except requests.RequestException as exc:
            return None, None, f"download failed: {type(exc).__name__}"
        return local, local.stat().st_size, None
