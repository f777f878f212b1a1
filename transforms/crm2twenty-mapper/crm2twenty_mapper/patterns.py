"""A new custom field's Twenty type, from its values when its JSON schema says only "text".

The taps already decide numbers, booleans and dates (day-first or month-first, from the values:
``crm2twenty_common.exports.types``); a column they typed keeps that type. A text column becomes:

- EMAILS when at least :data:`SHARE` of its sample values are e-mail addresses;
- a date or date-time when the exports' own type inference says so (a tap that passes text);
- LINKS when they are URLs;
- NUMBER when they are numbers with thousands separators, a decimal comma, a currency sign or a
  ``%`` (the ``number`` transform reads them; a leading zero or ``+`` is not a number);
- PHONES when they are phone numbers (read in the row's ``country`` column when it has one);
- SELECT when few distinct values repeat (a pick-list: at most :data:`MAX_OPTIONS` values, each
  seen :data:`MIN_REPEAT` times on average);
- else TEXT, as before.

:func:`classify` decides the kind (:class:`ValueKind`); the source profile (profile.py) reports
the same kind per column, with the share of all its values that parse as it.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from crm2twenty_common.exports.types import (
    DATE,
    DATE_TIME,
    DMY,
    CastError,
    ColumnType,
    converter,
    infer_type,
)
from crm2twenty_common.twenty import is_email, is_url, option_value

from crm2twenty_mapper.decisions import Confidence, pct
from crm2twenty_mapper.sampling import StreamSample

SHARE = 0.95
MAX_OPTIONS = 20
MIN_REPEAT = 3
_PHONE = re.compile(r"^\+?[\d\s().\-]{7,22}(\s*(x|ext\.?)\s*\d{1,5})?$", re.I)
_NUMBER = re.compile(
    r"^[-+]?[$€£¥]?\s?\d{1,3}([,. '\u00a0]\d{3})*([.,]\d+)?\s?(%|[$€£¥]|[A-Z]{3})?$"
)
_DOMAIN = re.compile(r"^(www\.)?([a-z0-9-]+\.)+[a-z]{2,}(/\S*)?$", re.I)


def _share(values: list[str], test: Any) -> float:
    return sum(1 for v in values if test(v)) / len(values) if values else 0.0


def _digits(text: str) -> int:
    return sum(c.isdigit() for c in text)


def _is_number(text: str) -> bool:
    """A number as people write it; a leading zero or ``+`` is a code or a phone, never one."""
    return bool(_NUMBER.match(text)) and not text.startswith(("0", "+0", "+"))


def _is_url(text: str) -> bool:
    """A URL with its scheme, or a bare host name ending in a word (``acme.co.uk/x``)."""
    if text.lower().startswith(("http://", "https://")):
        return is_url(text)
    return bool(_DOMAIN.match(text))


def _is_phone(text: str) -> bool:
    return bool(_PHONE.match(text)) and 7 <= _digits(text) <= 15


class ValueKind(str, enum.Enum):
    """What a text column's values are, in the order inference tries them."""

    EMAIL = "e-mail"
    DATE = "date"
    DATE_TIME = "date-time"
    URL = "URL"
    NUMBER = "number"
    PHONE = "phone"
    SELECT = "pick-list"
    TEXT = "text"


@dataclass(frozen=True)
class Classified:
    """A text column's kind, decided from its sample's values (``n`` of them, ``distinct``
    case-insensitively), with the share that parses as it."""

    kind: ValueKind
    share: float
    n: int
    distinct: int
    ctype: ColumnType | None = None  # a date column's type (its day/month order)

    def parses(self, text: str) -> bool:
        """Whether one value (stripped, non-empty) is of this kind."""
        return _tests(self)(text)


def _tests(c: Classified) -> Callable[[str], bool]:
    if c.kind in (ValueKind.DATE, ValueKind.DATE_TIME):
        assert c.ctype is not None
        read = converter(c.ctype)

        def test(text: str) -> bool:
            try:
                return read(text) is not None
            except CastError:
                return False

        return test
    return _TESTS.get(c.kind, lambda _text: True)


