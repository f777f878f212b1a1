"""report.html's chart of API load over time: the shapes of an inline SVG, worked out here from
``LoadOverTime`` (the template only writes them out). Geometry only: every figure it labels
comes from the report as it is.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from target_twenty.report.model import LoadOverTime

WIDTH, HEIGHT = 960, 250
LEFT, RIGHT, TOP, BOTTOM = 52, 16, 18, 34
# A limit this many times above the busiest interval is not drawn to scale (the bars would be
# flat); the chart says where it is instead.
OFF_SCALE = 3.0


@dataclass
class Bar:
    x: float
    width: float
    limited_y: float
    limited_height: float
    other_y: float
    other_height: float
    refused: int
    title: str


@dataclass
class Tick:
    at: float  # x or y in the SVG
    label: str


@dataclass
class LoadChart:
    width: int
    height: int
    left: float
    right: float  # x of the plot's right edge
    top: float
    bottom: float  # y of the x axis
    bars: list[Bar]
    y_ticks: list[Tick]
    x_ticks: list[Tick]
    limit_y: float | None  # the limit's line, when it is drawn to scale
    limit_off_scale: bool  # the limit is far above every interval (said, not drawn)


def _clock(seconds: float) -> str:
    seconds = round(seconds)
    h, rest = divmod(seconds, 3600)
    m, s = divmod(rest, 60)
    return f"{h}:{m:02d}:{s:02d}" if h else f"{m}:{s:02d}"


def _step(top: float, ticks: int = 4) -> float:
    """A round step (1, 2 or 5 × 10ⁿ) that divides 0..top into about ``ticks`` parts."""
    raw = max(top / ticks, 1e-9)
    power = 10 ** math.floor(math.log10(raw))
    return next(m * power for m in (1, 2, 5, 10) if m * power >= raw)


def load(data: LoadOverTime) -> LoadChart:
    busiest = max((a + b for a, b in zip(data.limited, data.other, strict=True)), default=0)
    limit = data.limit_per_interval
    off_scale = limit is not None and limit > OFF_SCALE * max(busiest, 1)
    top_value = max(busiest, 1, 0 if limit is None or off_scale else limit) * 1.1
    right, bottom = WIDTH - RIGHT, HEIGHT - BOTTOM
    plot_w, plot_h = right - LEFT, bottom - TOP

    def y(value: float) -> float:
        return bottom - value / top_value * plot_h

    n = len(data.limited)
    slot = plot_w / n
    gap = min(slot * 0.15, 3.0)
    bars = []
    for i, (counted, other, refused) in enumerate(
        zip(data.limited, data.other, data.refused, strict=True)
    ):
        start = i * data.interval_seconds
        title = (
            f"{_clock(start)}–{_clock(start + data.interval_seconds)}: {counted} requests the "
            f"limit counts, {other} others{f', {refused} answered 429' if refused else ''}"
        )
        bars.append(
            Bar(
                x=round(LEFT + i * slot + gap / 2, 2),
                width=round(max(slot - gap, 0.5), 2),
                limited_y=round(y(counted), 2),
                limited_height=round(bottom - y(counted), 2),
                other_y=round(y(counted + other), 2),
                other_height=round(y(counted) - y(counted + other), 2),
                refused=refused,
                title=title,
            )
        )
    step = _step(top_value / 1.1)
    y_ticks = [
        Tick(round(y(k * step), 2), f"{k * step:g}")
        for k in range(int(top_value // step) + 1)
        if k * step <= top_value
    ]
    every = max(1, math.ceil(n / 8))  # about eight time labels
    x_ticks = [
        Tick(round(LEFT + i * slot, 2), _clock(i * data.interval_seconds))
        for i in range(0, n + 1, every)
    ]
    return LoadChart(
        width=WIDTH,
        height=HEIGHT,
        left=LEFT,
        right=right,
        top=TOP,
        bottom=bottom,
        bars=bars,
        y_ticks=y_ticks,
        x_ticks=x_ticks,
        limit_y=round(y(limit), 2) if limit is not None and not off_scale else None,
        limit_off_scale=off_scale,
    )
