"""API mode's progress log: records/s, requests used against the limit, ETA, every few seconds.

A long load (hours at 50 requests a minute) must show it is alive and when it will end; a
background thread logs while the loader works, and once more at the end.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

from target_twenty.api.client import TwentyClient


class Progress:
    """Counts of records done out of ``total``; the loader adds to ``done`` under its lock."""

    def __init__(self, client: TwentyClient, seconds: float, logger: logging.Logger) -> None:
        self.client, self.seconds, self.logger = client, seconds, logger
        self.total = 0
        self.done = 0
        self.started = 0.0

    @contextmanager
    def running(self, total: int) -> Iterator[None]:
        """Log every ``seconds`` while the body runs, and once when it is over."""
        self.total = total
        self.started = time.monotonic()
        stop = threading.Event()
        reporter = threading.Thread(target=self._loop, args=(stop,), daemon=True)
        reporter.start()
        try:
            yield
        finally:
            stop.set()
            reporter.join()
        self.log()

    def _loop(self, stop: threading.Event) -> None:
        while not stop.wait(self.seconds):
            self.log()

    def log(self) -> None:
        elapsed = max(time.monotonic() - self.started, 1e-6)
        rate = self.done / elapsed
        left = self.total - self.done
        limit = self.client.pacer.limit or 0
        per_request = self.done / max(self.client.stats.requests, 1)
        eta = left / max(rate, limit / 60 * per_request, 1e-6) if left > 0 else 0
        self.logger.info(
            "progress: %d/%d records (%.1f/s), %d requests (%d in the last minute of %s), "
            "%d retries, ETA %.0f s",
            self.done,
            self.total,
            rate,
            self.client.stats.requests,
            self.client.pacer.used_in_window(),
            limit or "unlimited",
            self.client.stats.retries,
            eta,
        )
