"""What the suite knows about Twenty, in one place: every plugin names objects and fields, maps
types, checks e-mails and URLs, and writes side streams through this package.

- :mod:`.names`: object/field names, singular ↔ plural, labels, reserved names, option values;
- :mod:`.fields`: Twenty field types, composites, JSON Schema ↔ Twenty type;
- :mod:`.validate`: e-mail and URL checks;
- :mod:`.side_streams`: ``_rejects``, ``_repairs``, ``_notices``, ``_summary``;
- :mod:`.keywords`: ``x-twenty`` and ``_crm2twenty``, how plugins annotate messages;
- :mod:`.standard`: the standard objects' data fields (names, types, labels).

A new Twenty version's naming or type difference goes here, with a test against its captured
metadata (tests/fakes/twenty_contract/).
"""

from crm2twenty_common.twenty.fields import (
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
from crm2twenty_common.twenty.keywords import INTENT_KEYWORD, INTERNAL_INTENT, PROVENANCE_PROPERTY
from crm2twenty_common.twenty.names import (
    MAX_NAME_LENGTH,
    NAME_PATTERN,
    OPTION_VALUE_PATTERN,
    RESERVED_NAMES,
    camel_case,
    is_valid_name,
    label_case,
    object_labels,
    option_value,
    plural,
    raw_field_label,
    raw_field_name,
    singular,
)
from crm2twenty_common.twenty.side_streams import (
    BOOKKEEPING,
    INVENTORY,
    INVENTORY_SCHEMA,
    NOTICES,
    NOTICES_KEY,
    NOTICES_SCHEMA,
    REJECTS,
    REJECTS_SCHEMA,
    REPAIRS,
    REPAIRS_SCHEMA,
    REVIEW,
    REVIEW_SCHEMA,
    SIDE_SCHEMAS,
    SUMMARY,
    SUMMARY_SCHEMA,
    TAP_REJECTS_KEY,
    InventoryItem,
    Notice,
    Reject,
    Repair,
    Review,
    Summary,
    is_side_stream,
)
from crm2twenty_common.twenty.standard import STANDARD_FIELDS
from crm2twenty_common.twenty.validate import (
    EMAIL_PATTERN,
    URL_PATTERN,
    email_address,
    is_email,
    is_url,
    web_url,
)

__all__ = [
    "BOOKKEEPING",
    "COMPOSITES",
    "EMAIL_PATTERN",
    "INTENT_KEYWORD",
    "INTERNAL_INTENT",
    "INVENTORY",
    "INVENTORY_SCHEMA",
    "MAX_NAME_LENGTH",
    "NAME_PATTERN",
    "NOTICES",
    "NOTICES_KEY",
    "NOTICES_SCHEMA",
    "OPTION_VALUE_PATTERN",
    "PRIMARY_SUBFIELD",
    "PROVENANCE_PROPERTY",
    "REJECTS",
    "REJECTS_SCHEMA",
    "REPAIRS",
    "REPAIRS_SCHEMA",
    "RESERVED_NAMES",
    "REVIEW",
    "REVIEW_SCHEMA",
    "SIDE_SCHEMAS",
    "STANDARD_FIELDS",
    "SUBFIELD_LABELS",
    "SUBFIELD_TYPE",
    "SUMMARY",
    "SUMMARY_SCHEMA",
    "SYSTEM_FIELDS",
    "TAP_REJECTS_KEY",
    "URL_PATTERN",
    "FieldType",
    "InventoryItem",
    "Notice",
    "Reject",
    "Repair",
    "Review",
    "Summary",
    "camel_case",
    "email_address",
    "is_email",
    "is_side_stream",
    "is_url",
    "is_valid_name",
    "json_schema_for",
    "label_case",
    "object_labels",
    "option_value",
    "plural",
    "raw_field_label",
    "raw_field_name",
    "singular",
    "subfield_labels",
    "twenty_type_for_json",
    "web_url",
]
