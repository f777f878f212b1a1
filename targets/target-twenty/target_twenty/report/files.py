"""The files beside the report: rejects.csv, repairs.csv, merges.csv, the attachments
manifest and workflows.json. report.builder writes them and the report points at them."""

from __future__ import annotations

import csv
import dataclasses
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from target_twenty.outcome import Merge
from target_twenty.plan import ObjectPlan
from target_twenty.report.model import AttachmentsSummary, Mode, ProblemExample
from target_twenty.report.reasons import ReasonTally
from target_twenty.spool import ProblemKind, Spool

REJECT_COLUMNS = ["stage", "source_stream", "source_key", "object", "id", "location", "reason"]
REPAIR_COLUMNS = [
    "stage",
    "source_stream",
    "source_key",
    "object",
    "id",
    "location",
    "field",
    "value",
    "reason",
]
MERGE_COLUMNS = [f.name for f in dataclasses.fields(Merge)]
MANIFEST_COLUMNS = [
    "id",
    "name",
    "parent",
    "source_key",
    "file",
    "exists",
    "size",
    "status",
    "note",
]


@dataclass
class ProblemFiles:
    """rejects.csv and repairs.csv, how many lines each, and the repairs by reason."""

    rejects_path: Path
    repairs_path: Path
    rejects: int
    repairs: int
    repair_reasons: ReasonTally


def write_rejects_and_repairs(spool: Spool, run_dir: Path) -> ProblemFiles:
    """The tap's and mapper's rejects and repairs (side streams), then the target's own."""
    rejects_path, repairs_path = run_dir / "rejects.csv", run_dir / "repairs.csv"
    rejects = repairs = 0
    reasons = ReasonTally()
    with (
        rejects_path.open("w", encoding="utf-8", newline="") as rj,
        repairs_path.open("w", encoding="utf-8", newline="") as rp,
    ):
        rjw, rpw = csv.writer(rj), csv.writer(rp)
        rjw.writerow(REJECT_COLUMNS)
        rpw.writerow(REPAIR_COLUMNS)
        for rec in spool.side("_rejects"):
            rjw.writerow(
                [
                    rec.get("stage"),
                    rec.get("source_stream"),
                    rec.get("source_key"),
                    rec.get("object"),
                    None,
                    rec.get("location"),
                    rec.get("reason"),
                ]
            )
            rejects += 1
        for rec in spool.side("_repairs"):
            repair = ProblemExample(
                rec.get("stage") or "mapper",
                rec.get("source_stream"),
                rec.get("source_key"),
                rec.get("location"),
                rec.get("field"),
                rec.get("value"),
                rec.get("reason") or "",
            )
            rpw.writerow(
                [
                    repair.stage,
                    repair.source_stream,
                    repair.source_key,
                    rec.get("object"),
                    None,
                    repair.location,
                    repair.field,
                    repair.value,
                    repair.reason,
                ]
            )
            reasons.add(repair)
            repairs += 1
        for p in spool.problems():
            src = p.source
            if p.kind is ProblemKind.REJECT:
                rjw.writerow(
                    ["target", src.stream, src.key, p.object, p.id, src.location, p.reason]
                )
                rejects += 1
            else:
                rpw.writerow(
                    [
                        "target",
                        src.stream,
                        src.key,
                        p.object,
                        p.id,
                        src.location,
                        p.field,
                        p.value,
                        p.reason,
                    ]
                )
                reasons.add(
                    ProblemExample(
                        "target", src.stream, src.key, src.location, p.field, p.value, p.reason
                    )
                )
                repairs += 1
    return ProblemFiles(rejects_path, repairs_path, rejects, repairs, reasons)


def write_merges(merges: list[Merge], run_dir: Path) -> Path:
    path = run_dir / "merges.csv"
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(MERGE_COLUMNS)
        writer.writerows(dataclasses.astuple(m) for m in merges)
    return path


def write_manifest(
    spool: Spool, plan: ObjectPlan | None, mode: Mode, run_dir: Path
) -> AttachmentsSummary | None:
    """Every attachment, with its file and what became of it (always written when the run
    has attachments)."""
    if plan is None:
        return None
    path = run_dir / "attachments-manifest.csv"
    total = missing = 0
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(MANIFEST_COLUMNS)
        for rec in spool.all_of("attachment"):
            record = rec.data
            info = record.get("_file") or {}
            parents = (
                f"{fp.target} {record[fp.prop]}" for fp in plan.relations() if record.get(fp.prop)
            )
            parent = next(parents, "")
            exists = bool(info.get("exists"))
            total += 1
            missing += not exists
            note = rec.reason or (
                "file not found in the export: the attachment is written without it"
                if not exists
                else "upload pending: load api-leftovers.singer with API mode"
                if mode is Mode.CSV
                else ""
            )
            writer.writerow(
                [
                    rec.id,
                    record.get("name"),
                    parent,
                    rec.source.key,
                    info.get("relativePath") or info.get("path"),
                    exists,
                    info.get("size"),
                    rec.status.value or "written",
                    note,
                ]
            )
    return AttachmentsSummary(file=str(path), total=total, missing=missing)


def write_workflows(workflows: list[dict[str, Any]], run_dir: Path) -> Path:
    path = run_dir / "workflows.json"
    path.write_text(json.dumps(workflows, indent=2), encoding="utf-8")
    return path
