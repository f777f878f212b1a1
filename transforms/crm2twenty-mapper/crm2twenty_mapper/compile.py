"""The rules compiler: one source stream's rules → a :class:`StreamPlan`, built once.

When a stream's SCHEMA arrives (its column types are known then), each output of its rules becomes
an :class:`OutputPlan` whose fields are plain closures ``put(record, acc, values)`` (fields.py):
read the source column(s), run the transforms, apply the field's default, coerce to the Twenty
type, turn references into ids and pick-list values into options, and write the value at its
place. Here each field's Twenty type, transforms and SCHEMA intent are decided; the runtime
(runtime.py) only calls the closures. Compiling also declares every field in the output object's
SCHEMA (intent.py), so the SCHEMA is complete before the first record.

A new transform goes in transforms.py (its REGISTRY); a new kind of field source or rule keyword
goes here (:func:`_field`) and in fields.py, which turns a field into its closure.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from crm2twenty_common.twenty import (
    SUBFIELD_TYPE,
    label_case,
    option_value,
    plural,
    twenty_type_for_json,
)

from crm2twenty_mapper import infer, transforms
from crm2twenty_mapper.catalog import Catalog
from crm2twenty_mapper.fields import (
    Acc,
    Condition,
    FieldPlan,
    FieldSpec,
    Rejected,
    columns_of,
    compile_put,
    internal_put,
    is_empty,
    source_id_put,
    transform_name,
)
from crm2twenty_mapper.ids import KeyTemplate
from crm2twenty_mapper.intent import KEYWORD, ObjectSchema
from crm2twenty_mapper.lookup_table import LookupTable
from crm2twenty_mapper.rules import RulesError
from crm2twenty_mapper.side_streams import FieldRepair

# A source column's own pick-list, in the source's order (a list of values): see _listed.
OPTIONS_ANNOTATION = "x-options"
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
    record_id: Callable[[str], str]  # source key → the record's id
    fields: list[FieldPlan] = field(default_factory=list)
    # the fields of Twenty's CURRENCY type, whole or by sub-field
    currencies: list[str] = field(default_factory=list)

    def build(self, record: dict, acc: Acc) -> dict:
        """The output record's values (without ``id`` and provenance); raises Rejected."""
        values: dict[str, Any] = {}
        for plan in self.fields:
            plan.put(record, acc, values)
        # A currency without an amount is no value (a default currency code alone says nothing).
        for top in self.currencies:
            value = values.get(top)
            if (
                value is not None
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
    # no outputs: every row is rejected, for this reason
    outputs: list[OutputPlan]
    # lookup tables this stream fills: (table, key template, value column)
    lookups: list[tuple[str, KeyTemplate, str]] = field(default_factory=list)
    reject_reason: str = "stream is not named in the rules (unmapped_streams: reject)"
    # whether an output maps each element of a list column (``each``), not the row once
    each: bool = False


def condition(spec: Any, tables: dict[str, LookupTable]) -> Condition:
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
        table = tables.setdefault(spec.pop("lookup"), LookupTable())
        template = KeyTemplate(spec.pop("key"))
        wanted = {str(w).lower() for w in spec.pop("in", [])}
        missing = spec.pop("missing", False)

        def found(r: dict) -> Any:
            key = template.render(r)
            return None if key is None else table.get(key)

        if missing:
            tests.append(lambda r: found(r) is None)
        else:
            tests.append(lambda r: str(found(r) or "").lower() in wanted)
    for col, values in spec.items():
        allowed = {
            str(w).strip().lower() for w in (values if isinstance(values, list) else [values])
        }
        tests.append(_one_of(col, allowed))
    return lambda r: all(test(r) for test in tests)


def _one_of(col: str, allowed: set[str]) -> Condition:
    return lambda r: str(r.get(col) or "").strip().lower() in allowed


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
    return StreamPlan(stream, outputs, lookups, each=any(o.each is not None for o in outputs))


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
        record_id=catalog.ids.for_object(obj),
    )
    used: set[str] = set(output.key.columns) | set(consumed)
    for path, fspec in (spec.get("fields") or {}).items():
        fspec = {"from": fspec} if isinstance(fspec, str) else dict(fspec)
        used |= columns_of(fspec)
        output.fields.append(_field(catalog, output, internal, schema, path, fspec, props))
    sid = rules.source_id_field
    if sid and primary and not internal and spec.get("source_id", True):
        output.fields.append(
            FieldPlan(sid["name"], sid["name"], source_id_put(sid["name"], output.key))
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
        chain = list(spec.get("transforms") or [])
        internal_spec = FieldSpec(place, output.obj, path, top, sub, None, spec, chain, when=when)
        return FieldPlan(path, top, internal_put(catalog, internal_spec))
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
        select = _select(schema, top, spec, intent, place, _listed(spec, props))
    coerce = _COERCE_BY_SUBFIELD.get(sub or "") or (
        None if sub or kind == "RELATION" else _COERCE_BY_KIND.get(kind)
    )
    if coerce and (not chain_spec or transform_name(chain_spec[-1]) != coerce):
        chain_spec.append(coerce)
    schema.add_field(top, SUBFIELD_TYPE[sub] if sub else kind, intent)
    if schema.properties[top][KEYWORD]["type"] == "CURRENCY" and top not in output.currencies:
        output.currencies.append(top)
    field_spec = FieldSpec(
        place,
        output.obj,
        path,
        top,
        sub,
        kind if not sub else None,
        spec,
        chain_spec,
        select,
        ref_stream,
        when,
    )
    return FieldPlan(path, top, compile_put(catalog, field_spec), tuple(sorted(columns_of(spec))))


def _kind(spec: dict, sub: str | None, props: dict) -> str:
    """The Twenty type of a field: declared, implied by its options or last transform, or read
    from the source column's JSON schema."""
    if sub:
        return SUBFIELD_TYPE[sub]
    if "type" in spec:
        return spec["type"]
    if "options" in spec:
        return "SELECT"
    names = [transform_name(t) for t in spec.get("transforms") or []]
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


def _listed(spec: dict, props: dict) -> list[str]:
    """The source's own pick-list for a field: the ``x-options`` (values in the source's order)
    of the first column it reads that carries them (tap-supabase-atomic's configured stages)."""
    for col in [spec["from"]] if "from" in spec else spec.get("from_any") or []:
        listed = (props.get(col) or {}).get(OPTIONS_ANNOTATION)
        if isinstance(listed, list):
            return [str(v).strip() for v in listed if v is not None and str(v).strip()]
    return []


def _select(
    schema: ObjectSchema, top: str, spec: dict, intent: dict, place: str, listed: list[str]
) -> Callable[[Any, Acc], Any]:
    """A pick-list value → its option; an unknown value becomes a new option, is left empty
    (``unmapped: "null"``) or rejects the row (``unmapped: reject``). With ``new_option``, the
    source's own list (``listed``) is declared up front, in its order, so every option exists
    even when no record uses it."""
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
    policy = spec.get("unmapped", "new_option")
    if policy == "new_option" and listed:
        # the source's order first (its values mapped by the rules, or new options), then the
        # rules' other options
        ordered: list[dict] = []
        for text in listed:
            value, label = mapping.setdefault(text.lower(), (option_value(text), text))
            if not any(d["value"] == value for d in ordered):
                rule = next((d for d in declared if d["value"] == value), None)
                ordered.append(rule or {"value": value, "label": label})
        declared = ordered + [d for d in declared if d not in ordered]
    known = {value for value, _ in mapping.values()}
    intent["options"] = [{**d, "position": i} for i, d in enumerate(declared)]

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
            acc.repairs.append(FieldRepair(top, text, "no option in the rules; left empty"))
            return None
        slug = option_value(text)
        if schema.add_option(top, {"value": slug, "label": text}):
            known.add(slug)
        mapping[text.lower()] = (slug, text)
        return slug

    return one


def _output_columns(spec: dict) -> set[str]:
    cols = set(KeyTemplate(spec.get("key", "id")).columns)
    if spec.get("each"):
        cols.add(spec["each"])
    cols |= _when_columns(spec.get("when"))
    for fspec in (spec.get("fields") or {}).values():
        cols |= columns_of({"from": fspec} if isinstance(fspec, str) else fspec)
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


def named_columns(specs: list[dict]) -> set[str]:
    """The source columns the outputs of one stream read (keys, ``each``, ``when``, fields):
    the columns a rules file names, which are never kept as custom fields."""
    return set().union(*(_output_columns(spec) for spec in specs))
