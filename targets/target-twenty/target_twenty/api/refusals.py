"""Which fields of a record a Twenty refusal is about, from Twenty's own message.

A record our checks passed but Twenty refuses at write time is a gap in those checks: the loader
sends it again without the refused value (kept verbatim in its ``<field>Raw``), so the record and
the records that point at it still land. Twenty's messages seldom name the field: a message that
does (``… for field "stage"``) gives it; otherwise the message says which type's validation
refused it (phones: docs/twenty-contract.md §7), and every field of that type in the body is
the refused one.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from target_twenty.workspace import Obj

# Twenty v2.21's record-transformer messages (transform-phones-value.util.ts,
# docs/twenty-contract.md §7) and its value checks, by the field type they are about.
_BY_TYPE: tuple[tuple[re.Pattern[str], tuple[str, ...]], ...] = (
    (
        re.compile(
            r"calling code|country code|Provided phone number is invalid|phone", re.IGNORECASE
        ),
        ("PHONES",),
    ),
    (re.compile(r"Invalid URL|\burl\b", re.IGNORECASE), ("LINKS",)),
    (re.compile(r"e-?mail", re.IGNORECASE), ("EMAILS",)),
    (re.compile(r"date", re.IGNORECASE), ("DATE", "DATE_TIME")),
)
# `… for field "stage"`, `… for email field "emails.primaryEmail"` (a sub-field: its field)
_NAMED = re.compile(r'field "([A-Za-z0-9_]+)(?:\.[A-Za-z0-9_]+)?"')
# What differs from record to record in one cause's messages: the value it quotes.
_VALUE = re.compile(r"'[^']*'|\"[^\"]*\"|\+?\d[\d\s().+-]*")
# Fields the loader itself writes: never the refused value.
_OURS = frozenset({"id", "createdBy"})


@dataclass(frozen=True)
class Refusal:
    """The fields a refusal is about (Twenty names), and its cause (the message without the
    value it quotes, so that every record refused for one reason logs one line)."""

    fields: tuple[str, ...]
    cause: str


def refused_fields(message: str, obj: Obj, body: dict) -> Refusal | None:
    """The body's fields ``message`` refuses, or None when it says nothing we can tell a field
    by (a foreign key, a duplicate: the record is then rejected with that message)."""
    cause = _VALUE.sub("…", message).strip()
    named = _NAMED.search(message)
    if named and named.group(1) in body and named.group(1) not in _OURS:
        return Refusal((named.group(1),), cause)
    for pattern, kinds in _BY_TYPE:
        if pattern.search(message):
            found = tuple(
                name
                for name in body
                if name not in _OURS
                and (f := obj.fields.get(name)) is not None
                and f.type in kinds
                and body[name] not in (None, "", [], {})
            )
            return Refusal(found, cause) if found else None
    return None
