"""Atomic CRM's pick-lists (deal stages and categories, task types, note statuses, company
sectors), which live outside the data: the `configuration` table, else a file the user gives
(their App.tsx, or JSON/YAML), else Atomic's own defaults — as Atomic itself merges its stored
configuration over the defaults, key by key."""

from __future__ import annotations

import json
import re
import typing as t
from dataclasses import dataclass, field
from pathlib import Path

import yaml

# kind → the (stream, column) pairs whose values it lists
KINDS: dict[str, tuple[tuple[str, str], ...]] = {
    "dealStages": (("deals", "stage"),),
    "dealCategories": (("deals", "category"),),
    "taskTypes": (("tasks", "type"),),
    "noteStatuses": (("contact_notes", "status"), ("contacts", "status")),
    "companySectors": (("companies", "sector"),),
}

# docs/sources.md §2.2: Atomic's defaultConfiguration.ts uses USD when nothing else is set
DEFAULT_CURRENCY = "USD"

# Atomic's default pick-lists, values and labels as Atomic shows them, in its order
# (docs/sources.md §2.2 and §2.6: root/defaultConfiguration.ts at dce557e).
DEFAULTS: dict[str, tuple[tuple[str, str], ...]] = {
    "dealStages": (
        ("opportunity", "Opportunity"),
        ("proposal-sent", "Proposal Sent"),
        ("in-negociation", "In Negotiation"),
        ("won", "Won"),
        ("lost", "Lost"),
        ("delayed", "Delayed"),
    ),
    "dealCategories": (
        ("other", "Other"),
        ("copywriting", "Copywriting"),
        ("print-project", "Print project"),
        ("ui-design", "UI Design"),
        ("website-design", "Website design"),
    ),
    "noteStatuses": (
        ("cold", "Cold"),
        ("warm", "Warm"),
        ("hot", "Hot"),
        ("in-contract", "In Contract"),
    ),
    "taskTypes": (
        ("none", "None"),
        ("email", "Email"),
        ("demo", "Demo"),
        ("lunch", "Lunch"),
        ("meeting", "Meeting"),
        ("follow-up", "Follow-up"),
        ("thank-you", "Thank you"),
        ("ship", "Ship"),
        ("call", "Call"),
    ),
    "companySectors": (
        ("communication-services", "Communication Services"),
        ("consumer-discretionary", "Consumer Discretionary"),
        ("consumer-staples", "Consumer Staples"),
        ("energy", "Energy"),
        ("financials", "Financials"),
        ("health-care", "Health Care"),
        ("industrials", "Industrials"),
        ("information-technology", "Information Technology"),
        ("materials", "Materials"),
        ("real-estate", "Real Estate"),
        ("utilities", "Utilities"),
    ),
}
# Atomic's note status colours (the only defaults with one), kept in the configuration record
DEFAULT_COLORS = {"cold": "#7dbde8", "warm": "#e8cb7d", "hot": "#e88b7d", "in-contract": "#a4e87d"}

FROM_TABLE = "configuration table"
DEFAULTED = "Atomic CRM's defaults"


class EnumerationFileError(Exception):
    pass


def normalise(items: t.Any) -> list[dict]:
    """`["a", …]` or `[{value, label, color?}, …]` → `[{value, label[, color]}, …]`."""
    if not isinstance(items, list):
        return []
    out: list[dict] = []
    for item in items:
        if isinstance(item, dict):
            value = item.get("value", item.get("id", item.get("label")))
            if value is None or str(value).strip() == "":
                continue
            entry = {"value": str(value), "label": str(item.get("label") or value)}
            if item.get("color"):
                entry["color"] = str(item["color"])
            out.append(entry)
        elif item is not None and str(item).strip():
            out.append({"value": str(item), "label": str(item)})
    return out


def _js_literal(text: str, start: int) -> str:
    """The balanced `{…}` expression of a JSX prop starting at ``text[start] == '{'``."""
    depth, quote, i = 0, None, start
    while i < len(text):
        ch = text[i]
        if quote:
            if ch == "\\":
                i += 1
            elif ch == quote:
                quote = None
        elif ch in "'\"`":
            quote = ch
        elif ch in "{[(":
            depth += 1
        elif ch in "}])":
            depth -= 1
            if depth == 0:
                return text[start + 1 : i]
        i += 1
    raise EnumerationFileError("unbalanced braces")


