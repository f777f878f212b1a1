"""The pacer's promise: never more than N starts in any window, never two closer than the gap."""

from __future__ import annotations

import itertools
import threading
import time

import pytest
from crm2twenty_common.pacer import Pacer, backoff, retry_after


def max_in_any_window(starts: list[float], window: float) -> int:
    starts = sorted(starts)
    best, j = 0, 0
    for i, t in enumerate(starts):
        while starts[j] <= t - window:
            j += 1
        best = max(best, i - j + 1)
    return best


def test_window_limit_holds_across_threads() -> None:
    pacer = Pacer(limit=5, window=0.4)
    starts: list[float] = []
    lock = threading.Lock()

    def worker() -> None:
        for _ in range(4):
            pacer.acquire()
            with lock:
                starts.append(time.monotonic())

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(starts) == 16
    # a small margin for the clock read after acquire returns
    assert max_in_any_window(starts, 0.4 - 0.01) <= 5
    assert pacer.requests == 16


def test_min_interval_spaces_every_start() -> None:
    pacer = Pacer(min_interval=0.05)
    starts = []
    for _ in range(6):
        pacer.acquire()
        starts.append(time.monotonic())
    gaps = [b - a for a, b in itertools.pairwise(starts)]
    assert min(gaps) >= 0.05 - 0.002


def test_pause_holds_everyone() -> None:
    pacer = Pacer(limit=100, window=60)
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
