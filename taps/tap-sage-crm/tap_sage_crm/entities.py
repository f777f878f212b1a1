"""Which Sage CRM entities become which streams, and how Sage field types become JSON types.

Table names, prefixes and the link tables (entity 5 = company, 13 = person) are from
docs/sources.md §1.3. Custom entities are discovered from the metadata at run time.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class EntityInfo:
    stream: str
    entity: str  # web-service entity / REST resource name
    prefix: str = ""
    idfield: str = ""
    custom: bool = False
    fields: dict[str, str] = field(default_factory=dict)  # column → Sage entry type
    lookups: dict[str, str] = field(default_factory=dict)  # column → entity it points at


# The Library entity: its rows are library documents (attachments), each a file in a folder.
LIBRARY_STREAM = "libraries"
# (stream, entity) in the order they are synced: lookups the mapper uses (users, captions,
# companies, communications) come before the streams that need them. A stream is named in the
# plural, snake_case (as every stream of the suite), not as Sage spells its entity.
STANDARD = [
    ("users", "Users"),
    ("captions", "Custom_Captions"),
    ("companies", "Company"),
    ("persons", "Person"),
    ("addresses", "Address"),
    ("address_links", "Address_Link"),
    ("emails", "Email"),
    ("email_links", "EmailLink"),
    ("phones", "Phone"),
    ("phone_links", "PhoneLink"),
    ("leads", "Lead"),
    ("opportunities", "Opportunity"),
    ("cases", "Cases"),
    ("communications", "Communication"),
    ("comm_links", "Comm_Link"),
    ("notes", "Notes"),
    (LIBRARY_STREAM, "Library"),
]
WORKFLOW_ENTITY, WORKFLOWS_STREAM = "WorkflowRule", "workflows"
COMPANY_ENTITY, PERSON_ENTITY = 5, 13  # elink_entityid / plink_entityid

_JSON = {
    "Integer": "integer",
    "User Select": "integer",
    "Search Select Advanced": "integer",
    "Currency": "number",
    "Numeric": "number",
    "Checkbox": "boolean",
}


def json_schema(sage_type: str) -> dict:
    if sage_type == "Date & Time":
        return {"type": ["string", "null"], "format": "date-time"}
    if sage_type == "Date Only":
        return {"type": ["string", "null"], "format": "date"}
    return {"type": [_JSON.get(sage_type, "string"), "null"]}
