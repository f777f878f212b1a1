"""How each incoming stream lands in the workspace: its object, and each property's field.

Built from the stream's SCHEMA (the mapper's ``x-twenty`` intent, or plain JSON types when a plain
Singer tap feeds the target) against the workspace metadata. Whatever the workspace lacks — a
custom object, a custom field, a standard field this version does not have (company ``employees``
on v2.21), a relation, a SELECT option — becomes part of the provisioning plan.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from crm2twenty_common.twenty import BOOKKEEPING as BOOKKEEPING  # re-exported for report.py
from crm2twenty_common.twenty import (
    INTENT_KEYWORD,
    SYSTEM_FIELDS,
    camel_case,
    is_side_stream,
    label_case,
    plural,
    singular,
    twenty_type_for_json,
)

from target_twenty.outcome import NewField, NewObject, NewOptions, ProvisioningNeeds
from target_twenty.workspace import Field, Obj, Workspace

KEYWORD = INTENT_KEYWORD
# Bookkeeping streams of the pipeline itself (BOOKKEEPING), as opposed to mapped records the
# rules keep out of Twenty on purpose (`_owner`, `_workflow`, `_caption` …): both are side
# streams (any stream whose name starts with `_`), kept for the report, never written.
is_internal = is_side_stream


@dataclass
class FieldPlan:
    prop: str  # property name in the incoming records
    name: str  # Twenty field name
    kind: str  # Twenty field type
    label: str
    existing: Field | None  # the workspace field, when it exists
    intent: dict[str, Any]
    target: str | None = None  # relation target object
    match: str | None = None  # "id" or "userEmail" for relations
    column: str | None = None  # the key the API takes (join column for relations)
    subfields: list[str] = field(default_factory=list)
    missing_options: list[dict] = field(default_factory=list)
    deferred: bool = False  # written in a second pass (self-reference or cycle)

    @property
    def exists(self) -> bool:
        return self.existing is not None

    @property
    def allowed_options(self) -> set[str]:
        current = self.existing.option_values if self.existing else set()
        return current | {o["value"] for o in self.intent.get("options", [])}


@dataclass
class ObjectPlan:
    stream: str
    name: str
    plural: str
    label_singular: str
    label_plural: str
    obj: Obj | None
    root: dict[str, Any]
    plain: bool
    key_properties: list[str]
    fields: dict[str, FieldPlan] = field(default_factory=dict)
    internal: set[str] = field(default_factory=set)
    extra: set[str] = field(default_factory=set)

    @property
    def exists(self) -> bool:
        return self.obj is not None

    @property
    def is_system(self) -> bool:
        return bool(self.obj and self.obj.system)

    @property
    def csv_importable(self) -> bool:
        """Objects with morph relations (note/task targets, attachments) need the API."""
        return not (self.obj and self.obj.has_morph_relations)

    def relations(self) -> list[FieldPlan]:
        return [f for f in self.fields.values() if f.kind == "RELATION" and f.match == "id"]

    def owner_fields(self) -> list[FieldPlan]:
        return [f for f in self.fields.values() if f.kind == "RELATION" and f.match == "userEmail"]


def build_plan(
    stream: str,
    schema: dict,
    key_properties: list[str],
    ws: Workspace,
    previous: ObjectPlan | None = None,
) -> ObjectPlan:
    """The plan for ``stream``; a later SCHEMA for the same stream extends the earlier plan."""
    root = dict(schema.get(KEYWORD) or {})
    plain = not root
    name = root.get("object") or stream
    obj = ws.find(name) or (None if not plain else ws.find(singular(stream)))
    if obj is None and plain:
        name = camel_case(singular(stream))
    if obj is not None:
        name = obj.name
    plan = previous or ObjectPlan(
        stream=stream,
        name=name,
        plural=obj.plural if obj else root.get("namePlural", plural(name)),
        label_singular=obj.label_singular if obj else root.get("labelSingular", label_case(name)),
        label_plural=obj.label_plural if obj else root.get("labelPlural", label_case(plural(name))),
        obj=obj,
        root=root,
        plain=plain,
        key_properties=list(key_properties or []),
    )
    for prop, pschema in (schema.get("properties") or {}).items():
        intent = pschema.get(KEYWORD)
        if intent is None and not plain and prop.startswith("_"):
            intent = {"internal": True}
        if intent and intent.get("internal"):
            plan.internal.add(prop)
            continue
        if prop == "id":
            continue
        if plain:
            if prop.startswith("_sdc_"):
                plan.internal.add(prop)
                continue
            # (a property the target added itself, a `<field>Raw`, carries its intent)
            intent = intent or {
                "type": twenty_type_for_json(pschema).value,
                "label": label_case(prop),
            }
            prop_name = camel_case(prop)
        else:
            prop_name = prop
        existing = plan.fields.get(prop)
        if existing is not None:
            for option in intent.get("options", []):
                if option["value"] not in existing.allowed_options:
                    existing.intent.setdefault("options", []).append(option)
                    existing.missing_options.append(option)
            continue
        plan.fields[prop] = _field_plan(plan, prop, prop_name, intent, pschema)
    return plan


def _field_plan(plan: ObjectPlan, prop: str, name: str, intent: dict, pschema: dict) -> FieldPlan:
    kind = intent.get("type", "TEXT")
    label = intent.get("label") or label_case(name)
    obj = plan.obj
    subfields = list((pschema.get("properties") or {}).keys())
    if kind == "RELATION":
        target = intent.get("target", "")
        found = obj.relation_to(prop, target) if obj else None
        return FieldPlan(
            prop=prop,
            name=found.name if found else _relation_name(prop),
            kind=kind,
            label=found.label if found else label,
            existing=found,
            intent=intent,
            target=target,
            match=intent.get("match", "id"),
            column=found.join_column if found else prop,
        )
    found = obj.fields.get(name) if obj else None
    if found is not None and found.type in ("RELATION", "MORPH_RELATION"):
        found = None  # a data property may not land on a relation field
    if found is not None and kind == "RICH_TEXT" and found.type.startswith("RICH_TEXT"):
        kind = found.type
    fp = FieldPlan(
        prop=prop,
        name=name if found is None else found.name,
        kind=found.type if found is not None else kind,
        label=found.label if found is not None else label,
        existing=found,
        intent=intent,
        column=name,
        subfields=subfields,
    )
    if fp.kind in ("SELECT", "MULTI_SELECT"):
        fp.missing_options = [
            o
            for o in intent.get("options", [])
            if not found or o["value"] not in found.option_values
        ]
    return fp


def _relation_name(prop: str) -> str:
    return prop[:-2] if prop.endswith("Id") and len(prop) > 2 else prop


@dataclass
class Provisioning:
    """What the workspace must gain before the records can land."""

    objects: list[ObjectPlan] = field(default_factory=list)
    fields: list[tuple[ObjectPlan, FieldPlan]] = field(default_factory=list)
    options: list[tuple[ObjectPlan, FieldPlan, list[dict]]] = field(default_factory=list)

    def is_empty(self) -> bool:
        return not (self.objects or self.fields or self.options)

    def needs(self) -> ProvisioningNeeds:
        """For the report: what is to be created, in Twenty's metadata names."""
        return ProvisioningNeeds(
            objects=[
                NewObject(p.name, p.plural, p.label_singular, p.label_plural) for p in self.objects
            ],
            fields=[
                NewField(
                    p.name,
                    f.name,
                    f.kind,
                    f.label,
                    relationTarget=f.target if f.kind == "RELATION" else None,
                    options=f.intent.get("options", [])
                    if f.kind in ("SELECT", "MULTI_SELECT")
                    else None,
                    unique=True if f.intent.get("unique") else None,
                )
                for p, f in self.fields
            ],
            options=[NewOptions(p.name, f.name, opts) for p, f, opts in self.options],
        )

    def as_dict(self) -> dict[str, Any]:
        return {
            "objects": [
                {
                    "nameSingular": p.name,
                    "namePlural": p.plural,
                    "labelSingular": p.label_singular,
                    "labelPlural": p.label_plural,
                }
                for p in self.objects
            ],
            "fields": [
                {
                    "object": p.name,
                    "name": f.name,
                    "type": f.kind,
                    "label": f.label,
                    **({"relationTarget": f.target} if f.kind == "RELATION" else {}),
                    **(
                        {"options": f.intent.get("options", [])}
                        if f.kind in ("SELECT", "MULTI_SELECT")
                        else {}
                    ),
                    **({"unique": True} if f.intent.get("unique") else {}),
                }
                for p, f in self.fields
            ],
            "options": [
                {"object": p.name, "field": f.name, "add": opts} for p, f, opts in self.options
            ],
        }


def provisioning(plans: list[ObjectPlan]) -> Provisioning:
    prov = Provisioning()
    for plan in plans:
        if not plan.exists:
            prov.objects.append(plan)
        for fp in plan.fields.values():
            if not plan.exists and (
                fp.name in SYSTEM_FIELDS or (fp.name == "name" and fp.kind == "TEXT")
            ):
                continue  # Twenty gives every new custom object these fields itself
            if not fp.exists:
                prov.fields.append((plan, fp))
            elif fp.missing_options:
                prov.options.append((plan, fp, fp.missing_options))
    return prov
