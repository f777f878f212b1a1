"""Twenty field types and how they meet JSON Schema, in both directions.

- :func:`twenty_type_for_json`: the Twenty type a source column of a JSON schema becomes when it
  is kept as a custom field (the mapper's guessed rules, target-twenty's plain Singer streams);
- :func:`json_schema_for`: the JSON schema of a property holding a Twenty field of a type (the
  SCHEMA messages the mapper emits), composites with their sub-fields.

The type names are Twenty's ``FieldMetadataType`` (twenty-shared ``FieldMetadataType.ts``; the
captured v2.21.0 metadata uses them, see docs/twenty-contract.md §3.5).
"""

from __future__ import annotations

import copy
import enum
import typing as t


class FieldType(str, enum.Enum):
    """A Twenty field type; the member is its own API string (``FieldType.TEXT == "TEXT"``)."""

    ACTOR = "ACTOR"
    ADDRESS = "ADDRESS"
    ARRAY = "ARRAY"
    BOOLEAN = "BOOLEAN"
    CURRENCY = "CURRENCY"
    DATE = "DATE"
    DATE_TIME = "DATE_TIME"
    EMAILS = "EMAILS"
    FILES = "FILES"
    FULL_NAME = "FULL_NAME"
    LINKS = "LINKS"
    MORPH_RELATION = "MORPH_RELATION"
    MULTI_SELECT = "MULTI_SELECT"
    NUMBER = "NUMBER"
    NUMERIC = "NUMERIC"
    PHONES = "PHONES"
    POSITION = "POSITION"
    RATING = "RATING"
    RAW_JSON = "RAW_JSON"
    RELATION = "RELATION"
    RICH_TEXT = "RICH_TEXT"
    RICH_TEXT_V2 = "RICH_TEXT_V2"
    SELECT = "SELECT"
    TEXT = "TEXT"
    TS_VECTOR = "TS_VECTOR"
    UUID = "UUID"

    # Written into JSON, SQL, CSV and f-strings as the bare API string on every Python version
    # (3.12 changed what format() gives for a str-mixin enum).
    def __str__(self) -> str:
        return self.value

    def __format__(self, spec: str) -> str:
        return format(self.value, spec)


# Fields Twenty gives every object, custom ones included (each standard object of the captured
# metadata has exactly these in common); a migration never provisions them.
SYSTEM_FIELDS = frozenset(
    {
        "id",
        "createdAt",
        "updatedAt",
        "deletedAt",
        "createdBy",
        "updatedBy",
        "position",
        "searchVector",
    }
)

_S: dict[str, t.Any] = {"type": ["string", "null"]}
_SA: dict[str, t.Any] = {"type": ["array", "null"], "items": {"type": "string"}}

