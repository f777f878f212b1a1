"""Rules the rules file does not write: guessed from a stream's name and its SCHEMA.

- a stream no rule names (``unmapped_streams: custom_object``) becomes a custom object named after
  it (``matters`` → ``matter``), or a junction object for a link stream: one keyed by two
  columns that each reference another stream (``x-references``, e.g. Allegory's
  ``matters__contacts.csv`` → ``matter_contacts``);
- a column no rule names (``keep_unmapped``) becomes a custom field typed from its JSON schema, or
  a relation when the tap marks it ``x-references`` or it is named ``<stream>_id``.

Inference writes ordinary rules (the dicts a rules file holds); compile.py compiles them like any
other. A new guess goes here.
"""

from __future__ import annotations

import re
import typing as t
from dataclasses import dataclass
from typing import Any

from crm2twenty_common.twenty import (
    INTENT_KEYWORD,
    camel_case,
    label_case,
    plural,
    singular,
    twenty_type_for_json,
)

from crm2twenty_mapper.catalog import Catalog
from crm2twenty_mapper.intent import ObjectSchema

_CREATED = re.compile(
    r"^(created(_?(at|on|date))?|.+_created(_?(at|on|date))?|.+_createddate)$", re.I
)


@dataclass(frozen=True)
class ColumnRule:
    """The rule inferred for one unmapped column: an output path and its field rule."""

    path: str
    spec: dict[str, Any]
    ref_stream: str | None = None


def stream_rules(
    catalog: Catalog, stream: str, props: dict, key_properties: list[str]
) -> list[dict]:
    """Rules for a stream the rules file does not name: a custom object, or a junction; none for a
    stream that declares no columns (nothing to key or name a record by: its rows are rejected)."""
    columns = [c for c in props if not c.startswith("_sdc_")]
    if not columns:
        return []
    sides = link_sides(props, key_properties)
    if sides:
        specs = [_junction(catalog, stream, sides)]
    else:
        name = camel_case(singular(stream))
        catalog.declare_custom(name)
        key = key_properties or (["id"] if "id" in props else columns[:1])
        named = ("name", "title", "label", "subject", f"{singular(stream)}_name")
        label_col = next((c for c in named if c in props), None) or next(
            (c for c in columns if re.search(r"_(name|title|subject)$", c)), None
        )
        fields: dict[str, Any] = {
            "name": {"from": label_col or key[0], "transforms": ["trim"], "type": "TEXT"}
        }
        created = next((c for c in columns if _CREATED.search(c)), None)
        if created:  # keep the source's creation time, as the rules do for standard objects
            fields["createdAt"] = {"from": created, "transforms": ["datetime"]}
        specs = [{"object": name, "key": key, "fields": fields, "keep_unmapped": True}]
    catalog.add_stream(stream, specs[0]["object"], specs[0]["key"])
    return specs


def link_sides(props: dict, key_properties: list[str]) -> dict[str, str]:
    """A link stream's key column → the stream it references; empty for any other stream.

    A link is what its schema says, not what its name looks like: exactly two key columns, each
    marked ``x-references`` by the tap (exports/layout.py marks a link file's).
    """
    refs = {k: (props.get(k) or {}).get("x-references") for k in key_properties}
    if len(refs) != 2 or not all(isinstance(r, str) and r for r in refs.values()):
        return {}
    return t.cast("dict[str, str]", refs)


def _junction(catalog: Catalog, stream: str, sides: dict[str, str]) -> dict:
    """A link stream: one relation to each side, both required."""
    objs = [catalog.object_of(side) for side in sides.values()]
    name = camel_case(f"{objs[0]} {objs[1][:1].upper()}{objs[1][1:]}")
    fields: dict[str, Any] = {}
    keys = []
    for col, obj in zip(sides, objs, strict=True):
        prop = camel_case(obj) + ("2Id" if f"{camel_case(obj)}Id" in fields else "Id")
        # a link row without both ends means nothing: the target rejects it
        fields[prop] = {
            "ref": obj,
            "from": col,
            "label": label_case(obj),
            "inverse_label": label_case(plural(name)),
            "required": True,
        }
        keys.append(col)
    catalog.declare_custom(name, junction=True)
    return {"object": name, "key": keys, "fields": fields, "keep_unmapped": True}


def column_rule(
    catalog: Catalog, obj: str, schema: ObjectSchema, col: str, col_schema: dict
) -> ColumnRule:
    """A source column no rule names: kept as a custom field, or a relation for ``<x>_id``."""
    objects = catalog.stream_objects
    if col_schema.get("x-references") in objects:
        # the tap knows this column is a lookup to another stream (e.g. Sage metadata)
        target_stream = col_schema["x-references"]
        stem = col[:-2] if col.endswith("id") else col
        return ColumnRule(
            f"{camel_case(stem)}Id",
            {
                "ref": objects[target_stream],
                "from": col,
                "label": label_case(stem),
                "inverse_label": label_case(plural(obj)),
            },
            target_stream,
        )
    if col.endswith("_id"):
        stem = col[:-3]
        target_stream = next(
            (s for s in objects if s in (stem, plural(stem)) or singular(s) == stem), None
        )
        if target_stream is not None:
            prop = f"{camel_case(stem)}Id"
            if prop not in schema.properties:
                return ColumnRule(
                    prop,
                    {
                        "ref": objects[target_stream],
                        "from": col,
                        "label": label_case(stem),
                        "inverse_label": label_case(plural(obj)),
                    },
                    target_stream,
                )
    rules = catalog.rules
    name = camel_case(col)
    description = f"{rules.label} column {col}"
    if name in schema.properties and _description(schema, name) != description:
        name = camel_case(f"{rules.source} {col}")
    kind = twenty_type_for_json(col_schema)
    return ColumnRule(
        name, {"from": col, "type": kind, "label": label_case(col), "description": description}
    )


def _description(schema: ObjectSchema, name: str) -> str | None:
    return schema.properties[name].get(INTENT_KEYWORD, {}).get("description")
