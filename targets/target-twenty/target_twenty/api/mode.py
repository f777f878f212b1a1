"""API mode, start to end: provision, check against the workspace, load, audit, diff."""

from __future__ import annotations

import csv
import json
import math
import random
from typing import TYPE_CHECKING, Any

from target_twenty.api.audit import Audit
from target_twenty.api.client import TwentyClient
from target_twenty.api.loader import Loader
from target_twenty.api.preflight import Preflight, lookup_ids, run_preflight
from target_twenty.api.provision import provision
from target_twenty.order import LoadOrder, load_order
from target_twenty.plan import provisioning
from target_twenty.values import InvalidValue, normalise
from target_twenty.workspace import Owners, Workspace

if TYPE_CHECKING:
    from target_twenty.migration import Migration


def client_for(config: dict, logger: Any) -> TwentyClient:
    return TwentyClient(
        config["api_url"],
        config["api_key"],
        requests_per_minute=int(config["requests_per_minute"]),
        timeout=float(config.get("request_timeout", 60)),
        max_retries=int(config.get("max_retries", 8)),
        logger=logger,
    )


def fetch_workspace(client: TwentyClient) -> Workspace:
    return Workspace.from_payload(client.metadata_objects(), f"{client.base} (live metadata)")


def fetch_members(client: TwentyClient) -> dict[str, str]:
    """Workspace members by lower-cased ``userEmail`` (names can be empty: match the e-mail)."""
    return {
        str(m.get("userEmail") or "").lower(): m["id"]
        for m in client.list("workspaceMembers")
        if m.get("userEmail")
    }


