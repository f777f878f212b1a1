"""The names by which the plugins tell each other about Twenty inside Singer messages.

crm2twenty-mapper writes them into the SCHEMA and RECORD messages it emits; target-twenty reads
them (see crm2twenty_mapper/intent.py for what the intent holds).
"""

from __future__ import annotations

# The JSON Schema annotation keyword that carries the Twenty field intent of a property (and, on
# the schema root, the object's).
INTENT_KEYWORD = "x-twenty"
# The intent of a property that is never written to Twenty.
INTERNAL_INTENT = {"internal": True}
# The record property with a record's provenance (source stream, key, location, references).
PROVENANCE_PROPERTY = "_crm2twenty"
