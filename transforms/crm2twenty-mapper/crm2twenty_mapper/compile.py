"""The rules compiler: one source stream's rules → a :class:`StreamPlan`, built once.

When a stream's SCHEMA arrives (its column types are known then), each output of its rules becomes
an :class:`OutputPlan` whose fields are plain closures ``put(record, acc, values)``: read the
source column(s), run the transforms, apply the field's default, coerce to the Twenty type, turn
references into ids and pick-list values into options, and write the value at its place. The
runtime (runtime.py) only calls them. Compiling also declares every field in the output object's
SCHEMA (intent.py), so the SCHEMA is complete before the first record.

A new transform goes in transforms.py (its REGISTRY); a new kind of field source or rule keyword
goes here, in :func:`_reader` or :func:`_field`.
"""

from __future__ import annotations

import fnmatch
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from crm2twenty_mapper import infer, transforms
from crm2twenty_mapper.catalog import Catalog
from crm2twenty_mapper.ids import KeyTemplate, key_text
from crm2twenty_mapper.intent import (
    PRIMARY_SUBFIELD,
    SUBFIELD_TYPE,
    ObjectSchema,
    twenty_type_for_json,
)
from crm2twenty_mapper.names import label_case, option_value, plural
from crm2twenty_mapper.rules import RulesError
from crm2twenty_mapper.side_streams import Repair
from crm2twenty_mapper.transforms import InvalidValue

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
_EMPTY = (None, "", [], {})
# Transforms whose result depends on the rules' state as records pass (lookup tables fill up):
# a field using one is never memoised by value.
_STATEFUL = frozenset({"lookup"})
# Values repeat (countries, owners, stages, dates of a bulk import): a field's transforms run
# once per distinct value. Bounded so that a column of unique values costs a dict, not memory.
_MEMO_LIMIT = 20_000


class Rejected(Exception):
    """A record a rule rejects, with the reason that goes to the rejects file."""


class Acc:
    """What building one record collects besides its values: repairs, and the source key of
    each reference (so a dangling one can be named in the target's report)."""

    __slots__ = ("refs", "repairs")

    def __init__(self) -> None:
        self.repairs: list[Repair] = []
        self.refs: dict[str, str] = {}


Condition = Callable[[dict], bool]
Put = Callable[[dict, Acc, dict], None]


@dataclass(frozen=True, slots=True)
class FieldPlan:
    """One compiled output field: ``put`` writes its value (if any) into the record's values."""

    path: str
    top: str
    put: Put
    # the source columns it reads, for the sample run's source values (none: not shown)
    columns: tuple[str, ...] = ()


@dataclass(slots=True)
class OutputPlan:
    """One output of a source stream: which rows, which key, which fields."""

    stream: str
    obj: str
    primary: bool
    key: KeyTemplate
    when: Condition | None
    each: str | None
    require_any: list[str]
    reject_reason: str | None
    fields: list[FieldPlan] = field(default_factory=list)

    def build(self, record: dict, acc: Acc) -> dict:
        """The output record's values (without ``id`` and provenance); raises Rejected."""
        values: dict[str, Any] = {}
        for plan in self.fields:
            plan.put(record, acc, values)
        # A currency without an amount is no value (a default currency code alone says nothing).
        for top, value in list(values.items()):
            if (
                isinstance(value, dict)
                and "currencyCode" in value
                and is_empty(value.get("amountMicros"))
            ):
                del values[top]
        if self.require_any and all(is_empty(_at(values, p)) for p in self.require_any):
            raise Rejected(
                self.reject_reason or f"{self.obj} has none of {', '.join(self.require_any)}"
            )
        return values

    def source_values(self, record: dict) -> dict[str, Any]:
        """What each output field was made from, for a sample run's field-level diff."""
        src: dict[str, Any] = {}
        for plan in self.fields:
            if plan.columns and not plan.top.startswith("_"):
                raw = [record.get(c) for c in plan.columns]
                src[plan.path] = raw[0] if len(raw) == 1 else raw
        return src


