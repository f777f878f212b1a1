"""What a Twenty workspace has: objects, fields, labels, join columns, unique fields, options.

Read from ``GET /rest/metadata/objects`` (live, or saved to a file), or from the bundled snapshot of
a clean v2.21.0 workspace. Nothing that metadata can tell is hard-coded elsewhere: plural names,
join columns (``targetPersonId`` vs the older ``personId``), unique fields, SELECT options, the body
field, and whether attachments use the ``file`` FILES field or the legacy ``fullPath``.

Where a new Twenty version's difference goes: its metadata shape here (with its captured
metadata as a test); its naming and type rules in ``crm2twenty_common.twenty``; its REST
response and error shapes in api/client.py.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from importlib import resources
from typing import Any

# How unique values compare (shared with the mapper's source profile), re-exported here.
from crm2twenty_common.twenty.unique import UNIQUE_SUBFIELDS as UNIQUE_SUBFIELDS
from crm2twenty_common.twenty.unique import unique_key as unique_key

BUNDLED = "workspace-v2.21.0.json"

RELATION_TYPES = ("RELATION", "MORPH_RELATION")


@dataclass
class Field:
    name: str
    label: str
    type: str
    unique: bool = False
    nullable: bool = True
    custom: bool = False
    system: bool = False
    id: str | None = None
    options: list[dict[str, Any]] = field(default_factory=list)
    join_column: str | None = None
    relation_type: str | None = None
    default: Any = None

    @property
    def option_values(self) -> set[str]:
        return {o["value"] for o in self.options}


@dataclass
class Obj:
    name: str
    plural: str
    label_singular: str
    label_plural: str
    custom: bool = False
    system: bool = False
    id: str | None = None
    fields: dict[str, Field] = field(default_factory=dict)

    def by_join_column(self, column: str) -> Field | None:
        for f in self.fields.values():
            if f.join_column == column:
                return f
        return None

    def relation_to(self, prop: str, target: str) -> Field | None:
        """The relation field a mapper property names, on this workspace's version.

        The mapper names relations by their current join column (``targetPersonId``); older
        workspaces call the same column ``personId``. Custom objects' relations are ``<name>Id``.
        """
        exact = self.by_join_column(prop)
        if exact is not None:
            return exact
        cap = target[:1].upper() + target[1:]
        stem = prop[:-2] if prop.endswith("Id") else prop
        bare = stem[6:7].lower() + stem[7:] if stem.startswith("target") else stem
        for candidate in (
            f"target{cap}Id",
            f"{target}Id",
            f"{bare}Id",
            f"target{bare[:1].upper()}{bare[1:]}Id",
        ):
            found = self.by_join_column(candidate)
            if found is not None:
                return found
        return None

    @property
    def has_morph_relations(self) -> bool:
        return any(f.type == "MORPH_RELATION" for f in self.fields.values())

    def unique_fields(self) -> list[Field]:
        return [f for f in self.fields.values() if f.unique and f.name != "id"]


class Workspace:
    """A workspace's objects, by singular and plural name."""

    def __init__(self, objects: list[Obj], source: str) -> None:
        self.objects = {o.name: o for o in objects}
        self._lookup = {}
        for o in objects:
            self._lookup[o.name.lower()] = o
            self._lookup[o.plural.lower()] = o
        self.source = source

    @classmethod
    def from_payload(cls, payload: Any, source: str) -> Workspace:
        """Parse ``/rest/metadata/objects``: ``{"data": {"objects": [...]}}`` or ``{"data": [...]}``
        (a v2.21.0 server answers in either shape, by feature flag)."""
        data = payload.get("data", payload) if isinstance(payload, dict) else payload
        items = data.get("objects", data) if isinstance(data, dict) else data
        if not isinstance(items, list):
            raise ValueError(f"{source}: no list of objects in the metadata answer")
        return cls([_parse_object(o) for o in items if o.get("isActive", True)], source)

    @classmethod
    def bundled(cls) -> Workspace:
        path = resources.files("target_twenty") / "data" / BUNDLED
        payload = json.loads(path.read_text(encoding="utf-8"))
        return cls.from_payload(
            payload, f"bundled snapshot of a clean Twenty v2.21.0 workspace ({BUNDLED})"
        )

    @classmethod
    def from_file(cls, path: str) -> Workspace:
        with open(path, encoding="utf-8") as handle:
            return cls.from_payload(json.load(handle), path)

    def find(self, name: str) -> Obj | None:
        return self._lookup.get(name.lower())

    def require(self, name: str) -> Obj:
        """The object named ``name`` (singular or plural, any case); it must exist."""
        found = self.find(name)
        if found is None:
            raise LookupError(f"object {name} is not in the workspace ({self.source})")
        return found

    def add(self, obj: Obj) -> None:
        self.objects[obj.name] = obj
        self._lookup[obj.name.lower()] = obj
        self._lookup[obj.plural.lower()] = obj


def _parse_object(raw: dict) -> Obj:
    obj = Obj(
        name=raw["nameSingular"],
        plural=raw["namePlural"],
        label_singular=raw.get("labelSingular") or raw["nameSingular"],
        label_plural=raw.get("labelPlural") or raw["namePlural"],
        custom=bool(raw.get("isCustom")),
        system=bool(raw.get("isSystem")),
        id=raw.get("id"),
    )
    for f in raw.get("fields") or []:
        if not f.get("isActive", True):
            continue
        settings = f.get("settings") or {}
        relation = f.get("relation") or {}
        obj.fields[f["name"]] = Field(
            name=f["name"],
            label=f.get("label") or f["name"],
            type=f["type"],
            unique=bool(f.get("isUnique")),
            nullable=f.get("isNullable", True) is not False,
            custom=bool(f.get("isCustom")),
            system=bool(f.get("isSystem")),
            id=f.get("id"),
            options=list(f.get("options") or []),
            join_column=settings.get("joinColumnName")
            or (
                f"{f['name']}Id"
                if f["type"] in RELATION_TYPES
                and (settings.get("relationType") or relation.get("type")) == "MANY_TO_ONE"
                else None
            ),
            relation_type=settings.get("relationType") or relation.get("type"),
            default=f.get("defaultValue"),
        )
    return obj
