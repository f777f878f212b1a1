"""The mapping sheet: the proposed rules as a table a person signs off, in CSV and HTML.

One row per field of every output (source column(s) → Twenty ``object.field``, the transforms,
three sample values before → after, the evidence and a confidence), one per column dropped on
purpose, and a **Needs a decision** list: weak or ambiguous inferences, new custom fields and
objects, values Twenty would refuse (from the sample), columns dropped on purpose.

"After" values are what the compiled rules make of the sample rows — the runtime's own plans
(runtime.py), not a re-implementation — so the sheet shows what a run will send.
"""

from __future__ import annotations

import csv
import json
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from crm2twenty_mapper.compile import OutputPlan, named_columns
from crm2twenty_mapper.decisions import ColumnDecision
from crm2twenty_mapper.fields import Acc, Rejected, columns_of, transform_name
from crm2twenty_mapper.ids import KeyTemplate
from crm2twenty_mapper.pages import PAGES
from crm2twenty_mapper.proposal import Proposer
from crm2twenty_mapper.rules import Rules
from crm2twenty_mapper.runtime import Runtime

SAMPLES = 3  # before → after pairs per field
CSV_HEADER = [
    "stream",
    "source column",
    "Twenty field",
    "transform",
    "when",
    "sample 1",
    "sample 2",
    "sample 3",
    "evidence",
    "confidence",
    "needs a decision",
]


@dataclass(frozen=True)
class SheetRow:
    stream: str
    column: str
    target: str
    transform: str
    when: str
    samples: tuple[str, ...]
    evidence: str
    confidence: str
    decision: str = ""


@dataclass(frozen=True)
class Decision:
    """One item of the Needs a decision list."""

    kind: str  # review | custom field | custom object | refused values | dropped
    where: str
    what: str


@dataclass
class Sheet:
    source: str
    rules_file: str
    rows: list[SheetRow] = field(default_factory=list)
    decisions: list[Decision] = field(default_factory=list)


def build(proposer: Proposer, rules: Rules, rules_file: str) -> Sheet:
    """The sheet of the proposal's rules (``rules``: the proposal's data, parsed)."""
    sheet = Sheet(rules.source, rules_file)
    runtime = Runtime(rules, "mapping-sheet")
    by_column: dict[tuple[str, str], ColumnDecision] = {}
    for d in proposer.decisions:
        for col in d.column.split(" + "):
            by_column.setdefault((d.stream, col), d)
        if d.review:
            sheet.decisions.append(Decision("review", f"{d.stream}.{d.column}", d.review))
    for name in rules.objects:
        sheet.decisions.append(
            Decision("custom object", name, f"a new custom object {name} will be created")
        )
    for stream, sample in proposer.samples.items():
        if proposer.skipped(stream) or stream not in rules.streams:
            continue
        for _ in runtime.on_schema(
            stream, {"properties": sample.properties}, sample.key_properties
        ):
            pass
        plan = runtime.plans[stream]
        specs = rules.streams[stream]
        rows = sample.rows
        for output, spec in zip(plan.outputs, specs, strict=True):
            built = [_build(output, row) for row in rows]
            _output_rows(sheet, stream, output, spec, built, by_column)
        _dropped(sheet, proposer, stream, specs)
    return sheet


def _build(output: OutputPlan, row: dict) -> tuple[dict, dict | None, Acc, str | None]:
    if output.when is not None and not output.when(row):
        return row, None, Acc(), None
    acc = Acc()
    try:
        return row, output.build(row, acc), acc, None
    except Rejected as exc:
        return row, None, acc, str(exc)


def _output_rows(
    sheet: Sheet,
    stream: str,
    output: OutputPlan,
    spec: dict,
    built: list[tuple[dict, dict | None, Acc, str | None]],
    by_column: dict[tuple[str, str], ColumnDecision],
) -> None:
    when = _when_text(spec.get("when"))
    key = KeyTemplate(spec.get("key", "id"))
    if output.primary:
        sheet.rows.append(
            SheetRow(
                stream,
                ", ".join(key.columns),
                f"{output.obj}.id",
                f"deterministic id of {key.template}",
                when,
                tuple(str(r.get(key.columns[0])) for r, *_ in built[:SAMPLES]),
                "the stream's key",
                "high",
            )
        )
    for path, fspec in (spec.get("fields") or {}).items():
        fspec = {"from": fspec} if isinstance(fspec, str) else fspec
        cols = _columns(fspec)
        decision = next((by_column[(stream, c)] for c in cols if (stream, c) in by_column), None)
        samples: list[str] = []
        refused: Counter[str] = Counter()
        example = ""
        for row, values, acc, rejected in built:
            before = [row.get(c) for c in cols]
            if all(v is None or v == "" for v in before):
                continue
            for repair in acc.repairs:
                if repair.field == path:
                    refused[repair.reason] += 1
                    example = example or repair.value
            if len(samples) < SAMPLES and (values is not None or rejected):
                after = _after(path, values, acc, rejected)
                samples.append(f"{_show(before)} → {after}")
        target = f"{output.obj}.{path}"
        if refused:
            n = sum(refused.values())
            why = refused.most_common(1)[0][0]
            sheet.decisions.append(
                Decision(
                    "refused values",
                    f"{stream}.{', '.join(cols)} → {target}",
                    f"{n} of {len(built)} sample rows: {why} (e.g. {example}); listed in "
                    "repairs.csv",
                )
            )
        if decision is not None and "new custom field" in decision.outcome:
            sheet.decisions.append(
                Decision("custom field", target, f"new custom field from {', '.join(cols)}")
            )
        sheet.rows.append(
            SheetRow(
                stream,
                ", ".join(cols) or "(constant)",
                target,
                _transform_text(fspec),
                " and ".join(w for w in (when, _when_text(fspec.get("when"))) if w),
                tuple(samples),
                decision.evidence if decision else "named in the built-in rules",
                str(decision.confidence) if decision else "high",
                decision.review or "" if decision else "",
            )
        )


