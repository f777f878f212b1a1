"""The Twenty client on its own, against the loopback fake: which calls are limited, and how a
request that keeps failing ends (counted, retried per the policy, then one clear error)."""

from __future__ import annotations

import pytest
from fakes.twenty import FakeTwenty
from target_twenty.api.client import TwentyClient, TwentyError, limited, request_kind, stopped
from target_twenty.outcome import RequestKind


@pytest.mark.parametrize(
    ("method", "path", "kind", "paced"),
    [
        ("GET", "/rest/companies", RequestKind.READ, True),
        ("POST", "/rest/batch/companies", RequestKind.WRITE, True),
        ("DELETE", "/rest/companies/1", RequestKind.WRITE, True),
        ("GET", "/rest/metadata/objects", RequestKind.METADATA, False),
        ("POST", "/rest/metadata/fields", RequestKind.METADATA, False),
        ("POST", "/metadata", RequestKind.UPLOAD, False),
        ("POST", "/graphql", RequestKind.UPLOAD, True),  # an older server's upload: unknown
    ],
)
def test_request_kinds_and_which_twenty_limits(
    method: str, path: str, kind: RequestKind, paced: bool
) -> None:
    assert request_kind(method, path) is kind
    assert limited(method, path) is paced


def client(fake: FakeTwenty, retries: int) -> TwentyClient:
    # retries back off from 10 ms, not 1 s: these tests count them, not the waits
    return TwentyClient(
        fake.url, fake.api_key, requests_per_minute=60000, max_retries=retries, backoff_seconds=0.01
    )


def test_an_answer_dropped_every_time_ends_in_one_clear_error_after_the_retries() -> None:
    with FakeTwenty() as fake:
        twenty = client(fake, retries=1)
        fake.drop_writes = 5
        with pytest.raises(TwentyError) as failed:
            twenty.batch_upsert("companies", [{"name": "Acme"}])
        assert failed.value.status == 0
        assert "no answer after 2 tries" in str(failed.value)
        assert "Twenty did not answer" in stopped("The load", failed.value)
        assert (twenty.stats.writes, twenty.stats.retries) == (2, 1)
        assert fake.counts["faults"] == 2  # the server wrote twice (the same ids: one record)


def test_a_server_failing_past_the_retries_answers_with_its_own_status() -> None:
    with FakeTwenty() as fake:
        twenty = client(fake, retries=1)
        fake.fail_writes = 5
        with pytest.raises(TwentyError) as failed:
            twenty.batch_upsert("companies", [{"name": "Acme"}])
        assert failed.value.status == 503
        assert "Twenty kept failing" in stopped("The load", failed.value)
        assert (twenty.stats.writes, twenty.stats.retries, fake.counts["faults"]) == (2, 1, 2)
        fake.fail_writes = 1  # one failure, then the retry lands
        assert twenty.batch_upsert("companies", [{"name": "Beta"}])[0]["name"] == "Beta"
        assert twenty.stats.retries == 2


def test_a_refused_key_is_not_retried() -> None:
    with FakeTwenty() as fake:
        twenty = client(fake, retries=3)
        fake.api_key = "revoked"
        with pytest.raises(TwentyError) as failed:
            twenty.metadata_objects()
        assert failed.value.status == 401 and failed.value.messages == ["Invalid API key"]
        assert (twenty.stats.metadata, twenty.stats.retries) == (1, 0)
        assert "refused the API key (401" in stopped("The load", failed.value)
