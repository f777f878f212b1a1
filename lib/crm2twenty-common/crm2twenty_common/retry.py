"""The suite's one retry policy for calls to a remote system, on the ``backoff`` package.

``backoff`` is what singer-sdk's ``RESTStream`` retries with (docs/singer-meltano.md §1.1), so
a tap's backoff hooks and the target's client wait alike: what the server asked when it said
(``Retry-After`` or ``X-RateLimit-Reset``, :func:`~crm2twenty_common.pacer.retry_after`), else
exponential backoff with full jitter (``base`` seconds, doubling, at most ``cap``). The jitter is
applied here, not through backoff's ``jitter`` argument, which would change a wait the server
named too.

Use with ``jitter=None`` (``backoff.on_exception(waits, ..., jitter=None)``), or return
``waits()`` from ``RESTStream.backoff_wait_generator`` and make ``backoff_jitter`` the identity
(the SDK would otherwise add up to a second to every wait, the server's too).
"""

from __future__ import annotations

from collections.abc import Generator
from typing import Any

import backoff

from crm2twenty_common.pacer import retry_after

# Answers worth another try: rate limited, or the server (or a proxy before it) failing for now.
RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})


def waits(base: float = 1.0, cap: float = 60.0) -> Generator[float, Any, None]:
    """A backoff wait generator: backoff sends it each failure (the answer, or the exception,
    whose ``response`` is read when it has one) and sleeps what it yields."""
    steps = backoff.expo(factor=base, max_value=cap)
    next(steps)  # backoff's generators yield once for the priming send
    failure = yield 0.0
    while True:
        step = next(steps)
        response = getattr(failure, "response", failure)
        asked = retry_after(getattr(response, "headers", None) or {})
        failure = yield asked if asked is not None else backoff.full_jitter(step)
