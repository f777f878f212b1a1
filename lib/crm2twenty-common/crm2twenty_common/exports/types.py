"""Column types, inferred from a sample of rows, and the converters that apply them.

Exports carry text; a migration wants numbers, booleans and dates. Each column gets the first
type, in this order, that fits every non-empty value of the sample:

- ``integer``: ``-?digits``, no leading zero, at most 15 digits (longer ones are ids or card
  numbers, not quantities);
- ``number``: ``-?digits.digits``, no leading zero in the whole part, at most 15 digits in it;
- ``boolean``: true/false, yes/no, y/n, 1/0 in any case (a column of only 0 and 1 is integer);
- ``date`` / ``date-time``: ISO 8601 (``2021-03-04``, ``2021-03-04T14:05:00Z``, ``+02:00``,
  ``2021-03-04 14:05[:SS]``), slashed or dotted (``03/04/2021``, ``03.04.2021 14:05``, and
  year-first ``2021/03/04``), or the explicit strptime ``date_format``;
- else ``string``.

So zip codes and phone numbers (``01234``, ``0612…``, ``+44…``) stay strings: a leading zero or
``+`` is never a number. Thousands separators and decimal commas (``1,5``) stay strings too.

Slashed dates are ambiguous. ``date_format`` says how to read them: ``auto`` decides per column
from the sample (a first part above 12 means day-first, a second part above 12 month-first;
neither: month-first, with a warning naming the column), ``dayfirst``, ``monthfirst``, or a
strptime format (ISO values are accepted beside it).

Output: dates ``YYYY-MM-DD``; date-times ISO 8601 in UTC (``2021-03-04T14:05:00+00:00``): a
time without an offset is taken as UTC, one with an offset is converted. Emitting one offset
keeps the bookmark (the SDK compares replication values as strings) and the target simple.

Not python-dateutil's parser: it says nothing of which parts a slashed date has, which inference
needs (a part above 12 decides the order), and it is lenient where these are strict: with
``dayfirst`` it still reads ``02/13/2024`` as 13 February, fills what is missing from today
(``5`` is the 5th of this month), and it is about 18 times slower per value than these checks.

Inferred types are strict: a value after the sample that does not fit makes its row a bad row
(its reason says to set ``column_types``); nothing is silently changed. A type forced with
``column_types`` is lenient where the user has said what they want (``integer`` accepts
``007`` and ``+5``, ``number`` accepts ``1e3``, ``date`` keeps the date part of a date-time).
"""

from __future__ import annotations

import datetime as dt
import math
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, Literal

STRING, INTEGER, NUMBER, BOOLEAN, DATE, DATE_TIME = (
    "string",
    "integer",
    "number",
    "boolean",
    "date",
    "date-time",
)
TYPES = (STRING, INTEGER, NUMBER, BOOLEAN, DATE, DATE_TIME)
DATE_MODES = ("auto", "dayfirst", "monthfirst")
DMY, MDY = "day-first", "month-first"

_BOOLEANS = {
    "true": True,
    "yes": True,
    "y": True,
    "1": True,
    "false": False,
    "no": False,
    "n": False,
    "0": False,
}
_TIME_DIRECTIVES = ("%H", "%I", "%M", "%S", "%f", "%p", "%X", "%c", "%T", "%R", "%z")
_MAX_INFERRED_DIGITS = 15
UTC = dt.timezone.utc

# ISO date-times beyond the plain `YYYY-MM-DD[ T]HH:MM:SS` (which Python parses directly):
# `Z`, `+HHMM`, `+HH`, 1–9 fraction digits, one-digit hours. Normalised to what
# `datetime.fromisoformat` accepts on every Python from 3.10.
_ISO_DT = re.compile(
    r"(\d{4}-\d{2}-\d{2})[T ](\d{1,2}):(\d{2})(?::(\d{2})(?:[.,](\d{1,9}))?)?"
    r"\s*(?:([Zz])|([+-])(\d{2}):?(\d{2})?)?",
    re.ASCII,
)


class CastError(ValueError):
    """A value that does not fit its column's type."""


def date_format_setting(value: str | None) -> str:
    """A validated ``date_format``: a mode of :data:`DATE_MODES` or a strptime format."""
    if not value:
        return "auto"
    if value in DATE_MODES or "%" in value:
        return value
    raise ValueError(
        f"date_format {value!r} is neither one of {', '.join(DATE_MODES)} nor a "
        "strptime format such as %d.%m.%Y"
    )


def type_setting(value: str) -> str:
    """A validated type name of the ``column_types`` setting."""
    if value not in TYPES:
        raise ValueError(f"unknown column type {value!r} (use one of {', '.join(TYPES)})")
    return value


