"""The proposed rules: a source's built-in rules plus exactly what its data needs.

:class:`Proposer` takes the rules file's data and the evidence of :mod:`sampling` and writes, for
every column the rules do not name, an explicit rule, with a :class:`ColumnDecision` saying why:

- a polymorphic parent (``parent_type``/``parent_id``) → one ``noteTarget``/``taskTarget`` per
  object it names (an attachment's ``target<Object>Id``; on another object a relation per target).
  A custom object's target field is ``target<Object>Id``, which Twenty gives noteTarget, taskTarget
  and attachment when the object is created (docs/twenty-contract.md §3.4);
- a reference (``client_company_id`` whose values are companies' keys) → a relation;
- else a custom field typed by its values (patterns.py) or, as before, by its JSON schema
  (infer.py).

A relation needs :data:`references.STRONG` of the sample's values to resolve; weaker evidence
keeps the column as it was and is listed for review with its figure, never silently. Streams the
rules do not name get their rules from infer.py first (custom objects, junctions), then the same
treatment. The result is ordinary rules data: the proposal writes it as YAML, and a run without a
confirmed rules file (deferred.py) compiles the same data, so the file reproduces the run.
"""

from __future__ import annotations

import copy
import enum
import fnmatch
from typing import Any

from crm2twenty_common.twenty import SUBFIELD_TYPE, camel_case, label_case, plural, singular

from crm2twenty_mapper import infer, patterns, references, standard_match
from crm2twenty_mapper import rules as rules_mod
from crm2twenty_mapper.catalog import Catalog
from crm2twenty_mapper.compile import named_columns
from crm2twenty_mapper.decisions import ColumnDecision, Confidence, pct
from crm2twenty_mapper.ids import KeyTemplate
from crm2twenty_mapper.intent import ObjectSchema
from crm2twenty_mapper.references import STRONG, WEAK, PolymorphicPair
from crm2twenty_mapper.sampling import StreamSample

# Objects whose parent is a separate junction record, and the junction's own reference field.
_TARGETS = {"note": ("noteTarget", "noteId"), "task": ("taskTarget", "taskId")}


