"""The pacer's promise: never a request Twenty's bucket would refuse, never two starts too close."""

from __future__ import annotations

import itertools
import random
import threading
import time

import pytest
from crm2twenty_common.pacer import Pacer, RetryPolicy, backoff, retry_after


class Clock:
    """A clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


class GrantClock(threading.local):
    """The real clock, remembering per thread the last reading the pacer took: after acquire()
    returns, that is the instant it let the request start. (A clock read by the test after the
    call would add however long the thread waited for a core: on a loaded machine, enough to
    bring two starts closer than the pacer spaced them.)"""

    last = 0.0

    def __call__(self) -> float:
        self.last = time.monotonic()
        return self.last


class TwentyBucket:
    """Twenty v2.21's limiter as docs/twenty-contract.md §2.10 states it, written again here
    (not the pacer's code): integer milliseconds, refill rounded down on every request let
    through, nothing counted for a refused one."""

    def __init__(self, limit: int, window: float, tokens: int, at: float) -> None:
        self.limit, self.window_ms = limit, window * 1000
        self.tokens, self.at_ms = tokens, int(at * 1000)
        self.refused = 0

    def arrive(self, t: float) -> bool:
        now = int(t * 1000)
        available = min(
            self.tokens + int((now - self.at_ms) * self.limit / self.window_ms), self.limit
        )
        if available < 1:
            self.refused += 1
            return False
        self.tokens, self.at_ms = available - 1, now
        return True


def drive(pacer: Pacer, clock: Clock, n: int) -> list[float]:
    """n requests through the pacer, the clock jumping to each start it asks for."""
    starts = []
    for _ in range(n):
        clock.now += pacer.ready_in()
        assert pacer.acquire() == 0.0
        starts.append(clock.now)
    return starts


def test_cautious_start_then_one_request_per_refilled_token() -> None:
    clock = Clock()
    pacer = Pacer(limit=100, window=60, clock=clock, margin=0.02)
    assert pacer.ready_in() == pytest.approx(0.62)  # the bucket may be empty: wait for a token
    starts = drive(pacer, clock, 50)
    gaps = [b - a for a, b in itertools.pairwise(starts)]
    assert min(gaps) == pytest.approx(0.62)
    assert max(gaps) == pytest.approx(0.62)
    assert pacer.interval == pytest.approx(0.62)


def test_the_server_bucket_never_refuses_even_drained_and_with_late_arrivals() -> None:
    """A server whose bucket a previous process emptied just before we start; every request
    arrives between 0 and 19 ms after it leaves (margin 20 ms)."""
    clock = Clock()
    server = TwentyBucket(100, 60, tokens=0, at=clock.now - 0.59)
    pacer = Pacer(limit=100, window=60, clock=clock, margin=0.02)
    jitter = random.Random(3)
    starts = drive(pacer, clock, 400)
    assert all(server.arrive(t + jitter.uniform(0, 0.019)) for t in starts)
    # and the pace is the ceiling's but for the margin: 100 / 60 s × 0.6 / 0.62
    per_minute = (len(starts) - 1) / (starts[-1] - starts[0]) * 60
    assert per_minute >= 100 * 0.6 / 0.62 - 0.01


def test_a_full_start_lets_the_bucket_out_then_paces() -> None:
    clock = Clock()
    pacer = Pacer(limit=5, window=10, clock=clock, start_full=True)
    starts = drive(pacer, clock, 7)
    assert starts[:5] == [1000.0] * 5
    assert starts[5] == pytest.approx(1002.0)
    assert starts[6] == pytest.approx(1004.0)


def test_pause_empties_the_bucket() -> None:
    clock = Clock()
    pacer = Pacer(limit=100, window=60, clock=clock, start_full=True)
    drive(pacer, clock, 3)
    pacer.pause(5.0)
    assert pacer.ready_in() == pytest.approx(5.0)
    clock.now += 5.0  # the pause is over and 5 s refilled 8 tokens: as many as the server says
    drive(pacer, clock, 8)
    assert pacer.ready_in() > 0


def test_threads_share_one_bucket() -> None:
    clock = GrantClock()
    pacer = Pacer(limit=5, window=0.25, start_full=False, clock=clock)
    starts: list[float] = []
    lock = threading.Lock()

    def worker() -> None:
        for _ in range(3):
            pacer.acquire()
            with lock:
                starts.append(clock.last)

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(starts) == 12
    assert pacer.requests == 12
    gaps = [b - a for a, b in itertools.pairwise(sorted(starts))]
    assert min(gaps) >= 0.05 - 1e-6  # one token every 50 ms


def test_min_interval_spaces_every_start() -> None:
    clock = GrantClock()
    pacer = Pacer(min_interval=0.05, clock=clock)
    starts = []
    for _ in range(6):
        pacer.acquire()
        starts.append(clock.last)
    gaps = [b - a for a, b in itertools.pairwise(starts)]
    assert min(gaps) >= 0.05 - 1e-6


def test_pause_holds_everyone() -> None:
    pacer = Pacer(limit=100, window=60, start_full=True)
    pacer.acquire()
    pacer.pause(0.15)
    before = time.monotonic()
    pacer.acquire()
    assert time.monotonic() - before >= 0.14


def test_limit_must_be_positive() -> None:
    with pytest.raises(ValueError):
        Pacer(limit=0)


def test_retry_after_reads_seconds_dates_and_ratelimit_reset() -> None:
    assert retry_after({"Retry-After": "7"}) == 7.0
    assert retry_after({"retry-after": "Wed, 21 Oct 2015 07:28:10 GMT"}, now=1445412480.0) == 10.0
    assert retry_after({"X-RateLimit-Remaining": "0", "X-RateLimit-Reset": "1005"}, now=1000) == 5
    assert (
        retry_after({"X-RateLimit-Remaining": "3", "X-RateLimit-Reset": "1005"}, now=1000) is None
    )
    assert retry_after({}) is None


def test_backoff_grows_with_jitter_and_is_capped() -> None:
    assert backoff(1, rand=lambda: 1.0) == 1.0
    assert backoff(3, rand=lambda: 1.0) == 4.0
    assert backoff(3, rand=lambda: 0.0) == 2.0
    assert backoff(20, cap=60, rand=lambda: 1.0) == 60.0


def test_hold_waits_out_a_pause_but_takes_no_token() -> None:
    pacer = Pacer(limit=1, window=60)  # empty: acquire() would wait a minute
    assert pacer.ready_in() > 59
    assert pacer.hold() == 0.0
    pacer.pause(0.1)
    before = time.monotonic()
    pacer.hold()
    assert time.monotonic() - before >= 0.09
    assert pacer.requests == 0


class _Answer:
    def __init__(self, headers: dict[str, str]) -> None:
        self.headers = headers


class _Refused(Exception):
    def __init__(self, headers: dict[str, str] | None = None) -> None:
        super().__init__("refused")
        self.response = _Answer(headers) if headers is not None else None


def test_retry_policy_waits_as_the_server_asks_else_backs_off() -> None:
    policy = RetryPolicy(base=1.0, cap=8.0)
    assert policy.wait_for(_Refused({"Retry-After": "7"}), attempt=1) == 7.0
    for attempt in (1, 2, 3, 4, 5):  # no header: exponential, jittered into [½, 1] of it
        wait = policy.wait_for(_Refused({}), attempt)
        assert min(8.0, 2.0 ** (attempt - 1)) / 2 <= wait <= min(8.0, 2.0 ** (attempt - 1))
    assert 0.5 <= policy.wait_for(ConnectionError(), attempt=1) <= 1.0  # no answer at all


def test_retry_policy_tries_max_tries_times_then_gives_the_error_up(monkeypatch) -> None:
    monkeypatch.setattr(time, "sleep", lambda s: None)  # backoff sleeps through time.sleep
    calls: list[int] = []

    def flaky(succeed_at: int) -> str:
        calls.append(1)
        if len(calls) < succeed_at:
            raise _Refused({"Retry-After": "0"})
        return "ok"

    policy = RetryPolicy(max_tries=3)
    assert policy.decorate(flaky, (_Refused,))(3) == "ok" and len(calls) == 3
    calls.clear()
    with pytest.raises(_Refused):
        policy.decorate(flaky, (_Refused,))(4)
    assert len(calls) == 3
    calls.clear()
    assert policy.decorate(flaky, (_Refused,), max_tries=10)(8) == "ok"  # a throttle's budget
