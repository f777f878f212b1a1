"""Checks that need every record: duplicates, SELECT options, references, cycles.

Each problem ends as a reject with a reason or as a documented repair, recorded in the spool's
``problems`` table; nothing is dropped without a line in ``rejects.csv`` or ``repairs.csv``.
Order matters: duplicates first (a merged record's references move to its survivor), then
options, then references (a reference to a rejected record is dangling), then cycles.
"""

from __future__ import annotations

import json
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from target_twenty.plan import ObjectPlan
from target_twenty.registry import Registry
from target_twenty.spool import Spool


@dataclass
class Policies:
    on_duplicate: str = "link"  # link | merge | reject
    on_dangling_reference: str = "null"  # null | reject
    on_invalid_value: str = "null"  # null | reject


@dataclass
class Outcome:
    """What the checks decided, for the report."""

    merges: list[dict[str, Any]] = field(default_factory=list)
    cycles: list[dict[str, Any]] = field(default_factory=list)
    dangling: int = 0


class Checks:
    def __init__(
        self,
        spool: Spool,
        plans: dict[str, ObjectPlan],
        registry: Registry,
        policies: Policies,
        lookup: Any = None,
    ) -> None:
        self.spool = spool
        self.db = spool.db
        self.plans = plans
        self.registry = registry
        self.policies = policies
        # API mode: finds referenced ids in the workspace (records loaded some other way), adds
        # them to the spool's ``external`` table and says whether it found any.
        self.lookup = lookup
        self.outcome = Outcome()
        self._changes: dict[int, dict[str, Any]] = defaultdict(dict)  # seq -> prop -> new value

    def run(self, between: Any = None) -> Outcome:
        """All checks; ``between()`` runs after duplicates inside the input are resolved and
        before references are (API mode's pre-flight against the workspace)."""
        self.db.execute("BEGIN")
        self.same_id_twice()
        self.unique_clashes()
        if between is not None:
            between()
        self.select_options()
        self.references()
        self.self_reference_cycles()
        self.apply_changes()
        self.db.execute("COMMIT")
        return self.outcome

    # ---- helpers ------------------------------------------------------------------------

    def _record(self, seq: int) -> tuple:
        return self.db.execute(
            "SELECT object, id, stream, skey, location, data, is_primary FROM records WHERE seq=?",
            (seq,),
        ).fetchone()

    def _prov(self, row: tuple) -> dict:
        return {"stream": row[2], "key": row[3], "location": row[4]}

    def reject(self, seq: int, reason: str) -> None:
        row = self._record(seq)
        self.db.execute("UPDATE records SET status='rejected', reason=? WHERE seq=?", (reason, seq))
        self.spool.add_problem(
            "reject", reason, record_seq=seq, obj=row[0], rid=row[1], prov=self._prov(row)
        )

    def repair(self, seq: int, prop: str, value: Any, reason: str) -> None:
        row = self._record(seq)
        self._changes[seq][prop] = None
        self.spool.add_problem(
            "repair",
            reason,
            record_seq=seq,
            obj=row[0],
            rid=row[1],
            prov=self._prov(row),
            field=prop,
            value=value,
        )

    def _merge(
        self, survivor_seq: int, dup_seq: int, survivor_id: str, how: str, clash: str
    ) -> None:
        dup = self._record(dup_seq)
        survivor = self._record(survivor_seq) if survivor_seq else None
        self.db.execute(
            "UPDATE records SET status='merged', survivor=?, reason=? WHERE seq=?",
            (survivor_id, clash, dup_seq),
        )
        if how == "merge" and survivor is not None:
            self._fill_blanks(survivor_seq, json.loads(survivor[5]), dup_seq, json.loads(dup[5]))
        self.outcome.merges.append(
            {
                "object": dup[0],
                "merged_id": dup[1],
                "merged_source": _source(dup),
                "survivor_id": survivor_id,
                "survivor_source": _source(survivor) if survivor else "(loaded by an earlier run)",
                "reason": clash,
            }
        )

    def _fill_blanks(self, survivor_seq: int, kept: dict, dup_seq: int, extra: dict) -> None:
        for prop, value in extra.items():
            if value in (None, "", [], {}) or kept.get(prop) not in (None, "", [], {}):
                continue
            self._changes[survivor_seq][prop] = value
            # the survivor inherits the filled relation, so its reference checks see it
            self.db.execute(
                "UPDATE refs SET seq=?, id=(SELECT id FROM records WHERE seq=?) "
                "WHERE seq=? AND prop=?",
                (survivor_seq, survivor_seq, dup_seq, prop),
            )
            self.db.execute(
                "UPDATE owners SET seq=?, id=(SELECT id FROM records WHERE seq=?) "
                "WHERE seq=? AND prop=?",
                (survivor_seq, survivor_seq, dup_seq, prop),
            )

    # ---- passes -------------------------------------------------------------------------

    def same_id_twice(self) -> None:
        """Two records with one id: the same source row twice (both primary, one stream) is a
        duplicate source key; otherwise several rows describe one record (two Sage leads naming
        the same new company, a partial record from a link table) and are merged into the first."""
        groups = self.db.execute(
            "SELECT object, id, GROUP_CONCAT(seq) FROM records GROUP BY object, id "
            "HAVING COUNT(*) > 1"
        ).fetchall()
        for obj, rid, seqs in groups:
            first, *rest = sorted(int(s) for s in seqs.split(","))
            head = self._record(first)
            for seq in rest:
                row = self._record(seq)
                if row[2] == head[2] and row[6] and head[6]:
                    self.reject(
                        seq,
                        f"duplicate source key {row[3]!r} in {row[2]}"
                        f" (first at {head[4] or 'an earlier row'})",
                    )
                else:
                    self._merge(first, seq, rid, "merge", f"same {obj} as {_source(head)}")

    def unique_clashes(self) -> None:
        """Unique values (person e-mail, company domain, unique custom fields) shared by several
        records of the input, or by a record an earlier run loaded."""
        policy = self.policies.on_duplicate
        groups = self.db.execute(
            "SELECT u.object, u.field, u.ukey, GROUP_CONCAT(u.seq), k.id FROM uniques u "
            "JOIN records r ON r.seq = u.seq AND r.status IS NULL "
            "LEFT JOIN reg.known_uniques k ON k.object = u.object AND k.field = u.field "
            "AND k.ukey = u.ukey "
            "GROUP BY u.object, u.field, u.ukey "
            "HAVING COUNT(*) > 1 OR SUM(k.id IS NOT NULL AND k.id != r.id) > 0"
        ).fetchall()
        for obj, fname, ukey, seqs, known in groups:
            ordered = sorted(int(s) for s in seqs.split(","))
            rows = {seq: self._record(seq) for seq in ordered}
            if known:
                in_run = next((seq for seq in ordered if rows[seq][1] == known), 0)
                survivor_seq, survivor_id = in_run, known
            else:
                survivor_seq, survivor_id = ordered[0], rows[ordered[0]][1]
            losers = [seq for seq in ordered if rows[seq][1] != survivor_id]
            for seq in losers:
                status = self.db.execute(
                    "SELECT status FROM records WHERE seq=?", (seq,)
                ).fetchone()
                if status[0] is not None:
                    continue
                clash = f"same {fname} {ukey!r}"
                if policy == "reject":
                    where = (
                        _source(self._record(survivor_seq))
                        if survivor_seq
                        else "a record loaded by an earlier run"
                    )
                    self.reject(seq, f"duplicate {obj} {fname} {ukey!r} (already used by {where})")
                else:
                    self._merge(survivor_seq, seq, survivor_id, policy, clash)

    def select_options(self) -> None:
        """Values that are not options of their SELECT field (Twenty refuses the batch)."""
        for plan in self.plans.values():
            for fp in plan.fields.values():
                if fp.kind not in ("SELECT", "MULTI_SELECT"):
                    continue
                allowed = fp.allowed_options
                path = f'$."{fp.prop}"'
                # Only the rows holding a value outside the options leave SQLite: reading every
                # row's value would make this pass's memory grow with the migration's size.
                options = json.dumps(sorted(allowed))
                rows = self.db.execute(
                    "SELECT seq, json_extract(data, ?) FROM records WHERE object=? AND "
                    "status IS NULL AND CASE json_type(data, ?) "
                    "WHEN 'array' THEN EXISTS (SELECT 1 FROM json_each(data, ?) e WHERE "
                    "e.value NOT IN (SELECT value FROM json_each(?))) "
                    "WHEN 'null' THEN 0 "
                    "ELSE json_extract(data, ?) NOT IN (SELECT value FROM json_each(?)) END",
                    (path, plan.name, path, path, options, path, options),
                ).fetchall()
                for seq, raw in rows:
                    values = (
                        json.loads(raw)
                        if fp.kind == "MULTI_SELECT" and raw.startswith("[")
                        else [raw]
                    )
                    bad = [v for v in values if v not in allowed]
                    if not bad:
                        continue
                    reason = (
                        f"{fp.name}: {', '.join(map(repr, bad))} is not an option "
                        f"(options: {', '.join(sorted(allowed))})"
                    )
                    if self.policies.on_invalid_value == "reject":
                        self.reject(seq, reason)
                    else:
                        self.repair(seq, fp.prop, raw, reason + "; left empty")

    def references(self) -> None:
        """Merged targets → their survivor; missing or rejected targets → dangling."""
        self.db.execute(
            "CREATE TEMP TABLE merged_map AS SELECT object, id, survivor FROM records "
            "WHERE status='merged' AND survivor != id"
        )
        self.db.execute("CREATE INDEX temp.merged_map_key ON merged_map(object, id)")
        for seq, prop, survivor in self.db.execute(
            "SELECT r.seq, r.prop, m.survivor FROM refs r JOIN merged_map m ON "
            "m.object = r.target_object AND m.id = r.target_id"
        ).fetchall():
            self._changes[seq][prop] = survivor
            self.db.execute(
                "UPDATE refs SET target_id=? WHERE seq=? AND prop=?", (survivor, seq, prop)
            )
        self.db.execute("DROP TABLE temp.merged_map")
        required = {
            (p.name, f.prop)
            for p in self.plans.values()
            for f in p.fields.values()
            if f.intent.get("required")
        }
        while True:
            dangling = self.db.execute(
                "SELECT r.seq, r.object, r.prop, r.target_object, r.target_id, "
                "(SELECT t.reason FROM records t WHERE t.object = r.target_object AND "
                "t.id = r.target_id AND t.status = 'rejected' LIMIT 1), src.data FROM refs r "
                "JOIN records src ON src.seq = r.seq AND src.status IS NULL "
                "LEFT JOIN records ok ON ok.object = r.target_object AND ok.id = r.target_id "
                "AND ok.status IS NULL "
                "LEFT JOIN reg.known k ON k.object = r.target_object AND k.id = r.target_id "
                "LEFT JOIN external x ON x.object = r.target_object AND x.id = r.target_id "
                "WHERE ok.seq IS NULL AND k.id IS NULL AND x.id IS NULL"
            ).fetchall()
            if (
                dangling
                and self.lookup is not None
                and self.lookup({(d[3], d[4]) for d in dangling})
            ):
                continue  # some were found in the workspace: look again
            dangling = [
                d for d in dangling if self._changes.get(d[0], {}).get(d[2], d[4]) is not None
            ]
            if not dangling:
                return
            to_reject: dict[int, list[str]] = defaultdict(list)
            for seq, obj, prop, target_obj, target_id, target_reason, data in dangling:
                source_key = _source_ref(data, prop)
                what = f"{target_obj} {source_key!r}" if source_key else f"{target_obj} {target_id}"
                why = (
                    f"which was rejected ({target_reason})"
                    if target_reason
                    else "which is not in this migration"
                )
                reason = f"{prop} points at {what}, {why}"
                self.outcome.dangling += 1
                if self.policies.on_dangling_reference == "reject" or (obj, prop) in required:
                    to_reject[seq].append(reason)
                else:
                    self.repair(seq, prop, target_id, reason + "; left empty")
            for seq, reasons in to_reject.items():
                self.reject(seq, "; ".join(reasons))
            if not to_reject:
                return

    def self_reference_cycles(self) -> None:
        """A record that is its own ancestor (A → B → C → A through parent company): the link
        from the last record of the cycle (by input order) is dropped and reported."""
        for plan in self.plans.values():
            for fp in plan.relations():
                if fp.target != plan.name:
                    continue
                edges: dict[str, tuple[str, int]] = {}
                for seq, rid, tid in self.db.execute(
                    "SELECT r.seq, r.id, r.target_id FROM refs r JOIN records s ON "
                    "s.seq = r.seq AND s.status IS NULL WHERE r.object=? AND r.prop=?",
                    (plan.name, fp.prop),
                ):
                    target = self._changes.get(seq, {}).get(fp.prop, tid)
                    if target is not None:
                        edges[rid] = (target, seq)
                for cycle in _cycles(edges):
                    seqs = [edges[node][1] for node in cycle]
                    last = max(seqs)
                    names = [_source(self._record(s)) for s in seqs]
                    reason = (
                        f"{fp.name} cycle {' → '.join(names + names[:1])}: the link from "
                        f"{_source(self._record(last))} was dropped"
                    )
                    self.repair(last, fp.prop, edges[cycle[seqs.index(last)]][0], reason)
                    self.outcome.cycles.append(
                        {
                            "object": plan.name,
                            "field": fp.name,
                            "records": names,
                            "dropped_from": names[seqs.index(last)],
                        }
                    )

    def apply_changes(self) -> None:
        """Write the decided relation rewrites, removals and merged-in values into the spool."""
        for seq, props in self._changes.items():
            (data,) = self.db.execute("SELECT data FROM records WHERE seq=?", (seq,)).fetchone()
            record = json.loads(data)
            for prop, value in props.items():
                if value is None:
                    record.pop(prop, None)
                else:
                    record[prop] = value
            self.db.execute("UPDATE records SET data=? WHERE seq=?", (json.dumps(record), seq))
            for prop, value in props.items():
                if value is None:
                    self.db.execute("DELETE FROM refs WHERE seq=? AND prop=?", (seq, prop))
                    self.db.execute("DELETE FROM owners WHERE seq=? AND prop=?", (seq, prop))
                elif isinstance(value, str):  # a relation id (other merged-in values are data)
                    self.db.execute(
                        "UPDATE refs SET target_id=? WHERE seq=? AND prop=?", (value, seq, prop)
                    )


def _source(row: tuple | None) -> str:
    if row is None:
        return "?"
    stream, key, location = row[2], row[3], row[4]
    text = f"{stream} {key}" if stream else f"{row[0]} {row[1]}"
    return f"{text} ({location})" if location else text


def _source_ref(data: str, prop: str) -> str | None:
    refs = (json.loads(data).get("_crm2twenty") or {}).get("refs") or {}
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
