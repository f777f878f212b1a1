"""One output field compiled into one closure: ``put(record, acc, values)``.

compile.py decides what a field is (its Twenty type, its transforms, its SCHEMA intent); this
module turns that into the function the runtime calls for every record. The closure reads the
source column(s), runs the transforms (once per distinct source text: a bounded memo), applies the
default, rejects or repairs, turns a reference into its id or a pick-list value into its option,
shapes a plain value for a composite type, and writes it at its place in the record's values.
Everything that does not depend on the record is decided here, once, not per record; this is
the mapper's hot path, hence one closure rather than a chain of small ones.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from crm2twenty_common.twenty import (
    PRIMARY_SUBFIELD,
    label_case,
    raw_field_label,
    raw_field_name,
)

from crm2twenty_mapper import transforms
from crm2twenty_mapper.catalog import Catalog
from crm2twenty_mapper.ids import KeyTemplate, key_text
from crm2twenty_mapper.intent import KEYWORD
from crm2twenty_mapper.rules import RulesError
from crm2twenty_mapper.side_streams import FieldRepair
from crm2twenty_mapper.transforms import InvalidValue

_EMPTY: tuple[Any, ...] = (None, "", [], {})
# Transforms whose result depends on state that changes as records pass (lookup tables fill
# up): a field using one is never memoised.
_STATEFUL = frozenset({"lookup"})
# Transform arguments that name a lookup table (the phone transforms' ``company_country``).
_STATEFUL_ARGS = frozenset({"company_country"})
# Source values repeat (countries, owners, stages, amounts): a field's transforms run once per
# distinct value. Bounded; a field whose values hardly repeat (timestamps) stops memoising.
_MEMO_LIMIT = 4096
_MISS = object()

Condition = Callable[[dict], bool]


class Rejected(Exception):
    """A record a rule rejects, with the reason that goes to the rejects file."""


class Acc:
    """What building one record collects besides its values: repairs, and the source key of
    each reference (so a dangling one can be named in the target's report)."""

    __slots__ = ("refs", "repairs")

    def __init__(self) -> None:
        self.repairs: list[FieldRepair] = []
        self.refs: dict[str, str] = {}


Put = Callable[[dict, Acc, dict], None]


@dataclass(frozen=True, slots=True)
class FieldPlan:
    """One compiled output field: ``put`` writes its value (if any) into the record's values."""

    path: str
    top: str
    put: Put
    # the source columns it reads, for the sample run's source values (none: not shown)
    columns: tuple[str, ...] = ()


def is_empty(value: Any) -> bool:
    """None, ``""``, ``[]``, ``{}``, or a dict of empty values."""
    if value is None:
        return True
    kind = type(value)
    if kind is str or kind is list:
        return not value
    if isinstance(value, dict):
        for v in value.values():  # noqa: SIM110 (all() over a generator costs more here)
            if not is_empty(v):
                return False
        return True
    return value in _EMPTY


@dataclass(frozen=True)
class FieldSpec:
    """What compile.py decided about a field, for :func:`compile_put`."""

    place: str  # where it is in the rules file, for errors
    obj: str
    path: str
    top: str
    sub: str | None
    kind: str | None  # the Twenty type a whole-field value is shaped for (None: a sub-field)
    spec: dict  # the field's rule
    chain: list  # the transforms, coercion included
    select: Callable[[Any, Acc], Any] | None = None
    ref_stream: str | None = None
    when: Condition | None = None


def internal_put(catalog: Catalog, f: FieldSpec) -> Put:
    """A field never written to Twenty (owners, workflows, file locations): values pass as
    given, with no checks; only None is left out."""
    apply = _apply(_transforms(catalog, f.chain, f.place), f.spec.get("default"))
    read = _reader(f.spec)
    return _placed(f.top, f.sub, lambda r, _acc: apply(read(r)), f.when)


def source_id_put(name: str, key: KeyTemplate) -> Put:
    """The source key as text (the rules' ``source_id_field``)."""
    render = key.render
    return _placed(name, None, lambda r, _acc: render(r), None)


def compile_put(catalog: Catalog, f: FieldSpec) -> Put:
    """The field's closure (see the module docstring)."""
    spec = f.spec
    fns = _transforms(catalog, f.chain, f.place)
    default = spec.get("default")
    apply = _apply(fns, default)
    memoise = bool(fns) and not any(_stateful(t) for t in f.chain)
    col = spec.get("from", spec.get("owner"))
    read = None if col is not None else _reader(spec)
    required = spec.get("required", False)
    reject_invalid = spec.get("on_invalid") == "reject"
    source_cols = sorted(columns_of(spec))
    path, top, sub, when, select = f.path, f.top, f.sub, f.when, f.select
    required_reason = f"{f.obj}.{path} is required but {', '.join(source_cols) or path} is empty"
    ref_obj: str | None = spec.get("ref")
    ref_target = ref_obj or ""
    as_key: Callable[[Any], str | None] | None = None
    ref_id = catalog.ids.for_object(ref_target)
    if ref_obj is not None:
        if "key" in spec and "from" not in spec:
            as_key = _same
        else:
            ref_key = (
                catalog.stream_keys.get(f.ref_stream)
                if f.ref_stream
                else catalog.key_of_object(ref_obj)
            )
            as_key = ref_key.for_value if ref_key is not None else key_text
    shape = None if ref_obj is not None else _shape(f.kind)
    as_text = shape is _as_text  # the commonest shape, inline below
    identity = apply is _same  # no transforms, no default: the value is the raw value
    memo: dict[Any, Any] | None = {} if memoise else None
    lookups = 0  # memo lookups since it was last cleared
    keep_raw = _raw_keeper(catalog, f, source_cols)

    def put(r: dict, acc: Acc, values: dict) -> None:
        nonlocal memo, lookups
        if when is not None and not when(r):
            return
        raw: Any = r.get(col) if read is None else read(r)
        if raw is None and default is None:  # an empty column, the commonest case: no value
            if required:
                raise Rejected(required_reason)
            return
        try:
            kind = type(raw)
            if memo is not None and (
                kind is str or (kind is list and all(v is None or type(v) is str for v in raw))
            ):
                key = raw if kind is str else tuple(raw)
                lookups += 1
                value = memo.get(key, _MISS)
                if value is _MISS:
                    value = apply(raw)  # an InvalidValue is not remembered: it names the value
                    if len(memo) >= _MEMO_LIMIT:
                        # fewer than one hit per two lookups: not worth its memory
                        memo = {} if lookups >= 2 * _MEMO_LIMIT else None
                        lookups = 0
                    if memo is not None:
                        memo[key] = value
                if type(value) is dict:  # composites are filled in place: never share one
                    value = dict(value)
            else:
                value = raw if identity else apply(raw)
        except InvalidValue as exc:
            if reject_invalid:
                raise Rejected(f"{path}: {exc}") from exc
            keep_raw(r, acc, values, exc)
            if exc.partial is None:
                return
            value = exc.partial
        if value is None or (not value if type(value) is str else is_empty(value)):
            if required:
                raise Rejected(required_reason)
            return
        if as_key is not None:
            ref = as_key(value)
            if ref is None:
                return
            acc.refs[path] = ref
            value = ref_id(ref)
        elif select is not None:
            if isinstance(value, list):
                value = [v for v in (select(x, acc) for x in value) if v] or None
            else:
                value = select(value, acc)
            if value is None:
                return
        elif as_text:
            if type(value) is not str:
                value = str(value)
        elif shape is not None:
            value = shape(value)
            if value is None:
                return
        if sub is None and type(value) is not dict:
            values[top] = value  # _place's plain case, inline: this runs for most fields
        else:
            _place(values, top, sub, value)

    return put


def _raw_keeper(
    catalog: Catalog, f: FieldSpec, source_cols: list[str]
) -> Callable[[dict, Acc, dict, InvalidValue], None]:
    """What a value Twenty would refuse becomes: kept verbatim in the TEXT field
    ``<field>Raw`` beside it (declared in the object's SCHEMA the first time one is kept, so
    target-twenty provisions it like any custom field), and listed as a repair."""
    relation = ("ref" in f.spec or "owner" in f.spec) and f.top.endswith("Id")
    raw = raw_field_name(f.top[:-2] if relation and len(f.top) > 2 else f.top)
    schema = catalog.object_schema(f.obj, False)
    # the field's label as its SCHEMA declares it (compile.py declared it before this)
    declared = schema.properties.get(f.top, {}).get(KEYWORD, {}).get("label")
    label = raw_field_label(str(declared or label_case(f.top)))
    path = f.path

    def keep(r: dict, acc: Acc, values: dict, exc: InvalidValue) -> None:
        given = [r.get(c) for c in source_cols]
        kept = exc.value if exc.value is not None else _verbatim(given)
        if kept:
            before = values.get(raw)
            values[raw] = kept if not before or before == kept else f"{before}; {kept}"
            schema.add_field(raw, "TEXT", {"label": label})
        acc.repairs.append(
            FieldRepair(
                path,
                json.dumps(given[0] if len(given) == 1 else given, default=str),
                f"{exc}; kept verbatim in {raw}" if kept else f"{exc}; left empty",
            )
        )

    return keep


def _verbatim(given: list[Any]) -> str:
    """The source value(s) of a field as one text: a column's value as it came, several
    columns' non-empty values joined by ``; ``."""
    texts = [v if isinstance(v, str) else json.dumps(v, default=str) for v in given]
    return "; ".join(t for t in texts if t and t != "null")


def _stateful(item: Any) -> bool:
    """Whether a transform entry reads a lookup table (which fills as records pass)."""
    if transform_name(item) in _STATEFUL:
        return True
    return isinstance(item, dict) and bool(_STATEFUL_ARGS & set(next(iter(item.values())) or {}))


def _place(values: dict, top: str, sub: str | None, value: Any) -> None:
    """Put a field's value at ``top`` (or its sub-field ``sub``); a composite given whole
    is merged into what other fields already put there."""
    if sub is not None:
        values.setdefault(top, {})[sub] = value
        return
    if isinstance(value, dict):
        current = values.get(top)
        if isinstance(current, dict):
            current.update(value)
            return
    values[top] = value


def _same(value: Any) -> Any:
    return value


def _placed(
    top: str, sub: str | None, get: Callable[[dict, Acc], Any], when: Condition | None
) -> Put:
    """A simple field's put: ``get``'s value at its place, None written nowhere."""

    def put(r: dict, acc: Acc, values: dict) -> None:
        if when is not None and not when(r):
            return
        value = get(r, acc)
        if value is None:
            return
        _place(values, top, sub, value)

    return put


def _reader(spec: dict) -> Callable[[dict], Any]:
    """How a field reads its source row: one column, the first non-empty of several, all of
    several (a list), an owner's e-mail column, a constant, or a reference's key template."""
    if "from" in spec or "owner" in spec:
        col = spec.get("from", spec.get("owner"))
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
    if "const" in spec:
        const = spec["const"]
        return lambda r: const
    return KeyTemplate(spec["key"]).render  # a ref with a key template


def _transforms(catalog: Catalog, chain: list, place: str) -> list[transforms.Transform]:
    fns = []
    for item in chain:
        tname = transform_name(item)
        args = item[tname] if isinstance(item, dict) else None
        try:
            fns.append(transforms.build(tname, catalog.ctx, args))
        except TypeError as exc:
            raise RulesError(f"{place}: bad arguments for transform {tname}: {exc}") from exc
    return fns


def _apply(fns: list[transforms.Transform], default: Any) -> Callable[[Any], Any]:
    """The transforms in turn (an empty value stops them), then the default, itself
    transformed, when the result is empty."""
    if not fns:
        if default is None:
            return _same
        return lambda value: default if is_empty(value) else value
    if len(fns) == 1 and default is None:
        (fn,) = fns

        def apply_one(value: Any) -> Any:
            if type(value) is str:  # most source values: is_empty's first case, inline
                return fn(value) if value else value
            return value if is_empty(value) else fn(value)

        return apply_one

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

    return apply


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
        return _as_text
    return None


def _as_text(value: Any) -> str:
    return value if isinstance(value, str) else str(value)


def transform_name(item: Any) -> str:
    """A transform entry's name: ``trim`` or ``{lookup: {...}}``."""
    return item if isinstance(item, str) else next(iter(item))


def columns_of(spec: dict) -> set[str]:
    """The source columns a field rule reads."""
    cols: set[str] = set()
    for key in ("from", "owner"):
        if key in spec:
            cols.add(spec[key])
    for key in ("from_any", "from_all"):
        cols.update(spec.get(key) or [])
    if "key" in spec:
        cols.update(KeyTemplate(spec["key"]).columns)
    return cols
