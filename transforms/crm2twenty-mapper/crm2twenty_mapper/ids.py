"""Deterministic record ids, and the source keys they are made from.

Every Twenty record id is a UUIDv5 of (migration namespace, source, object, source key), and every
reference is computed the same way from the referenced record's key. So a re-run upserts the same
ids (no duplicates), relations are known before their parent is written, and a rollback knows
exactly what a run wrote. Twenty keeps client-chosen ids on ``?upsert=true`` and its spreadsheet
import keeps UUID versions 1-5 (docs/twenty-contract.md §2.6, §6.3).
"""

from __future__ import annotations

import hashlib
import re
import uuid
from typing import Any

# A fixed root so that the same namespace string always yields the same id space.
_ROOT = uuid.UUID("6c1f2d0e-8a57-5b0f-9c7e-2f0c7a1f4d21")
_COLUMN = re.compile(r"\{([^{}]+)\}")
# Ids are asked for again and again for the same key (every reference to one company); a
# bounded memo keeps the hashing off the hot path without growing with the input.
_MEMO_LIMIT = 50_000


def namespace_uuid(namespace: str) -> uuid.UUID:
    """The UUID namespace for a migration: ``namespace`` may itself be a UUID or any text."""
    try:
        return uuid.UUID(namespace)
    except ValueError:
        return uuid.uuid5(_ROOT, namespace)


def key_text(value: object) -> str | None:
    """The canonical text of a source key, so that ``12``, ``12.0`` and ``" 12 "`` agree."""
    if value is None or isinstance(value, bool):
        return None if value is None else str(value).lower()
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    text = str(value).strip()
    return text or None


class KeyTemplate:
    """A record key from one column, several columns, or a ``"{col}"`` template."""

    __slots__ = ("_single", "columns", "template")

    def __init__(self, spec: str | list[str]) -> None:
        if isinstance(spec, list):
            self.template = ":".join(f"{{{c}}}" for c in spec)
        elif "{" in spec:
            self.template = spec
        else:
            self.template = f"{{{spec}}}"
        self.columns: list[str] = _COLUMN.findall(self.template)
        # "{id}": the key is the column's text itself, no formatting needed
        self._single = self.columns[0] if self.template == f"{{{self.columns[0]}}}" else None

    def render(self, record: dict) -> str | None:
        if self._single is not None:
            return key_text(record.get(self._single))
        values = {}
        for col in self.columns:
            text = key_text(record.get(col))
            if text is None:
                return None
            values[col] = text
        return self.template.format_map(values)

    def for_value(self, value: Any) -> str | None:
        """The key of a record whose single key column holds ``value`` (used by references)."""
        text = key_text(value)
        if text is None or len(self.columns) != 1 or self._single is not None:
            return text
        return self.template.format_map({self.columns[0]: text})


class IdFactory:
    """Computes record ids within one migration namespace and one source system."""

    def __init__(self, namespace: str, source: str) -> None:
        self._ns = namespace_uuid(namespace)
        self._source = source
        self._memo: dict[tuple[str, str], str] = {}

    def record_id(self, obj: str, key: str) -> str:
        """``str(uuid.uuid5(namespace, f"{source}:{obj}:{key}"))``, memoised."""
        memo = self._memo
        found = memo.get((obj, key))
        if found is None:
            if len(memo) >= _MEMO_LIMIT:
                memo.clear()
            digest = hashlib.sha1(
                self._ns.bytes + f"{self._source}:{obj}:{key}".encode(), usedforsecurity=False
            ).hexdigest()
            # RFC 4122 version 5 and variant bits, as uuid.uuid5 sets them
            found = memo[(obj, key)] = (
                f"{digest[:8]}-{digest[8:12]}-5{digest[13:16]}-"
                f"{(int(digest[16], 16) & 0x3 | 0x8):x}{digest[17:20]}-{digest[20:32]}"
            )
        return found
