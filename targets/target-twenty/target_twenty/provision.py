"""The provision stage (API mode): create what the records need before they are written —
custom objects, fields, relations, SELECT options.

Idempotent by construction: the plan is the difference between the SCHEMA intent and the live
metadata, so a second run finds nothing to create. Option lists are PATCHed whole, with every
existing option's id kept — without ids Twenty gives every option a new id and empties the
records that used them (docs/twenty-contract.md §3.3).
"""

from __future__ import annotations

import logging
from typing import Any

from target_twenty.api.client import TwentyClient, TwentyError, fetch_workspace
from target_twenty.audit import Audit
from target_twenty.plan import FieldPlan, ObjectPlan, Provisioning
from target_twenty.workspace import Field, Obj, Workspace

COLORS = ("blue", "green", "orange", "purple", "red", "sky", "turquoise", "yellow", "pink", "gray")


class ProvisioningError(RuntimeError):
    pass


def _field_body(obj_id: str, fp: FieldPlan) -> dict[str, Any]:
    body: dict[str, Any] = {
        "objectMetadataId": obj_id,
        "type": fp.kind,
        "name": fp.name,
        "label": fp.label,
    }
    if fp.intent.get("description"):
        body["description"] = fp.intent["description"]
    if fp.kind in ("SELECT", "MULTI_SELECT"):
        body["options"] = [
            {
                "value": o["value"],
                "label": o.get("label", o["value"]),
                "color": o.get("color", COLORS[i % len(COLORS)]),
                "position": i,
            }
            for i, o in enumerate(fp.intent.get("options", []))
        ]
    if fp.intent.get("unique"):
        body["isUnique"] = True
    return body


def provision(
    client: TwentyClient,
    prov: Provisioning,
    audit: Audit,
    run: str,
    logger: logging.Logger,
) -> Workspace:
    """Create everything in ``prov``; return the workspace as it is afterwards."""
    workspace = fetch_workspace(client)
    for plan in prov.objects:
        if workspace.find(plan.name):
            continue
        body = {
            "nameSingular": plan.name,
            "namePlural": plan.plural,
            "labelSingular": plan.label_singular,
            "labelPlural": plan.label_plural,
            "icon": plan.root.get("icon", "IconBox"),
        }
        if plan.root.get("description"):
            body["description"] = plan.root["description"]
        intent = audit.intend_metadata(run, "object", plan.name, plan.name)
        created = _call(client.create_object, body, f"custom object {plan.name}")
        audit.confirm_metadata(intent, created["id"])
        logger.info("created custom object %s", plan.name)
    if prov.objects:
        workspace = fetch_workspace(client)
    # plain fields first, then relations (their targets may be objects created just now)
    fields = sorted(prov.fields, key=lambda pf: pf[1].kind == "RELATION")
    for plan, fp in fields:
        obj = workspace.find(plan.name)
        if obj is None:
            raise ProvisioningError(f"object {plan.name} is missing after provisioning")
        if fp.name in obj.fields or (fp.kind == "RELATION" and obj.by_join_column(fp.column or "")):
            continue
        intent = audit.intend_metadata(run, "field", plan.name, fp.name)
        if fp.kind == "RELATION":
            created = _relation(client, workspace, obj.id or "", plan, fp)
        else:
            created = _call(
                client.create_field, _field_body(obj.id or "", fp), f"field {plan.name}.{fp.name}"
            )
        audit.confirm_metadata(intent, created["id"])
        logger.info("created field %s.%s (%s)", plan.name, fp.name, fp.kind)
    for plan, fp, options in prov.options:
        found = workspace.find(plan.name)
        if found is None:
            raise ProvisioningError(f"object {plan.name} is missing after provisioning")
        field = found.fields[fp.name]
        existing = [dict(o) for o in field.options]
        position = max((o.get("position", 0) for o in existing), default=-1)
        added: list[dict[str, Any]] = []
        for o in options:
            if any(e["value"] == o["value"] for e in existing + added):
                continue
            position += 1
            added.append(
                {
                    "value": o["value"],
                    "label": o.get("label", o["value"]),
                    "color": o.get("color", COLORS[position % len(COLORS)]),
                    "position": position,
                }
            )
        if not added:
            continue
        intent = audit.intend_metadata(
            run, "options", plan.name, fp.name, prior=existing, mid=field.id or ""
        )
        _call(
            lambda body, fid=field.id or "": client.patch_field(fid, body),
            {"options": existing + added},
            f"options of {plan.name}.{fp.name}",
        )
        audit.confirm_metadata(intent, field.id or "")
        logger.info("added options %s to %s.%s", [a["value"] for a in added], plan.name, fp.name)
    return fetch_workspace(client)


def add_text_field(
    client: TwentyClient, obj: Obj, name: str, label: str, audit: Audit, run: str
) -> Field:
    """One TEXT field created during the load (a ``<field>Raw`` for a value Twenty refused at
    write time), audited like the provisioning before it; the workspace's object gains it."""
    body = {"objectMetadataId": obj.id or "", "type": "TEXT", "name": name, "label": label}
    intent = audit.intend_metadata(run, "field", obj.name, name)
    created = _call(client.create_field, body, f"field {obj.name}.{name}")
    audit.confirm_metadata(intent, created["id"])
    field = Field(name=name, label=label, type="TEXT", custom=True, id=created["id"])
    obj.fields[name] = field
    return field


def _relation(
    client: TwentyClient, workspace: Workspace, obj_id: str, plan: ObjectPlan, fp: FieldPlan
) -> dict:
    target = workspace.find(fp.target or "")
    if target is None:
        raise ProvisioningError(
            f"relation {plan.name}.{fp.name} points at {fp.target}, which is "
            "neither in the workspace nor in this migration"
        )
    inverse = fp.intent.get("inverseLabel") or plan.label_plural
    body: dict[str, Any] = {
        "objectMetadataId": obj_id,
        "type": "RELATION",
        "name": fp.name,
        "label": fp.label,
        "relationCreationPayload": {
            "type": "MANY_TO_ONE",
            "targetObjectMetadataId": target.id,
            "targetFieldLabel": inverse,
            "targetFieldIcon": "IconLink",
        },
    }
    try:
        return client.create_field(body)
    except TwentyError as exc:
        if not any("NOT_AVAILABLE" in m for m in exc.messages):
            raise ProvisioningError(f"relation {plan.name}.{fp.name}: {exc}") from exc
    # Two relations to one target need distinct inverse labels (the inverse field is named
    # after its label): qualify it with this relation's label.
    body["relationCreationPayload"]["targetFieldLabel"] = f"{inverse} ({fp.label})"
    return _call(client.create_field, body, f"relation {plan.name}.{fp.name}")


def _call(fn: Any, body: dict, what: str) -> dict:
    try:
        return fn(body)
    except TwentyError as exc:
        raise ProvisioningError(
            f"Twenty refused to create {what}: {'; '.join(exc.messages)}"
        ) from exc