class ApiRun:
    def __init__(self, migration: Migration) -> None:
        self.m = migration
        self.config = migration.config
        self.client: TwentyClient = migration.client
        self.dry_run = bool(self.config.get("dry_run"))
        self.audit = Audit(migration.state_dir / "audit.sqlite")
        self.preflight = Preflight()

    def run(self) -> dict[str, Any]:
        m, client = self.m, self.client
        run = m.run_id
        if not self.dry_run:
            self.audit.start(run, self.config.get("migration_name", ""), client.base)
        prov = provisioning(list(m.plans.values()))
        prov_report = prov.as_dict()
        if not self.dry_run and not prov.is_empty():
            m.replan(
                provision(client, prov, lambda: fetch_workspace(client), self.audit, run, m.logger)
            )
        outcome = m.checks(lookup=lookup_ids(client, m.spool, m.workspace), between=self._preflight)
        order = load_order(m.plans)
        members = fetch_members(client)
        owners = Owners(members, self.config.get("fallback_owner_email"), by_value=False)
        result: dict[str, Any] = {
            "order": order,
            "cycles": outcome.cycles,
            "merges": outcome.merges + self._workspace_merges(),
            "provisioning": prov_report,
            "members": members,
            "orphans": owners.orphans,
            "preflight": {
                "matched": self.preflight.matched,
                "restored": [{"object": o, "id": i} for o, _, i in self.preflight.restore],
            },
        }
        if self.dry_run:
            result["written"] = {}
            result["dry_run"] = self._plan(order, prov)
            self._skip_all("dry run: nothing was written")
            return result
        sample = self._sample(order) if self.config.get("sample_size") else None
        loader = Loader(
            client,
            m.spool,
            m.plans,
            m.workspace,
            self.audit,
            run,
            batch_size=int(self.config.get("batch_size", 60)),
            migration_name=self.config.get("migration_name", "crm2twenty migration"),
            owners=owners,
            known=self._known,
            reject=self._reject,
            repair=self._repair,
            max_concurrency=int(self.config.get("max_concurrency", 4)),
            progress_seconds=float(self.config.get("progress_seconds", 30)),
            logger=m.logger,
            only=sample,
        )
        loaded = loader.load(order.objects, order.deferred, self.preflight.restore)
        written_ids = self._remember(loaded)
        self.audit.finish(run)
        result["written"] = loaded.written
        result["api"] = {
            "created": loaded.created,
            "updated": loaded.updated,
            "restored": loaded.restored,
            "uploads": loaded.uploads,
            "requests": client.stats["requests"],
            "retries": client.stats["retries"],
            "rate_limited": client.stats["rate_limited"],
            "batch_size": loader.batch_size,
            "audit": str(self.audit.path),
            "rollback": f"target-twenty rollback --config <config> --run {run}",
        }
        if sample is not None:
            result["sample"] = self._diff(written_ids)
        return result

    # ---- pieces -------------------------------------------------------------------------

    def _preflight(self) -> None:
        self.preflight = run_preflight(
            self.client,
            self.m.spool,
            self.m.plans,
            self.m.workspace,
            self.m.policies.on_duplicate,
            self._reject,
        )

    def _workspace_merges(self) -> list[dict]:
        return [
            {
                "object": x["object"],
                "merged_id": x["our_id"],
                "merged_source": x["source"],
                "survivor_id": x["existing_id"],
                "survivor_source": "(already in the workspace)",
                "reason": f"same {x['field']} {x['value']!r}",
            }
            for x in self.preflight.matched
            if x["decision"] == "link"
        ]

    def _reject(self, seq: int, reason: str) -> None:
        db = self.m.spool.db
        row = db.execute(
            "SELECT object, id, stream, skey, location FROM records WHERE seq=?", (seq,)
        ).fetchone()
        db.execute("UPDATE records SET status='rejected', reason=? WHERE seq=?", (reason, seq))
        self.m.spool.add_problem(
            "reject",
            reason,
            record_seq=seq,
            obj=row[0],
            rid=row[1],
            prov={"stream": row[2], "key": row[3], "location": row[4]},
        )

    def _repair(self, seq: int, prop: str, value: Any, reason: str) -> None:
        db = self.m.spool.db
        row = db.execute(
            "SELECT object, id, stream, skey, location FROM records WHERE seq=?", (seq,)
        ).fetchone()
        self.m.spool.add_problem(
            "repair",
            reason,
            record_seq=seq,
            obj=row[0],
            rid=row[1],
            prov={"stream": row[2], "key": row[3], "location": row[4]},
            field=prop,
            value=value,
        )

    def _known(self, obj: str, ids: list[str]) -> set[str]:
        """Which of these ids an earlier run of this migration wrote."""
        if not ids:
            return set()
        marks = ",".join("?" * len(ids))
        return {
            r[0]
            for r in self.m.spool.db.execute(
                f"SELECT id FROM reg.known WHERE object=? AND id IN ({marks})",  # noqa: S608
                (obj, *ids),
            )
        }

    def _remember(self, loaded: Any) -> set[tuple[str, str]]:
        written = {
            (obj, rid)
            for obj, _p, rid, action, _prior in self.audit.writes(self.m.run_id)
            if action in ("created", "updated")
        }
        db = self.m.spool.db
        # Keyed, so the registry's "was it confirmed" test is a lookup, not a scan per record.
        db.execute(
            "CREATE TEMP TABLE IF NOT EXISTS written(object TEXT, id TEXT, "
            "PRIMARY KEY(object, id)) WITHOUT ROWID"
        )
        db.executemany("INSERT OR IGNORE INTO written VALUES (?,?)", sorted(written))
        self.m.registry.remember_written(self.m.run_id, list(loaded.written), only_written=True)
        return written

    def _skip_all(self, reason: str) -> None:
        self.m.spool.db.execute(
            "UPDATE records SET status='skipped', reason=? WHERE status IS NULL", (reason,)
        )

    # ---- dry run ------------------------------------------------------------------------

    def _plan(self, order: LoadOrder, prov: Any) -> dict[str, Any]:
        batch = int(self.config.get("batch_size", 60))
        rpm = int(self.config["requests_per_minute"])
        db = self.m.spool.db
        objects = []
        total = 0
        for name in order.objects:
            (n,) = db.execute(
                "SELECT COUNT(*) FROM records WHERE object=? AND status IS NULL", (name,)
            ).fetchone()
            uploads = 0
            if name == "attachment":
                (uploads,) = db.execute(
                    "SELECT COUNT(*) FROM records WHERE object='attachment' AND status IS NULL "
                    "AND json_extract(data, '$._file.exists')",
                    (),
                ).fetchone()
            requests = math.ceil(n / batch) + uploads
            for obj, prop in order.deferred:
                if obj == name:
                    (d,) = db.execute(
                        "SELECT COUNT(*) FROM records WHERE object=? AND status IS "
                        "NULL AND json_extract(data, ?) IS NOT NULL",
                        (name, f'$."{prop}"'),
                    ).fetchone()
                    requests += math.ceil(d / batch)
            objects.append({"object": name, "records": n, "requests": requests, "uploads": uploads})
            total += requests
        metadata = len(prov.objects) + len(prov.fields) + len(prov.options)
        total += metadata + len(self.preflight.restore)
        return {
            "objects": objects,
            "metadata_requests": metadata,
            "restores": len(self.preflight.restore),
            "requests": total,
            "reads_so_far": self.client.stats["requests"],
            "requests_per_minute": rpm,
            "batch_size": batch,
            "eta_minutes": round(total / rpm, 1),
        }

    # ---- sample -------------------------------------------------------------------------

    def _sample(self, order: LoadOrder) -> set[int]:
        """The first ``sample_size`` records of each object, plus every record they point at
        (transitively), so the sample loads without dangling references. The rest are
        marked skipped: a full run loads them."""
        size = int(self.config["sample_size"])
        db = self.m.spool.db
        chosen: set[int] = set()
        for name in order.objects:
            chosen.update(
                r[0]
                for r in db.execute(
                    "SELECT seq FROM records WHERE object=? AND status IS NULL "
                    "ORDER BY seq LIMIT ?",
                    (name, size),
                )
            )
        frontier = set(chosen)
        while frontier:
            marks = ",".join("?" * len(frontier))
            parents = {
                r[0]
                for r in db.execute(
                    f"SELECT t.seq FROM refs r JOIN records t ON t.object = r.target_object AND "  # noqa: S608
                    f"t.id = r.target_id AND t.status IS NULL WHERE r.seq IN ({marks})",
                    tuple(frontier),
                )
            }
            frontier = parents - chosen
            chosen |= frontier
        marks = ",".join("?" * len(chosen)) or "NULL"
        db.execute(
            f"UPDATE records SET status='skipped', reason='not in the sample' WHERE "  # noqa: S608
            f"status IS NULL AND seq NOT IN ({marks})",
            tuple(chosen),
        )
        return chosen

    def _diff(self, written: set[tuple[str, str]]) -> dict[str, Any]:
        """Read every sampled record back and compare, field by field: the source value, the
        value sent, the value Twenty returned."""
        path = self.m.run_dir / "sample-diff.csv"
        db = self.m.spool.db
        rows_out = []
        by_object: dict[str, list[str]] = {}
        for obj, rid in written:
            by_object.setdefault(obj, []).append(rid)
        mismatches = 0
        for obj, ids in sorted(by_object.items()):
            plan = self.m.plans[obj]
            plural = self.m.workspace.find(obj).plural
            back = {}
            for i in range(0, len(ids), 60):
                flt = f"id[in]:[{','.join(json.dumps(x) for x in ids[i : i + 60])}]"
                back.update({r["id"]: r for r in self.client.list(plural, flt)})
            for rid in sorted(ids):
                row = db.execute(
                    "SELECT data, stream, skey FROM records WHERE object=? AND id=?", (obj, rid)
                ).fetchone()
                if row is None:
                    continue
                record = json.loads(row[0])
                source = (record.get("_crm2twenty") or {}).get("src") or {}
                got = back.get(rid, {})
                for prop, sent in record.items():
                    fp = plan.fields.get(prop)
                    if prop.startswith("_") or fp is None or fp.match == "userEmail":
                        continue
                    returned = got.get(fp.column or fp.name)
                    same = _same(fp.kind, sent, returned)
                    mismatches += not same
                    rows_out.append(
                        [
                            obj,
                            rid,
                            row[1],
                            row[2],
                            fp.name,
                            _text(source.get(prop, "(not kept)")),
                            _text(sent),
                            _text(returned),
                            "" if same else "MISMATCH",
                        ]
                    )
        with path.open("w", encoding="utf-8", newline="") as handle:
            writer = csv.writer(handle)
            writer.writerow(
                [
                    "object",
                    "id",
                    "source_stream",
                    "source_key",
                    "field",
                    "source_value",
                    "sent_value",
                    "twenty_value",
                    "flag",
                ]
            )
            writer.writerows(rows_out)
        picked = random.Random(0).sample(rows_out, min(30, len(rows_out)))
        return {
            "file": str(path),
            "records": len(written),
            "fields": len(rows_out),
            "mismatches": mismatches,
            "mismatched": [r for r in rows_out if r[-1]][:50],
            "examples": sorted(picked),
        }


def _text(value: Any) -> str:
    if value is None:
        return ""
    return (
        value if isinstance(value, str) else json.dumps(value, ensure_ascii=False, sort_keys=True)
    )


def _same(kind: str, sent: Any, returned: Any) -> bool:
    """Equal as Twenty means it: composites on the sub-fields we sent, instants as instants."""
    if isinstance(sent, dict):
        if not isinstance(returned, dict):
            return False
        return all(
            _same_scalar(kind, v, returned.get(k))
            for k, v in sent.items()
            if v not in (None, "", [])
        )
    return _same_scalar(kind, sent, returned)


def _same_scalar(kind: str, sent: Any, returned: Any) -> bool:
    if kind in ("DATE_TIME",) and sent and returned:
        try:
            return normalise("DATE_TIME", sent) == normalise("DATE_TIME", returned)
        except InvalidValue:
            return False
    if isinstance(sent, int | float) and not isinstance(sent, bool):
        try:
            return float(sent) == float(returned)
        except (TypeError, ValueError):
            return False
    if isinstance(sent, str) and isinstance(returned, str) and "@" in sent:
        return sent.lower() == returned.lower()
    return sent == returned
