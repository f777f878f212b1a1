"""The report stage's input: the run's report dict from the stages' typed results.

Transitional: the ``report`` branch's builder (``report/``) turns a ``WriteOutcome`` into a
``RunReport``; until it lands here, this assembles today's report dict from the typed values
(enums as their values, absent optional fields left out, as report.json has always said) and
writes the files beside it (merges.csv, the attachments manifest, workflows.json).
"""

from __future__ import annotations

import csv
import json
import logging
import re
import time
from dataclasses import asdict, fields, is_dataclass
from enum import Enum
from pathlib import Path
from typing import TYPE_CHECKING, Any

from target_twenty import report as report_mod
from target_twenty.outcome import Merge, WriteOutcome
from target_twenty.plan import ObjectPlan, Provisioning
from target_twenty.spool import ProblemKind, Spool
from target_twenty.workspace import Workspace

if TYPE_CHECKING:
    from target_twenty.migration import RunInfo


def _plain(value: Any) -> Any:
    """A typed value as JSON-ready data: dataclasses → dicts, enums → their values."""
    if is_dataclass(value) and not isinstance(value, type):
        return {f.name: _plain(getattr(value, f.name)) for f in fields(value)}
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    return value


def write_run_report(
    run: RunInfo,
    config: dict[str, Any],
    workspace: Workspace,
    spool: Spool,
    plans: dict[str, ObjectPlan],
    outcome: WriteOutcome,
    needs: Provisioning,
    logger: logging.Logger,
) -> dict[str, Any]:
    rejects_path, repairs_path, n_rejects, n_repairs = report_mod.write_rejects_and_repairs(
        spool, run.run_dir
    )
    merges_path = _write_merges(run.run_dir, outcome.merges)
    manifest = _write_manifest(run, spool, plans)
    workflows = list(spool.side("_workflow"))
    (run.run_dir / "workflows.json").write_text(json.dumps(workflows, indent=2), encoding="utf-8")
    written = outcome.written
    report: dict[str, Any] = {
        "run_id": run.run_id,
        "mode": run.mode,
        "migration": config.get("migration_name", "crm2twenty migration"),
        "workspace": workspace.source,
        "started_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(run.started)),
        "finished_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "order": outcome.order.objects,
        "deferred": outcome.order.deferred,
        "object_cycles": outcome.order.cycles,
        "record_cycles": _plain(outcome.cycles),
        "objects": report_mod.object_counts(spool, written),
        "sources": report_mod.source_counts(spool, set(written)),
        "provisioning": needs.as_dict(),
        "owners": _owners_report(config, spool, outcome.members, outcome.orphans),
        "merges": _plain(outcome.merges),
        "rejects": {
            "count": n_rejects,
            "file": str(rejects_path),
            "top_reasons": _top_reasons(spool),
        },
        "repairs": {"count": n_repairs, "file": str(repairs_path)},
        "attachments": manifest,
        "workflows": workflows,
        "outputs": {
            "dir": str(run.run_dir),
            "merges_file": str(merges_path),
            **(_plain(outcome.outputs) if outcome.outputs is not None else {}),
        },
    }
    report["notices"] = [n.get("notice") for n in spool.side("_notices") if n.get("notice")]
    for key in ("api", "dry_run", "sample", "preflight"):
        value = getattr(outcome, key)
        if value is not None:
            report[key] = _plain(value)
    report["balanced"] = all(r["balanced"] for r in report["objects"]) and all(
        r["balanced"] for r in report["sources"]
    )
    json_path, md_path = report_mod.write_report(report, run.run_dir)
    (run.output_dir / "LATEST").write_text(run.run_id + "\n", encoding="utf-8")
    logger.info("report: %s (and %s)", md_path, json_path)
    if not report["balanced"]:
        logger.warning("some counts do not add up: see %s", md_path)
    return report


def _owners_report(
    config: dict[str, Any], spool: Spool, members: dict[str, str], orphans: set[str]
) -> dict[str, Any]:
    used = spool.owner_emails()
    source_users = list(spool.side("_owner"))
    if members:
        note = (
            f"{len(used)} owner e-mails; {len(used) - len(orphans)} matched workspace "
            f"members by e-mail (case-insensitive); unmatched ones were given "
            f"{config.get('fallback_owner_email') or 'no owner'}."
        )
    else:
        note = (
            f"{len(used)} distinct owner e-mails ({len(source_users)} source users). No "
            "workspace member list was given, so owner links are not in the CSV files: "
            "they are in the API leftovers, matched to members by e-mail when loaded "
            "(or set `workspace_members` and re-run)."
        )
    return {
        "used": used,
        "source_users": source_users,
        "orphans": sorted(orphans),
        "note": note,
    }


def _top_reasons(spool: Spool) -> list[tuple[str, int]]:
    counts: dict[str, int] = {}
    for rec in spool.side("_rejects"):
        key = _generic(rec.get("reason") or "")
        counts[key] = counts.get(key, 0) + 1
    for problem in spool.problems():
        if problem.kind is not ProblemKind.REJECT:
            continue
        key = _generic(problem.reason)
        counts[key] = counts.get(key, 0) + 1
    return sorted(counts.items(), key=lambda kv: -kv[1])[:10]


def _write_merges(run_dir: Path, merges: list[Merge]) -> Path:
    path = run_dir / "merges.csv"
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(
            handle,
            fieldnames=[
                "object",
                "merged_id",
                "merged_source",
                "survivor_id",
                "survivor_source",
                "reason",
            ],
        )
        writer.writeheader()
        writer.writerows(asdict(m) for m in merges)
    return path


def _write_manifest(
    run: RunInfo, spool: Spool, plans: dict[str, ObjectPlan]
) -> dict[str, Any] | None:
    """Every attachment, with its file and what became of it (always written)."""
    plan = plans.get("attachment")
    if plan is None:
        return None
    path = run.run_dir / "attachments-manifest.csv"
    total = missing = 0
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(
            ["id", "name", "parent", "source_key", "file", "exists", "size", "status", "note"]
        )
        for row in spool.all_of("attachment"):
            record = row.data
            info = record.get("_file") or {}
            parent = next(
                (
                    f"{fp.target} {record[fp.prop]}"
                    for fp in plan.relations()
                    if record.get(fp.prop)
                ),
                "",
            )
            exists = bool(info.get("exists"))
            total += 1
            missing += not exists
            note = row.reason or (
                "file missing in the export"
                if not exists
                else "upload pending: load api-leftovers.singer with API mode"
                if run.mode == "csv"
                else ""
            )
            writer.writerow(
                [
                    row.id,
                    record.get("name"),
                    parent,
                    row.source.key,
                    info.get("relativePath") or info.get("path"),
                    exists,
                    info.get("size"),
                    row.status.value or "written",
                    note,
                ]
            )
    return {"file": str(path), "total": total, "missing": missing}


def _generic(reason: str) -> str:
    """Group reject reasons for the summary: quoted values and ids are replaced by ``…``."""
    text = re.sub(r"'[^']*'|\"[^\"]*\"", "…", reason)
    return re.sub(r"\b[0-9a-f]{8}-[0-9a-f-]{27}\b|\(.*?\)", "…", text)
