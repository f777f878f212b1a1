"""API mode's load over time: the client's log of request starts counted per interval, with
the rate limit over one interval beside them (report.html draws it; report.json keeps it)."""

from __future__ import annotations

import math

from target_twenty.outcome import RequestLog
from target_twenty.report.model import LoadOverTime

# Interval lengths a reader counts in easily; the shortest that keeps a load to MAX_INTERVALS.
NICE_SECONDS = (1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 21600, 86400)
MAX_INTERVALS = 90


def load_over_time(log: RequestLog | None) -> LoadOverTime | None:
    """None when no request was sent (or the run is not in API mode)."""
    starts = [*log.limited, *log.other] if log is not None else []
    if log is None or not starts:
        return None
    first = min(starts)
    seconds = max(starts) - first
    interval = next(
        (n for n in NICE_SECONDS if seconds / n < MAX_INTERVALS), math.ceil(seconds / 60) * 60
    )
    count = int(seconds // interval) + 1

    def per_interval(times: list[float]) -> list[int]:
        counts = [0] * count
        for t in times:
            counts[min(int((t - first) // interval), count - 1)] += 1
        return counts

    return LoadOverTime(
        seconds=round(seconds, 3),
        interval_seconds=interval,
        limit=log.limit,
        limit_per_interval=round(log.limit * interval / log.window, 3) if log.limit else None,
        limited=per_interval(log.limited),
        other=per_interval(log.other),
        refused=per_interval(log.refused),
    )
