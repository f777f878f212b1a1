"""One field as sent → as Twenty stored it: the same value, or not?

Twenty hands some values back in another spelling than they were sent; those are the same value
(docs/twenty-contract.md §4.6): a date-time comes back in UTC with milliseconds, an e-mail in
lower case, a phone number as its national number (no calling code, trunk prefix or
punctuation), a URL with a scheme trimmed, its host in lower case and without a trailing slash,
a file entry with its extension and URL added, an empty value as ``null`` or ``""``, a
composite with every sub-field (those not sent empty); a number may come back as a string. A
composite is compared sub-field by sub-field (§4.1), a list item by item, a multi-select as a set.
Used by ``verify`` and by the sample run's diff (api/sample.py).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from target_twenty.values import InvalidValue, normalise


@dataclass(frozen=True)
class FieldCheck:
    """One compared value: ``field`` is the body's field, a composite's ``field.sub``."""

    field: str
    sent: Any
    stored: Any
    same: bool


def compare(kind: str, name: str, sent: Any, stored: Any) -> Iterator[FieldCheck]:
    """The checks of one field of type ``kind``: one, or one per sub-field sent of a composite
    (a sub-field empty when sent and when stored is not a value to check)."""
    if isinstance(sent, dict) and kind != "RAW_JSON":
        back = stored if isinstance(stored, dict) else {}
        for sub, value in sent.items():
            if is_empty(value) and is_empty(back.get(sub)):
                continue
            calling = sent.get("primaryPhoneCallingCode")
            yield FieldCheck(
                f"{name}.{sub}",
                value,
                back.get(sub),
                same(kind, value, back.get(sub), sub, calling),
            )
        return
    yield FieldCheck(name, sent, stored, same(kind, sent, stored))


def is_empty(value: Any) -> bool:
    """``None``, ``""``, ``[]`` or ``{}``: Twenty stores an empty value as one or another."""
    return value is None or (isinstance(value, str | list | dict) and not value)


def same(kind: str, sent: Any, stored: Any, sub: str | None = None, calling: Any = None) -> bool:
    """Whether ``stored`` is the value ``sent`` (of a field of type ``kind``; ``sub``: the
    sub-field of a composite; ``calling``: a phone number's calling code)."""
    if is_empty(sent) or is_empty(stored):
        return is_empty(sent) and is_empty(stored)
    if isinstance(sent, list):
        if not isinstance(stored, list) or len(sent) != len(stored):
            return False
        if kind == "MULTI_SELECT":
            return sorted(map(str, sent)) == sorted(map(str, stored))
        return all(same(kind, a, b, sub) for a, b in zip(sent, stored, strict=True))
    if isinstance(sent, dict):
        if kind == "RAW_JSON":
            return sent == stored
        return isinstance(stored, dict) and all(
            same(kind, v, stored.get(k), k, sent.get("callingCode")) for k, v in sent.items()
        )
    if kind in ("DATE_TIME", "DATE"):
        try:
            return normalise(kind, sent) == normalise(kind, stored)
        except InvalidValue:
            return False
    if isinstance(sent, int | float) and not isinstance(sent, bool):
        try:
            return float(sent) == float(stored)
        except (TypeError, ValueError):
            return False
    if isinstance(sent, str) and isinstance(stored, str):
        if kind in ("EMAILS", "UUID", "RELATION"):
            return sent.casefold() == stored.casefold()
        if kind == "PHONES" and sub in ("primaryPhoneNumber", "number"):
            return national(sent, calling) == national(stored, calling)
        if kind == "LINKS" and sub in ("primaryLinkUrl", "url"):
            return link(sent) == link(stored)
    return bool(sent == stored)


def national(number: str, calling: Any) -> str:
    """A phone number's national digits: no punctuation, no calling code (when written with
    ``+`` or ``00``), no trunk prefix ``0``."""
    digits = "".join(c for c in number if c.isdigit())
    code = "".join(c for c in str(calling or "") if c.isdigit())
    international = number.lstrip().startswith(("+", "00"))
    if international:
        digits = digits.removeprefix("00")
        if code and digits.startswith(code):
            digits = digits[len(code) :]
    return digits.lstrip("0")


def link(url: str) -> str:
    """A URL as Twenty keeps it: trimmed; with a scheme, scheme and host in lower case and no
    trailing slash."""
    url = url.strip()
    parts = urlsplit(url)
    if not parts.scheme or not parts.netloc:
        return url
    path = parts.path.removesuffix("/")
    return parts._replace(
        scheme=parts.scheme.lower(), netloc=parts.netloc.lower(), path=path
    ).geturl()
