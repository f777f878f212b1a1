"""Header names: normalised, matched to canonical columns through aliases, never dropped.

``normalise`` trims, folds accents (``Société`` → ``societe``; letters of other scripts are kept),
lower-cases, turns every run of non-alphanumeric characters into ``_`` and strips ``_`` from
both ends. ``resolve_headers`` then names each column: the user's ``column_map`` first, then
the stream's aliases, else the normalised header itself; a repeated header gets a name of its
own that no alias means (the tap warns, naming the file and the columns).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

_NON_ALNUM = re.compile(r"[\W_]+")


def normalise(header: str) -> str:
    """``" Company Name "`` → ``company_name``; ``"E-mail"`` → ``e_mail``."""
    text = unicodedata.normalize("NFKD", header.replace("\ufeff", "").strip())
    text = "".join(c for c in text if not unicodedata.combining(c)).lower()
    return _NON_ALNUM.sub("_", text).strip("_")


def alias_table(aliases: Mapping[str, Iterable[str]]) -> dict[str, str]:
    """``{canonical: (alias, …)}`` → ``{normalised name: canonical}``.

    A canonical name always maps to itself, even where it is also another column's alias
    (``title`` is a task's title, not an alias of something else); between two aliases the
    first declared wins.
    """
    table = {normalise(canonical): canonical for canonical in aliases}
    for canonical, names in aliases.items():
        for name in names:
            table.setdefault(normalise(name), canonical)
    return table


@dataclass(frozen=True)
class Duplicate:
    """A column whose header another column already has (after normalising or aliasing)."""

    position: int  # 1-based, of this column
    header: str  # as the file writes it
    first: int  # 1-based position of the column that kept the name
    name: str  # the name this column got instead

    def describe(self, file: str) -> str:
        return (
            f"{file}: the header {self.header.strip()!r} of column {self.position} repeats "
            f"column {self.first}'s; it is read as {self.name}"
        )


@dataclass(frozen=True)
class Headers:
    """The column names of a header row, and which columns were renamed as duplicates."""

    names: list[str]
    duplicates: list[Duplicate] = field(default_factory=list)


def resolve_headers(
    raw: list[str], aliases: Mapping[str, str], column_map: Mapping[str, str] | None = None
) -> Headers:
    """The column names for a header row, one per cell, all distinct.

    - ``column_map`` (the user's; keyed by the raw or the normalised header, case-insensitive)
      wins and its name is used as given;
    - else an alias (``aliases`` is an :func:`alias_table`) gives the canonical name; when a
      header already *is* that canonical name, or an earlier column or the user took it, an
      alias of it keeps its own normalised name instead of doubling the column;
    - else the normalised header (unknown columns are kept, never dropped);
    - an empty header is ``column_<n>`` (1-based position);
    - a name seen again (the same header twice) is a :class:`Duplicate`: the later column gets
      its normalised header plus ``_2``, ``_3`` …, skipping any name another header has and any
      name of the alias table (a second "E-mail" must not become ``email_2``, a secondary e-mail).
    """
    user = {normalise(k): v for k, v in (column_map or {}).items()}
    keys = [normalise(h) for h in raw]
    exact: set[str] = set()
    for key in keys:
        if key in user:
            exact.add(user[key])
        elif key and aliases.get(key) == key:
            exact.add(key)
    wanted: list[str] = []
    aliased: set[str] = set()
    named: dict[str, str] = {}  # normalised header → its name: a repeat wants the same
    for position, key in enumerate(keys, start=1):
        if key in user:
            name = user[key]
        elif not key:
            name = f"column_{position}"
        elif key in named:
            name = named[key]
        else:
            name = aliases.get(key, key)
            if name != key:
                if name in exact or name in aliased:
                    name = key  # the canonical column is already there: keep this one apart
                else:
                    aliased.add(name)
        named.setdefault(key, name)
        wanted.append(name)
    reserved = set(wanted) | set(aliases) | set(aliases.values())
    names: list[str] = []
    first: dict[str, int] = {}
    duplicates: list[Duplicate] = []
    for position, (name, key) in enumerate(zip(wanted, keys, strict=True), start=1):
        if name in first:
            base, n = key or name, 2
            while f"{base}_{n}" in reserved or f"{base}_{n}" in first:
                n += 1
            duplicates.append(Duplicate(position, raw[position - 1], first[name], f"{base}_{n}"))
            name = f"{base}_{n}"
        first[name] = position
        names.append(name)
    return Headers(names, duplicates)
