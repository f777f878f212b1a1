"""One pacer per remote system: requests never start faster than the system allows.

Twenty's limiter is a token bucket per workspace (docs/twenty-contract.md §2.10): ``limit``
tokens, refilled continuously at ``limit / window`` a second, but counted only when a request
is let through, in whole tokens since the previous one let through (the fraction is lost). A
burst therefore drains it for good, and another process may have drained it just before us.
So the pacer keeps its own copy of that bucket, counted the same way, and:

- starts it *empty* (the cautious start): whatever the server's bucket holds, it holds at least
  what ours says, because ours refills from our start and the server's from earlier;
- subtracts ``margin`` seconds from every interval it refills over, so that a request that
  arrives a little late after one that arrived a little early still finds its token there;
- after a 429 (or a ``Retry-After``) pauses everyone and empties its bucket again.

At 100 requests / 60 s that spaces requests by 0.6 s + margin. PracticeHub allows about one
request a second: ``min_interval`` alone (no ``limit``) keeps any two starts that far apart.

Why our own and not a library's (pyrate-limiter, limits, aiolimiter): they meter a bucket or a
window of our own, starting full, with fractional refills; none mirrors a remote bucket whose
refill is rounded down on every request, or starts it empty, or lets one server's 429 pause
every thread; all three would still be needed around them.
"""

from __future__ import annotations

import email.utils
import math
import random
import threading
import time
from collections import deque
from collections.abc import Callable, Generator, Mapping
from dataclasses import dataclass
from typing import Any, TypeVar

import backoff as backoff_lib

T = TypeVar("T")


class Pacer:
    """Thread-safe; all threads talking to one remote system share one instance."""

    def __init__(
        self,
        limit: int | None = None,
        window: float = 60.0,
        min_interval: float = 0.0,
        clock: Callable[[], float] = time.monotonic,
        *,
        margin: float = 0.0,
        start_full: bool = False,
    ) -> None:
        if limit is not None and limit < 1:
            raise ValueError("limit must be at least 1 request per window")
        self.limit = limit
        self.window = window
        self.min_interval = min_interval
        self.margin = margin
        self._clock = clock
        now = clock()
        self._tokens = float(limit or 0) if start_full else 0.0
        self._refilled_at = now  # when our bucket was last counted (a request let through)
        self._starts: deque[float] = deque()  # for used_in_window(): what the progress shows
        self._last = float("-inf")
        self._paused_until = float("-inf")
        self._cond = threading.Condition()
        self.requests = 0
        self.waited = 0.0

    @property
    def interval(self) -> float:
        """Seconds between two starts once the bucket is empty (the steady pace)."""
        refill = self.window / self.limit + self.margin if self.limit else 0.0
        return max(refill, self.min_interval)

    def _available(self, now: float) -> float:
        """Tokens the server holds for us at least, counted as it counts (rounded down)."""
        assert self.limit is not None
        elapsed = max(now - self._refilled_at - self.margin, 0.0)
        # (+1e-9: a float product a hair under a whole token is that token)
        whole = math.floor(elapsed * self.limit / self.window + 1e-9)
        return min(self._tokens + whole, self.limit)

    def _wait_needed(self, now: float) -> float:
        while self._starts and self._starts[0] <= now - self.window:
            self._starts.popleft()
        wait = max(self._paused_until - now, self._last + self.min_interval - now, 0.0)
        if self.limit is not None and self._available(now) < 1:
            # the next whole token, as the server will count it
            missing = 1 - self._tokens
            due = self._refilled_at + self.margin + missing * self.window / self.limit
            wait = max(wait, due - now)
        return wait

    def ready_in(self) -> float:
        """Seconds until a request may start (0: now); reserves nothing."""
        with self._cond:
            return self._wait_needed(self._clock())

    def acquire(self) -> float:
        """Block until a request may start now; return the seconds waited."""
        waited = 0.0
        with self._cond:
            while True:
                now = self._clock()
                wait = self._wait_needed(now)
                if wait <= 0:
                    if self.limit is not None:
                        self._tokens = self._available(now) - 1
                        self._refilled_at = now
                    self._starts.append(now)
                    self._last = now
                    self.requests += 1
                    self.waited += waited
                    return waited
                self._cond.wait(wait)
                waited += wait

    def hold(self) -> float:
        """For a call the remote system does not limit: wait out a pause only, take no token."""
        waited = 0.0
        with self._cond:
            while (wait := self._paused_until - self._clock()) > 0:
                self._cond.wait(wait)
                waited += wait
        return waited

    def pause(self, seconds: float) -> None:
        """After a 429 or a server's ``Retry-After``: no request starts for ``seconds``, and
        the bucket is taken as empty (the server refused: it held less than we thought)."""
        with self._cond:
            now = self._clock()
            self._paused_until = max(self._paused_until, now + seconds)
            self._tokens, self._refilled_at = 0.0, now
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


@dataclass(frozen=True)
class RetryPolicy:
    """How a tap retries one remote system, whatever the transport: the REST streams hand it to
    the SDK's backoff hooks (``backoff_max_tries``, ``backoff_wait_generator`` through
    ``backoff_runtime``), the SOAP client (zeep) wraps its calls with :meth:`decorate`; both
    use the ``backoff`` package the SDK already depends on.

    A failure is tried ``max_tries`` times in all; a throttle (429) does not count against
    that, up to ``throttled_tries``. Each wait is the server's ``Retry-After`` when its answer
    carries one, else :func:`backoff` (exponential, jittered, capped at ``cap``)."""

    max_tries: int = 6
    base: float = 1.0
    cap: float = 30.0
    throttled_tries: int = 31

    def wait_for(self, error: BaseException | None, attempt: int) -> float:
        """Seconds before try ``attempt + 1``, after ``error`` (its ``response`` read if any)."""
        response = getattr(error, "response", None)
        headers = getattr(response, "headers", None)
        asked = retry_after(headers) if headers else None
        return asked if asked is not None else backoff(attempt, base=self.base, cap=self.cap)

    def waits(self) -> Generator[float, BaseException | None, None]:
        """A wait generator for ``backoff.on_exception``: sent each failure, yields its wait."""
        attempt = 0
        error = yield 0.0  # backoff primes the generator with one empty send
        while True:
            attempt += 1
            error = yield self.wait_for(error, attempt)

    def decorate(
        self,
        func: Callable[..., T],
        retry_on: tuple[type[Exception], ...],
        *,
        max_tries: int | None = None,
        on_backoff: Callable[[Any], None] | None = None,
        on_giveup: Callable[[Any], None] | None = None,
        giveup: Callable[[Exception], bool] = lambda error: False,
    ) -> Callable[..., T]:
        """``func`` retried on ``retry_on`` under this policy (``max_tries`` overrides;
        ``giveup`` says which of those errors are final after all)."""
        return backoff_lib.on_exception(
            self.waits,
            retry_on,
            max_tries=max_tries or self.max_tries,
            jitter=None,  # backoff() jitters already; a Retry-After is kept as asked
            on_backoff=on_backoff or [],
            on_giveup=on_giveup or [],
            giveup=giveup,
        )(func)
