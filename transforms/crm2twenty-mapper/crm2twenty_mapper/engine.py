"""The mapping engine: compiled rules that turn source records into Twenty-shaped records.

Rules are compiled once per source stream, when its SCHEMA arrives (the source column types are
known then), into plain closures, so mapping a record is a short loop over field getters.
"""

from __future__ import annotations

import fnmatch
import json
import re
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from crm2twenty_mapper import transforms
from crm2twenty_mapper.ids import IdFactory, key_text
from crm2twenty_mapper.intent import (
    COMPOSITES,
    KEYWORD,
    PRIMARY_SUBFIELD,
    PROVENANCE_PROPERTY,
    SUBFIELD_TYPE,
    ObjectSchema,
    json_schema_for,
    twenty_type_for_json,
)
from crm2twenty_mapper.names import camel_case, label_case, option_value
from crm2twenty_mapper.rules import Rules, RulesError
from crm2twenty_mapper.transforms import InvalidValue

REJECTS = "_rejects"
NOTICES = "_notices"
REPAIRS = "_repairs"
SUMMARY = "_summary"

_NS = {"type": ["string", "null"]}
SIDE_SCHEMAS: dict[str, dict] = {
    REJECTS: {
        "type": "object",
        "properties": {
            "stage": {"type": "string"},
            "source_stream": _NS,
            "source_key": _NS,
            "object": _NS,
            "reason": {"type": "string"},
            "location": _NS,
            "raw": _NS,
        },
    },
    REPAIRS: {
        "type": "object",
        "properties": {
            "stage": {"type": "string"},
            "source_stream": _NS,
            "source_key": _NS,
            "object": _NS,
            "field": _NS,
            "value": _NS,
            "reason": _NS,
        },
    },
    SUMMARY: {
        "type": "object",
        "properties": {
            "source": {"type": "string"},
            "rules": {"type": "string"},
            "stream": {"type": "string"},
            "read": {"type": "integer"},
            "mapped": {"type": "integer"},
            "rejected": {"type": "integer"},
            "ignored": {"type": "integer"},
            "ignored_because": {"type": ["string", "null"]},
        },
    },
}

# Coercions that make any value valid for its Twenty type; idempotent, applied last.
_COERCE_BY_SUBFIELD = {
    "primaryEmail": "email",
    "primaryLinkUrl": "url",
    "additionalEmails": "emails",
}
_COERCE_BY_KIND = {
    "DATE_TIME": "datetime",
    "DATE": "date",
    "NUMBER": "number",
    "BOOLEAN": "boolean",
}
_COLUMN = re.compile(r"\{([^{}]+)\}")
_EMPTY = (None, "", [], {})


class Rejected(Exception):
    """A record a rule rejects, with the reason that goes to the rejects file."""


class Acc:
    """What building one record collects besides its values: repairs, and the source key of
    each reference (so a dangling one can be named in the target's report)."""

    __slots__ = ("refs", "repairs")

    def __init__(self) -> None:
        self.repairs: list[tuple[str, str, str]] = []
        self.refs: dict[str, str] = {}


def is_empty(value: Any) -> bool:
    if isinstance(value, dict):
        return all(is_empty(v) for v in value.values())
    return value in _EMPTY


def singular(name: str) -> str:
    if name.endswith("ies"):
        return name[:-3] + "y"
    if name.lower().endswith("people"):
        return name[:-6] + name[-6] + "erson"
    if name.endswith(("ses", "xes", "ches", "shes")):
        return name[:-2]
    return name[:-1] if name.endswith("s") and not name.endswith("ss") else name


def plural(name: str) -> str:
    if name.lower().endswith("person"):
        return name[:-6] + name[-6] + "eople"
    if name.endswith("y") and name[-2:-1] not in "aeiou":
        return name[:-1] + "ies"
    if name.endswith(("s", "x", "ch", "sh")):
        return name + "es"
    return name + "s"


class KeyTemplate:
    """A record key from one column, several columns, or a ``"{col}"`` template."""

    def __init__(self, spec: str | list[str]) -> None:
        if isinstance(spec, list):
            self.template = ":".join(f"{{{c}}}" for c in spec)
        elif "{" in spec:
            self.template = spec
        else:
            self.template = f"{{{spec}}}"
        self.columns = _COLUMN.findall(self.template)

    def render(self, record: dict) -> str | None:
        values = {}
        for col in self.columns:
            text = key_text(record.get(col))
            if text is None:
                return None
            values[col] = text
        return self.template.format_map(values)

    def for_value(self, value: Any) -> str | None:
        """The key of a record whose single key column holds ``value`` (used by references)."""
        text = key_text(value)
        if text is None or len(self.columns) != 1:
            return text
        return self.template.format_map({self.columns[0]: text})


