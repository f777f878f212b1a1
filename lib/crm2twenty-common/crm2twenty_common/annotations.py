"""Schema annotations (``x-references`` …) that survive the Singer SDK's catalog.

The SDK rebuilds SCHEMA messages from catalog entries, whose Schema class keeps only the JSON
Schema keywords it knows: a property's ``x-references`` (which stream a foreign-key column points
at, so the mapper can make it a relation) would be dropped on the way out. The stream class that
puts them back is :class:`crm2twenty_common.sdk_compat.KeepsAnnotations`.
"""

from __future__ import annotations

import typing as t

ANNOTATION_PREFIX = "x-"


def with_annotations(declared: dict[str, t.Any], emitted: dict[str, t.Any]) -> dict[str, t.Any]:
    """``emitted`` (a SCHEMA the SDK built) with the ``x-`` keywords of the properties of
    ``declared`` (the stream's own schema) put back; properties the SDK left out stay out."""
    props = emitted.get("properties", {})
    for name, spec in declared.get("properties", {}).items():
        extra = {k: v for k, v in spec.items() if k.startswith(ANNOTATION_PREFIX)}
        if extra and name in props:
            props[name] = {**props[name], **extra}
    return emitted
