"""A reject's or a repair's reason as a kind of problem: its values blanked, so the same problem
on many records is one line (target-twenty's report, the mapper's source profile)."""

from __future__ import annotations

import re

_QUOTED = re.compile(r"'[^']*'|\"[^\"]*\"")
_IDS_AND_ASIDES = re.compile(r"\b[0-9a-f]{8}-[0-9a-f-]{27}\b|\(.*?\)")


def generic(reason: str) -> str:
    """A reason with its values blanked (quoted values, ids, asides in parentheses → ``…``)."""
    return _IDS_AND_ASIDES.sub("…", _QUOTED.sub("…", reason))
