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
so a delta run (or the CSV leftovers) can point at records loaded some other way.
"""

from __future__ import annotations

import json
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from target_twenty.api.client import TwentyClient, unwrap
from target_twenty.plan import ObjectPlan
from target_twenty.spool import Spool
from target_twenty.workspace import UNIQUE_SUBFIELDS, Workspace

CHUNK = 60  # values per query: keeps the URL short and the answer within one page
TRASH_TOO = "or(deletedAt[is]:NULL,deletedAt[is]:NOT_NULL)"  # naming deletedAt includes the trash


def _quote(value: str) -> str:
    return json.dumps(value)


@dataclass
class Preflight:
    matched: list[dict[str, Any]] = field(default_factory=list)  # for the report
    restore: list[tuple[str, str, str]] = field(default_factory=list)  # (object, plural, id)
    requests: int = 0


def _any_records(client: TwentyClient, plural: str) -> bool:
    body = client.request("GET", f"/rest/{plural}", params={"limit": 1, "filter": TRASH_TOO})
    return bool(unwrap(body)) or bool(body.get("totalCount"))


def find_existing(client: TwentyClient, plural: str, path: str, values: list[str]) -> list[dict]:
    found: list[dict] = []
    for i in range(0, len(values), CHUNK):
        chunk = values[i : i + CHUNK]
        flt = f"and({path}[in]:[{','.join(_quote(v) for v in chunk)}],{TRASH_TOO})"
        found.extend(client.list(plural, flt))
    return found


def run_preflight(
    client: TwentyClient,
    spool: Spool,
    plans: dict[str, ObjectPlan],
    workspace: Workspace,
    policy: str,
    reject: Any,
) -> Preflight:
    """``reject(seq, reason)`` rejects a record in the spool."""
    out = Preflight()
    db = spool.db
    for plan in plans.values():
        obj = workspace.find(plan.name)
        if obj is None:
            continue  # a custom object created by this run: nothing can pre-exist
        uniques = [
            f for f in obj.unique_fields() if any(fp.name == f.name for fp in plan.fields.values())
        ]
        if not uniques or not _any_records(client, obj.plural):
            continue
        for ufield in uniques:
            rows = db.execute(
                "SELECT u.value, GROUP_CONCAT(u.seq) FROM uniques u JOIN records r ON "
                "r.seq = u.seq AND r.status IS NULL WHERE u.object=? AND u.field=? "
                "GROUP BY u.value",
                (plan.name, ufield.name),
            ).fetchall()
            if not rows:
                continue
            sub = UNIQUE_SUBFIELDS.get(ufield.type, (None,))[0]
            path = f"{ufield.name}.{sub}" if sub else ufield.name
            by_value: dict[str, list[int]] = defaultdict(list)
            for value, seqs in rows:
                by_value[value.lower() if ufield.type == "EMAILS" else value].extend(
                    int(s) for s in seqs.split(",")
                )
            existing = find_existing(client, obj.plural, path, sorted(by_value))
            for found in existing:
                value = found.get(ufield.name)
                value = value.get(sub) if sub and isinstance(value, dict) else value
                key = (value or "").lower() if ufield.type == "EMAILS" else (value or "")
                for seq in by_value.get(key, []):
                    _decide(db, out, plan, obj.plural, seq, found, ufield.name, key, policy, reject)
    return out


def _decide(
    db: Any,
    out: Preflight,
    plan: ObjectPlan,
    plural: str,
    seq: int,
    found: dict,
    fname: str,
    value: str,
    policy: str,
    reject: Any,
) -> None:
    row = db.execute("SELECT id, status, stream, skey FROM records WHERE seq=?", (seq,)).fetchone()
    if row is None or row[1] is not None:
        return
    our_id, existing_id = row[0], found["id"]
    deleted = bool(found.get("deletedAt"))
    db.execute(
        "INSERT OR REPLACE INTO external(object, id, deleted, data) VALUES (?,?,?,?)",
        (plan.name, existing_id, int(deleted), json.dumps(found)),
    )
    if our_id == existing_id:
        return  # our own record from an earlier run: an update
    source = f"{row[2]} {row[3]}" if row[2] else our_id
    entry = {
        "object": plan.name,
        "source": source,
        "our_id": our_id,
        "existing_id": existing_id,
        "field": fname,
        "value": value,
        "in_trash": deleted,
        "decision": policy,
    }
    out.matched.append(entry)
    if policy == "reject":
        reject(
            seq,
            f"{fname} {value!r} already belongs to {plan.name} {existing_id} in the "
            f"workspace{' (in the trash)' if deleted else ''}",
        )
        return
    if policy == "link":
        db.execute(
            "UPDATE records SET status='merged', survivor=?, reason=? WHERE seq=?",
            (existing_id, f"same {fname} as {plan.name} {existing_id} in the workspace", seq),
        )
        if deleted:
            out.restore.append((plan.name, plural, existing_id))
        return
    # merge: write our record as the existing one; the upsert restores it if trashed
    db.execute("UPDATE records SET id=? WHERE seq=?", (existing_id, seq))
    db.execute(
        "UPDATE refs SET target_id=? WHERE target_object=? AND target_id=?",
        (existing_id, plan.name, our_id),
    )
    db.execute("UPDATE refs SET id=? WHERE seq=?", (existing_id, seq))
    _rewrite_references(db, plan.name, our_id, existing_id)


def _rewrite_references(db: Any, obj: str, old: str, new: str) -> None:
    """Records pointing at ``old`` now point at ``new`` (their JSON and the refs table)."""
    for seq, prop in db.execute(
        "SELECT seq, prop FROM refs WHERE target_object=? AND target_id=?", (obj, new)
    ).fetchall():
        (data,) = db.execute("SELECT data FROM records WHERE seq=?", (seq,)).fetchone()
        record = json.loads(data)
        if record.get(prop) == old:
            record[prop] = new
            db.execute("UPDATE records SET data=? WHERE seq=?", (json.dumps(record), seq))


def lookup_ids(client: TwentyClient, spool: Spool, workspace: Workspace) -> Any:
    """A ``Checks.lookup``: finds referenced ids in the workspace, once each."""
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
                for row in client.list(found_obj.plural, flt):
                    spool.db.execute(
                        "INSERT OR REPLACE INTO external(object, id, deleted, data) "
                        "VALUES (?,?,0,?)",
                        (obj, row["id"], json.dumps(row)),
                    )
                    added = True
        return added

    return lookup