@dataclass(slots=True)
class StreamPlan:
    """Everything the runtime does with the rows of one source stream."""

    stream: str
    # no outputs: every row is rejected (``unmapped_streams: reject``)
    outputs: list[OutputPlan]
    # lookup tables this stream fills: (table, key template, value column)
    lookups: list[tuple[str, KeyTemplate, str]] = field(default_factory=list)


def is_empty(value: Any) -> bool:
    """None, ``""``, ``[]``, ``{}``, or a dict of empty values."""
    if value is None:
        return True
    kind = type(value)
    if kind is str or kind is list:
        return not value
    if kind is dict:
        return all(is_empty(v) for v in value.values())
    if isinstance(value, dict):
        return all(is_empty(v) for v in value.values())
    return value in _EMPTY


def condition(spec: Any, tables: dict) -> Condition:
    """A ``when``: a column that must be non-empty; ``{column: value | [values]}``; a list of
    conditions that must all hold; or a lookup ``{lookup: table, key: "{col}", in: [values]}`` /
    ``{lookup: …, key: …, missing: true}``."""
    if isinstance(spec, str):
        return lambda r: not is_empty(r.get(spec))
    if isinstance(spec, list):
        parts = [condition(part, tables) for part in spec]
        return lambda r: all(part(r) for part in parts)
    spec = dict(spec)
    tests: list[Condition] = []
    if "lookup" in spec:
        table = tables.setdefault(spec.pop("lookup"), {})
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
        allowed = {
            str(w).strip().lower() for w in (values if isinstance(values, list) else [values])
        }
        tests.append(lambda r, c=col, a=allowed: str(r.get(c) or "").strip().lower() in a)
    return lambda r: all(test(r) for test in tests)


def compile_stream(catalog: Catalog, stream: str, specs: list[dict], props: dict) -> StreamPlan:
    """Compile every output of ``stream`` against its source columns ``props``."""
    # A column any output of the stream reads is not "unmapped" for the others.
    consumed = set().union(*(_output_columns(spec) for spec in specs))
    outputs = [_output(catalog, stream, i, spec, props, consumed) for i, spec in enumerate(specs)]
    lookups = [
        (name, KeyTemplate(spec["key"]), spec["value"])
        for name, spec in catalog.rules.lookups.items()
        if spec["stream"] == stream
    ]
    return StreamPlan(stream, outputs, lookups)


def ignore_rows(catalog: Catalog) -> list[tuple[Condition, str]]:
    """The rules' ``ignore_rows``: (condition, reason) pairs."""
    return [
        (condition(r["when"], catalog.ctx.tables), r["reason"]) for r in catalog.rules.ignore_rows
    ]


def _output(
    catalog: Catalog, stream: str, index: int, spec: dict, props: dict, consumed: set[str]
) -> OutputPlan:
    rules = catalog.rules
    obj = spec["object"]
    internal = obj.startswith("_")
    primary = spec.get("primary", index == 0)
    schema = catalog.object_schema(obj, internal)
    output = OutputPlan(
        stream=stream,
        obj=obj,
        primary=primary,
        key=KeyTemplate(spec.get("key", "id")),
        when=condition(spec["when"], catalog.ctx.tables) if "when" in spec else None,
        each=spec.get("each"),
        require_any=list(spec.get("require_any") or []),
        reject_reason=spec.get("reject_reason"),
    )
    used: set[str] = set(output.key.columns) | set(consumed)
    for path, fspec in (spec.get("fields") or {}).items():
        fspec = {"from": fspec} if isinstance(fspec, str) else dict(fspec)
        used |= _columns_of(fspec)
        output.fields.append(_field(catalog, output, internal, schema, path, fspec, props))
    sid = rules.source_id_field
    if sid and primary and not internal and spec.get("source_id", True):
        render = output.key.render
        output.fields.append(
            FieldPlan(sid["name"], sid["name"], _put(sid["name"], None, lambda r, _acc: render(r)))
        )
        schema.add_field(
            sid["name"],
            "TEXT",
            {
                "label": sid.get("label", f"{rules.label} ID"),
                **({"unique": True} if sid.get("unique") else {}),
            },
        )
    if spec.get("keep_unmapped", primary and not internal):
        ignore = set(spec.get("ignore") or [])
        patterns = rules.ignore_columns
        for col, col_schema in props.items():
            if col in used or col in ignore or col.startswith("_sdc_"):
                continue
            if any(fnmatch.fnmatchcase(col, pattern) for pattern in patterns):
                continue
            guess = infer.column_rule(catalog, obj, schema, col, col_schema)
            output.fields.append(
                _field(
                    catalog,
                    output,
                    internal,
                    schema,
                    guess.path,
                    guess.spec,
                    {col: col_schema},
                    guess.ref_stream,
                )
            )
    return output


