"""A bounded memo for a pure function of (text, kind), where ``kind`` takes few values.

``functools.lru_cache`` keeps, per entry, a key tuple and a link besides the result: for the
phone numbers of a million records its 65,536 entries were 25 MB, most of the mapper's growth
between 100 k and 1 M records. This memo keeps the entries in two generations of plain dicts
(``kind`` → text → result): a hit in the older one moves the entry to the newer one, and a full
newer one becomes the older one (the older one's entries are dropped). So the entries that are
used again stay, as with a least-recently-used cache, at under half of the memory per entry,
and never more than ``2 * generation`` of them.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable
from typing import Generic, TypeVar

K = TypeVar("K", bound=Hashable)
R = TypeVar("R")


class GenerationalMemo(Generic[K, R]):
    """``memo(text, kind)`` is ``fn(text, kind)``, remembered (see the module docstring)."""

    __slots__ = ("_count", "_fn", "_generation", "_new", "_old")

    def __init__(self, fn: Callable[[str, K], R], generation: int) -> None:
        self._fn = fn
        self._generation = generation
        self._new: dict[K, dict[str, R]] = {}
        self._old: dict[K, dict[str, R]] = {}
        self._count = 0  # entries in the newer generation

    def __call__(self, text: str, kind: K) -> R:
        texts = self._new.get(kind)
        if texts is not None and (found := texts.get(text, _MISS)) is not _MISS:
            return found  # type: ignore[return-value]
        old = self._old.get(kind)
        found = old.pop(text, _MISS) if old is not None else _MISS
        result: R = self._fn(text, kind) if found is _MISS else found  # type: ignore[assignment]
        if self._count >= self._generation:
            self._old, self._new, self._count = self._new, {}, 0
            texts = None
        if texts is None:
            texts = self._new.setdefault(kind, {})
        texts[text] = result
        self._count += 1
        return result

    def __len__(self) -> int:
        return self._count + sum(len(texts) for texts in self._old.values())


_MISS = object()
