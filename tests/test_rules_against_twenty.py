"""Every built-in rules file against Twenty's captured metadata (tests/fakes/twenty_contract).

A field a rule writes on a standard object is either one of that object's own fields, or a custom
field Twenty will accept: not a reserved name (Twenty refuses those when the field is created,
mid-migration) and a valid name.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from crm2twenty_common.twenty import NAME_PATTERN as FIELD_NAME
from crm2twenty_common.twenty import RESERVED_NAMES
from crm2twenty_mapper import rules as rules_mod

CONTRACT = Path(__file__).parent / "fakes" / "twenty_contract" / "metadata-objects.json"


def standard_fields() -> dict[str, set[str]]:
    data = json.loads(CONTRACT.read_text(encoding="utf-8"))["data"]
    objects = data["objects"] if isinstance(data, dict) else data
    out = {}
    for obj in objects:
        names = {f["name"] for f in obj["fields"]}
        # a relation is written through its join column (`company` → `companyId`)
        names |= {f"{f['name']}Id" for f in obj["fields"] if f["type"] == "RELATION"}
        out[obj["nameSingular"]] = names
    return out


@pytest.mark.parametrize("name", rules_mod.builtin_names())
def test_rules_name_only_fields_twenty_has_or_will_create(name: str) -> None:
    standard = standard_fields()
    rules = rules_mod.load(name)
    problems = []
    for stream, outputs in rules.streams.items():
        for output in outputs:
            obj = output["object"]
            if obj.startswith("_") or obj not in standard:
                continue  # bookkeeping objects, and custom objects (checked by the mapper)
            for path in output.get("fields") or {}:
                top = path.split(".")[0]
                if top.startswith("_") or top in standard[obj]:
                    continue
                if top in RESERVED_NAMES or not FIELD_NAME.fullmatch(top):
                    problems.append(f"{stream} → {obj}.{top}")
    assert problems == []