def _condition(spec: Any, tables: dict | None = None) -> Callable[[dict], bool]:
    """A ``when``: a column that must be non-empty; ``{column: value | [values]}``; or a lookup
    ``{lookup: table, key: "{col}", in: [values]}`` / ``{lookup: …, key: …, missing: true}``."""
    if isinstance(spec, str):
        return lambda r: not is_empty(r.get(spec))
    if isinstance(spec, list):
        parts = [_condition(part, tables) for part in spec]
        return lambda r: all(part(r) for part in parts)
    spec = dict(spec)
    tests: list[Callable[[dict], bool]] = []
    if "lookup" in spec:
        table = (tables if tables is not None else {}).setdefault(spec.pop("lookup"), {})
        template = KeyTemplate(spec.pop("key"))
        wanted = {str(w).lower() for w in spec.pop("in", [])}
        missing = spec.pop("missing", False)

        def found(r: dict) -> Any:
            key = template.render(r)
            return None if key is None else table.get(key.lower())

        if missing:
            tests.append(lambda r: found(r) is None)
        else:
            tests.append(lambda r: str(found(r) or "").lower() in wanted)
    for col, values in spec.items():
        allowed = {str(w).strip().lower() for w in (values if isinstance(values, list) else [values])}
        tests.append(lambda r, c=col, a=allowed: str(r.get(c) or "").strip().lower() in a)
    return lambda r: all(test(r) for test in tests)


@dataclass
class FieldRule:
    path: str
    top: str
    sub: str | None
    kind: str
    getter: Callable[[dict, Acc], Any]
    when: Callable[[dict], bool] | None = None
    columns: tuple[str, ...] = ()


@dataclass
class Output:
    stream: str
    obj: str
    primary: bool
    internal: bool
    key: KeyTemplate
    when: Callable[[dict], bool] | None
    fields: list[FieldRule] = field(default_factory=list)
    require_any: list[str] = field(default_factory=list)
    reject_reason: str | None = None
    each: str | None = None


