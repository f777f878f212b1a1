"""Bookmarks of a stream the tap has renamed, carried over to its new name.

A state written before a rename (Allegory's ``matters__contacts`` is now ``matter_contacts``,
Sage's ``library`` is ``libraries``) keys the bookmark by the old name; without this the next run
would read the renamed stream from the start. singer-sdk's ``Tap.load_state`` is the documented
place for such backwards-compatibility patches.
"""

from __future__ import annotations

import copy
import typing as t
from collections.abc import Callable


def carry_bookmarks(
    state: dict[str, t.Any], new_name: Callable[[str], str | None]
) -> dict[str, t.Any]:
    """``state`` with each bookmark whose stream ``new_name`` renames moved to the new name; a
    bookmark already kept under the new name wins (it is the newer one). ``state`` is unchanged."""
    bookmarks = state.get("bookmarks")
    if not isinstance(bookmarks, dict):
        return state
    out = copy.deepcopy(state)
    moved = out["bookmarks"]
    for old in list(bookmarks):
        new = new_name(old)
        if new and new != old:
            value = moved.pop(old)
            moved.setdefault(new, value)
    return out
