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
"""

from __future__ import annotations

import copy
from typing import Any

KEYWORD = "x-twenty"

_S = {"type": ["string", "null"]}
_SA = {"type": ["array", "null"], "items": {"type": "string"}}

# Sub-fields of Twenty's composite types (docs/twenty-contract.md §4.1) and their JSON types.
COMPOSITES: dict[str, dict[str, dict]] = {
    "FULL_NAME": {"firstName": _S, "lastName": _S},
    "EMAILS": {"primaryEmail": _S, "additionalEmails": _SA},
    "PHONES": {
        "primaryPhoneNumber": _S,
        "primaryPhoneCountryCode": _S,
        "primaryPhoneCallingCode": _S,
        "additionalPhones": {
            "type": ["array", "null"],
            "items": {
                "type": "object",
                "properties": {"number": _S, "countryCode": _S, "callingCode": _S},
            },
        },
    },
    "LINKS": {
        "primaryLinkUrl": _S,
        "primaryLinkLabel": _S,
        "secondaryLinks": {
            "type": ["array", "null"],
            "items": {"type": "object", "properties": {"url": _S, "label": _S}},
        },
    },
    "CURRENCY": {"amountMicros": {"type": ["integer", "null"]}, "currencyCode": _S},
    "ADDRESS": {
        "addressStreet1": _S,
        "addressStreet2": _S,
        "addressCity": _S,
        "addressPostcode": _S,
        "addressState": _S,
        "addressCountry": _S,
        "addressLat": {"type": ["number", "null"]},
        "addressLng": {"type": ["number", "null"]},
    },
    "RICH_TEXT": {"markdown": _S},
}

# The sub-field a plain value fills when a rule writes a scalar to a whole composite field.
PRIMARY_SUBFIELD = {
    "EMAILS": "primaryEmail",
    "LINKS": "primaryLinkUrl",
    "CURRENCY": "amountMicros",
    "RICH_TEXT": "markdown",
    "PHONES": "primaryPhoneNumber",
}

SUBFIELD_TYPE = {sub: kind for kind, subs in COMPOSITES.items() for sub in subs}

_SCALAR_JSON = {
    "TEXT": _S,
    "NUMBER": {"type": ["number", "null"]},
    "BOOLEAN": {"type": ["boolean", "null"]},
    "DATE": {"type": ["string", "null"], "format": "date"},
    "DATE_TIME": {"type": ["string", "null"], "format": "date-time"},
    "SELECT": _S,
    "MULTI_SELECT": _SA,
    "RATING": _S,
    "UUID": {"type": ["string", "null"], "format": "uuid"},
    "RELATION": _S,
    "ARRAY": _SA,
    "RAW_JSON": {"type": ["object", "array", "null"]},
}


def json_schema_for(kind: str) -> dict:
    """The JSON schema of a property holding a Twenty field of type ``kind``."""
    if kind in COMPOSITES:
        return {"type": ["object", "null"], "properties": copy.deepcopy(COMPOSITES[kind])}
    return copy.deepcopy(_SCALAR_JSON.get(kind, _S))


def twenty_type_for_json(schema: dict) -> str:
    """The Twenty type a source column of this JSON schema becomes when kept as a custom field."""
    types = schema.get("type", "string")
    types = [types] if isinstance(types, str) else list(types)
    fmt = schema.get("format")
    if "integer" in types or "number" in types:
        return "NUMBER"
    if "boolean" in types:
        return "BOOLEAN"
    if "array" in types:
        return "ARRAY"
    if "object" in types:
        return "RAW_JSON"
    if fmt == "date":
        return "DATE"
    if fmt == "date-time":
        return "DATE_TIME"
    return "TEXT"


INTERNAL = {"internal": True}
PROVENANCE_PROPERTY = "_crm2twenty"
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
    KEYWORD: INTERNAL,
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
            self.properties[name] = {**schema, KEYWORD: INTERNAL}
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
