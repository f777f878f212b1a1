"""The Singer SDK's standard tap tests, against a fake Sage CRM started for this module.

The fake serves over real HTTP on loopback (tests/fakes/sage.py); the tap talks SOAP to it
through zeep, as it would to a Sage server.
"""

from __future__ import annotations

import atexit

from fakes.sage import FakeSage
from singer_sdk.testing import SuiteConfig, get_tap_test_class
from tap_sage_crm.tap import TapSageCrm

_FAKE = FakeSage(scale=0.05)
_FAKE.start()
atexit.register(_FAKE.stop)

TestTapSageCrm = get_tap_test_class(
    TapSageCrm,
    config={"base_url": _FAKE.url, "username": "admin", "password": "s3cret"},
    suite_config=SuiteConfig(ignore_no_records_for_streams=["_notices"]),
)
