"""A lookup table filled from a source stream as it passes (``lookups:`` in the rules).

A table holds a row per source record (each company's country, for the phone numbers of its
contacts), so it grows with the input and is kept compact: each distinct value is kept once and
rows hold its number; a key that is a record number (``"7301"``, the commonest kind) is a slot
in an array rather than a text in a dict (4 bytes a row instead of ~80: 5.9 MB for the 73 k
companies of a 1 M-record export, about 0.5 MB now). Keys are matched without regard to case.
"""

from __future__ import annotations

from array import array
from typing import Any

# A record number becomes an array slot while the array stays within this many slots of twice
# the rows put (so sparse numbers such as 10-digit ids go to the dict instead).
_SLACK = 1 << 16
_MAX_DIGITS = 9  # (int() of a longer text costs more, and such ids are sparse anyway)


class LookupTable:
    """Key text → value; the latest value put for a key wins."""

    __slots__ = ("_by_number", "_by_text", "_numbers", "_puts", "_values")

    def __init__(self) -> None:
        self._values: list[Any] = [None]  # value number → value (0: no value)
        self._numbers: dict[Any, int] = {}  # hashable value → its number
        self._by_number = array("I")  # record number → value number
        self._by_text: dict[str, int] = {}  # any other key, lower-cased → value number
        self._puts = 0

    def put(self, key: str, value: Any) -> None:
        self._puts += 1
        try:
            number = self._numbers.get(value)
        except TypeError:  # an unhashable value (a list): kept as it is
            number = None
            hashable = False
        else:
            hashable = True
        if number is None:
            number = len(self._values)
            self._values.append(value)
            if hashable:
                self._numbers[value] = number
        slot = _slot(key)
        slots = self._by_number
        if slot is not None and slot >= len(slots) and slot < 2 * self._puts + _SLACK:
            grow = max(slot + 1, 2 * len(slots)) - len(slots)
            slots.frombytes(bytes(grow * slots.itemsize))
        if slot is not None and slot < len(slots):
            slots[slot] = number
        else:
            self._by_text[key.lower()] = number

    def get(self, key: str) -> Any:
        """The value put for ``key`` (in any case), or None."""
        slot = _slot(key)
        if slot is not None and slot < len(self._by_number) and (n := self._by_number[slot]):
            return self._values[n]
        other = self._by_text.get(key.lower())
        return None if other is None else self._values[other]

    def __len__(self) -> int:
        return sum(1 for n in self._by_number if n) + len(self._by_text)


def _slot(key: str) -> int | None:
    """The record number ``key`` spells in its canonical form (``"7"``, not ``"07"``), if any."""
    if key.isdigit() and key.isascii() and len(key) <= _MAX_DIGITS and key[0] != "0":
        return int(key)
    return None
