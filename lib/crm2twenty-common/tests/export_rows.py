"""A test helper: the rows a reader yielded, with the test failing on any BadRow.

Readers yield ``Row | BadRow``; tests of well-formed files unpack rows directly, and this says
so to the reader of the test (and to mypy) instead of assuming it.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from crm2twenty_common.exports import BadRow


def good_rows(rows: Iterable[tuple[int, Any] | BadRow]) -> list[tuple[int, Any]]:
    out: list[tuple[int, Any]] = []
    for row in rows:
        assert not isinstance(row, BadRow), row
        out.append(row)
    return out
