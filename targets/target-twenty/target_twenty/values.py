"""Checking values against their Twenty field type, and shaping them for the API or a CSV cell.

Twenty refuses a whole batch for one bad value (API) or drops the row on submit (spreadsheet
import), so a value is checked before it is written: a valid value is normalised, an invalid
one raises :class:`InvalidValue` and the record is repaired (field left empty, listed) or
rejected, by the ``on_invalid_value`` setting.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import uuid
from collections.abc import Callable
from decimal import Decimal
from typing import Any

from crm2twenty_common.twenty import is_email, is_url

_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
# What iso_datetime returns: a value already in this form is only checked, not re-formatted.
_CANONICAL = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z")
UUID_TEXT = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
_PHONE = re.compile(r"^[0-9 ()+.\-]{3,}$")
_CURRENCY = re.compile(r"^[A-Z]{3}$")


class InvalidValue(ValueError):
    pass


_AS_IS = frozenset({str, int, bool, float, type(None)})


def plain(value: Any) -> Any:
    """JSON-safe: Decimals (the SDK reads floats as Decimal) and datetimes become plain values."""
    cls = type(value)  # the exact types first: most values are, and this runs per value
    if cls in _AS_IS:
        return value
    if cls is dict:  # leaves inline: a call per leaf was most of this function's cost
        return {k: v if type(v) in _AS_IS else plain(v) for k, v in value.items()}
    if cls is list:
        return [v if type(v) in _AS_IS else plain(v) for v in value]
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, dt.datetime):
        return iso_datetime(value)
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [plain(v) for v in value]
    return value


def strip_nul(value: Any) -> tuple[Any, bool]:
    """The value without NUL characters (in its texts, composites and lists too), and whether
    it had any: PostgreSQL's text cannot hold one, so Twenty refuses it and a spreadsheet
    import cannot carry it (Python 3.10's csv module refuses to write it)."""
    if isinstance(value, str):
        return (value.replace("\x00", ""), True) if "\x00" in value else (value, False)
    if isinstance(value, dict):
        pairs = {k: strip_nul(v) for k, v in value.items()}
        return {k: v for k, (v, _) in pairs.items()}, any(c for _, c in pairs.values())
    if isinstance(value, list):
        items = [strip_nul(v) for v in value]
        return [v for v, _ in items], any(c for _, c in items)
    return value, False


def iso_datetime(value: Any) -> str:
    """ISO 8601 in UTC with ``Z``: the form Twenty asks for (``YYYY-MM-DDTHH:mm:ssZ``)."""
    if isinstance(value, str):
        text = value.strip()
        if _CANONICAL.fullmatch(text):
            try:
                dt.datetime.fromisoformat(text[:-1])  # a real date and time (not 2024-02-30)
            except ValueError as exc:
                raise InvalidValue(f"{value!r} is not an ISO 8601 date-time") from exc
            return text
        if _DATE.match(text):
            value = dt.datetime.fromisoformat(text + "T00:00:00+00:00")
        else:
            try:
                value = dt.datetime.fromisoformat(
                    text[:-1] + "+00:00" if text.endswith(("Z", "z")) else text
                )
            except ValueError as exc:
                raise InvalidValue(f"{value!r} is not an ISO 8601 date-time") from exc
    if not isinstance(value, dt.datetime):
        raise InvalidValue(f"{value!r} is not a date-time")
    if value.tzinfo is None:
        value = value.replace(tzinfo=dt.timezone.utc)
    return value.astimezone(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def _number(value: Any) -> int | float:
    if isinstance(value, bool):
        raise InvalidValue(f"{value!r} is not a number")
    if isinstance(value, int | float | Decimal):
        return plain(value) if isinstance(value, Decimal) else value
    try:
        d = Decimal(str(value).strip())
    except Exception as exc:
        raise InvalidValue(f"{value!r} is not a number") from exc
    return plain(d)


def _email(value: Any) -> str:
    text = str(value).strip().lower()
    if not is_email(text):
        raise InvalidValue(f"{value!r} is not a valid e-mail address")
    return text


def _composite(value: Any, primary: str) -> dict:
    if isinstance(value, dict):
        return {
            k: v if type(v) in _AS_IS else plain(v)
            for k, v in value.items()
            if v not in (None, "", [])
        }
    return {primary: plain(value)}


def _text(kind: str) -> Normaliser:
    def text(value: Any) -> Any:
        if type(value) is str:
            return value
        if isinstance(value, dict | list):
            raise InvalidValue(f"{kind} value cannot be {type(value).__name__}")
        return str(plain(value))

    return text


def _boolean(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in ("true", "false"):
        return text == "true"
    raise InvalidValue(f"{value!r} is not a boolean")


def _date(value: Any) -> str:
    text = plain(value)
    text = text[:10] if isinstance(text, str) and len(text) >= 10 else text
    if not isinstance(text, str) or not _DATE.match(text):
        raise InvalidValue(f"{value!r} is not a date (YYYY-MM-DD)")
    try:
        dt.date.fromisoformat(text)
    except ValueError as exc:
        raise InvalidValue(f"{value!r} is not a date") from exc
    return text


def _uuid(value: Any) -> str:
    if type(value) is str and UUID_TEXT.fullmatch(value):
        return value  # already as str(uuid.UUID(value)) writes it
    try:
        return str(uuid.UUID(str(value)))
    except ValueError as exc:
        raise InvalidValue(f"{value!r} is not a UUID") from exc


def _items(value: Any) -> list[str] | None:
    items = value if isinstance(value, list) else [value]
    return [str(plain(v)) for v in items if v not in (None, "")] or None


def _emails(value: Any) -> dict | None:
    emails = _composite(value, "primaryEmail")
    if "primaryEmail" in emails:
        emails["primaryEmail"] = _email(emails["primaryEmail"])
    if "additionalEmails" in emails:
        emails["additionalEmails"] = [_email(e) for e in emails["additionalEmails"]]
    return emails or None


def _links(value: Any) -> dict | None:
    links = _composite(value, "primaryLinkUrl")
    url = links.get("primaryLinkUrl")
    if url is not None and not is_url(str(url)):
        raise InvalidValue(f"{url!r} is not a URL")
    return links or None


def _phones(value: Any) -> dict | None:
    phones = _composite(value, "primaryPhoneNumber")
    number = phones.get("primaryPhoneNumber")
    if number is not None and not _PHONE.match(str(number)):
        raise InvalidValue(f"{number!r} is not a phone number")
    return phones or None


def _currency(value: Any) -> dict | None:
    money = _composite(value, "amountMicros")
    if "amountMicros" in money:
        money["amountMicros"] = int(_number(money["amountMicros"]))
    code = money.get("currencyCode")
    if code is not None and not _CURRENCY.match(str(code)):
        raise InvalidValue(f"{code!r} is not an ISO 4217 currency code")
    return money if "amountMicros" in money else None


def _full_name(value: Any) -> dict | None:
    if isinstance(value, str):
        first, _, last = value.strip().rpartition(" ")
        return {"firstName": first or last, "lastName": last if first else ""}
    return _composite(value, "firstName") or None


def _rich_text(value: Any) -> dict | None:
    return _composite(value, "markdown") or None


def _address(value: Any) -> dict | None:
    return _composite(value, "addressStreet1") or None


Normaliser = Callable[[Any], Any]

_NORMALISERS: dict[str, Normaliser] = {
    "TEXT": _text("TEXT"),
    "SELECT": _text("SELECT"),
    "RATING": _text("RATING"),
    "NUMBER": _number,
    "NUMERIC": _number,
    "BOOLEAN": _boolean,
    "DATE_TIME": iso_datetime,
    "DATE": _date,
    "UUID": _uuid,
    "RELATION": _uuid,
    "MULTI_SELECT": _items,
    "ARRAY": _items,
    "EMAILS": _emails,
    "LINKS": _links,
    "PHONES": _phones,
    "CURRENCY": _currency,
    "FULL_NAME": _full_name,
    "ADDRESS": _address,
}


# The kinds whose normaliser returns a text value as it is.
TEXT_KINDS = frozenset({"TEXT", "SELECT", "RATING"})


def normaliser(kind: str) -> Normaliser:
    """The function that checks and normalises a non-null value of ``kind`` (what
    ``normalise`` calls; looked up once per field, not once per value)."""
    found = _NORMALISERS.get(kind)
    if found is not None:
        return found
    return _rich_text if kind.startswith("RICH_TEXT") else plain


def normalise(kind: str, value: Any) -> Any:
    """The value ready for Twenty, or :class:`InvalidValue`; ``None`` stays ``None``."""
    if value is None:
        return None
    return normaliser(kind)(value)


def verbatim(kind: str, value: Any) -> str:
    """A value as one text, for its ``<field>Raw`` field when Twenty would refuse it: text as
    it came; a phone as ``+44 7700900123`` (each number of the field, ``; ``-joined); e-mails
    likewise; anything else as JSON."""
    value = plain(value)
    if isinstance(value, str):
        return value
    if kind == "PHONES" and isinstance(value, dict):
        numbers = [
            (value.get("primaryPhoneCallingCode"), value.get("primaryPhoneNumber")),
            *(
                (p.get("callingCode"), p.get("number"))
                for p in value.get("additionalPhones") or []
                if isinstance(p, dict)
            ),
        ]
        return "; ".join(" ".join(str(x) for x in pair if x) for pair in numbers if pair[1])
    if kind == "EMAILS" and isinstance(value, dict):
        found = [value.get("primaryEmail"), *(value.get("additionalEmails") or [])]
        return "; ".join(str(e) for e in found if e)
    return json.dumps(value, ensure_ascii=False, default=str)


# The import wants number, country code and calling code together.
ALWAYS_TOGETHER = {
    "PHONES": ("primaryPhoneNumber", "primaryPhoneCountryCode", "primaryPhoneCallingCode")
}


def csv_cell(kind: str, sub: str | None, value: Any) -> str:
    """One spreadsheet-import cell (units for money, JSON for lists, ``true``/``false``)."""
    if value is None or value == "":
        return ""
    if kind == "CURRENCY" and sub == "amountMicros":
        units = Decimal(int(value)) / Decimal(1_000_000)
        text = format(units.normalize(), "f")
        return text
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list | dict):
        return json.dumps(value, ensure_ascii=False)
    return str(value)


FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_NUMERIC = re.compile(r"^[+-]?(\d[\d\s().\-/]*)?\.?\d*$")


def neutralise(cell: str) -> tuple[str, bool]:
    """Defuse spreadsheet formula injection (OWASP CSV injection): a cell that starts with
    ``= + - @`` tab or CR gets a leading apostrophe, unless it is a plain number or phone
    number (``-12.5``, ``+44 20 7946 0958``), which spreadsheets do not evaluate as formulas."""
    if cell and cell[0] in FORMULA_START and not _NUMERIC.match(cell):
        return "'" + cell, True
    return cell, False
