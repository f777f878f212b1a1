"""What the loader keeps of each body it sends, for ``verify``: the source record it came from.

The body itself goes to the audit log as Twenty confirmed it (audit.py, ``Write.sent``); beside
it, the source stream, key and, when the mapper kept them (``keep_source_values``, the first N
records of each stream), the source values, keyed like the body's fields (a composite's
``field.sub``), so that verify needs neither the spool nor the run's plans.
"""

from __future__ import annotations

from typing import Any

from crm2twenty_common.twenty import PROVENANCE_PROPERTY

from target_twenty.audit import SentSource
from target_twenty.plan import ObjectPlan

NOT_KEPT = "(not kept)"


def source_of(plan: ObjectPlan, record: dict[str, Any], body: dict[str, Any]) -> SentSource:
    """Where ``body`` (sent for ``record``) came from, field by field."""
    prov = record.get(PROVENANCE_PROPERTY) or {}
    src = prov.get("src")
    values: dict[str, Any] | None = None
    if isinstance(src, dict):
        props = {fp.column or fp.name: prop for prop, fp in plan.fields.items()}
        values = {}
        for name, sent in body.items():
            prop = props.get(name)
            if prop is None:
                continue
            if isinstance(sent, dict):
                for sub in sent:
                    values[f"{name}.{sub}"] = src.get(f"{prop}.{sub}", src.get(prop, NOT_KEPT))
            else:
                values[name] = src.get(prop, NOT_KEPT)
    return SentSource(prov.get("stream"), prov.get("key"), values)
