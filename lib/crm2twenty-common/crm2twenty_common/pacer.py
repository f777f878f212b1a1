"""One pacer per remote system: requests never start faster than the system allows.

Twenty counts requests per workspace in a 60-second window (100 by default, 50 on some cloud
plans) and answers 429 beyond it; PracticeHub allows about one request a second. Backing off
after a 429 wastes a window, so every request first asks the pacer, which holds it until both
limits allow it: at most ``limit`` request starts in any ``window`` seconds, and at least
``min_interval`` seconds between two starts. A 429 (or a ``Retry-After``) pauses everyone.
"""

from __future__ import annotations

import email.utils
import random
import threading
import time
from collections import deque
from collections.abc import Callable, Mapping


class Pacer:
    """Thread-safe; all threads talking to one remote system share one instance."""

    def __init__(
        self,
        limit: int | None = None,
        window: float = 60.0,
        min_interval: float = 0.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if limit is not None and limit < 1:
            raise ValueError("limit must be at least 1 request per window")
        self.limit = limit
        self.window = window
        self.min_interval = min_interval
        self._clock = clock
        self._starts: deque[float] = deque()
        self._last = float("-inf")
        self._paused_until = float("-inf")
        self._cond = threading.Condition()
        self.requests = 0
        self.waited = 0.0

    def _wait_needed(self, now: float) -> float:
        while self._starts and self._starts[0] <= now - self.window:
            self._starts.popleft()
        wait = max(self._paused_until - now, self._last + self.min_interval - now, 0.0)
        if self.limit is not None and len(self._starts) >= self.limit:
            wait = max(wait, self._starts[0] + self.window - now)
        return wait

    def acquire(self) -> float:
        """Block until a request may start now; return the seconds waited."""
        waited = 0.0
        with self._cond:
            while True:
                now = self._clock()
                wait = self._wait_needed(now)
                if wait <= 0:
                    self._starts.append(now)
                    self._last = now
                    self.requests += 1
                    self.waited += waited
                    return waited
                self._cond.wait(wait)
                waited += wait

    def pause(self, seconds: float) -> None:
        """After a 429 or a server's ``Retry-After``: no request starts for ``seconds``."""
        with self._cond:
            self._paused_until = max(self._paused_until, self._clock() + seconds)
            self._cond.notify_all()

    def used_in_window(self) -> int:
        with self._cond:
            self._wait_needed(self._clock())
            return len(self._starts)


def retry_after(headers: Mapping[str, str], now: float | None = None) -> float | None:
    """Seconds a server asked us to wait: ``Retry-After`` (seconds or HTTP date), else
    ``X-RateLimit-Reset`` (epoch seconds) when ``X-RateLimit-Remaining`` is 0; else None."""
    lowered = {k.lower(): v for k, v in headers.items()}
    now = time.time() if now is None else now
    value = lowered.get("retry-after")
    if value:
        try:
            return max(float(value), 0.0)
        except ValueError:
            parsed = email.utils.parsedate_to_datetime(value)
            if parsed is not None:
                return max(parsed.timestamp() - now, 0.0)
    reset, remaining = lowered.get("x-ratelimit-reset"), lowered.get("x-ratelimit-remaining")
    if reset and remaining is not None and remaining.strip() == "0":
        try:
            return max(float(reset) - now, 0.0)
        except ValueError:
            return None
    return None


def backoff(
    attempt: int, base: float = 1.0, cap: float = 60.0, rand: Callable[[], float] = random.random
) -> float:
    """Exponential backoff with full jitter for a server that says nothing (Twenty v2.21's 429
    carries no header): attempt 1 waits up to ``base`` s, then 2×, 4× … up to ``cap``."""
    return min(cap, base * 2 ** max(attempt - 1, 0)) * (0.5 + rand() / 2)