@dataclass(frozen=True)
class ColumnType:
    """A column's type; for dates also how to read slashed dates (``order``: :data:`DMY`,
    :data:`MDY` or None when the sample did not say) and an explicit strptime ``fmt``.
    ``forced``: set by ``column_types`` (lenient converters)."""

    kind: str
    order: str | None = None
    fmt: str | None = None
    forced: bool = False

    def json_schema(self, *, nullable: bool = True) -> dict[str, Any]:
        json_type = "string" if self.kind in (DATE, DATE_TIME) else self.kind
        schema: dict[str, Any] = {"type": [json_type, "null"] if nullable else json_type}
        if self.kind in (DATE, DATE_TIME):
            schema["format"] = self.kind
        return schema

    def describe(self) -> str:
        if self.kind not in (DATE, DATE_TIME):
            return self.kind
        how = f"format {self.fmt}" if self.fmt else self.order
        return f"{self.kind} ({how})" if how else self.kind


# ---- literal checks (cheap string methods, no regex on the common paths) -------------------


def _digits(text: str) -> str:
    return text[1:] if text[:1] == "-" else text


def is_integer_literal(text: str) -> bool:
    """``-?digits`` without a leading zero (``0`` itself is fine)."""
    d = _digits(text)
    return d.isdigit() and d.isascii() and (d[0] != "0" or len(d) == 1)


def is_decimal_literal(text: str) -> bool:
    """``-?digits[.digits]`` or ``-?.digits``, without a leading zero in the whole part."""
    whole, dot, frac = _digits(text).partition(".")
    if dot and not (frac.isdigit() and frac.isascii()):
        return False
    if not whole:
        return bool(dot)
    return whole.isdigit() and whole.isascii() and (whole[0] != "0" or len(whole) == 1)


def _split_date_time(text: str) -> tuple[str, str]:
    date_part, _, time_part = text.partition(" ")
    return date_part, time_part.strip()


def _slashed_parts(date_part: str) -> tuple[int, int, int, bool] | None:
    """``(p1, p2, p3, year_first)`` of ``03/04/2021``, ``3.4.2021`` or ``2021/03/04``."""
    sep = "/" if "/" in date_part else "." if "." in date_part else None
    if sep is None:
        return None
    parts = date_part.split(sep)
    if len(parts) != 3 or not all(p.isdigit() and p.isascii() for p in parts):
        return None
    a, b, c = parts
    if len(a) == 4 and len(b) <= 2 and len(c) <= 2:
        return int(a), int(b), int(c), True
    if len(a) <= 2 and len(b) <= 2 and len(c) == 4:
        return int(a), int(b), int(c), False
    return None


def _clock(time_part: str) -> tuple[int, int, int] | None:
    """``HH:MM`` or ``HH:MM:SS`` (one-digit hours too)."""
    parts = time_part.split(":")
    if not 2 <= len(parts) <= 3 or not all(p.isdigit() and p.isascii() for p in parts):
        return None
    if len(parts[0]) > 2 or any(len(p) != 2 for p in parts[1:]):
        return None
    hour, minute, second = (int(p) for p in (*parts, "0")[:3])
    if hour > 23 or minute > 59 or second > 59:
        return None
    return hour, minute, second


def parse_iso_datetime(text: str) -> dt.datetime:
    """An ISO 8601 date-time (see :data:`_ISO_DT`); raises ValueError. Naive stays naive."""
    if len(text) == 19 and text[13] == ":" and text[16] == ":" and text[10] in "T ":
        return dt.datetime.fromisoformat(text)  # the common export shape, parsed in C
    m = _ISO_DT.fullmatch(text)
    if not m:
        raise ValueError(text)
    day, hour, minute, second, frac, zulu, sign, off_h, off_m = m.groups()
    iso = f"{day}T{int(hour):02d}:{minute}:{second or '00'}"
    if frac:
        iso += "." + frac[:6].ljust(6, "0")
    if zulu:
        iso += "+00:00"
    elif sign:
        iso += f"{sign}{off_h}:{off_m or '00'}"
    return dt.datetime.fromisoformat(iso)


def _is_iso_date(text: str) -> bool:
    return len(text) == 10 and text[4] == "-" and text[7] == "-"


def _looks_iso_datetime(text: str) -> bool:
    return len(text) >= 15 and text[4] == "-" and text[7] == "-" and text[10] in "T "


def _has_time_directive(fmt: str) -> bool:
    return any(d in fmt for d in _TIME_DIRECTIVES)


# ---- inference -------------------------------------------------------------------------------


