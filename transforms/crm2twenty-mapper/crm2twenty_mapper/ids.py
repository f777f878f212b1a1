"""Deterministic record ids.

Every Twenty record id is a UUIDv5 of (migration namespace, source, object, source key), and every
reference is computed the same way from the referenced record's key. So a re-run upserts the same
ids (no duplicates), relations are known before their parent is written, and a rollback knows
exactly what a run wrote. Twenty keeps client-chosen ids on ``?upsert=true`` and its spreadsheet
import keeps UUID versions 1-5 (docs/twenty-contract.md §2.6, §6.3).
"""

from __future__ import annotations

import uuid

# A fixed root so that the same namespace string always yields the same id space.
_ROOT = uuid.UUID("6c1f2d0e-8a57-5b0f-9c7e-2f0c7a1f4d21")


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


class IdFactory:
    """Computes record ids within one migration namespace and one source system."""

    def __init__(self, namespace: str, source: str) -> None:
        self._ns = namespace_uuid(namespace)
        self._source = source

    def record_id(self, obj: str, key: str) -> str:
        return str(uuid.uuid5(self._ns, f"{self._source}:{obj}:{key}"))