def _field(
    catalog: Catalog,
    output: OutputPlan,
    internal: bool,
    schema: ObjectSchema,
    path: str,
    spec: dict,
    props: dict,
    ref_stream: str | None = None,
) -> FieldPlan:
    """Compile one field rule and declare its field in the object's SCHEMA."""
    place = f"{catalog.rules.path}: streams.{output.stream}.{output.obj}.fields.{path}"
    top, _, sub_path = path.partition(".")
    sub = sub_path or None
    when = condition(spec["when"], catalog.ctx.tables) if "when" in spec else None
    if internal or top.startswith("_"):
        # Never written to Twenty: owners, workflows, file locations. Values pass as given.
        schema.add_internal(top, {} if internal else {"type": ["object", "null"]})
        chain = _chain(catalog, spec, list(spec.get("transforms") or []), place)
        read = _reader(spec)
        return FieldPlan(path, top, _put(top, sub, lambda r, _acc: chain(read(r)), when))
    if sub and sub not in SUBFIELD_TYPE:
        raise RulesError(f"{place}: {sub!r} is not a sub-field of any Twenty composite type")
    kind = _kind(spec, sub, props)
    chain_spec = list(spec.get("transforms") or [])
    is_relation = "ref" in spec or "owner" in spec
    base = top[:-2] if is_relation and top.endswith("Id") and len(top) > 2 else top
    intent: dict[str, Any] = {"label": spec.get("label", label_case(base))}
    if "description" in spec:
        intent["description"] = spec["description"]
    if spec.get("required"):
        intent["required"] = True
    if spec.get("unique"):
        intent["unique"] = True
    select = None
    if is_relation:
        kind = "RELATION"
        if "owner" in spec:
            intent.update(target="workspaceMember", match="userEmail")
            chain_spec = [*chain_spec, "email"]
        else:
            intent.update(
                target=spec["ref"],
                match="id",
                inverseLabel=spec.get("inverse_label", label_case(plural(output.obj))),
            )
    elif kind in ("SELECT", "MULTI_SELECT"):
        select = _select(schema, top, spec, intent, place)
    coerce = _COERCE_BY_SUBFIELD.get(sub or "") or (
        None if sub or kind == "RELATION" else _COERCE_BY_KIND.get(kind)
    )
    if coerce and (not chain_spec or _name(chain_spec[-1]) != coerce):
        chain_spec.append(coerce)
    schema.add_field(top, SUBFIELD_TYPE[sub] if sub else kind, intent)
    chain = _chain(catalog, spec, chain_spec, place)
    get = _finish(
        catalog,
        _reader(spec),
        chain,
        spec,
        output.obj,
        path,
        kind if not sub else None,
        select,
        ref_stream,
    )
    return FieldPlan(path, top, _put(top, sub, get, when), tuple(sorted(_columns_of(spec))))


