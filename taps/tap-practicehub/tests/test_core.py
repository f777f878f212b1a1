"""The Singer SDK's standard tap tests, against a fake PracticeHub started by a fixture.

The fake serves over real HTTP on loopback (tests/fakes/practicehub.py) and refuses requests
closer than 0.05 s apart; the tap is set to 0.06 s, so the suite runs in seconds.

The SDK builds the test class, with one test per stream and per field, at import: it lists the
streams from a tap made then. PracticeHub's streams are static (discovery asks the server
nothing), so that tap gets an address that is never asked, and the class's `runner` (the
records every test reads, the taps the tap-level tests run) is built in a fixture from the
address of the fake it starts, so collecting starts no server.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fakes.practicehub import API_KEY, APP_DETAILS, FakePracticeHub
from singer_sdk.testing import SuiteConfig, get_tap_test_class
from singer_sdk.testing.runners import TapTestRunner
from tap_practicehub.tap import TapPracticeHub

SUITE = SuiteConfig(ignore_no_records_for_streams=["_notices"])


def config(api_url: str) -> dict:
    return {
        "api_url": api_url,
        "api_key": API_KEY,
        "app_details": APP_DETAILS,
        "min_interval_seconds": 0.06,
    }


@pytest.fixture(scope="module")
def fake() -> Iterator[FakePracticeHub]:
    with FakePracticeHub(min_interval=0.05, retry_after=0.1) as fake:
        yield fake


# (`.invalid` never resolves, RFC 2606: were a test to ask this tap's server, it would fail)
_Collected = get_tap_test_class(
    TapPracticeHub, config=config("http://practicehub.invalid"), suite_config=SUITE
)


class TestTapPracticeHub(_Collected):  # type: ignore[misc,valid-type]  # a class built at runtime
    @pytest.fixture(scope="class")
    @classmethod
    def runner(cls, fake: FakePracticeHub) -> TapTestRunner:
        # as the SDK's own `runner` fixture, with the fake's address
        runner = TapTestRunner(
            TapPracticeHub, config=config(fake.url), suite_config=SUITE, parse_env_config=True
        )
        runner.sync_all()
        return runner
