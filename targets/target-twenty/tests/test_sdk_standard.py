"""The singer-sdk standard target tests: every bundled Singer stream lands without error."""

from __future__ import annotations

import tempfile

from singer_sdk.testing import get_target_test_class
from singer_sdk.testing.suites import SingerTestSuite, target_tests
from singer_sdk.testing.target_tests import TargetRecordMissingKeyProperty
from target_twenty.target import TargetTwenty

# One folder for the whole class: the SDK builds the target from this config for every test.
OUTPUT = tempfile.mkdtemp(prefix="target-twenty-sdk-")

# All but one: the SDK's test expects a record without its key property to stop the run;
# target-twenty rejects that record, naming its input line, and goes on (intake.py; covered by
# test_malformed_input.py).
SUITE = SingerTestSuite(
    kind="target",
    tests=[t for t in target_tests.tests if t is not TargetRecordMissingKeyProperty],
)

TestTargetTwenty = get_target_test_class(
    TargetTwenty,
    config={"output_dir": OUTPUT},
    include_target_tests=False,
    custom_suites=[SUITE],
)
