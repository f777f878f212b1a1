"""Schema annotations (``x-references`` …) that survive the Singer SDK's catalog.

The SDK rebuilds SCHEMA messages from catalog entries, whose Schema class keeps only the JSON
Schema keywords it knows: a property's ``x-references`` (which stream a foreign-key column points
at, so the mapper can make it a relation) would be dropped on the way out.
"""

from __future__ import annotations

import typing as t

from singer_sdk.singerlib import SchemaMessage
from singer_sdk.streams import Stream


class KeepsAnnotations(Stream):
    """A stream whose SCHEMA messages carry the ``x-`` keywords of its own properties."""

    def _generate_schema_messages(  # SDK hook, 0.54.x
        self,
    ) -> t.Generator[SchemaMessage, None, None]:
        declared = self.schema.get("properties", {})
        for message in super()._generate_schema_messages():
            props = message.schema.get("properties", {})
            for name, spec in declared.items():
                extra = {k: v for k, v in spec.items() if k.startswith("x-")}
                if extra and name in props:
                    props[name] = {**props[name], **extra}
            yield message