class Proposer:
    """Decides the rules of each stream from its sample; :attr:`data` grows as streams are
    decided, and is a valid rules file at any time."""

    def __init__(
        self,
        data: dict[str, Any],
        where: str,
        samples: dict[str, StreamSample],
        options: dict[str, Any] | None = None,
    ) -> None:
        self.data = copy.deepcopy(data)
        self.where = where
        self.options = {**(self.data.get("options") or {}), **(options or {})}
        self.samples = samples
        self.rules = rules_mod.parse(self.data, where, options)
        self.catalog = Catalog(self.rules, "proposal")
        self.decisions: list[ColumnDecision] = []
        self.decided: set[str] = set()

    # ---- which streams are data -------------------------------------------------------------

    def skipped(self, stream: str) -> bool:
        """Streams inference leaves alone: side streams, streams the rules leave out, and streams
        that declare no columns (their rows are rejected at run time)."""
        if stream.startswith("_") or stream in self.rules.ignore_streams:
            return True
        sample = self.samples.get(stream)
        if sample is not None and all(c.startswith("_sdc_") for c in sample.properties):
            return True
        return stream not in self.rules.streams and self.rules.unmapped_streams != "custom_object"

    def register(self, stream: str) -> None:
        """Give a stream the rules do not name its rules (infer.py: custom object or junction),
        so that references to it can be decided."""
        if self.skipped(stream) or stream in self.rules.streams:
            return
        sample = self.samples[stream]
        specs = infer.stream_rules(self.catalog, stream, sample.properties, sample.key_properties)
        self.rules.streams[stream] = specs
        self.data.setdefault("streams", {})[stream] = copy.deepcopy(specs)
        obj = specs[0]["object"]
        if obj in self.rules.objects:
            self.data.setdefault("objects", {})[obj] = dict(self.rules.objects[obj])

    def _parents(self) -> dict[str, str]:
        """Streams a reference may point at → their object (Twenty objects only)."""
        out = {}
        for stream in self.samples:
            if self.skipped(stream) or stream not in self.rules.streams:
                continue
            obj = self.catalog.object_of(stream)
            if not obj.startswith("_"):
                out[stream] = obj
        return out

    # ---- one stream -------------------------------------------------------------------------

    def _primary(self, stream: str) -> tuple[list[dict], dict]:
        """The stream's outputs under the chosen options, and its primary output (raw data)."""
        applicable = [o for o in self.data["streams"][stream] if self._applies(o)]
        return applicable, next(o for i, o in enumerate(applicable) if o.get("primary", i == 0))

    def unnamed(self, stream: str) -> list[str]:
        """The columns of ``stream`` its rules do not name and would keep as custom fields."""
        if self.skipped(stream):
            return []
        self.register(stream)
        applicable, primary = self._primary(stream)
        if primary["object"].startswith("_") or not primary.get("keep_unmapped", True):
            return []
        named = named_columns(applicable)
        ignore = set(primary.get("ignore") or [])
        patterns_ = self.rules.ignore_columns
        return [
            c
            for c in self.samples[stream].properties
            if c not in named
            and c not in ignore
            and not c.startswith("_sdc_")
            and not any(fnmatch.fnmatchcase(c, p) for p in patterns_)
        ]

    def needs_keys(self, stream: str) -> bool:
        """Whether deciding ``stream`` needs other streams' keys (it has a column that may be a
        reference): a run must then wait for every stream before it decides."""
        return any(references.may_refer(c) for c in self.unnamed(stream))

    def decide(self, stream: str) -> None:
        """Write explicit rules for every column of ``stream`` its rules do not name."""
        if stream in self.decided or self.skipped(stream):
            return
        self.decided.add(stream)
        for name in self.samples:
            self.register(name)
        unnamed = self.unnamed(stream)
        if not unnamed:
            return
        sample = self.samples[stream]
        raw_outputs = self.data["streams"][stream]
        _, primary = self._primary(stream)
        fields = primary.setdefault("fields", {})
        parents = self._parents()
        parent_samples = {s: self.samples[s] for s in parents}
        pairs = references.polymorphic_pairs(sample, unnamed, parent_samples, parents)
        extra: list[dict] = []
        in_pairs: set[str] = set()
        for pair in pairs:
            extra.extend(self._polymorphic(stream, primary, fields, pair, parents))
            in_pairs |= {pair.type_column, pair.id_column}
        raw_outputs.extend(extra)
        for col in unnamed:
            # a pair's own columns stay as they are (kept as text, for the record): its ids
            # are keys of several streams by design
            if col in in_pairs:
                self._kept(stream, sample, primary, fields, col)
            else:
                self._column(stream, sample, primary, fields, col, parents, parent_samples)

    def _kept(
        self, stream: str, sample: StreamSample, primary: dict, fields: dict, col: str
    ) -> None:
        """A polymorphic pair's own column: kept as text as the source wrote it, so a row whose
        type names no stream keeps its parent too (the targets carry the links)."""
        obj = primary["object"]
        guess = infer.column_rule(
            self.catalog, obj, self._taken(obj, fields), col, sample.properties[col]
        )
        fields[guess.path] = guess.spec
        self.decisions.append(
            ColumnDecision(
                stream,
                col,
                f"{obj}.{guess.path} (new custom field, {guess.spec.get('type', 'TEXT')})",
                "half of a polymorphic parent: kept as written, for the record",
                Confidence.HIGH,
            )
        )

    def _applies(self, output: dict) -> bool:
        wanted = output.get("if_option") or {}
        return all(str(self.options.get(k)) == str(v) for k, v in wanted.items())

    def _taken(self, obj: str, fields: dict) -> ObjectSchema:
        """The object's fields so far, so a new field's name does not collide."""
        schema = ObjectSchema(obj, {})
        for path in fields:
            schema.add_field(path.partition(".")[0], "TEXT", {})
        sid = self.rules.source_id_field
        if sid:
            schema.add_field(sid["name"], "TEXT", {})
        return schema

    def _polymorphic(
        self,
        stream: str,
        primary: dict,
        fields: dict,
        pair: PolymorphicPair,
        parents: dict[str, str],
    ) -> list[dict]:
        """The outputs (or fields) a type/id pair becomes, and its decision."""
        figures = ", ".join(
            f"{t.stream} {t.resolved}/{t.rows}" for t in sorted(pair.targets.values(), key=_by_rows)
        )
        unnamed = ", ".join(f"{v!r} ×{n}" for v, n in pair.unnamed.most_common(5))
        evidence = (
            f"{pair.named} of {pair.rows} sample rows' {pair.type_column} name a stream "
            f"({pct(pair.named_share)}); their {pair.id_column} resolve: {figures} "
            f"({pct(pair.resolved_share)})" + (f"; naming nothing: {unnamed}" if unnamed else "")
        )
        column = f"{pair.type_column} + {pair.id_column}"
        if not pair.strong:
            self.decisions.append(
                ColumnDecision(
                    stream,
                    column,
                    "kept as text fields",
                    evidence,
                    Confidence.LOW,
                    f"a polymorphic parent? below {pct(STRONG)}: map it by hand if it is one",
                    min(pair.named_share, pair.resolved_share),
                )
            )
            return []
        obj = primary["object"]
        key = KeyTemplate(primary.get("key", "id"))
        outputs: list[dict] = []
        targets = sorted(pair.targets.values(), key=_by_rows)
        for target in targets:
            tobj = parents[target.stream]
            when = {pair.type_column: _spellings(target.values, target.stream, tobj)}
            ref = {"ref": tobj, "from": pair.id_column}
            cap = tobj[:1].upper() + tobj[1:]
            if obj in _TARGETS:
                junction, own = _TARGETS[obj]
                own_ref: dict[str, Any] = (
                    {"ref": obj, "from": key.columns[0]}
                    if key.template == f"{{{key.columns[0]}}}"
                    else {"ref": obj, "key": key.template}
                )
                out: dict[str, Any] = {
                    "object": junction,
                    "key": f"{key.template}:{pair.stem}:{tobj}",
                    "when": when,
                    "fields": {
                        own: {**own_ref, "required": True},
                        f"target{cap}Id": {**ref, "required": True},
                    },
                }
                if "if_option" in primary:
                    out["if_option"] = dict(primary["if_option"])
                outputs.append(out)
                placed = f"{junction}.target{cap}Id"
            elif obj == "attachment":
                fields[f"target{cap}Id"] = {**ref, "when": when}
                placed = f"{obj}.target{cap}Id"
            else:
                path = f"{camel_case(pair.stem)}{cap}Id"
                fields[path] = {
                    **ref,
                    "when": when,
                    "label": f"{label_case(pair.stem)} {label_case(tobj)}",
                    "inverse_label": f"{label_case(plural(obj))} as {label_case(pair.stem)}",
                }
                placed = f"{obj}.{path}"
            self.decisions.append(
                ColumnDecision(
                    stream,
                    column,
                    f"{placed} when {pair.type_column} is {', '.join(target.values)}",
                    evidence,
                    Confidence.HIGH,
                    None
                    if target.share >= STRONG
                    else f"only {pct(target.share)} of the {target.rows} rows naming "
                    f"{target.stream} resolve: the others will be rejected as dangling",
                    target.share,
                )
            )
        if pair.unnamed:
            self.decisions.append(
                ColumnDecision(
                    stream,
                    pair.type_column,
                    "no target for these rows (kept in the text fields)",
                    evidence,
                    Confidence.MEDIUM,
                    f"type values naming no stream: {unnamed}",
                    pair.named_share,
                )
            )
        return outputs

    def _column(
        self,
        stream: str,
        sample: StreamSample,
        primary: dict,
        fields: dict,
        col: str,
        parents: dict[str, str],
        parent_samples: dict[str, StreamSample],
    ) -> None:
        obj = primary["object"]
        col_schema = sample.properties[col]
        values = sample.values(col)
        candidates = None
        if references.is_candidate(col) and values and parent_samples:
            candidates = references.best_target(col, values, parent_samples, parents)
        found = candidates.best if candidates else None
        strong = found is not None and found.share >= STRONG
        if candidates is not None and found is not None and strong and not candidates.ambiguous:
            tobj = parents[found.stream]
            path, spec = self._relation(obj, fields, col, found.stream, tobj)
            fields[path] = spec
            self.decisions.append(
                ColumnDecision(
                    stream,
                    col,
                    f"{obj}.{path} → {tobj}",
                    f"{found.resolved} of {found.total} sample values are keys of "
                    f"{found.stream} ({pct(found.share)})",
                    Confidence.HIGH,
                    None,
                    found.share,
                )
            )
            return
        figure = (
            f"{found.resolved} of {found.total} sample values are keys of {found.stream} "
            f"({pct(found.share)})"
            if found
            else f"none of {len(values)} sample values is a key of another stream"
        )
        near = self._standard(stream, sample, obj, fields, col)
        if near is True:
            return
        guess = infer.column_rule(self.catalog, obj, self._taken(obj, fields), col, col_schema)
        if guess.ref_stream is not None:
            # named like a reference (``<stream>_id``, or the tap says so): kept as one, and
            # listed when the data does not bear it out
            fields[guess.path] = guess.spec
            weak = found is None or found.stream != guess.ref_stream or not strong
            self.decisions.append(
                ColumnDecision(
                    stream,
                    col,
                    f"{obj}.{guess.path} → {guess.spec['ref']}",
                    f"named for {guess.ref_stream}; {figure}",
                    Confidence.MEDIUM if weak else Confidence.HIGH,
                    "a relation by its name only: values that are no key will be reported "
                    "as dangling"
                    if weak and values
                    else None,
                    found.share if found else 0.0,
                )
            )
            return
        path, spec, evidence, confidence = patterns.field_rule(
            guess.path, guess.spec, col, col_schema, sample
        )
        fields[path] = spec
        sub = path.partition(".")[2]
        kind = SUBFIELD_TYPE[sub] if sub else spec.get("type", "TEXT")
        review = None
        if isinstance(near, standard_match.Match):
            review = (
                f"is it Twenty's {obj}.{near.field} ({near.label})? name similarity {near.score}:"
                f" kept as a new {kind} field"
            )
            confidence = Confidence.MEDIUM
        if candidates is not None and found is not None and strong:
            review = (
                f"which relation? its values are keys of {found.stream} and of "
                f"{', '.join(candidates.rivals)}, and its name says neither: kept as {kind}"
            )
            confidence = Confidence.LOW
        elif found is not None and found.share >= WEAK:
            review = (
                f"a relation to {found.stream}? only {pct(found.share)} of its values are keys "
                f"there (a relation needs {pct(STRONG)}): kept as {kind}"
            )
            confidence = Confidence.LOW
        self.decisions.append(
            ColumnDecision(
                stream,
                col,
                f"{obj}.{path} (new custom field, {kind})",
                f"{evidence}; {figure}" if found else evidence,
                confidence,
                review,
                found.share if found else None,
            )
        )

    def _standard(
        self, stream: str, sample: StreamSample, obj: str, fields: dict, col: str
    ) -> bool | standard_match.Match | None:
        """Fill a standard field the column is named like (True); or the near match a reviewer
        should look at; or None."""
        taken = {p.partition(".")[0] for p in fields}
        match = standard_match.best(obj, col, taken)
        if match is None:
            return None
        placed = standard_match.rule(match, col, sample.properties)
        if match.score < standard_match.MATCH or placed is None:
            return match
        path, spec = placed
        fields[path] = spec
        self.decisions.append(
            ColumnDecision(
                stream,
                col,
                f"{obj}.{path} (Twenty's {match.label})",
                f"name similar to the standard field {match.field} ({match.label}): "
                f"{match.score} of 100",
                Confidence.HIGH if match.score >= 95 else Confidence.MEDIUM,
            )
        )
        return True

    def _relation(
        self, obj: str, fields: dict, col: str, target_stream: str, tobj: str
    ) -> tuple[str, dict]:
        stem = references.stem_of(col) or tobj
        path = f"{camel_case(stem)}Id"
        if path in {p.partition(".")[0] for p in fields}:
            path = f"{camel_case(f'{self.rules.source} {stem}')}Id"
        target_key = self.samples[target_stream].key
        spec: dict[str, Any] = {"ref": tobj}
        if target_key is None or target_key.template == f"{{{target_key.columns[0]}}}":
            spec["from"] = col
        else:  # the target's key is a template ("lead-{lead_id}"): build it from this column
            spec["key"] = target_key.template.replace(f"{{{target_key.columns[0]}}}", f"{{{col}}}")
        inverse = label_case(plural(obj))
        if singular(stem) not in (tobj, singular(target_stream)):
            inverse = f"{inverse} as {label_case(stem)}"
        spec |= {"label": label_case(stem), "inverse_label": inverse}
        return path, spec


def _by_rows(target: references.TypeTarget) -> tuple[int, str]:
    return (-target.rows, target.stream)


def _spellings(seen: list[str], stream: str, obj: str) -> list[str]:
    """The type values that name ``stream``: those seen, and its own names (a value first
    seen after the sample, ``companies`` or ``Company``, matches too; ``when`` ignores case)."""
    out: list[str] = []
    for value in [*seen, stream, singular(stream), obj]:
        if value.lower() not in (o.lower() for o in out):
            out.append(value)
    return out


def plain(value: Any) -> Any:
    """Rules data with plain types only (enums as their strings), as YAML writes it."""
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [plain(v) for v in value]
    if isinstance(value, enum.Enum):
        return value.value
    return value
