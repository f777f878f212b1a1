"""The singer-sdk standard tap tests, on the small export committed beside this file.

`fixture_export/` has one file of every kind: the known streams (companies with an unknown
column, contacts with CRLF endings and a quoted line break, deals with day-first dates, tasks
in cp1252 with semicolons, notes with a BOM, users with one row that has no id), the
attachments manifest (one file present, one missing), workflows.json, a custom object
(matters.csv) and a link file (matters__contacts.csv).

All standard tests run; `_notices` (the export's repeated headers and empty files, none here)
may have no record. `on_bad_row: reject` sends the users row without an
id to `_rejects`, so that stream has a record and its tests run too.
"""

from __future__ import annotations

from pathlib import Path

from singer_sdk.testing import SuiteConfig, get_tap_test_class
from tap_allegory_csv.tap import TapAllegoryCsv

EXPORT = Path(__file__).parent / "fixture_export"
CONFIG = {"export_dir": str(EXPORT), "on_bad_row": "reject", "side_streams": True}

TestTapAllegoryCsv = get_tap_test_class(
    TapAllegoryCsv,
    config=CONFIG,
    suite_config=SuiteConfig(ignore_no_records_for_streams=["_notices"]),
)
