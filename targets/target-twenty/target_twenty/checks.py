"""Checks that need every record: duplicates, SELECT options, references, cycles.

This is where the target rejects a record (besides a value Twenty's type refuses, found as it
arrives in intake.py, a record already in the workspace under ``on_duplicate: reject``, found
by api/preflight.py, and a row Twenty itself refuses, found by api/loader.py). Each problem
ends as a reject with a reason or as a documented repair, through the spool's ``reject`` and
``repair``; nothing is dropped without a line in ``rejects.csv`` or ``repairs.csv``. Order
matters: duplicates first (a merged record's references move to its survivor), then options,
then references (a reference to a rejected record is dangling), then cycles.

Entry point: ``run_checks(spool, plans, policies, …) -> CheckOutcome``.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import Enum
from typing import Any

from crm2twenty_common.twenty import PROVENANCE_PROPERTY, REJECTS

from target_twenty.outcome import Decision, Merge, RecordCycle
from target_twenty.plan import ObjectPlan
from target_twenty.spool import Row, Spool, Status


class OnProblem(Enum):
    """What to do with a dangling reference or an invalid value."""

    NULL = "null"
    REJECT = "reject"


@dataclass(frozen=True)
class Policies:
    on_duplicate: Decision = Decision.LINK  # what to do with a record sharing a unique value
    on_dangling_reference: OnProblem = OnProblem.NULL
    on_invalid_value: OnProblem = OnProblem.NULL

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> Policies:
        return cls(
            Decision(config.get("on_duplicate", "link")),
            OnProblem(config.get("on_dangling_reference", "null")),
            OnProblem(config.get("on_invalid_value", "null")),
        )


@dataclass
class CheckOutcome:
    """What the checks decided, for the report."""

    merges: list[Merge] = field(default_factory=list)
    cycles: list[RecordCycle] = field(default_factory=list)
    dangling: int = 0


# API mode: finds referenced ids in the workspace (records loaded some other way), adds them to
# the spool's records found in the workspace and says whether it found any.
Lookup = Callable[[set[tuple[str, str]]], bool]


def run_checks(
    spool: Spool,
    plans: dict[str, ObjectPlan],
    policies: Policies,
    lookup: Lookup | None = None,
    between: Callable[[], None] | None = None,
) -> CheckOutcome:
    """All checks; ``between()`` runs after duplicates inside the input are resolved and
    before references are (API mode's pre-flight against the workspace)."""
    run = _Run(spool, plans, policies, lookup)
    with spool.transaction():
        _same_id_twice(run)
        _unique_clashes(run)
        if between is not None:
            between()
        _select_options(run)
        _references(run)
        _self_reference_cycles(run)
        _apply_changes(run)
    return run.outcome


@dataclass
class _Run:
    spool: Spool
    plans: dict[str, ObjectPlan]
    policies: Policies
    lookup: Lookup | None
    outcome: CheckOutcome = field(default_factory=CheckOutcome)
    # seq -> prop -> new value (None: removed); written to the spool at the end
    changes: dict[int, dict[str, Any]] = field(default_factory=lambda: defaultdict(dict))

    _upstream: dict[tuple[str | None, str], list[str]] | None = None

    def upstream_reject(self, obj: str, source_key: str) -> str | None:
        """How the tap or the mapper rejected the source record ``source_key`` of ``obj``
        (``mapper (contacts P00451, contacts.csv:704: no name)``), if one of them did: a
        reference to it is then not to a record absent from the export. A tap's reject names
        no object: it is matched by its key alone when no other tap reject has that key."""
        if self._upstream is None:
            self._upstream = defaultdict(list)
            for rec in self.spool.side(REJECTS):
                key = rec.get("source_key")
                if key is None:
                    continue
                where = ", ".join(
                    x
                    for x in (
                        f"{rec.get('source_stream') or ''} {key}".strip(),
                        rec.get("location"),
                    )
                    if x
                )
                text = f"{rec.get('stage') or 'tap'} ({where}: {rec.get('reason')})"
                self._upstream[(rec.get("object"), str(key))].append(text)
        named = self._upstream.get((obj, source_key))
        if named:
            return named[0]
        by_key = self._upstream.get((None, source_key)) or []
        return by_key[0] if len(by_key) == 1 else None

    def row(self, seq: int) -> Row:
        row = self.spool.record(seq)
        assert row is not None, seq
        return row

    def repair(self, seq: int, prop: str, value: Any, reason: str) -> None:
        self.changes[seq][prop] = None
        self.spool.repair(seq, prop, value, reason)

    def merge(
        self, survivor_seq: int, dup_seq: int, survivor_id: str, how: Decision, clash: str
    ) -> None:
        dup = self.row(dup_seq)
        survivor = self.row(survivor_seq) if survivor_seq else None
        self.spool.mark(dup_seq, Status.MERGED, reason=clash, survivor=survivor_id)
        if how is Decision.MERGE and survivor is not None:
            self._fill_blanks(survivor_seq, survivor.data, dup_seq, dup.data)
        self.outcome.merges.append(
            Merge(
                dup.object,
                dup.id,
                dup.describe(),
                survivor_id,
                survivor.describe() if survivor else "(loaded by an earlier run)",
                clash,
            )
        )

    def _fill_blanks(self, survivor_seq: int, kept: dict, dup_seq: int, extra: dict) -> None:
        for prop, value in extra.items():
            if value in (None, "", [], {}) or kept.get(prop) not in (None, "", [], {}):
                continue
            self.changes[survivor_seq][prop] = value
            # the survivor inherits the filled relation, so its reference checks see it
            self.spool.move_relation(dup_seq, survivor_seq, prop)


# ---- passes -----------------------------------------------------------------------------


def _same_id_twice(run: _Run) -> None:
    """Two records with one id: the same source row twice (both primary, one stream) is a
    duplicate source key; otherwise several rows describe one record (two Sage leads naming
    the same new company, a partial record from a link table) and are merged into the first."""
    for obj, rid, seqs in run.spool.same_ids():
        first, *rest = seqs
        head = run.row(first)
        for seq in rest:
            row = run.row(seq)
            if (
                row.source.stream == head.source.stream
                and row.source.primary
                and head.source.primary
            ):
                run.spool.reject(
                    seq,
                    f"duplicate source key {row.source.key!r} in {row.source.stream}"
                    f" (first at {head.source.location or 'an earlier row'})",
                )
            else:
                run.merge(first, seq, rid, Decision.MERGE, f"same {obj} as {head.describe()}")


def _unique_clashes(run: _Run) -> None:
    """Unique values (person e-mail, company domain, unique custom fields) shared by several
    records of the input, or by a record an earlier run loaded."""
    policy = run.policies.on_duplicate
    for clash in run.spool.unique_clashes():
        rows = {seq: run.row(seq) for seq in clash.seqs}
        if clash.known_id:
            in_run = next((seq for seq in clash.seqs if rows[seq].id == clash.known_id), 0)
            survivor_seq, survivor_id = in_run, clash.known_id
        else:
            survivor_seq, survivor_id = clash.seqs[0], rows[clash.seqs[0]].id
        for seq in (seq for seq in clash.seqs if rows[seq].id != survivor_id):
            if run.spool.status(seq) is not Status.PENDING:
                continue
            what = f"{clash.field} {clash.ukey!r}"
            if policy is Decision.REJECT:
                where = (
                    run.row(survivor_seq).describe()
                    if survivor_seq
                    else "a record loaded by an earlier run"
                )
                run.spool.reject(seq, f"duplicate {clash.object} {what} (already used by {where})")
            else:
                run.merge(survivor_seq, seq, survivor_id, policy, f"same {what}")


def _select_options(run: _Run) -> None:
    """Values that are not options of their SELECT field (Twenty refuses the batch)."""
    for plan in run.plans.values():
        for fp in plan.fields.values():
            if fp.kind not in ("SELECT", "MULTI_SELECT"):
                continue
            allowed = fp.allowed_options
            for seq, raw in run.spool.outside_options(plan.name, fp.prop, allowed):
                values = (
                    json.loads(raw) if fp.kind == "MULTI_SELECT" and raw.startswith("[") else [raw]
                )
                bad = [v for v in values if v not in allowed]
                if not bad:
                    continue
                reason = (
                    f"{fp.name}: {', '.join(map(repr, bad))} is not an option "
                    f"(options: {', '.join(sorted(allowed))})"
                )
                if run.policies.on_invalid_value is OnProblem.REJECT:
                    run.spool.reject(seq, reason)
                else:
                    run.repair(seq, fp.prop, raw, reason + "; left empty")


def _references(run: _Run) -> None:
    """Merged targets → their survivor; missing or rejected targets → dangling."""
    spool = run.spool
    for seq, prop, survivor in spool.references_to_merged():
        run.changes[seq][prop] = survivor
        spool.retarget(seq, prop, survivor)
    required = {
        (p.name, f.prop)
        for p in run.plans.values()
        for f in p.fields.values()
        if f.intent.get("required")
    }
    rejected: list[int] | None = None  # after a pass that rejected records: those
    while True:
        dangling = spool.dangling(rejected)
        if (
            dangling
            and run.lookup is not None
            and run.lookup({(d.target_object, d.target_id) for d in dangling})
        ):
            continue  # some were found in the workspace: look again
        dangling = [
            d for d in dangling if run.changes.get(d.seq, {}).get(d.prop, d.target_id) is not None
        ]
        if not dangling:
            return
        to_reject: dict[int, list[str]] = defaultdict(list)
        for d in dangling:
            source_key = _source_ref(d.source_data, d.prop)
            what = (
                f"{d.target_object} {source_key!r}"
                if source_key
                else f"{d.target_object} {d.target_id}"
            )
            upstream = (
                run.upstream_reject(d.target_object, source_key)
                if source_key and not d.target_reason
                else None
            )
            why = (
                f"which was rejected ({d.target_reason})"
                if d.target_reason
                else f"which was rejected by the {upstream}"
                if upstream
                else "which is not in this migration"
            )
            reason = f"{d.prop} points at {what}, {why}"
            run.outcome.dangling += 1
            if (
                run.policies.on_dangling_reference is OnProblem.REJECT
                or (d.object, d.prop) in required
            ):
                to_reject[d.seq].append(reason)
            else:
                run.repair(d.seq, d.prop, d.target_id, reason + "; left empty")
        for seq, reasons in to_reject.items():
            spool.reject(seq, "; ".join(reasons))
        if not to_reject:
            return
        rejected = list(to_reject)  # only relations to them can be dangling now


def _self_reference_cycles(run: _Run) -> None:
    """A record that is its own ancestor (A → B → C → A through parent company): the link
    from the last record of the cycle (by input order) is dropped and reported."""
    for plan in run.plans.values():
        for fp in plan.relations():
            if fp.target != plan.name:
                continue
            edges: dict[str, tuple[str, int]] = {}
            for seq, rid, tid in run.spool.relation_edges(plan.name, fp.prop):
                target = run.changes.get(seq, {}).get(fp.prop, tid)
                if target is not None:
                    edges[rid] = (target, seq)
            for cycle in _cycles(edges):
                seqs = [edges[node][1] for node in cycle]
                last = max(seqs)
                names = [run.row(s).describe() for s in seqs]
                reason = (
                    f"{fp.name} cycle {' → '.join(names + names[:1])}: the link from "
                    f"{run.row(last).describe()} was dropped"
                )
                run.repair(last, fp.prop, edges[cycle[seqs.index(last)]][0], reason)
                run.outcome.cycles.append(
                    RecordCycle(plan.name, fp.name, names, names[seqs.index(last)])
                )


def _apply_changes(run: _Run) -> None:
    """Write the decided relation rewrites, removals and merged-in values into the spool."""
    spool = run.spool
    for seq, props in run.changes.items():
        record = run.row(seq).data
        for prop, value in props.items():
            if value is None:
                record.pop(prop, None)
            else:
                record[prop] = value
        spool.set_data(seq, record)
        for prop, value in props.items():
            if value is None:
                spool.drop_relation(seq, prop)
            elif isinstance(value, str):  # a relation id (other merged-in values are data)
                spool.retarget(seq, prop, value)


def _source_ref(data: str, prop: str) -> str | None:
    refs = (json.loads(data).get(PROVENANCE_PROPERTY) or {}).get("refs") or {}
    return refs.get(prop)


def _cycles(edges: dict[str, tuple[str, int]]) -> list[list[str]]:
    """Each cycle of a functional graph (every node has at most one parent), once."""
    state: dict[str, int] = {}
    found: list[list[str]] = []
    for start in edges:
        if start in state:
            continue
        path: list[str] = []
        index: dict[str, int] = {}
        node = start
        while node in edges and node not in state:
            state[node] = 1
            index[node] = len(path)
            path.append(node)
            node = edges[node][0]
        if node in index:
            found.append(path[index[node] :])
        for n in path:
            state[n] = 2
    return found
