"""One run of target-twenty: spool the input, check it, order it, write it, report it."""

from __future__ import annotations

import hashlib
import json
import logging
import secrets
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

from target_twenty.checks import Checks, Policies
from target_twenty.csvout import CsvWriter
from target_twenty.order import load_order
from target_twenty.outcome import from_legacy_dict
from target_twenty.plan import ObjectPlan, build_plan, is_internal, provisioning
from target_twenty.registry import Registry
from target_twenty.report import Mode, ReportContext, RunReport, build_report, write_report
from target_twenty.spool import Spool
from target_twenty.values import InvalidValue, normalise, plain
from target_twenty.workspace import UNIQUE_SUBFIELDS, Owners, Workspace, unique_key

PROVENANCE = "_crm2twenty"
_PLAIN_NS = uuid.UUID("0b4f3c52-7d2e-5a9b-8f16-3c1d2e4f5a6b")


class Migration:
    def __init__(
        self,
        config: dict[str, Any],
        workspace: Workspace,
        logger: logging.Logger,
        client: Any = None,
    ) -> None:
        self.config = config
        self.logger = logger
        self.workspace = workspace
        self.client = client  # TwentyClient when an API is configured
        self.mode = config.get("mode", "csv")
        self.output_dir = Path(config.get("output_dir") or "output").resolve()
        self.run_id = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime()) + "-" + secrets.token_hex(2)
        self.run_dir = self.output_dir / self.run_id
        self.run_dir.mkdir(parents=True, exist_ok=True)
        self.state_dir = Path(config.get("state_dir") or self.output_dir / "state").resolve()
        self.spool = Spool(self.run_dir / "spool.sqlite")
        self.registry = Registry(self.state_dir / "registry.sqlite", self.spool.db)
        self.policies = Policies(
            on_duplicate=config.get("on_duplicate", "link"),
            on_dangling_reference=config.get("on_dangling_reference", "null"),
            on_invalid_value=config.get("on_invalid_value", "null"),
        )
        self.plans: dict[str, ObjectPlan] = {}
        self.stream_plans: dict[str, ObjectPlan] = {}
        self.schemas: dict[str, dict] = {}
        self.stream_schemas: dict[str, tuple[dict, list[str]]] = {}
        self._warned: set[tuple[str, str]] = set()
        self.started = time.time()
        self.received = 0

    # ---- input --------------------------------------------------------------------------

    def on_schema(self, stream: str, schema: dict, key_properties: list[str]) -> None:
        if is_internal(stream):
            return
        name = (schema.get("x-twenty") or {}).get("object")
        previous = self.stream_plans.get(stream) or (self.plans.get(name) if name else None)
        plan = build_plan(stream, schema, key_properties, self.workspace, previous)
        self.stream_plans[stream] = plan
        self.plans[plan.name] = plan
        self.schemas[plan.name] = schema
        self.stream_schemas[stream] = (schema, list(key_properties))

    def on_record(self, stream: str, record: dict) -> None:
        if is_internal(stream):
            self.spool.add_side(stream, plain(record))
            return
        plan = self.stream_plans[stream]
        spool = self.spool
        seq = spool.next_seq()
        prov = record.get(PROVENANCE) or {"stream": stream, "primary": True}
        rid = self._record_id(plan, record)
        data: dict[str, Any] = {}
        refs: list[tuple] = []
        owners: list[tuple] = []
        uniques: list[tuple] = []
        rejected: str | None = None
        for prop, value in record.items():
            if value is None or prop == "id":
                continue
            fp = plan.fields.get(prop)
            if fp is None:
                if prop in plan.internal:
                    data[prop] = plain(value)
                elif (stream, prop) not in self._warned:
                    self._warned.add((stream, prop))
                    self.logger.warning(
                        "%s: property %r is not in the stream's schema; ignored", stream, prop
                    )
                continue
            kind = "TEXT" if fp.kind == "RELATION" and fp.match == "userEmail" else fp.kind
            try:
                value = normalise(kind, value)
            except InvalidValue as exc:
                reason = f"{fp.name}: {exc}"
                if self.policies.on_invalid_value == "reject":
                    rejected = rejected or reason
                else:
                    spool.add_problem(
                        "repair",
                        reason + "; left empty",
                        record_seq=seq,
                        obj=plan.name,
                        rid=rid,
                        prov=prov,
                        field=prop,
                        value=plain(value),
                    )
                continue
            if value is None:
                continue
            data[prop] = value
            if fp.kind == "RELATION":
                if fp.match == "userEmail":
                    owners.append((prop, value.lower()))
                else:
                    refs.append((prop, fp.target, value))
            elif (fp.field is not None and fp.field.unique) or fp.intent.get("unique"):
                ukey = unique_key(fp.kind, value)
                if ukey:
                    uniques.append((fp.name, ukey, _sent_unique(fp.kind, value)))
        data[PROVENANCE] = plain(prov)
        spool.add_record(seq, plan.name, rid, prov, json.dumps(data), refs, owners, uniques)
        if rejected:
            spool.flush()
            spool.db.execute(
                "UPDATE records SET status='rejected', reason=? WHERE seq=?", (rejected, seq)
            )
            spool.add_problem("reject", rejected, record_seq=seq, obj=plan.name, rid=rid, prov=prov)
        self.received += 1
        if self.received % 100_000 == 0:
            rate = self.received / max(time.time() - self.started, 1e-6)
            self.logger.info("received %d records (%.0f/s)", self.received, rate)

    def _record_id(self, plan: ObjectPlan, record: dict) -> str:
        rid = record.get("id")
        try:
            return str(uuid.UUID(str(rid)))
        except ValueError:
            pass
        if plan.plain:
            # A plain Singer stream: a stable id from its key, so re-runs upsert.
            keys = plan.key_properties or []
            key = (
                ":".join(str(record.get(k)) for k in keys)
                if keys and rid is None
                else str(rid)
                if rid is not None
                else hashlib.sha1(json.dumps(plain(record), sort_keys=True).encode()).hexdigest()
            )
            return str(uuid.uuid5(_PLAIN_NS, f"{plan.stream}:{key}"))
        raise ValueError(
            f"{plan.stream}: record id {rid!r} is not a UUID (location "
            f"{(record.get(PROVENANCE) or {}).get('location') or 'unknown'})"
        )

    # ---- end of input -------------------------------------------------------------------

    def finish(self, load: Callable[[Migration], dict[str, Any]] | None = None) -> RunReport:
        """Check, write and report. ``load`` writes to Twenty (API mode); without it, CSV."""
        spool = self.spool
        spool.finish_input()
        self.logger.info(
            "input complete: %d records in %d objects; checking", self.received, len(self.plans)
        )
        outcome = load(self) if load is not None else self._write_csv()
        report = build_report(self._report_context(), spool, from_legacy_dict(outcome))
        files = write_report(report, self.run_dir)
        (self.output_dir / "LATEST").write_text(self.run_id + "\n", encoding="utf-8")
        spool.close()
        if not self.config.get("keep_spool"):
            (self.run_dir / "spool.sqlite").unlink(missing_ok=True)
        self.logger.info("report: %s (and %s)", files.markdown, files.json)
        if not report.balanced:
            self.logger.warning("some counts do not add up: see %s", files.markdown)
        return report

    def _report_context(self) -> ReportContext:
        return ReportContext(
            run_id=self.run_id,
            mode=Mode(self.mode),
            migration=self.config.get("migration_name", "crm2twenty migration"),
            workspace=self.workspace.source,
            started=self.started,
            run_dir=self.run_dir,
            fallback_owner_email=self.config.get("fallback_owner_email"),
            plans=self.plans,
        )

    def checks(self, lookup: Any = None, between: Any = None) -> Any:
        return Checks(self.spool, self.plans, self.registry, self.policies, lookup).run(between)

    def _write_csv(self) -> dict[str, Any]:
        outcome = self.checks()
        order = load_order(self.plans)
        members = self._members()
        owners = Owners(members, self.config.get("fallback_owner_email"), by_value=True)
        writer = CsvWriter(
            self.spool,
            self.run_dir,
            int(self.config.get("csv_max_rows", 10_000)),
            owners.resolve if members else None,
        )
        result = writer.write(order.objects, self.plans, self.schemas)
        self.registry.remember_written(self.run_id, list(result.written))
        return {
            "order": order,
            "cycles": outcome.cycles,
            "merges": outcome.merges,
            "written": result.written,
            "provisioning": provisioning(list(self.plans.values())).as_dict(),
            "members": members,
            "orphans": owners.orphans,
            "outputs": {
                "csv": result.files,
                "leftovers": result.leftovers,
                "leftovers_file": result.leftovers_file,
                "neutralised": result.neutralised,
                "label_clashes": result.label_clashes,
            },
        }

    def replan(self, workspace: Workspace) -> None:
        """Rebuild every plan against a workspace that gained fields (after provisioning)."""
        self.workspace = workspace
        self.plans = {}
        for stream, (schema, keys) in self.stream_schemas.items():
            name = (schema.get("x-twenty") or {}).get("object")
            previous = self.plans.get(name) if name else None
            plan = build_plan(stream, schema, keys, workspace, previous)
            self.stream_plans[stream] = plan
            self.plans[plan.name] = plan

    def _members(self) -> dict[str, str]:
        """Workspace members by lower-cased e-mail (CSV mode: from the settings)."""
        return {str(e).lower(): str(e) for e in self.config.get("workspace_members") or []}


def _sent_unique(kind: str, value: Any) -> str:
    """The unique value as Twenty stores it (its upsert matches it exactly)."""
    sub = UNIQUE_SUBFIELDS.get(kind)
    if sub and isinstance(value, dict):
        return str(value.get(sub[0]) or "")
    return str(value)
