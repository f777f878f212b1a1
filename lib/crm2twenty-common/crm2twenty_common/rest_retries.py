"""The SDK's backoff hooks of a ``RESTStream``, fed by one :class:`RetryPolicy`, and the pacer
plugged in through the public ``request_decorator`` hook: every try of every request waits for
the tap's pacer, so a retry is paced like any other request.

The SDK's own retry (``request_decorator``: ``backoff.on_exception`` on ``RetriableAPIError`` and
transport errors) stays the one retry loop; only its numbers come from the policy, so a tap's
REST streams and its other calls (zeep, file downloads: ``RetryPolicy.decorate``) retry alike.
"""

from __future__ import annotations

import itertools
import typing as t

from singer_sdk import RESTStream

if t.TYPE_CHECKING:
    from collections.abc import Callable, Generator

    import requests

    from crm2twenty_common.pacer import Pacer, RetryPolicy


class PolicyRetries(RESTStream):
    """A REST stream whose retries follow ``retry_policy`` and whose requests wait for
    ``pacer`` (None: not paced). Both belong to the tap run, shared by all its streams."""

    @property
    def retry_policy(self) -> RetryPolicy:
        raise NotImplementedError

    @property
    def pacer(self) -> Pacer | None:
        return None

    def backoff_max_tries(self) -> int:
        return self.retry_policy.max_tries

    def backoff_wait_generator(self) -> Generator[float, None, None]:
        # a fresh generator per request (backoff makes one per call): attempts count from 1
        attempts = itertools.count(1)
        return self.backoff_runtime(
            value=lambda error: self.retry_policy.wait_for(error, next(attempts))
        )

    def backoff_jitter(self, value: float) -> float:
        return value  # the policy's backoff is jittered already; a Retry-After is kept as asked

    def request_decorator(
        self, func: Callable[..., requests.Response]
    ) -> Callable[..., requests.Response]:
        pacer = self.pacer

        def paced(*args: t.Any, **kwargs: t.Any) -> requests.Response:
            if pacer is not None:
                pacer.acquire()
            return func(*args, **kwargs)

        return super().request_decorator(self.throttle_retries(paced))

    def throttle_retries(
        self, func: Callable[..., requests.Response]
    ) -> Callable[..., requests.Response]:
        """Override to retry throttles (429) on a budget of their own, inside the SDK's
        failure retries and outside the pacer (each try is paced)."""
        return func