class Engine:
    """Maps the records of every source stream with one rules file."""

    def __init__(self, rules: Rules, namespace: str, keep_source_values: int = 0) -> None:
        self.rules = rules
        self.keep_source_values = keep_source_values
        # stream → {table name: (key template, value column)}
        self.lookup_sources: dict[str, dict[str, tuple[KeyTemplate, str]]] = defaultdict(dict)
        for name, spec in rules.lookups.items():
            self.lookup_sources[spec["stream"]][name] = (KeyTemplate(spec["key"]), spec["value"])
        self.ids = IdFactory(namespace, rules.source)
        self.ctx = rules.defaults
        self.schemas: dict[str, ObjectSchema] = {}
        self.emitted_versions: dict[str, int] = {}
        self.outputs: dict[str, list[Output]] = {}
        self.ignored_streams: set[str] = set()
        self.ignore_rows = [(_condition(r["when"], self.ctx.tables), r["reason"])
                            for r in rules.ignore_rows]
        self.ignored_because: dict[str, Counter] = defaultdict(Counter)  # stream → reason → n
        self.counts: dict[str, Counter] = defaultdict(Counter)
        self.stream_keys: dict[str, KeyTemplate] = {}
        self.stream_objects: dict[str, str] = {}
        for stream, outs in rules.streams.items():
            primary = next(o for i, o in enumerate(outs) if o.get("primary", i == 0))
            self.stream_objects[stream] = primary["object"]
            self.stream_keys[stream] = KeyTemplate(primary.get("key", "id"))

    # ---- SCHEMA -------------------------------------------------------------------------

    def on_schema(self, stream: str, schema: dict, key_properties: list[str]) -> Iterator[tuple]:
        """Compile the rules of ``stream`` against its source schema; yield changed SCHEMAs."""
        if stream == REJECTS:
            yield from self._side_schema(REJECTS)
            return
        if stream == NOTICES:  # what a tap wants the report to say
            yield ("schema", NOTICES, schema, [])
            return
        props = schema.get("properties", {})
        if stream in self.rules.ignore_streams:
            self.ignored_streams.add(stream)
            return
        specs = self.rules.streams.get(stream)
        if specs is None:
            policy = self.rules.unmapped_streams
            if policy == "ignore":
                self.ignored_streams.add(stream)
                return
            if policy == "reject":
                self.outputs[stream] = []
                yield from self._side_schema(REJECTS)
                return
            specs = self._auto_specs(stream, props, key_properties)
            self.stream_objects.setdefault(stream, specs[0]["object"])
            self.stream_keys.setdefault(stream, KeyTemplate(specs[0]["key"]))
        # A column any output of the stream reads is not "unmapped" for the others.
        consumed = set().union(*(_output_columns(spec) for spec in specs))
        outputs = [self._compile(stream, i, spec, props, consumed) for i, spec in enumerate(specs)]
        self.outputs[stream] = outputs
        yield from self._side_schema(REJECTS)
        yield from self._side_schema(REPAIRS)
        for obj in dict.fromkeys(o.obj for o in outputs):
            yield from self._schema_if_changed(obj)

    def _side_schema(self, name: str) -> Iterator[tuple]:
        if name not in self.emitted_versions:
            self.emitted_versions[name] = 0
            yield ("schema", name, SIDE_SCHEMAS[name], [])

    def _schema_if_changed(self, obj: str) -> Iterator[tuple]:
        schema = self.schemas[obj]
        if self.emitted_versions.get(obj) != schema.version:
            self.emitted_versions[obj] = schema.version
            yield ("schema", obj, schema.message_schema(), ["id"])

    def _object_schema(self, obj: str, internal: bool) -> ObjectSchema:
        if obj not in self.schemas:
            if internal:
                root = {"object": obj, "internal": True, "source": self.rules.source}
            elif obj in self.rules.objects:
                declared = self.rules.objects[obj]
                root = {
                    "object": obj,
                    "custom": True,
                    "source": self.rules.source,
                    "namePlural": declared.get("namePlural", plural(obj)),
                    "labelSingular": declared.get("labelSingular", label_case(obj)),
                    "labelPlural": declared.get("labelPlural", label_case(plural(obj))),
                    **({"icon": declared["icon"]} if "icon" in declared else {}),
                    **(
                        {"description": declared["description"]}
                        if "description" in declared
                        else {}
                    ),
                }
            else:
                root = {"object": obj, "custom": False, "source": self.rules.source}
            self.schemas[obj] = ObjectSchema(obj, root)
        return self.schemas[obj]

    def _auto_specs(self, stream: str, props: dict, key_properties: list[str]) -> list[dict]:
        """Rules for a stream the rules file does not name: a custom object, or a junction."""
        columns = [c for c in props if not c.startswith("_sdc_")]
        if "__" in stream:
            left, right = stream.split("__", 1)
            objs = [self._object_of(left), self._object_of(right)]
            name = camel_case(f"{objs[0]} {objs[1][:1].upper()}{objs[1][1:]}")
            fields: dict[str, Any] = {}
            keys = []
            for side, obj in zip((left, right), objs, strict=True):
                col = next((c for c in (f"{side}_id", f"{singular(side)}_id") if c in props), None)
                if col is None:
                    raise RulesError(f"link stream {stream} has no {side}_id column")
                prop = camel_case(obj) + ("2Id" if f"{camel_case(obj)}Id" in fields else "Id")
                # a link row without both ends means nothing: the target rejects it
                fields[prop] = {
                    "ref": obj,
                    "from": col,
                    "label": label_case(obj),
                    "inverse_label": label_case(plural(name)),
                    "required": True,
                }
                keys.append(col)
            self._declare_custom(name, junction=True)
            return [{"object": name, "key": keys, "fields": fields, "keep_unmapped": True}]
        name = camel_case(singular(stream))
        self._declare_custom(name)
        key = key_properties or (["id"] if "id" in props else columns[:1])
        named = ("name", "title", "label", "subject", f"{singular(stream)}_name")
        label_col = next((c for c in named if c in props), None) or next(
            (c for c in columns if re.search(r"_(name|title|subject)$", c)), None)
        fields: dict[str, Any] = {
            "name": {"from": label_col or key[0], "transforms": ["trim"], "type": "TEXT"}}
        created = next((c for c in columns if _CREATED.search(c)), None)
        if created:  # keep the source's creation time, as the rules do for standard objects
            fields["createdAt"] = {"from": created, "transforms": ["datetime"]}
        return [{"object": name, "key": key, "fields": fields, "keep_unmapped": True}]

    def _declare_custom(self, name: str, *, junction: bool = False) -> None:
        declared = self.rules.objects.setdefault(name, {})
        declared.setdefault("labelSingular", label_case(name))
        declared.setdefault("labelPlural", label_case(plural(name)))
        if junction:
            declared.setdefault("description", "Many-to-many link")

    def _object_of(self, stream: str) -> str:
        return self.stream_objects.get(stream) or camel_case(singular(stream))

    def _compile(
        self, stream: str, index: int, spec: dict, props: dict, consumed: set[str] = frozenset()
    ) -> Output:
        obj = spec["object"]
        internal = obj.startswith("_")
        primary = spec.get("primary", index == 0)
        schema = self._object_schema(obj, internal)
        output = Output(
            stream=stream,
            obj=obj,
            primary=primary,
            internal=internal,
            key=KeyTemplate(spec.get("key", "id")),
            when=_condition(spec["when"], self.ctx.tables) if "when" in spec else None,
            require_any=list(spec.get("require_any") or []),
            reject_reason=spec.get("reject_reason"),
            each=spec.get("each"),
        )
        used: set[str] = set(output.key.columns) | set(consumed)
        for path, fspec in (spec.get("fields") or {}).items():
            fspec = {"from": fspec} if isinstance(fspec, str) else dict(fspec)
            used |= _columns_of(fspec)
            output.fields.append(self._compile_field(output, schema, path, fspec, props))
        sid = self.rules.source_id_field
        if sid and primary and not internal and spec.get("source_id", True):
            key_rule = output.key
            output.fields.append(
                FieldRule(
                    path=sid["name"],
                    top=sid["name"],
                    sub=None,
                    kind="TEXT",
                    getter=lambda r, _acc, k=key_rule: k.render(r),
                )
            )
            schema.add_field(
                sid["name"],
                "TEXT",
                {
                    "label": sid.get("label", f"{self.rules.label} ID"),
                    **({"unique": True} if sid.get("unique") else {}),
                },
            )
        if spec.get("keep_unmapped", primary and not internal):
            ignore = set(spec.get("ignore") or [])
            patterns = self.rules.ignore_columns
            for col, col_schema in props.items():
                if col in used or col in ignore or col.startswith("_sdc_"):
                    continue
                if any(fnmatch.fnmatchcase(col, pattern) for pattern in patterns):
                    continue
                output.fields.append(self._unmapped_field(output, schema, col, col_schema))
        return output

    def _unmapped_field(
        self, output: Output, schema: ObjectSchema, col: str, col_schema: dict
    ) -> FieldRule:
        """A source column no rule names: kept as a custom field, or a relation for ``<x>_id``."""
        if col_schema.get("x-references") in self.stream_objects:
            # the tap knows this column is a lookup to another stream (e.g. Sage metadata)
            target_stream = col_schema["x-references"]
            stem = col[:-2] if col.endswith("id") else col
            return self._compile_field(output, schema, f"{camel_case(stem)}Id", {
                "ref": self.stream_objects[target_stream], "from": col,
                "label": label_case(stem), "inverse_label": label_case(plural(output.obj))},
                {col: col_schema}, ref_stream=target_stream)
        if col.endswith("_id"):
            stem = col[:-3]
            target_stream = next(
                (
                    s
                    for s in self.stream_objects
                    if s in (stem, plural(stem)) or singular(s) == stem
                ),
                None,
            )
            if target_stream is not None:
                target = self.stream_objects[target_stream]
                prop = f"{camel_case(stem)}Id"
                if prop not in schema.properties:
                    return self._compile_field(
                        output,
                        schema,
                        prop,
                        {
                            "ref": target,
                            "from": col,
                            "label": label_case(stem),
                            "inverse_label": label_case(plural(output.obj)),
                        },
                        {col: col_schema},
                        ref_stream=target_stream,
                    )
        name = camel_case(col)
        description = f"{self.rules.label} column {col}"
        if name in schema.properties and _description(schema, name) != description:
            name = camel_case(f"{self.rules.source} {col}")
        kind = twenty_type_for_json(col_schema)
        return self._compile_field(
            output,
            schema,
            name,
            {"from": col, "type": kind, "label": label_case(col), "description": description},
            {col: col_schema},
        )

    def _compile_field(
        self,
        output: Output,
        schema: ObjectSchema,
        path: str,
        spec: dict,
        props: dict,
        ref_stream: str | None = None,
    ) -> FieldRule:
        place = f"{self.rules.path}: streams.{output.stream}.{output.obj}.fields.{path}"
        top, _, sub = path.partition(".")
        sub = sub or None
        if output.internal or top.startswith("_"):
            # Never written to Twenty: owners, workflows, file locations. Values pass as given.
            schema.add_internal(top, {} if output.internal else {"type": ["object", "null"]})
            return FieldRule(
                path,
                top,
                sub,
                "INTERNAL",
                self._getter(spec, list(spec.get("transforms") or []), place),
                _condition(spec["when"], self.ctx.tables) if "when" in spec else None,
            )
        if sub and sub not in SUBFIELD_TYPE:
            raise RulesError(f"{place}: {sub!r} is not a sub-field of any Twenty composite type")
        kind = self._kind(spec, sub, props)
        chain = list(spec.get("transforms") or [])
        is_relation = "ref" in spec or "owner" in spec
        base = top[:-2] if is_relation and top.endswith("Id") and len(top) > 2 else top
        intent: dict[str, Any] = {"label": spec.get("label", label_case(base))}
        for opt in ("description",):
            if opt in spec:
                intent[opt] = spec[opt]
        if spec.get("required"):
            intent["required"] = True
        if spec.get("unique"):
            intent["unique"] = True

        select = None
        if is_relation:
            kind = "RELATION"
            if "owner" in spec:
                intent.update(target="workspaceMember", match="userEmail")
                chain = [*chain, "email"]
            else:
                intent.update(
                    target=spec["ref"],
                    match="id",
                    inverseLabel=spec.get("inverse_label", label_case(plural(output.obj))),
                )
        elif kind in ("SELECT", "MULTI_SELECT"):
            select = self._select(schema, top, spec, intent, place)
        coerce = _COERCE_BY_SUBFIELD.get(sub or "") or (
            None if sub or kind == "RELATION" else _COERCE_BY_KIND.get(kind)
        )
        if coerce and (not chain or _name(chain[-1]) != coerce):
            chain.append(coerce)
        if sub:
            schema.add_field(top, SUBFIELD_TYPE[sub], intent)
        else:
            schema.add_field(top, kind, intent)
        getter = self._getter(spec, chain, place)
        getter = self._finish(
            getter, spec, output, path, kind if not sub else None, select, ref_stream
        )
        return FieldRule(
            path,
            top,
            sub,
            kind,
            getter,
            _condition(spec["when"], self.ctx.tables) if "when" in spec else None,
            tuple(sorted(_columns_of(spec))),
        )

    def _kind(self, spec: dict, sub: str | None, props: dict) -> str:
        if sub:
            return SUBFIELD_TYPE[sub]
        if "type" in spec:
            return spec["type"]
        if "options" in spec:
            return "SELECT"
        names = [_name(t) for t in spec.get("transforms") or []]
        for tname in reversed(names):
            if tname in transforms.TYPE_HINTS:
                return transforms.TYPE_HINTS[tname]
            if tname == "url":
                return "LINKS"
            if tname == "email":
                return "EMAILS"
        if "from" in spec and spec["from"] in props:
            return twenty_type_for_json(props[spec["from"]])
        if "const" in spec:
            const = spec["const"]
            if isinstance(const, bool):
                return "BOOLEAN"
            if isinstance(const, int | float):
                return "NUMBER"
        return "TEXT"

    def _select(
        self, schema: ObjectSchema, top: str, spec: dict, intent: dict, place: str
    ) -> Callable[[Any, Acc], Any]:
        mapping: dict[str, tuple[str, str]] = {}
        declared: list[dict] = []
        for source_value, target in (spec.get("options") or {}).items():
            target = {"value": target} if isinstance(target, str) else dict(target)
            if option_value(target["value"]) != target["value"]:
                raise RulesError(
                    f"{place}: option value {target['value']!r} must match ^[A-Z][A-Z0-9_]*$"
                )
            target.setdefault("label", label_case(target["value"].lower()))
            mapping[str(source_value).strip().lower()] = (target["value"], target["label"])
            if not any(d["value"] == target["value"] for d in declared):
                declared.append(
                    {k: v for k, v in target.items() if k in ("value", "label", "color")}
                )
        known = {value for value, _ in mapping.values()}
        intent["options"] = [{**d, "position": i} for i, d in enumerate(declared)]
        policy = spec.get("unmapped", "new_option")

        def one(value: Any, acc: Acc) -> str | None:
            text = str(value).strip()
            if not text:
                return None
            hit = mapping.get(text.lower())
            if hit:
                return hit[0]
            if text in known:
                return text
            if policy == "reject":
                raise Rejected(f"{top}: {text!r} has no option in the rules")
            if policy == "null":
                acc.repairs.append((top, text, "no option in the rules; left empty"))
                return None
            slug = option_value(text)
            if schema.add_option(top, {"value": slug, "label": text}):
                known.add(slug)
            mapping[text.lower()] = (slug, text)
            return slug

        return one

    def _getter(self, spec: dict, chain: list, place: str) -> Callable[[dict, Acc], Any]:
        if "from" in spec:
            col = spec["from"]

            def read(r: dict) -> Any:
                return r.get(col)
        elif "from_any" in spec:
            cols = spec["from_any"]

            def read(r: dict) -> Any:
                for c in cols:
                    v = r.get(c)
                    if not is_empty(v):
                        return v
                return None
        elif "from_all" in spec:
            cols = spec["from_all"]

            def read(r: dict) -> Any:
                return [r.get(c) for c in cols]
        elif "owner" in spec:
            col = spec["owner"]

            def read(r: dict) -> Any:
                return r.get(col)
        elif "const" in spec:
            const = spec["const"]

            def read(r: dict) -> Any:
                return const
        else:  # ref with a key template
            template = KeyTemplate(spec["key"])
            read = template.render
        fns = []
        for item in chain:
            tname = _name(item)
            args = item[tname] if isinstance(item, dict) else None
            try:
                fns.append(transforms.build(tname, self.ctx, args))
            except TypeError as exc:
                raise RulesError(f"{place}: bad arguments for transform {tname}: {exc}") from exc
        default = spec.get("default")

        def get(r: dict, acc: Acc) -> Any:
            value = read(r)
            for fn in fns:
                if is_empty(value):
                    break
                value = fn(value)
            if is_empty(value) and default is not None:
                value = default
                for fn in fns:
                    value = fn(value)
            return value

        return get

    def _finish(
        self,
        getter: Callable,
        spec: dict,
        output: Output,
        path: str,
        kind: str | None,
        select: Callable | None,
        ref_stream: str | None,
    ) -> Callable[[dict, Acc], Any]:
        """Wrap a getter with reference ids, options, composites, required and on_invalid."""
        required = spec.get("required", False)
        reject_invalid = spec.get("on_invalid") == "reject"
        ref_obj = spec.get("ref")
        by_key = "key" in spec and "from" not in spec
        ref_key = self.stream_keys.get(ref_stream) if ref_stream else self._key_of_object(ref_obj)
        ids = self.ids
        primary_sub = PRIMARY_SUBFIELD.get(kind or "")
        source_cols = sorted(_columns_of(spec))

        def get(r: dict, acc: Acc) -> Any:
            try:
                value = getter(r, acc)
            except InvalidValue as exc:
                if reject_invalid:
                    raise Rejected(f"{path}: {exc}") from exc
                raw = [r.get(c) for c in source_cols]
                acc.repairs.append(
                    (
                        path,
                        json.dumps(raw[0] if len(raw) == 1 else raw, default=str),
                        f"{exc}; left empty",
                    )
                )
                return None
            if is_empty(value):
                if required:
                    cols = ", ".join(source_cols) or path
                    raise Rejected(f"{output.obj}.{path} is required but {cols} is empty")
                return None
            if ref_obj is not None:
                key = (
                    value if by_key else (ref_key.for_value(value) if ref_key else key_text(value))
                )
                if key is None:
                    return None
                acc.refs[path] = key
                return ids.record_id(ref_obj, key)
            if select is not None:
                if isinstance(value, list):
                    return [v for v in (select(x, acc) for x in value) if v] or None
                return select(value, acc)
            if primary_sub and not isinstance(value, dict):
                return {primary_sub: value}
            if kind == "FULL_NAME" and isinstance(value, str):
                return transforms.split_name(value)
            if kind == "ADDRESS" and isinstance(value, str):
                return {"addressStreet1": value}
            if kind == "TEXT" and not isinstance(value, str):
                return str(value)
            return value

        return get

    def _key_of_object(self, obj: str | None) -> KeyTemplate | None:
        """The key template of the stream whose primary output is ``obj`` (only if unique)."""
        if obj is None:
            return None
        streams = [s for s, o in self.stream_objects.items() if o == obj]
        return self.stream_keys[streams[0]] if len(streams) == 1 else None

    # ---- RECORD -------------------------------------------------------------------------

    def on_record(self, stream: str, record: dict) -> Iterator[tuple]:
        if stream == NOTICES:
            yield ("record", NOTICES, record)
            return
        if stream == REJECTS:
            self.counts[record.get("source_stream") or "?"]["read"] += 1
            self.counts[record.get("source_stream") or "?"]["rejected"] += 1
            yield ("record", REJECTS, record)
            return
        counts = self.counts[stream]
        counts["read"] += 1
        if stream in self.ignored_streams:
            counts["ignored"] += 1
            return
        for condition, reason in self.ignore_rows:
            if condition(record):
                counts["ignored"] += 1
                self.ignored_because[stream][reason] += 1
                return
        outputs = self.outputs.get(stream)
        if outputs is None:
            raise RulesError(f"record for stream {stream!r} arrived before its SCHEMA")
        location = _location(record)
        if not outputs:
            counts["rejected"] += 1
            yield self._reject(
                stream,
                None,
                None,
                "stream is not named in the rules (unmapped_streams: reject)",
                location,
                record,
            )
            return
        for name, (template, column) in self.lookup_sources.get(stream, {}).items():
            found = template.render(record)
            if found is not None and record.get(column) is not None:
                self.ctx.tables.setdefault(name, {})[found.lower()] = record[column]
        produced: list[tuple] = []
        mapped = False
        for output, record in self._instances(outputs, record):
            if output.primary and mapped:
                continue  # an earlier primary alternative took this row
            if output.when is not None and not output.when(record):
                continue
            key = output.key.render(record)
            if key is None:
                reason = f"{output.obj}: key {output.key.template} is empty"
                if output.primary:
                    counts["rejected"] += 1
                    yield self._reject(stream, None, output.obj, reason, location, record)
                    return
                continue
            acc = Acc()
            try:
                values = self._build(output, record, acc)
            except Rejected as exc:
                if output.primary:
                    counts["rejected"] += 1
                    yield self._reject(stream, key, output.obj, str(exc), location, record)
                    return
                yield self._reject(stream, key, output.obj, str(exc), location, record)
                continue
            values["id"] = self.ids.record_id(output.obj, key)
            values[PROVENANCE_PROPERTY] = {
                "stream": stream,
                "key": key,
                "location": location,
                "primary": output.primary,
            }
            if acc.refs:
                values[PROVENANCE_PROPERTY]["refs"] = acc.refs
            if counts["read"] <= self.keep_source_values:
                values[PROVENANCE_PROPERTY]["src"] = _source_values(output, record)
            for path, value, reason in acc.repairs:
                produced.append(
                    (
                        "record",
                        REPAIRS,
                        {
                            "stage": "mapper",
                            "source_stream": stream,
                            "source_key": key,
                            "object": output.obj,
                            "field": path,
                            "value": value,
                            "reason": reason,
                        },
                    )
                )
            yield from self._schema_if_changed(output.obj)
            produced.append(("record", output.obj, values))
            mapped = mapped or output.primary
        if not mapped:
            counts["rejected"] += 1
            yield self._reject(stream, None, None, "the row matches none of the stream's primary "
                               "outputs (their `when` conditions)", location, record)
            return
        counts["mapped"] += 1
        yield from produced

    @staticmethod
    def _instances(outputs: list[Output], record: dict) -> Iterator[tuple[Output, dict]]:
        """Each output once, or once per element of its ``each`` list column."""
        for output in outputs:
            if output.each is None:
                yield output, record
                continue
            items = record.get(output.each)
            if isinstance(items, str):
                items = [p.strip() for p in re.split(r"[;,]", items) if p.strip()]
            for index, item in enumerate(items or []):
                yield output, {**record, "_item": item, "_index": index}

    def _build(self, output: Output, record: dict, acc: Acc) -> dict:
        values: dict[str, Any] = {}
        for rule in output.fields:
            if rule.when is not None and not rule.when(record):
                continue
            value = rule.getter(record, acc)
            if value is None:
                continue
            if rule.sub:
                values.setdefault(rule.top, {})[rule.sub] = value
            elif isinstance(value, dict) and isinstance(values.get(rule.top), dict):
                values[rule.top].update(value)
            else:
                values[rule.top] = value
        # A currency without an amount is no value (a default currency code alone says nothing).
        for top, value in list(values.items()):
            if (
                isinstance(value, dict)
                and "currencyCode" in value
                and is_empty(value.get("amountMicros"))
            ):
                del values[top]
        if output.require_any and all(is_empty(_at(values, p)) for p in output.require_any):
            raise Rejected(
                output.reject_reason or f"{output.obj} has none of {', '.join(output.require_any)}"
            )
        return values

    def _reject(
        self,
        stream: str,
        key: str | None,
        obj: str | None,
        reason: str,
        location: str | None,
        record: dict,
    ) -> tuple:
        raw = {k: v for k, v in record.items() if not k.startswith("_sdc_")}
        return (
            "record",
            REJECTS,
            {
                "stage": "mapper",
                "source_stream": stream,
                "source_key": key,
                "object": obj,
                "reason": reason,
                "location": location,
                "raw": json.dumps(raw, default=str, ensure_ascii=False)[:2000],
            },
        )

    def summary(self) -> Iterator[tuple]:
        yield from self._side_schema(SUMMARY)
        for stream, counts in sorted(self.counts.items()):
            yield (
                "record",
                SUMMARY,
                {
                    "source": self.rules.source,
                    "rules": self.rules.path,
                    "stream": stream,
                    "read": counts["read"],
                    "mapped": counts["mapped"],
                    "rejected": counts["rejected"],
                    "ignored": counts["ignored"],
                    "ignored_because": self._ignored_because(stream),
                },
            )

    def _ignored_because(self, stream: str) -> str | None:
        if stream in self.ignored_streams:
            return self.rules.ignore_streams.get(stream) or (
                "not named in the rules (unmapped_streams: ignore)")
        reasons = self.ignored_because.get(stream)
        return "; ".join(f"{why} ({n})" for why, n in reasons.items()) if reasons else None