def read_app_tsx(text: str) -> dict:
    """The pick-list props of `<CRM …>` in App.tsx.

    Each prop is a JavaScript array literal of strings or `{ value, label }` objects, as in
    Atomic's doc (developer/customizing.md). Such a literal is valid YAML flow syntax once
    comments and trailing commas are dropped, so it is read with a YAML parser — no code runs.
    Props built from variables or function calls cannot be read: export them as JSON instead."""
    text = re.sub(r"/\*.*?\*/", "", text, flags=re.S)
    text = re.sub(r"(^|\s)//[^\n]*", r"\1", text)
    found: dict[str, t.Any] = {}
    for name in [*KINDS, "currency", "defaultCurrency"]:
        match = re.search(rf"\b{name}\s*=\s*", text)
        if not match:
            continue
        at = match.end()
        if text[at] in "'\"":
            found[name] = text[at + 1 : text.index(text[at], at + 1)]
            continue
        if text[at] != "{":
            continue
        literal = _js_literal(text, at)
        literal = re.sub(r",(\s*[\]}])", r"\1", literal)
        try:
            found[name] = yaml.safe_load(literal)
        except yaml.YAMLError as exc:
            # only a MarkedYAMLError (most, not all, YAMLErrors) has `problem`
            problem = getattr(exc, "problem", None) or exc
            raise EnumerationFileError(
                f"the {name} prop is not a literal list this tap can read ({problem})"
            ) from None
    return found


def read_file(path: str) -> dict:
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except OSError as exc:
        raise EnumerationFileError(f"cannot read {path}: {exc.strerror}") from None
    try:
        if p.suffix.lower() == ".json":
            data = json.loads(text)
        elif p.suffix.lower() in (".yml", ".yaml"):
            data = yaml.safe_load(text)
        else:
            data = read_app_tsx(text)
    except (json.JSONDecodeError, yaml.YAMLError) as exc:
        raise EnumerationFileError(f"{path} is not valid JSON/YAML: {exc}") from None
    except EnumerationFileError as exc:
        raise EnumerationFileError(f"{path}: {exc}") from None
    if not isinstance(data, dict):
        raise EnumerationFileError(f"{path} must hold an object of pick-lists (dealStages, …)")
    return data


@dataclass
class Enumerations:
    items: dict[str, list[dict]] = field(default_factory=dict)
    sources: dict[str, str] = field(default_factory=dict)
    currency: str = DEFAULT_CURRENCY
    config: dict = field(default_factory=dict)  # the configuration row as stored

    def label(self, kind: str, value: t.Any) -> str | None:
        if value is None or str(value) == "":
            return None
        for item in self.items.get(kind, []):
            if item["value"] == str(value):
                return item["label"]
        return str(value)  # not configured (e.g. removed since): keeps its own value

    def record(self) -> dict:
        return {
            "id": 1,
            "config": self.config,
            "enumerations": self.items,
            "enumeration_sources": self.sources,
            "currency": self.currency,
        }

    def notices(self) -> list[str]:
        return [f"Atomic CRM {kind}: {source}." for kind, source in self.sources.items()]

    def unlisted(self, kind: str, used: list[str]) -> list[str]:
        """The values of ``used`` (found in the data) that ``kind``'s pick-list lacks."""
        listed = {item["value"] for item in self.items.get(kind, [])}
        return [v for v in used if v not in listed]


def defaults(kind: str) -> list[dict]:
    out: list[dict] = []
    for value, label in DEFAULTS[kind]:
        item = {"value": value, "label": label}
        if kind == "noteStatuses":
            item["color"] = DEFAULT_COLORS[value]
        out.append(item)
    return out


def resolve(config_row: dict | None, file_path: str | None) -> Enumerations:
    """Per kind: the configuration table, else the file, else Atomic's defaults."""
    table = config_row if isinstance(config_row, dict) else {}
    from_file = read_file(file_path) if file_path else {}
    result = Enumerations(config=table)
    for kind in KINDS:
        if normalise(table.get(kind)):
            result.items[kind] = normalise(table[kind])
            result.sources[kind] = FROM_TABLE
        elif normalise(from_file.get(kind)):
            result.items[kind] = normalise(from_file[kind])
            result.sources[kind] = f"file {Path(str(file_path)).name}"
        else:
            result.items[kind] = defaults(kind)
            result.sources[kind] = DEFAULTED
        for position, item in enumerate(result.items[kind]):
            item["position"] = position
    for source in (table, from_file):
        currency = source.get("currency") or source.get("defaultCurrency")
        if isinstance(currency, str) and currency.strip():
            result.currency = currency.strip().upper()
            break
    return result
