"""Reasons grouped for the report: the same problem on many records is one line, with how many
and one example (where it is, which source record, which value), so a reader sees what kinds
of repair a run made without reading repairs.csv."""

from __future__ import annotations

from crm2twenty_common.reasons import generic

from target_twenty.report.model import ProblemExample, ReasonCount

__all__ = ["ReasonTally", "generic"]


class ReasonTally:
    """Counts problems by (field, generic reason), keeping the first of each as the example."""

    def __init__(self) -> None:
        self._groups: dict[tuple[str | None, str], ReasonCount] = {}

    def add(self, example: ProblemExample) -> None:
        key = (example.field, generic(example.reason))
        group = self._groups.get(key)
        if group is None:
            self._groups[key] = ReasonCount(key[1], 1, example)
        else:
            group.count += 1

    def by_count(self) -> list[ReasonCount]:
        """Commonest first; ties in the order first met."""
        return sorted(self._groups.values(), key=lambda g: -g.count)