def _source_values(output: Output, record: dict) -> dict[str, Any]:
    """What each output field was made from, for a sample run's field-level diff."""
    src: dict[str, Any] = {}
    for rule in output.fields:
        if rule.columns and not rule.top.startswith("_"):
            raw = [record.get(c) for c in rule.columns]
            src[rule.path] = raw[0] if len(raw) == 1 else raw
    return src


def _name(item: Any) -> str:
    return item if isinstance(item, str) else next(iter(item))


_CREATED = re.compile(r"^(created(_?(at|on|date))?|.+_created(_?(at|on|date))?|.+_createddate)$", re.I)


def _columns_of(spec: dict) -> set[str]:
    cols: set[str] = set()
    for key in ("from", "owner"):
        if key in spec:
            cols.add(spec[key])
    for key in ("from_any", "from_all"):
        cols.update(spec.get(key) or [])
    if "key" in spec:
        cols.update(KeyTemplate(spec["key"]).columns)
    return cols


def _output_columns(spec: dict) -> set[str]:
    cols = set(KeyTemplate(spec.get("key", "id")).columns)
    if spec.get("each"):
        cols.add(spec["each"])
    cols |= _when_columns(spec.get("when"))
    for fspec in (spec.get("fields") or {}).values():
        cols |= _columns_of({"from": fspec} if isinstance(fspec, str) else fspec)
        cols |= _when_columns(fspec.get("when") if isinstance(fspec, dict) else None)
    return cols


def _when_columns(when: Any) -> set[str]:
    """The source columns a `when` reads (see _condition for its forms)."""
    if not when:
        return set()
    if isinstance(when, str):
        return {when}
    if isinstance(when, list):
        return set().union(*(_when_columns(part) for part in when))
    cols = {c for c in when if c not in ("lookup", "key", "in", "missing")}
    if "lookup" in when:
        cols |= set(KeyTemplate(when["key"]).columns)
    return cols


def _description(schema: ObjectSchema, name: str) -> str | None:
    return schema.properties[name].get(KEYWORD, {}).get("description")


def _at(values: dict, path: str) -> Any:
    top, _, sub = path.partition(".")
    value = values.get(top)
    return value.get(sub) if sub and isinstance(value, dict) else value


def _location(record: dict) -> str | None:
    src = record.get("_sdc_source_file")
    if not src:
        return None
    line = record.get("_sdc_source_lineno")
    return f"{src}:{line}" if line is not None else str(src)


__all__ = ["COMPOSITES", "REJECTS", "REPAIRS", "SUMMARY", "Engine", "Rejected", "json_schema_for"]
