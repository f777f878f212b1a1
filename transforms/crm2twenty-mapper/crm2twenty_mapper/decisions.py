"""What inference decided about one source column, how sure it is, and what a person must decide.

The proposal's mapping sheet lists every :class:`ColumnDecision`; a run without a confirmed rules
file sends those with a ``review`` to target-twenty's report, under **Needs review**.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass


class Confidence(str, enum.Enum):
    HIGH = "high"
    MEDIUM = "medium"
    LOW = "low"

    def __str__(self) -> str:
        return self.value


@dataclass(frozen=True)
class ColumnDecision:
    """What became of one source column (or a type/id pair), why, and what a person must decide."""

    stream: str
    column: str
    outcome: str
    evidence: str
    confidence: Confidence
    review: str | None = None  # the question for the reviewer; None: nothing to decide
    figure: float | None = None  # the share the evidence rests on


def pct(share: float) -> str:
    return f"{share * 100:.1f} %"
