"""The singer-sdk standard tap tests, on the small export committed beside this file.

`fixture_export/` has one file of every kind: VPL files (companies.vpl in cp1252 with a quoted
comma and doubled quotes, contacts.vpl in UTF-8 with a line break inside a cell, a row without
an id and a row with a stray cell; both CR-terminated), deals with `;` and day-first dates,
pipeline_stages listed out of order, activities with a BOM and CRLF, notes in cp1252, tasks in
UTF-16 with tabs, users, the attachments manifest (one file present, one missing),
workflows.json and a custom object (referrals.csv).

All standard tests run; `_notices` (the export's repeated headers and empty files, none here)
may have no record. `on_bad_row: reject` sends the two bad contacts rows
to `_rejects`, so that stream has records and its tests run too.
"""

from __future__ import annotations

from pathlib import Path

from singer_sdk.testing import SuiteConfig, get_tap_test_class
from tap_visualpractice.tap import TapVisualPractice

EXPORT = Path(__file__).parent / "fixture_export"
CONFIG = {"export_dir": str(EXPORT), "on_bad_row": "reject"}

TestTapVisualPractice = get_tap_test_class(
    TapVisualPractice,
    config=CONFIG,
    suite_config=SuiteConfig(ignore_no_records_for_streams=["_notices"]),
)
