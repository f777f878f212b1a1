"""The mapper and target-twenty name every object of Twenty's captured metadata the same way.

Both take names from crm2twenty_common.twenty; this checks it through each plugin's own entry
point (the mapper's catalog of output objects, the target's plan of a plain Singer stream), so a
plugin that grew its own naming again would fail here. The metadata is the clean v2.21.0
workspace captured in tests/fakes/twenty_contract (docs/twenty-contract.md §4.2).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from crm2twenty_mapper.catalog import Catalog
from crm2twenty_mapper.rules import Rules
from crm2twenty_mapper.transforms import Context
from target_twenty.plan import build_plan
from target_twenty.workspace import Workspace

METADATA = Path(__file__).parent / "fakes" / "twenty_contract" / "metadata-objects.json"
OBJECTS = json.loads(METADATA.read_text(encoding="utf-8"))["data"]
# The five standard objects whose labels Twenty wrote by hand rather than spelled from the name
# (lib/crm2twenty-common/tests/test_twenty_names.py lists them with their labels).
HAND_LABELLED = {
    "calendarEvent",
    "calendarEventParticipant",
    "messageList",
    "messageListMember",
    "messageCampaign",
}


def mapper_naming(names: list[str]) -> Catalog:
    rules = Rules(
        path="(test)",
        source="test",
        label="test",
        extractors=[],
        source_id_field=None,
        defaults=Context(),
        unmapped_streams="custom_object",
        objects={name: {} for name in names},
    )
    return Catalog(rules, "crm2twenty")


@pytest.mark.parametrize("obj", OBJECTS, ids=lambda o: o["nameSingular"])
def test_the_mapper_and_the_target_agree_with_twenty(obj: dict) -> None:
    singular, plural = obj["nameSingular"], obj["namePlural"]
    catalog = mapper_naming([singular])
    root = catalog.object_schema(singular, internal=False).root
    # a plain Singer stream named like Twenty's plural, on a workspace that does not know it
    plan = build_plan(plural, {"properties": {}}, ["id"], Workspace([], "test"))

    assert catalog.object_of(plural) == plan.name == singular
    assert root["namePlural"] == plan.plural == plural
    assert (root["labelSingular"], root["labelPlural"]) == (plan.label_singular, plan.label_plural)
    if singular not in HAND_LABELLED:
        assert (plan.label_singular, plan.label_plural) == (
            obj["labelSingular"],
            obj["labelPlural"],
        )
