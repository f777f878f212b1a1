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
from collections.abc import Callable
from typing import Any

# A fixed root so that the same namespace string always yields the same id space.
_ROOT = uuid.UUID("6c1f2d0e-8a57-5b0f-9c7e-2f0c7a1f4d21")
_COLUMN = re.compile(r"\{([^{}]+)\}")
# Ids are asked for again and again for the same key (every reference to one company); a
# bounded memo per object keeps the hashing off the hot path without growing with the input.
_MEMO_LIMIT = 10_000


def namespace_uuid(namespace: str) -> uuid.UUID:
    """The UUID namespace for a migration: ``namespace`` may itself be a UUID or any text."""
    try:
        return uuid.UUID(namespace)
    except ValueError:
        return uuid.uuid5(_ROOT, namespace)


def key_text(value: object) -> str | None:
    """The canonical text of a source key, so that ``12``, ``12.0`` and ``" 12 "`` agree."""
    if type(value) is str:  # the commonest case first: this runs for every key and reference
        return value.strip() or None
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
        self._makers: dict[str, Callable[[str], str]] = {}

    def record_id(self, obj: str, key: str) -> str:
        """``str(uuid.uuid5(namespace, f"{source}:{obj}:{key}"))``."""
        return self.for_object(obj)(key)

    def for_object(self, obj: str) -> Callable[[str], str]:
        """:meth:`record_id` of one object: key → id, memoised. The hash of the id's fixed
        prefix (namespace, source, object) is computed once and copied for each key."""
        maker = self._makers.get(obj)
        if maker is None:
            prefix = hashlib.sha1(
                self._ns.bytes + f"{self._source}:{obj}:".encode(), usedforsecurity=False
            )
            maker = self._makers[obj] = _id_maker(prefix)
        return maker


# The RFC 4122 variant bits (10xx) over the digest's 17th hex digit, as uuid.uuid5 sets them.
_VARIANT = {d: "89ab"[int(d, 16) & 0x3] for d in "0123456789abcdef"}


def _id_maker(prefix: Any) -> Callable[[str], str]:
    memo: dict[str, str] = {}

    def record_id(key: str) -> str:
        found = memo.get(key)
        if found is None:
            if len(memo) >= _MEMO_LIMIT:
                memo.clear()
            sha = prefix.copy()
            sha.update(key.encode())
            d = sha.hexdigest()
            # version 5 in the 13th hex digit, the variant in the 17th
            found = memo[key] = (
                f"{d[:8]}-{d[8:12]}-5{d[13:16]}-{_VARIANT[d[16]]}{d[17:20]}-{d[20:32]}"
            )
        return found

    return record_id