def _put(
    top: str,
    sub: str | None,
    get: Callable[[dict, Acc], Any],
    when: Condition | None = None,
) -> Put:
    """Where a field's value goes: a sub-field of a composite, merged into one, or a column;
    ``None`` writes nothing."""
    if sub is not None:

        def put(r: dict, acc: Acc, values: dict) -> None:
            value = get(r, acc)
            if value is not None:
                values.setdefault(top, {})[sub] = value
    else:

        def put(r: dict, acc: Acc, values: dict) -> None:
            value = get(r, acc)
            if value is None:
                return
            if isinstance(value, dict):
                current = values.get(top)
                if isinstance(current, dict):
                    current.update(value)
                    return
            values[top] = value

    if when is None:
        return put

    def put_when(r: dict, acc: Acc, values: dict) -> None:
        if when(r):
            put(r, acc, values)

    return put_when


def _reader(spec: dict) -> Callable[[dict], Any]:
    """How a field reads its source row: one column, the first non-empty of several, all of
    several (a list), an owner's e-mail column, a constant, or a reference's key template."""
    if "from" in spec:
        col = spec["from"]
        return lambda r: r.get(col)
    if "from_any" in spec:
        cols = spec["from_any"]

        def read_any(r: dict) -> Any:
            for c in cols:
                v = r.get(c)
                if not is_empty(v):
                    return v
            return None

        return read_any
    if "from_all" in spec:
        cols = spec["from_all"]
        return lambda r: [r.get(c) for c in cols]
    if "owner" in spec:
        col = spec["owner"]
        return lambda r: r.get(col)
    if "const" in spec:
        const = spec["const"]
        return lambda r: const
    return KeyTemplate(spec["key"]).render  # a ref with a key template


def _chain(catalog: Catalog, spec: dict, chain: list, place: str) -> Callable[[Any], Any]:
    """The field's transforms, then its default (itself transformed) when the result is empty."""
    fns = []
    for item in chain:
        tname = _name(item)
        args = item[tname] if isinstance(item, dict) else None
        try:
            fns.append(transforms.build(tname, catalog.ctx, args))
        except TypeError as exc:
            raise RulesError(f"{place}: bad arguments for transform {tname}: {exc}") from exc
    default = spec.get("default")
    if not fns:
        if default is None:
            return _identity
        return lambda value: default if is_empty(value) else value

    def apply(value: Any) -> Any:
        for fn in fns:
            if is_empty(value):
                break
            value = fn(value)
        if default is not None and is_empty(value):
            value = default
            for fn in fns:
                value = fn(value)
        return value

    if any(_name(item) in _STATEFUL for item in chain):
        return apply
    return _memo(apply)


def _identity(value: Any) -> Any:
    return value


def _memo(apply: Callable[[Any], Any]) -> Callable[[Any], Any]:
    """``apply`` run once per distinct source text (or list of texts, from ``from_all``).

    Only text is remembered: ``1``, ``True`` and ``Decimal("1.0")`` are equal keys in a dict but
    not the same value to a transform. A dict result is copied, since a composite's sub-fields
    are filled in place. An InvalidValue is not remembered: its message carries the value.
    """
    memo: dict[Any, Any] = {}

    def cached(value: Any) -> Any:
        kind = type(value)
        if kind is str:
            key: Any = value
        elif kind is list and all(v is None or type(v) is str for v in value):
            key = tuple(value)
        else:
            return apply(value)
        found = memo.get(key, memo)
        if found is memo:
            found = apply(value)
            if len(memo) >= _MEMO_LIMIT:
                memo.clear()
            memo[key] = found
        return dict(found) if type(found) is dict else found

    return cached