class _DateEvidence:
    """What the sample says about a column as dates."""

    __slots__ = ("day_first_seen", "fits", "fmt", "has_time", "month_first_seen", "slashed")

    def __init__(self, fmt: str | None) -> None:
        self.fits = True
        self.has_time = False
        self.slashed = False
        self.day_first_seen = False  # a first part above 12
        self.month_first_seen = False  # a second part above 12
        self.fmt = fmt

    def add(self, text: str) -> None:
        if self.fmt:
            try:
                dt.datetime.strptime(text, self.fmt)
            except ValueError:
                pass
            else:
                self.has_time |= _has_time_directive(self.fmt)
                return
        if _is_iso_date(text):
            try:
                dt.date.fromisoformat(text)
            except ValueError:
                self.fits = False
            return
        if _looks_iso_datetime(text):
            try:
                parse_iso_datetime(text)
            except ValueError:
                self.fits = False
            else:
                self.has_time = True
            return
        date_part, time_part = _split_date_time(text)
        parts = _slashed_parts(date_part)
        if parts is None or (time_part and _clock(time_part) is None):
            self.fits = False
            return
        self.has_time |= bool(time_part)
        a, b, year, year_first = parts
        try:
            if year_first:
                dt.date(a, b, year)
                return
            if a > 12:
                dt.date(year, b, a)
                self.day_first_seen = True
            elif b > 12:
                dt.date(year, a, b)
                self.month_first_seen = True
            else:
                dt.date(year, a, b)
            self.slashed = True
        except ValueError:
            self.fits = False


def infer_type(
    values: Iterable[str],
    date_format: str = "auto",
    *,
    column: str = "column",
    warn: Callable[[str], None] | None = None,
) -> ColumnType:
    """The first type that fits every non-empty value of a column's sample.

    ``warn`` receives a message when slashed dates are ambiguous or contradictory (it names
    ``column``).
    """
    fmt = None if date_format in DATE_MODES else date_format
    integer = number = boolean = True
    dates = _DateEvidence(fmt)
    seen = False
    for value in values:
        text = value.strip()
        if not text:
            continue
        seen = True
        if integer and not (
            is_integer_literal(text) and len(_digits(text)) <= _MAX_INFERRED_DIGITS
        ):
            integer = False
        if number and not (
            is_decimal_literal(text)
            and len(_digits(text).partition(".")[0]) <= _MAX_INFERRED_DIGITS
        ):
            number = False
        if boolean and text.lower() not in _BOOLEANS:
            boolean = False
        if dates.fits:
            dates.add(text)
        if not (integer or number or boolean or dates.fits):
            return ColumnType(STRING)
    if not seen:
        return ColumnType(STRING)
    if integer:
        return ColumnType(INTEGER)
    if number:
        return ColumnType(NUMBER)
    if boolean:
        return ColumnType(BOOLEAN)
    if dates.fits:
        order = date_order(dates, date_format, column, warn)
        if order is not False:
            return ColumnType(DATE_TIME if dates.has_time else DATE, order=order, fmt=fmt)
    return ColumnType(STRING)


def date_order(
    dates: _DateEvidence, date_format: str, column: str, warn: Callable[[str], None] | None
) -> str | Literal[False] | None:
    """How to read the column's slashed dates; False when the sample contradicts itself."""
    if date_format == "dayfirst":
        return DMY
    if date_format == "monthfirst":
        return MDY
    if date_format != "auto":
        return None
    if dates.day_first_seen and dates.month_first_seen:
        if warn:
            warn(
                f"{column}: slashed dates are day-first in some rows and month-first in others;"
                " the column is kept as text (set date_format or column_types to choose)"
            )
        return False
    if dates.day_first_seen:
        return DMY
    if dates.month_first_seen:
        return MDY
    if dates.slashed:
        if warn:
            warn(
                f"{column}: no slashed date in the sample has a part above 12, so day-first and"
                " month-first both fit; reading them month-first (set date_format or "
                "date_formats to be sure)"
            )
        return MDY
    return None


def forced_type(
    kind: str,
    values: Iterable[str],
    date_format: str = "auto",
    *,
    column: str = "column",
    warn: Callable[[str], None] | None = None,
) -> ColumnType:
    """The type ``column_types`` sets; for dates the sample still decides day/month order."""
    kind = type_setting(kind)
    if kind not in (DATE, DATE_TIME):
        return ColumnType(kind, forced=True)
    fmt = None if date_format in DATE_MODES else date_format
    dates = _DateEvidence(fmt)
    for value in values:
        text = value.strip()
        if text and dates.fits:
            dates.add(text)
    order = date_order(dates, date_format, column, warn) if dates.fits else None
    return ColumnType(kind, order=order if isinstance(order, str) else None, fmt=fmt, forced=True)


