"""Unnamed columns that are a Twenty standard field under another name (``LinkedIn URL`` →
``linkedinLink``), matched by rapidfuzz similarity of the column's words to the field's name and
label (crm2twenty_common.twenty.STANDARD_FIELDS), never by a hand-written scorer.

At :data:`MATCH` or above the column fills the standard field (when the rules leave it empty and
its type can be filled from one column); between :data:`NEAR` and :data:`MATCH`, or for a field
one column cannot fill (a currency, an address), the column stays a custom field and a reviewer is
asked.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from crm2twenty_common.twenty import STANDARD_FIELDS, label_case
from rapidfuzz import fuzz, process, utils

MATCH = 90
NEAR = 75


@dataclass(frozen=True)
class Match:
    field: str
    kind: str
    label: str
    score: float


def best(obj: str, column: str, taken: set[str]) -> Match | None:
    """The standard field of ``obj`` most like ``column`` (at least :data:`NEAR`), unless the
    rules already fill it (``taken``: the object's fields so far)."""
    fields = {n: f for n, f in STANDARD_FIELDS.get(obj, {}).items() if n not in taken}
    # words ("job title" ~ "title job"), and the words run together ("linked in" ~ "linkedin")
    words: dict[str, str] = {}
    for name, (_, label) in fields.items():
        words[label.lower()] = name
        words[label_case(name).lower()] = name
    if not words:
        return None
    joined = {_joined(w): name for w, name in words.items()}
    query = label_case(column).lower()
    hits = [
        (hit, choices)
        for hit, choices in (
            (process.extractOne(query, list(words), scorer=fuzz.token_sort_ratio), words),
            (process.extractOne(_joined(query), list(joined), scorer=fuzz.ratio), joined),
        )
        if hit is not None and hit[1] >= NEAR
    ]
    if not hits:
        return None
    hit, choices = max(hits, key=lambda h: h[0][1])
    name = choices[hit[0]]
    kind, label = fields[name]
    return Match(name, kind, label, round(hit[1]))


def _joined(text: str) -> str:
    return utils.default_process(text).replace(" ", "")


def rule(match: Match, column: str, properties: dict[str, Any]) -> tuple[str, dict] | None:
    """The field rule filling ``match`` from ``column``; None when one column cannot."""
    name, kind = match.field, match.kind
    if kind == "TEXT":
        return name, {"from": column, "transforms": ["trim"]}
    if kind == "LINKS":
        return f"{name}.primaryLinkUrl", {"from": column, "transforms": ["url"]}
    if kind == "EMAILS":
        return f"{name}.primaryEmail", {"from": column, "transforms": ["email"]}
    if kind in ("DATE_TIME", "DATE"):
        return name, {"from": column, "transforms": ["datetime" if kind == "DATE_TIME" else "date"]}
    if kind == "RICH_TEXT":
        return f"{name}.markdown", {"from": column, "transforms": ["markdown"]}
    if kind == "PHONES":
        country = next((c for c in ("country", "country_code") if c in properties), None)
        source = {"from_all": [column, country]} if country else {"from": column}
        return name, {**source, "transforms": ["phone"]}
    return None
