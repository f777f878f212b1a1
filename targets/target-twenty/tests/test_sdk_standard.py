"""The singer-sdk standard target tests: every bundled Singer stream lands without error."""

from __future__ import annotations

import tempfile

from singer_sdk.testing import get_target_test_class
from target_twenty.target import TargetTwenty

# One folder for the whole class: the SDK builds the target from this config for every test.
OUTPUT = tempfile.mkdtemp(prefix="target-twenty-sdk-")

TestTargetTwenty = get_target_test_class(
    TargetTwenty,
    config={"output_dir": OUTPUT},
)
