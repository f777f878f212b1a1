"""The Twenty type map against the captured v2.21.0 contract: the metadata's field types and the
OpenAPI JSON schemas Twenty itself gives for those fields."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from crm2twenty_common.twenty import (
    COMPOSITES,
    PRIMARY_SUBFIELD,
    SUBFIELD_LABELS,
    SUBFIELD_TYPE,
    SYSTEM_FIELDS,
    FieldType,
    json_schema_for,
    subfield_labels,
    twenty_type_for_json,
)

CONTRACT = Path(__file__).parents[3] / "tests" / "fakes" / "twenty_contract"
# Types a JSON schema alone determines; every other type needs the mapper's intent.
INFERABLE = {"TEXT", "NUMBER", "BOOLEAN", "DATE_TIME", "DATE", "UUID", "RAW_JSON"}


def _objects() -> list[dict]:
    data = json.loads((CONTRACT / "metadata-objects.json").read_text())["data"]
    return data["objects"] if isinstance(data, dict) else data


def _fields_with_openapi() -> list[tuple[str, dict, dict]]:
    """(object, metadata field, the OpenAPI property Twenty gives for it)."""
    schemas = json.loads((CONTRACT / "openapi-core.json").read_text())["components"]["schemas"]
    found = []
    for obj in _objects():
        name = obj["nameSingular"]
        props = schemas[name[:1].upper() + name[1:]]["properties"]
        for field in obj["fields"]:
            if field["name"] in props:
                found.append((name, field, props[field["name"]]))
    return found


FIELDS = _fields_with_openapi()


def test_every_metadata_field_type_is_known() -> None:
    types = {f["type"] for obj in _objects() for f in obj["fields"]}
    assert types <= {t.value for t in FieldType}


def test_system_fields_are_what_every_object_has() -> None:
    common = set.intersection(*({f["name"] for f in obj["fields"]} for obj in _objects()))
    assert common == SYSTEM_FIELDS


def test_the_openapi_covers_every_inferable_type_of_the_metadata() -> None:
    assert {f["type"] for _, f, _ in FIELDS} & INFERABLE == {
        "TEXT",
        "NUMBER",
        "BOOLEAN",
        "DATE_TIME",
        "UUID",
        "RAW_JSON",
    }


@pytest.mark.parametrize(
    ("obj", "field", "prop"),
    [x for x in FIELDS if x[1]["type"] in INFERABLE],
    ids=lambda x: x if isinstance(x, str) else x.get("name", ""),
)
def test_json_type_of_a_twenty_field_maps_back_to_its_type(obj: str, field: dict, prop: dict):
    assert twenty_type_for_json(prop) == field["type"]


@pytest.mark.parametrize("kind", sorted(INFERABLE | {"ARRAY"}))
def test_json_schema_for_round_trips(kind: str) -> None:
    assert twenty_type_for_json(json_schema_for(kind)) == kind


def test_composite_subfields_are_twentys() -> None:
    seen = set()
    for _, field, prop in FIELDS:
        kind = field["type"]
        if kind not in COMPOSITES:
            continue
        seen.add(kind)
        ours, theirs = set(COMPOSITES[kind]), set(prop["properties"])
        if kind == "RICH_TEXT":
            assert ours <= theirs  # we write markdown; Twenty fills blocknote itself
        else:
            assert ours == theirs, kind
        assert set(json_schema_for(kind)["properties"]) == ours
    assert seen == set(COMPOSITES)


def test_composite_helpers_agree() -> None:
    assert set(SUBFIELD_LABELS) <= set(COMPOSITES)
    for kind, labels in SUBFIELD_LABELS.items():
        assert set(labels) <= set(COMPOSITES[kind])
    for kind, sub in PRIMARY_SUBFIELD.items():
        assert SUBFIELD_TYPE[sub] == kind
    assert subfield_labels("RICH_TEXT_V2") == {"markdown": "Markdown"}
    assert subfield_labels("TEXT") == {}


@pytest.mark.parametrize(
    ("schema", "kind"),
    [
        ({"type": "string"}, "TEXT"),
        ({"type": ["string", "null"], "format": "uuid"}, "UUID"),
        ({"type": ["string", "null"], "format": "date"}, "DATE"),
        ({"type": "string", "format": "date-time"}, "DATE_TIME"),
        ({"type": "string", "format": "email"}, "TEXT"),
        ({"type": ["integer", "null"]}, "NUMBER"),
        ({"type": ["null", "boolean"]}, "BOOLEAN"),
        ({"type": "array", "items": {"type": "string"}}, "ARRAY"),
        ({"type": ["object", "null"]}, "RAW_JSON"),
        ({}, "TEXT"),
    ],
)
def test_twenty_type_for_json(schema: dict, kind: str) -> None:
    assert twenty_type_for_json(schema) == kind


def test_field_type_writes_as_its_api_string() -> None:
    kind = twenty_type_for_json({"type": "string", "format": "uuid"})
    assert kind is FieldType.UUID
    assert f"{kind}" == str(kind) == "UUID"
    assert json.dumps({"type": kind, kind: 1}) == '{"type": "UUID", "UUID": 1}'
    by_type: dict[str, int] = {FieldType.EMAILS: 1}
    assert by_type["EMAILS"] == 1  # a plain string finds an enum key