def _finish(
    catalog: Catalog,
    read: Callable[[dict], Any],
    chain: Callable[[Any], Any],
    spec: dict,
    obj: str,
    path: str,
    kind: str | None,
    select: Callable[[Any, Acc], Any] | None,
    ref_stream: str | None,
) -> Callable[[dict, Acc], Any]:
    """The field's getter: read, transform, then reference ids, options, composites, required
    and on_invalid; one closure specialised for what this field is."""
    required = spec.get("required", False)
    reject_invalid = spec.get("on_invalid") == "reject"
    ref_obj = spec.get("ref")
    source_cols = sorted(_columns_of(spec))

    def invalid(r: dict, acc: Acc, exc: InvalidValue) -> None:
        if reject_invalid:
            raise Rejected(f"{path}: {exc}") from exc
        raw = [r.get(c) for c in source_cols]
        acc.repairs.append(
            Repair(
                path,
                json.dumps(raw[0] if len(raw) == 1 else raw, default=str),
                f"{exc}; left empty",
            )
        )

    def empty() -> None:
        if required:
            cols = ", ".join(source_cols) or path
            raise Rejected(f"{obj}.{path} is required but {cols} is empty")

    if ref_obj is not None:
        by_key = "key" in spec and "from" not in spec
        ref_key = (
            catalog.stream_keys.get(ref_stream) if ref_stream else catalog.key_of_object(ref_obj)
        )
        as_key = (
            (lambda v: v) if by_key else (ref_key.for_value if ref_key is not None else key_text)
        )
        record_id = catalog.ids.record_id

        def get_ref(r: dict, acc: Acc) -> Any:
            try:
                value = chain(read(r))
            except InvalidValue as exc:
                return invalid(r, acc, exc)
            if is_empty(value):
                return empty()
            key = as_key(value)
            if key is None:
                return None
            acc.refs[path] = key
            return record_id(ref_obj, key)

        return get_ref

    shape = _shape(kind)

    def get(r: dict, acc: Acc) -> Any:
        try:
            value = chain(read(r))
        except InvalidValue as exc:
            return invalid(r, acc, exc)
        if is_empty(value):
            return empty()
        if select is not None:
            if isinstance(value, list):
                return [v for v in (select(x, acc) for x in value) if v] or None
            return select(value, acc)
        return value if shape is None else shape(value)

    return get


def _shape(kind: str | None) -> Callable[[Any], Any] | None:
    """What a plain value becomes in a field of ``kind`` (a scalar into a composite's primary
    sub-field, a full name split, a text made text); None: it stays as it is."""
    primary_sub = PRIMARY_SUBFIELD.get(kind or "")
    if primary_sub:
        return lambda v: v if isinstance(v, dict) else {primary_sub: v}
    if kind == "FULL_NAME":
        return lambda v: transforms.split_name(v) if isinstance(v, str) else v
    if kind == "ADDRESS":
        return lambda v: {"addressStreet1": v} if isinstance(v, str) else v
    if kind == "TEXT":
        return lambda v: v if isinstance(v, str) else str(v)
    return None


def _kind(spec: dict, sub: str | None, props: dict) -> str:
    """The Twenty type of a field: declared, implied by its options or last transform, or read
    from the source column's JSON schema."""
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
    schema: ObjectSchema, top: str, spec: dict, intent: dict, place: str
) -> Callable[[Any, Acc], Any]:
    """A pick-list value → its option; an unknown value becomes a new option, is left empty
    (``unmapped: "null"``) or rejects the row (``unmapped: reject``)."""
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
            declared.append({k: v for k, v in target.items() if k in ("value", "label", "color")})
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
            acc.repairs.append(Repair(top, text, "no option in the rules; left empty"))
            return None
        slug = option_value(text)
        if schema.add_option(top, {"value": slug, "label": text}):
            known.add(slug)
        mapping[text.lower()] = (slug, text)
        return slug

    return one


def _name(item: Any) -> str:
    return item if isinstance(item, str) else next(iter(item))


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
    """The source columns a `when` reads (see :func:`condition` for its forms)."""
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


def _at(values: dict, path: str) -> Any:
    top, _, sub = path.partition(".")
    value = values.get(top)
    return value.get(sub) if sub and isinstance(value, dict) else value
