"""The retry policy: the server's named wait exactly, else capped exponential with jitter."""

from __future__ import annotations

import random

import backoff
import pytest
import requests
from crm2twenty_common.retry import waits


def answer(status: int, **headers: str) -> requests.Response:
    response = requests.Response()
    response.status_code = status
    response.headers.update(headers)
    return response


def primed(base: float = 1.0, cap: float = 60.0):  # as backoff starts a wait generator
    gen = waits(base, cap)
    gen.send(None)
    return gen


def test_a_wait_the_server_names_is_kept_exactly() -> None:
    gen = primed()
    assert gen.send(answer(429, **{"Retry-After": "7"})) == 7.0
    busy = requests.HTTPError("503", response=answer(503, **{"Retry-After": "2"}))
    assert gen.send(busy) == 2.0


def test_without_one_the_wait_doubles_with_full_jitter_up_to_the_cap() -> None:
    random.seed(5)
    gen = primed(base=0.5, cap=4.0)
    dropped = requests.ConnectionError("connection aborted")
    got = [gen.send(f) for f in [dropped, answer(500), dropped, answer(502), answer(429)]]
    ceilings = [0.5, 1.0, 2.0, 4.0, 4.0]
    assert all(0 <= g <= c for g, c in zip(got, ceilings, strict=True))
    assert len(set(got)) == len(got)  # jittered, not a fixed sequence


def test_backoff_retries_with_it_and_gives_up_after_max_tries() -> None:
    tries: list[int] = []

    @backoff.on_exception(
        waits, requests.HTTPError, max_tries=3, jitter=None, logger=None, base=0.001
    )
    def call() -> None:
        tries.append(1)
        raise requests.HTTPError("429", response=answer(429, **{"Retry-After": "0"}))

    with pytest.raises(requests.HTTPError, match="429"):
        call()
    assert len(tries) == 3
