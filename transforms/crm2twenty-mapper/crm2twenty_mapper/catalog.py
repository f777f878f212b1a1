"""What the mapper knows across streams while it compiles: which object and key each source
stream stands for, and the growing Twenty-shaped SCHEMA of every output object.

The compiler (compile.py) and the inference of rules (infer.py) read and extend it; the runtime
(runtime.py) asks it which SCHEMAs changed. Object names, plurals and labels come from the
suite's one Twenty module (crm2twenty_common.twenty), as in target-twenty.
"""

from __future__ import annotations

from crm2twenty_common.twenty import camel_case, object_labels, plural, singular

from crm2twenty_mapper.ids import IdFactory, KeyTemplate
from crm2twenty_mapper.intent import ObjectSchema
from crm2twenty_mapper.rules import Rules


class Catalog:
    """Streams → objects and keys, and object → :class:`ObjectSchema`, for one rules file."""

    def __init__(self, rules: Rules, namespace: str) -> None:
        self.rules = rules
        self.ctx = rules.defaults
        self.ids = IdFactory(namespace, rules.source)
        self.schemas: dict[str, ObjectSchema] = {}
        # the primary output's object and key of each stream (references resolve through them)
        self.stream_objects: dict[str, str] = {}
        self.stream_keys: dict[str, KeyTemplate] = {}
        for stream, outs in rules.streams.items():
            primary = next(o for i, o in enumerate(outs) if o.get("primary", i == 0))
            self.stream_objects[stream] = primary["object"]
            self.stream_keys[stream] = KeyTemplate(primary.get("key", "id"))

    def add_stream(self, stream: str, obj: str, key: str | list[str]) -> None:
        """A stream the rules do not name, with the object inference chose for it."""
        self.stream_objects.setdefault(stream, obj)
        self.stream_keys.setdefault(stream, KeyTemplate(key))

    def object_of(self, stream: str) -> str:
        return self.stream_objects.get(stream) or camel_case(singular(stream))

    def key_of_object(self, obj: str | None) -> KeyTemplate | None:
        """The key template of the stream whose primary output is ``obj`` (only if unique)."""
        if obj is None:
            return None
        streams = [s for s, o in self.stream_objects.items() if o == obj]
        return self.stream_keys[streams[0]] if len(streams) == 1 else None

    def declare_custom(self, name: str, *, junction: bool = False) -> None:
        """A custom object the rules do not declare (an inferred stream or a link file)."""
        declared = self.rules.objects.setdefault(name, {})
        label_singular, label_plural = object_labels(name)
        declared.setdefault("labelSingular", label_singular)
        declared.setdefault("labelPlural", label_plural)
        if junction:
            declared.setdefault("description", "Many-to-many link")

    def object_schema(self, obj: str, internal: bool) -> ObjectSchema:
        if obj not in self.schemas:
            source = self.rules.source
            if internal:
                root: dict = {"object": obj, "internal": True, "source": source}
            elif obj in self.rules.objects:
                declared = self.rules.objects[obj]
                label_singular, label_plural = object_labels(obj)
                root = {
                    "object": obj,
                    "custom": True,
                    "source": source,
                    "namePlural": declared.get("namePlural", plural(obj)),
                    "labelSingular": declared.get("labelSingular", label_singular),
                    "labelPlural": declared.get("labelPlural", label_plural),
                    **({"icon": declared["icon"]} if "icon" in declared else {}),
                    **(
                        {"description": declared["description"]}
                        if "description" in declared
                        else {}
                    ),
                }
            else:
                root = {"object": obj, "custom": False, "source": source}
            self.schemas[obj] = ObjectSchema(obj, root)
        return self.schemas[obj]
