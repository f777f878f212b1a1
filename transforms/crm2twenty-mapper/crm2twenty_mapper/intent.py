"""The Twenty field intent carried in the SCHEMA messages the mapper emits.

Every output property carries one annotation keyword, ``x-twenty``, that tells target-twenty what
Twenty field it is, so the target can provision from the schema alone (custom fields, custom
objects, missing SELECT options), whatever produced the stream:

- on a property: ``{"type": "<Twenty field type>", "label": ..., "options": [...],
  "target": "<object>", "match": "id" | "userEmail", "inverseLabel": ..., "required": bool,
  "unique": bool}``;
- on the schema root: ``{"object": "<nameSingular>", "custom": bool, "namePlural": ...,
  "labelSingular": ..., "labelPlural": ..., "icon": ..., "source": "<source system>"}``;
- ``{"internal": true}`` marks a property that is never written to Twenty (``_crm2twenty``
  provenance, ``_file``).

Field types, composites and the JSON Schema of each type are the suite's one Twenty module's
(crm2twenty_common.twenty); this module builds the mapper's SCHEMAs with them.
"""

from __future__ import annotations

import copy
from typing import Any

from crm2twenty_common.twenty import (
    INTENT_KEYWORD,
    INTERNAL_INTENT,
    PROVENANCE_PROPERTY,
    json_schema_for,
)

KEYWORD = INTENT_KEYWORD
_S = {"type": ["string", "null"]}
PROVENANCE_SCHEMA = {
    "type": "object",
    "properties": {
        "stream": {"type": "string"},
        "key": _S,
        "location": _S,
        "primary": {"type": "boolean"},
        "refs": {"type": "object", "additionalProperties": {"type": "string"}},
        "src": {"type": "object"},
    },
    KEYWORD: INTERNAL_INTENT,
}


class ObjectSchema:
    """The growing SCHEMA of one Twenty-shaped output stream (properties from every rule)."""

    def __init__(self, name: str, root_intent: dict[str, Any]) -> None:
        self.name = name
        self.root = dict(root_intent)
        self.properties: dict[str, dict] = {
            "id": {"type": "string", "format": "uuid", KEYWORD: {"type": "UUID", "label": "Id"}},
            PROVENANCE_PROPERTY: copy.deepcopy(PROVENANCE_SCHEMA),
        }
        self.version = 0

    def add_field(self, name: str, kind: str, intent: dict[str, Any]) -> None:
        """Declare a field (idempotent; a second declaration may add options or internals)."""
        current = self.properties.get(name)
        if current is None:
            schema = json_schema_for(kind)
            schema[KEYWORD] = {"type": kind, **intent}
            self.properties[name] = schema
            self.version += 1
            return
        for option in intent.get("options", []):
            self.add_option(name, option)

    def add_internal(self, name: str, schema: dict) -> None:
        if name not in self.properties:
            self.properties[name] = {**schema, KEYWORD: INTERNAL_INTENT}
            self.version += 1

    def add_option(self, name: str, option: dict[str, Any]) -> bool:
        intent = self.properties[name][KEYWORD]
        options = intent.setdefault("options", [])
        if any(o["value"] == option["value"] for o in options):
            return False
        options.append({**option, "position": len(options)})
        self.version += 1
        return True

    def message_schema(self) -> dict:
        return {
            "type": "object",
            "properties": copy.deepcopy(self.properties),
            KEYWORD: dict(self.root),
        }
