"""The progress line a person follows a long run by: one line every ``progress_seconds``.

While the input arrives (a paced API tap can take hours) it says what was received so far, per
object, and at what rate; while the records are written (CSV batches, or the API at the
workspace's rate limit) it says per object what is done of the total, the rate, the requests
used against the limit and when it will end. A background thread logs while the stage works;
a stage shorter than the interval logs nothing.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Protocol

DEFAULT_SECONDS = 10.0


class RequestGauge(Protocol):
    """What the API client tells the progress line: requests made, and against which limit."""

    def requests_made(self) -> int: ...
    def requests_in_window(self) -> int: ...
    def requests_limit(self) -> int | None: ...


@dataclass
class ObjectCount:
    done: int = 0
    total: int | None = None  # None: unknown (the input is still arriving)


def _duration(seconds: float) -> str:
    seconds = round(seconds)
    if seconds < 60:
        return f"{seconds} s"
    minutes, seconds = divmod(seconds, 60)
    if minutes < 60:
        return f"{minutes} min {seconds:02d} s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes:02d} min"


class Progress:
    """Counts per object for one stage (``reading`` or ``writing``) and the line that shows
    them. The stage adds with :meth:`add` (thread-safe); :meth:`running` logs meanwhile."""

    def __init__(
        self,
        stage: str,
        seconds: float,
        logger: logging.Logger,
        gauge: RequestGauge | None = None,
    ) -> None:
        self.stage, self.seconds, self.logger, self.gauge = stage, seconds, logger, gauge
        self.objects: dict[str, ObjectCount] = {}
        self.started = time.monotonic()
        self.lock = threading.Lock()

    # ---- counting -------------------------------------------------------------------

    def expect(self, totals: dict[str, int]) -> None:
        """The totals of a stage that knows them (writing), in the order objects are done."""
        with self.lock:
            self.objects = {name: ObjectCount(0, n) for name, n in totals.items()}

    def add(self, name: str, n: int = 1) -> None:
        with self.lock:
            count = self.objects.get(name)
            if count is None:
                count = self.objects[name] = ObjectCount()
            count.done += n

    def skip(self, name: str, n: int = 1) -> None:
        """``n`` records of ``name`` need no work after all (unchanged): out of the total."""
        with self.lock:
            count = self.objects.get(name)
            if count is not None and count.total is not None:
                count.total -= n

    @property
    def done(self) -> int:
        return sum(c.done for c in self.objects.values())

    # ---- reporting ------------------------------------------------------------------

    @contextmanager
    def running(self) -> Iterator[None]:
        """Log every ``seconds`` while the body runs (nothing when it is shorter)."""
        self.started = time.monotonic()
        if self.seconds <= 0:
            yield
            return
        stop = threading.Event()
        reporter = threading.Thread(target=self._loop, args=(stop,), daemon=True)
        reporter.start()
        try:
            yield
        finally:
            stop.set()
            reporter.join()
        if time.monotonic() - self.started >= self.seconds:  # a stage that showed progress
            self.logger.info("%s", self.line())  # ends with its figures

    def _loop(self, stop: threading.Event) -> None:
        while not stop.wait(self.seconds):
            self.logger.info("%s", self.line())

    def line(self) -> str:
        """``writing: 1234/9994 records — companies 500/500, people 734/1995, notes 0/1500 —
        2150 records/min, 412 requests (48 of 50 in the last minute), ETA 4 min 05 s``."""
        with self.lock:
            objects = {k: ObjectCount(v.done, v.total) for k, v in self.objects.items()}
        elapsed = max(time.monotonic() - self.started, 1e-6)
        done = sum(c.done for c in objects.values())
        known = all(c.total is not None for c in objects.values()) and bool(objects)
        total = sum(c.total or 0 for c in objects.values())
        per_minute = done / elapsed * 60
        if known:
            head = f"{self.stage}: {done}/{total} records"
            each = ", ".join(
                f"{k} {c.done}/{c.total}" for k, c in objects.items() if c.total or c.done
            )
        else:
            head = f"{self.stage}: {done} records received"
            each = ", ".join(f"{k} {c.done}" for k, c in objects.items())
        parts = [f"{per_minute:.0f} records/min"]
        limit = None
        if self.gauge is not None:
            limit = self.gauge.requests_limit()
            parts.append(
                f"{self.gauge.requests_made()} requests "
                f"({self.gauge.requests_in_window()} of {limit or 'unlimited'} in the last minute)"
            )
        if known:
            left = max(total - done, 0)
            rate = done / elapsed
            if self.gauge is not None and limit:
                # the limit caps the pace: records per request so far, at the allowed rate
                per_request = done / max(self.gauge.requests_made(), 1)
                rate = max(rate, limit / 60 * per_request)
            parts.append(f"ETA {_duration(left / rate)}" if rate > 0 and left else "ETA —")
        return f"{head} — {each or 'none yet'} — {', '.join(parts)}"