# ---- converters ------------------------------------------------------------------------------


def _to_utc_iso(when: dt.datetime) -> str:
    when = when.replace(tzinfo=UTC) if when.tzinfo is None else when.astimezone(UTC)
    return when.isoformat()


def _read_when(text: str, ctype: ColumnType) -> dt.datetime | dt.date:
    """A date or date-time from any accepted spelling; raises ValueError."""
    if ctype.fmt:
        try:
            parsed = dt.datetime.strptime(text, ctype.fmt)
        except ValueError:
            pass
        else:
            return parsed if _has_time_directive(ctype.fmt) else parsed.date()
    if _is_iso_date(text):
        return dt.date.fromisoformat(text)
    if _looks_iso_datetime(text):
        return parse_iso_datetime(text)
    date_part, time_part = _split_date_time(text)
    parts = _slashed_parts(date_part)
    if parts is None:
        raise ValueError(text)
    a, b, year, year_first = parts
    if year_first:
        year, month, day = a, b, year
    else:
        order = ctype.order
        if order is None:  # the sample had no slashed date: only unambiguous ones are read
            order = DMY if a > 12 else MDY if b > 12 else None
            if order is None:
                raise ValueError(text)
        day, month = (a, b) if order == DMY else (b, a)
    if not time_part:
        return dt.date(year, month, day)
    clock = _clock(time_part)
    if clock is None:
        raise ValueError(text)
    return dt.datetime(year, month, day, *clock)


def converter(ctype: ColumnType) -> Callable[[str], Any]:
    """A function from a cell's text (non-empty) to the typed value, or None for whitespace;
    it raises :class:`CastError` when the text does not fit. Build once per column."""
    kind = ctype.kind
    if kind == STRING:
        return str
    if kind == INTEGER:
        return _lenient_integer if ctype.forced else _strict_integer
    if kind == NUMBER:
        return _lenient_number if ctype.forced else _strict_number
    if kind == BOOLEAN:
        return _boolean
    if kind == DATE:

        def to_date(text: str) -> str | None:
            text = text.strip()
            if not text:
                return None
            try:
                when = _read_when(text, ctype)
            except ValueError:
                raise CastError(text) from None
            if isinstance(when, dt.datetime):
                if not ctype.forced:
                    raise CastError(text)  # a time would be lost: not a date column after all
                when = when.date()
            return when.isoformat()

        return to_date

    def to_date_time(text: str) -> str | None:
        if (
            len(text) == 19
            and text[10] in "T "
            and text[13] == ":"
            and text[16] == ":"
            and text[4] == "-"
        ):
            # The common export shape, naive: validate in C and write the UTC form directly.
            try:
                dt.datetime.fromisoformat(text)
            except ValueError:
                raise CastError(text) from None
            return f"{text[:10]}T{text[11:]}+00:00"
        text = text.strip()
        if not text:
            return None
        try:
            when = _read_when(text, ctype)
        except ValueError:
            raise CastError(text) from None
        if not isinstance(when, dt.datetime):
            when = dt.datetime(when.year, when.month, when.day)
        return _to_utc_iso(when)

    return to_date_time


def _strict_integer(text: str) -> int | None:
    d = text[1:] if text[:1] == "-" else text  # is_integer_literal, inlined: a hot path
    if d.isdigit() and d.isascii() and (d[0] != "0" or len(d) == 1):
        return int(text)
    text = text.strip()
    if not text:
        return None
    if is_integer_literal(text):
        return int(text)
    raise CastError(text)


def _strict_number(text: str) -> int | float | None:
    if not is_decimal_literal(text):
        text = text.strip()
        if not text:
            return None
        if not is_decimal_literal(text):
            raise CastError(text)
    return float(text) if "." in text else int(text)


def _lenient_integer(text: str) -> int | None:
    text = text.strip()
    if not text:
        return None
    try:
        return int(text)
    except ValueError:
        pass
    value = _lenient_number(text)
    if isinstance(value, float) and not value.is_integer():
        raise CastError(text)
    return int(value)  # type: ignore[arg-type]


def _lenient_number(text: str) -> int | float | None:
    text = text.strip()
    if not text:
        return None
    try:
        return int(text)
    except ValueError:
        pass
    try:
        value = float(text)
    except ValueError:
        raise CastError(text) from None
    if not math.isfinite(value):
        raise CastError(text)
    return value


def _boolean(text: str) -> bool | None:
    try:
        return _BOOLEANS[text.lower()]
    except KeyError:
        pass
    text = text.strip().lower()
    if not text:
        return None
    try:
        return _BOOLEANS[text]
    except KeyError:
        raise CastError(text) from None
