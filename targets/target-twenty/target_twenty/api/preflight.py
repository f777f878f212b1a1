"""Pre-flight against the live workspace, before anything is written.

Twenty's upsert also matches on unique fields *including soft-deleted rows*: a person whose
e-mail belongs to a trashed record would silently restore that record, keep *its* id and drop
ours, and every child pointing at our id would then fail (docs/twenty-contract.md §2.6). So for
each unique value the migration sends, the records already holding it are found first (one
query per chunk of values, trash included), and ``on_duplicate`` decides:

- ``link``: our record is not written; every reference to it is pointed at the existing one
  (restored first if it was in the trash);
- ``merge``: our record is written *as* the existing one (same id), updating it;
- ``reject``: our record is rejected, naming the record that holds the value.

References to records that are neither in this run nor in the registry are looked up by id,
so a delta run (or the CSV leftovers) can point at records loaded some other way. A unique value
the registry says our own record (same id) already holds is not looked up: a re-run would only
find that record (``trust_registry``; off with ``rewrite_unchanged``).
"""

from __future__ import annotations

import json
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from target_twenty.api.client import TwentyClient, unwrap
from target_twenty.outcome import Decision, Merge, ObjectRef, PreflightSummary, WorkspaceMatch
from target_twenty.plan import ObjectPlan
from target_twenty.spool import Spool, Status
from target_twenty.workspace import UNIQUE_SUBFIELDS, Workspace

CHUNK = 60  # values per query: keeps the URL short and the answer within one page
TRASH_TOO = "or(deletedAt[is]:NULL,deletedAt[is]:NOT_NULL)"  # naming deletedAt includes the trash


def _quote(value: str) -> str:
    return json.dumps(value)


@dataclass(frozen=True)
class Restore:
    """A trashed workspace record to restore before the load, so that links to it land."""

    object: str
    plural: str
    id: str


@dataclass
class Preflight:
    matched: list[WorkspaceMatch] = field(default_factory=list)  # for the report
    restore: list[Restore] = field(default_factory=list)

    def merges(self) -> list[Merge]:
        """Our records linked to the workspace record already holding their unique value:
        merges.csv lists them beside the run's own duplicates."""
        return [
            Merge(
                object=m.object,
                merged_id=m.our_id,
                merged_source=m.source,
                survivor_id=m.existing_id,
                survivor_source="(already in the workspace)",
                reason=f"same {m.field} {m.value!r}",
            )
            for m in self.matched
            if m.decision is Decision.LINK
        ]

    def summary(self) -> PreflightSummary:
        return PreflightSummary(
            matched=list(self.matched),
            restored=[ObjectRef(r.object, r.id) for r in self.restore],
        )


def _any_records(client: TwentyClient, plural: str) -> bool:
    body = client.request("GET", f"/rest/{plural}", params={"limit": 1, "filter": TRASH_TOO})
    return bool(unwrap(body)) or bool(body.get("totalCount"))


def find_existing(client: TwentyClient, plural: str, path: str, values: list[str]) -> list[dict]:
    found: list[dict] = []
    for i in range(0, len(values), CHUNK):
        chunk = values[i : i + CHUNK]
        flt = f"and({path}[in]:[{','.join(_quote(v) for v in chunk)}],{TRASH_TOO})"
        found.extend(client.records(plural, flt))
    return found


def run_preflight(
    client: TwentyClient,
    spool: Spool,
    plans: dict[str, ObjectPlan],
    workspace: Workspace,
    policy: Decision,
    *,
    trust_registry: bool = True,
) -> Preflight:
    """The records already holding our unique values, and what ``policy`` made of each."""
    out = Preflight()
    for plan in plans.values():
        obj = workspace.find(plan.name)
        if obj is None:
            continue  # a custom object created by this run: nothing can pre-exist
        uniques = [
            f for f in obj.unique_fields() if any(fp.name == f.name for fp in plan.fields.values())
        ]
        values = {
            u.name: spool.unique_values(plan.name, u.name, unregistered=trust_registry)
            for u in uniques
        }
        if not any(values.values()) or not _any_records(client, obj.plural):
            continue
        for ufield in uniques:
            rows = values[ufield.name]
            if not rows:
                continue
            sub = UNIQUE_SUBFIELDS.get(ufield.type, (None,))[0]
            path = f"{ufield.name}.{sub}" if sub else ufield.name
            by_value: dict[str, list[int]] = defaultdict(list)
            for value, seqs in rows:
                by_value[value.lower() if ufield.type == "EMAILS" else value].extend(seqs)
            existing = find_existing(client, obj.plural, path, sorted(by_value))
            for found in existing:
                held = found.get(ufield.name)
                held = held.get(sub) if sub and isinstance(held, dict) else held
                key = (held or "").lower() if ufield.type == "EMAILS" else (held or "")
                for seq in by_value.get(key, []):
                    _decide(spool, out, plan, obj.plural, seq, found, ufield.name, key, policy)
    return out


def _decide(
    spool: Spool,
    out: Preflight,
    plan: ObjectPlan,
    plural: str,
    seq: int,
    found: dict,
    fname: str,
    value: str,
    policy: Decision,
) -> None:
    row = spool.record(seq)
    if row is None or row.status is not Status.PENDING:
        return
    our_id, existing_id = row.id, found["id"]
    deleted = bool(found.get("deletedAt"))
    spool.add_external(plan.name, existing_id, found, deleted)
    if our_id == existing_id:
        return  # our own record from an earlier run: an update
    source = f"{row.source.stream} {row.source.key}" if row.source.stream else our_id
    out.matched.append(
        WorkspaceMatch(plan.name, source, our_id, existing_id, fname, value, deleted, policy)
    )
    if policy is Decision.REJECT:
        spool.reject(
            seq,
            f"{fname} {value!r} already belongs to {plan.name} {existing_id} in the "
            f"workspace{' (in the trash)' if deleted else ''}",
        )
        return
    if policy is Decision.LINK:
        spool.mark(
            seq,
            Status.MERGED,
            reason=f"same {fname} as {plan.name} {existing_id} in the workspace",
            survivor=existing_id,
        )
        if deleted:
            out.restore.append(Restore(plan.name, plural, existing_id))
        return
    # merge: write our record as the existing one; the upsert restores it if trashed
    spool.adopt_id(seq, plan.name, our_id, existing_id)


def lookup_ids(client: TwentyClient, spool: Spool, workspace: Workspace) -> Any:
    """A ``checks.Lookup``: finds referenced ids in the workspace, once each."""
    asked: set[tuple[str, str]] = set()

    def lookup(wanted: set[tuple[str, str]]) -> bool:
        fresh = wanted - asked
        asked.update(fresh)
        by_object: dict[str, list[str]] = defaultdict(list)
        for obj, rid in fresh:
            by_object[obj].append(rid)
        added = False
        for obj, ids in by_object.items():
            found_obj = workspace.find(obj)
            if found_obj is None:
                continue
            for i in range(0, len(ids), CHUNK):
                flt = f"id[in]:[{','.join(_quote(x) for x in ids[i : i + CHUNK])}]"
                for row in client.records(found_obj.plural, flt):
                    spool.add_external(obj, row["id"], row)
                    added = True
        return added

    return lookup
