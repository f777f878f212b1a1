"""crm2twenty_common.twenty.standard: the standard objects' data fields are those of the captured
v2.21.0 metadata (tests/fakes/twenty_contract), with their types and labels."""

from __future__ import annotations

import json
from pathlib import Path

from crm2twenty_common.twenty import STANDARD_FIELDS, SYSTEM_FIELDS

CONTRACT = Path(__file__).parents[3] / "tests" / "fakes" / "twenty_contract"
# what a migration never fills from a source column
_NOT_DATA = {"RELATION", "MORPH_RELATION", "UUID", "TS_VECTOR", "POSITION", "ACTOR", "FILES"}


def test_the_table_is_the_captured_metadata() -> None:
    data = json.loads((CONTRACT / "metadata-objects.json").read_text())["data"]
    objects = {o["nameSingular"]: o for o in (data["objects"] if isinstance(data, dict) else data)}
    for obj, fields in STANDARD_FIELDS.items():
        captured = {
            f["name"]: (f["type"], f["label"])
            for f in objects[obj]["fields"]
            if f["type"] not in _NOT_DATA and f["name"] not in SYSTEM_FIELDS
        }
        assert fields == captured, obj
