"""The Singer SDK's standard tap tests, against a real PostgreSQL holding Atomic CRM's schema.

The database (tests/fakes/atomic_db.py) is made for this module and dropped at exit; the tap
connects as the server's `postgres` role, which owns the tables (RLS does not hide rows from it).
"""

from __future__ import annotations

import atexit

import pytest
from fakes.atomic_db import AtomicDb
from singer_sdk.testing import SuiteConfig, get_tap_test_class
from tap_supabase_atomic.tap import TapSupabaseAtomic

pytestmark = pytest.mark.postgres

_DB = AtomicDb().start()
atexit.register(_DB.stop)

TestTapSupabaseAtomic = get_tap_test_class(
    TapSupabaseAtomic, config={"dsn": _DB.dsn}, suite_config=SuiteConfig()
)

TestTapSupabaseAtomicLegacy = get_tap_test_class(
    TapSupabaseAtomic,
    config={"dsn": _DB.dsn, "schema": "legacy"},
    # the legacy install has no files, no deleted tags and no avatar errors to report
    suite_config=SuiteConfig(ignore_no_records_for_streams=["attachments"]),
)
