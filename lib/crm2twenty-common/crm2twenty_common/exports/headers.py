"""Header names: normalised, matched to canonical columns through aliases, never dropped.

``normalise`` trims, folds accents (``Société`` → ``societe``; letters of other scripts are kept),
lower-cases, turns every run of non-alphanumeric characters into ``_`` and strips ``_`` from
both ends. ``resolve_headers`` then names each column: the user's ``column_map`` first, then
the stream's aliases, else the normalised header itself.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping

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


def resolve_headers(
    raw: list[str], aliases: Mapping[str, str], column_map: Mapping[str, str] | None = None
) -> list[str]:
    """The column names for a header row, one per cell, all distinct.

    - ``column_map`` (the user's; keyed by the raw or the normalised header, case-insensitive)
      wins and its name is used as given;
    - else an alias (``aliases`` is an :func:`alias_table`) gives the canonical name; when a
      header already *is* that canonical name, or the user mapped one to it, an alias of it
      keeps its own normalised name instead of doubling the column;
    - else the normalised header (unknown columns are kept, never dropped);
    - an empty header is ``column_<n>`` (1-based position);
    - a name seen again gets ``_2``, ``_3`` … (never one that another header already has).
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
    for position, key in enumerate(keys, start=1):
        if key in user:
            name = user[key]
        elif not key:
            name = f"column_{position}"
        else:
            name = aliases.get(key, key)
            if name != key and name in exact:
                name = key  # the canonical column is already there: keep this one apart
        wanted.append(name)
    taken = set(wanted)
    names: list[str] = []
    used: set[str] = set()
    for name in wanted:
        if name in used:
            n = 2
            while f"{name}_{n}" in taken or f"{name}_{n}" in used:
                n += 1
            name = f"{name}_{n}"
        used.add(name)
        names.append(name)
    return names
