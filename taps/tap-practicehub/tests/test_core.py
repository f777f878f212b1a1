"""The Singer SDK's standard tap tests, against a fake PracticeHub started for this module.

The fake serves over real HTTP on loopback (tests/fakes/practicehub.py) and refuses requests
closer than 0.05 s apart; the tap is set to 0.06 s, so the suite runs in seconds."""

from __future__ import annotations

import atexit

from fakes.practicehub import API_KEY, APP_DETAILS, FakePracticeHub
from singer_sdk.testing import SuiteConfig, get_tap_test_class
from tap_practicehub.tap import TapPracticeHub

_FAKE = FakePracticeHub(min_interval=0.05, retry_after=0.1)
_FAKE.start()
atexit.register(_FAKE.stop)

TestTapPracticeHub = get_tap_test_class(
    TapPracticeHub,
    config={
        "api_url": _FAKE.url,
        "api_key": API_KEY,
        "app_details": APP_DETAILS,
        "min_interval_seconds": 0.06,
    },
    suite_config=SuiteConfig(ignore_no_records_for_streams=["_notices"]),
)