def classify(values: list[str], column: str) -> Classified:
    """The kind of a text column from its sample's stripped, non-empty ``values``."""
    n = len(values)
    distinct = len({v.lower() for v in values})
    share = _share(values, is_email)
    if share >= SHARE:
        return Classified(ValueKind.EMAIL, share, n, distinct)
    ctype = infer_type(values, column=column)
    if ctype.kind in (DATE, DATE_TIME):
        kind = ValueKind.DATE_TIME if ctype.kind == DATE_TIME else ValueKind.DATE
        return Classified(kind, 1.0, n, distinct, ctype)
    for kind in (ValueKind.URL, ValueKind.NUMBER):
        share = _share(values, _TESTS[kind])
        if share >= SHARE:
            return Classified(kind, share, n, distinct)
    share = _share(values, _is_phone)
    if share >= SHARE and any(not v.isdigit() for v in values):
        return Classified(ValueKind.PHONE, share, n, distinct)
    if distinct <= MAX_OPTIONS and n >= MIN_REPEAT * distinct:
        return Classified(ValueKind.SELECT, 1.0, n, distinct)
    return Classified(ValueKind.TEXT, 1.0, n, distinct)


def field_rule(
    path: str, spec: dict, column: str, col_schema: dict, sample: StreamSample
) -> tuple[str, dict, str, Confidence]:
    """``(path, spec, evidence, confidence)`` for a new custom field; ``path``/``spec`` as
    infer.py guessed them from the JSON schema, retyped when the values say more."""
    kind = str(spec.get("type", "TEXT"))
    values = [str(v).strip() for v in sample.values(column)]
    spec = dict(spec, type=kind)
    if kind != "TEXT" or not values:
        why = f"the tap typed it {kind}" if values else "no value in the sample"
        return path, spec, why, Confidence.HIGH if values else Confidence.LOW
    found = classify(values, column)
    n, share = found.n, found.share
    if found.kind is ValueKind.EMAIL:
        spec = _retype(spec, None, ["email"])
        return f"{path}.primaryEmail", spec, f"{pct(share)} of {n} values are e-mails", _conf(share)
    if found.ctype is not None:
        ctype = found.ctype
        name = "datetime" if ctype.kind == DATE_TIME else "date"
        args = {"dayfirst": ctype.order == DMY} if ctype.order else None
        spec = _retype(
            spec,
            "DATE_TIME" if ctype.kind == DATE_TIME else "DATE",
            [{name: args} if args else name],
        )
        return path, spec, f"every value is a {ctype.describe()}", Confidence.HIGH
    if found.kind is ValueKind.URL:
        spec = _retype(spec, None, ["url"])
        return f"{path}.primaryLinkUrl", spec, f"{pct(share)} of {n} values are URLs", _conf(share)
    if found.kind is ValueKind.NUMBER:
        spec = _retype(spec, "NUMBER", ["number"])
        return path, spec, f"{pct(share)} of {n} values are numbers as written", _conf(share)
    if found.kind is ValueKind.PHONE:
        country = next((c for c in ("country", "country_code") if c in sample.properties), None)
        spec = _retype(spec, "PHONES", ["phone"])
        if country:
            spec["from_all"] = [spec.pop("from"), country]
        return path, spec, f"{pct(share)} of {n} values are phone numbers", _conf(share)
    if found.kind is ValueKind.SELECT:
        distinct = {v.lower(): v for v in values}
        spec = _retype(spec, "SELECT", ["trim"])
        spec["options"] = {v: option_value(v) for v in sorted(distinct.values())}
        return (
            path,
            spec,
            f"{len(distinct)} distinct values in {n}: a pick-list",
            Confidence.MEDIUM,
        )
    return path, spec, f"text ({found.distinct} distinct values in {n})", Confidence.HIGH


def _retype(spec: dict, kind: str | None, chain: list) -> dict:
    """``spec`` with another type (None: a composite's sub-field, typed by its path)."""
    out = {k: v for k, v in spec.items() if k != "type"}
    return {**out, **({"type": kind} if kind else {}), "transforms": chain}


_TESTS: dict[ValueKind, Callable[[str], bool]] = {
    ValueKind.EMAIL: is_email,
    ValueKind.URL: _is_url,
    ValueKind.NUMBER: _is_number,
    ValueKind.PHONE: _is_phone,
}


def _conf(share: float) -> Confidence:
    return Confidence.HIGH if share >= 0.99 else Confidence.MEDIUM