# Sub-fields of Twenty's composite types (docs/twenty-contract.md §4.1) and their JSON types.
COMPOSITES: dict[str, dict[str, dict[str, t.Any]]] = {
    FieldType.FULL_NAME: {"firstName": _S, "lastName": _S},
    FieldType.EMAILS: {"primaryEmail": _S, "additionalEmails": _SA},
    FieldType.PHONES: {
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
    FieldType.LINKS: {
        "primaryLinkUrl": _S,
        "primaryLinkLabel": _S,
        "secondaryLinks": {
            "type": ["array", "null"],
            "items": {"type": "object", "properties": {"url": _S, "label": _S}},
        },
    },
    FieldType.CURRENCY: {"amountMicros": {"type": ["integer", "null"]}, "currencyCode": _S},
    FieldType.ADDRESS: {
        "addressStreet1": _S,
        "addressStreet2": _S,
        "addressCity": _S,
        "addressPostcode": _S,
        "addressState": _S,
        "addressCountry": _S,
        "addressLat": {"type": ["number", "null"]},
        "addressLng": {"type": ["number", "null"]},
    },
    FieldType.RICH_TEXT: {"markdown": _S},
}

# The sub-field a plain value fills when a scalar is written to a whole composite field.
PRIMARY_SUBFIELD: dict[str, str] = {
    FieldType.EMAILS: "primaryEmail",
    FieldType.LINKS: "primaryLinkUrl",
    FieldType.CURRENCY: "amountMicros",
    FieldType.RICH_TEXT: "markdown",
    FieldType.PHONES: "primaryPhoneNumber",
}

# Sub-field → the composite type it belongs to.
SUBFIELD_TYPE: dict[str, str] = {sub: kind for kind, subs in COMPOSITES.items() for sub in subs}

# Spreadsheet-import header sub-labels, fixed English in the v2.21 front end
# (docs/twenty-contract.md §6.2): a composite column is ``<Field label> / <Sub-field label>``.
SUBFIELD_LABELS: dict[str, dict[str, str]] = {
    FieldType.FULL_NAME: {"firstName": "First Name", "lastName": "Last Name"},
    FieldType.EMAILS: {"primaryEmail": "Primary Email", "additionalEmails": "Additional Emails"},
    FieldType.LINKS: {
        "primaryLinkUrl": "Link URL",
        "primaryLinkLabel": "Link Label",
        "secondaryLinks": "Secondary Links",
    },
    FieldType.PHONES: {
        "primaryPhoneNumber": "Primary Phone Number",
        "primaryPhoneCountryCode": "Primary Phone Country Code",
        "primaryPhoneCallingCode": "Primary Phone Calling Code",
        "additionalPhones": "Additional Phones",
    },
    FieldType.CURRENCY: {"amountMicros": "Amount", "currencyCode": "Currency"},
    FieldType.ADDRESS: {
        "addressStreet1": "Address 1",
        "addressStreet2": "Address 2",
        "addressCity": "City",
        "addressState": "State",
        "addressCountry": "Country",
        "addressPostcode": "Post Code",
    },
    FieldType.RICH_TEXT: {"markdown": "Markdown"},
}

_SCALAR_JSON: dict[str, dict[str, t.Any]] = {
    FieldType.TEXT: _S,
    FieldType.NUMBER: {"type": ["number", "null"]},
    FieldType.BOOLEAN: {"type": ["boolean", "null"]},
    FieldType.DATE: {"type": ["string", "null"], "format": "date"},
    FieldType.DATE_TIME: {"type": ["string", "null"], "format": "date-time"},
    FieldType.SELECT: _S,
    FieldType.MULTI_SELECT: _SA,
    FieldType.RATING: _S,
    FieldType.UUID: {"type": ["string", "null"], "format": "uuid"},
    FieldType.RELATION: _S,
    FieldType.ARRAY: _SA,
    FieldType.RAW_JSON: {"type": ["object", "array", "null"]},
}

# JSON Schema string formats that have a Twenty type of their own.
_FORMATS = {"date": FieldType.DATE, "date-time": FieldType.DATE_TIME, "uuid": FieldType.UUID}


def json_schema_for(kind: str) -> dict[str, t.Any]:
    """The JSON schema of a property holding a Twenty field of type ``kind`` (a fresh copy)."""
    if kind in COMPOSITES:
        return {"type": ["object", "null"], "properties": copy.deepcopy(COMPOSITES[kind])}
    return copy.deepcopy(_SCALAR_JSON.get(kind, _S))


def twenty_type_for_json(schema: dict[str, t.Any]) -> FieldType:
    """The Twenty type a source column of this JSON schema becomes when kept as a custom field:
    numbers NUMBER, booleans BOOLEAN, objects RAW_JSON, arrays ARRAY; strings by ``format``
    (``date``, ``date-time``, ``uuid``), else TEXT."""
    types = schema.get("type", "string")
    types = [types] if isinstance(types, str) else list(types)
    if "integer" in types or "number" in types:
        return FieldType.NUMBER
    if "boolean" in types:
        return FieldType.BOOLEAN
    if "object" in types:  # also "object or array": any JSON, as RAW_JSON's own schema says
        return FieldType.RAW_JSON
    if "array" in types:
        return FieldType.ARRAY
    return _FORMATS.get(schema.get("format") or "", FieldType.TEXT)


def subfield_labels(kind: str) -> dict[str, str]:
    """The import header sub-labels of a composite type (every rich-text type as RICH_TEXT)."""
    return SUBFIELD_LABELS.get("RICH_TEXT" if kind.startswith("RICH_TEXT") else kind, {})