def _dropped(sheet: Sheet, proposer: Proposer, stream: str, specs: list[dict]) -> None:
    """Columns no output reads: listed as dropped, with the reason."""
    primary = next(o for i, o in enumerate(specs) if o.get("primary", i == 0))
    named = named_columns(specs)
    for col in proposer.samples[stream].properties:
        if col in named or col.startswith("_sdc_"):
            continue
        if col in (primary.get("ignore") or []):
            why = "listed under ignore"
        elif not primary.get("keep_unmapped", not primary["object"].startswith("_")):
            why = "the output keeps only the columns it names (keep_unmapped: false)"
        else:
            why = "matches ignore_columns"
        sheet.rows.append(SheetRow(stream, col, "(dropped)", "", "", (), why, "high", ""))
        sheet.decisions.append(Decision("dropped", f"{stream}.{col}", why))


def _columns(spec: dict) -> list[str]:
    """The columns a field reads, in the order its rule gives them (the order of its values)."""
    listed = [spec[k] for k in ("from", "owner") if k in spec]
    listed += [c for k in ("from_any", "from_all") for c in spec.get(k) or []]
    return list(dict.fromkeys(listed + sorted(columns_of(spec) - set(listed))))


def _after(path: str, values: dict | None, acc: Acc, rejected: str | None) -> str:
    if rejected:
        return f"(row rejected: {rejected})"
    assert values is not None
    for repair in acc.repairs:
        if repair.field == path:
            return f"(refused: {repair.reason})"
    if path in acc.refs:
        return f"id of {acc.refs[path]}"
    top, _, sub = path.partition(".")
    value = values.get(top)
    if sub and isinstance(value, dict):
        value = value.get(sub)
    return _show(value)


def _show(value: Any) -> str:
    if isinstance(value, list) and len(value) == 1:
        value = value[0]
    if isinstance(value, dict):
        value = {k: v for k, v in value.items() if v not in (None, "", [])}
    if value is None or value == "" or value == {}:
        return "(empty)"
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
    return text if len(text) <= 90 else text[:87] + "…"


def _transform_text(spec: dict) -> str:
    parts = [transform_name(t) for t in spec.get("transforms") or []]
    if "ref" in spec:
        parts.append(f"relation → {spec['ref']}")
    if "owner" in spec:
        parts.append("owner by e-mail")
    if "options" in spec:
        parts.append(f"pick-list ({len(spec['options'])} values mapped)")
    if "const" in spec:
        parts.append(f"constant {spec['const']!r}")
    if "default" in spec:
        parts.append(f"default {spec['default']!r}")
    return ", ".join(parts)


def _when_text(when: Any) -> str:
    if not when:
        return ""
    if isinstance(when, str):
        return f"{when} is set"
    if isinstance(when, list):
        return " and ".join(_when_text(w) for w in when)
    return " and ".join(
        f"{k} is {', '.join(map(str, v)) if isinstance(v, list) else v}"
        for k, v in when.items()
        if k not in ("key", "in", "missing")
    )


# ---- writing --------------------------------------------------------------------------------


def write_csv(sheet: Sheet, path: Path) -> None:
    with path.open("w", encoding="utf-8", newline="") as handle:
        out = csv.writer(handle)
        out.writerow(CSV_HEADER)
        for r in sheet.rows:
            samples = list(r.samples) + [""] * (SAMPLES - len(r.samples))
            out.writerow(
                [
                    r.stream,
                    r.column,
                    r.target,
                    r.transform,
                    r.when,
                    *samples,
                    r.evidence,
                    r.confidence,
                    r.decision,
                ]
            )


def write_html(sheet: Sheet, path: Path) -> None:
    html = PAGES.get_template("mapping-sheet.html.j2").render(s=sheet)
    path.write_text(html, encoding="utf-8")
