"""The report stage: from the write stage's ``WriteOutcome`` and the spool, the ``RunReport``.

It writes the files the report points at (rejects, repairs, merges, attachments manifest,
workflows), counts every object and source stream (``report.counts``), explains the owner
matching and sums up the reject reasons.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

from crm2twenty_common.members import member_list, write_invites
from crm2twenty_common.twenty import INVENTORY, REVIEW

from target_twenty.outcome import WriteOutcome
from target_twenty.plan import ObjectPlan
from target_twenty.report import files
from target_twenty.report.counts import object_counts, source_counts
from target_twenty.report.load import load_over_time
from target_twenty.report.model import (
    InventoryEntry,
    InventorySection,
    Mode,
    Outcome,
    OwnersReport,
    RejectsSummary,
    RepairsSummary,
    ReviewItem,
    RunKind,
    RunOutputs,
    RunReport,
    RunScope,
    RunStatus,
    counts_add_up,
)
from target_twenty.report.reasons import generic
from target_twenty.spool import ProblemKind, Spool


@dataclass
class ReportContext:
    """What the report says about the run itself."""

    run_id: str
    mode: Mode
    scope: RunScope
    migration: str  # the migration's name
    workspace: str  # where the workspace metadata came from
    started: float  # epoch seconds
    run_dir: Path
    fallback_owner_email: str | None
    plans: dict[str, ObjectPlan]
    workspace_id: str | None = None  # API mode: the workspace the API key names
    status: RunStatus | None = None  # whether the input was whole (None: not known)


def build_report(run: ReportContext, spool: Spool, outcome: WriteOutcome) -> RunReport:
    problems = files.write_rejects_and_repairs(spool, run.run_dir)
    merges_path = files.write_merges(outcome.merges, run.run_dir)
    manifest = files.write_manifest(spool, run.plans.get("attachment"), run.mode, run.run_dir)
    workflows = list(spool.side("_workflow"))
    files.write_workflows(workflows, run.run_dir)
    report = RunReport(
        run_id=run.run_id,
        mode=run.mode,
        scope=run.scope,
        migration=run.migration,
        workspace=run.workspace,
        workspace_id=run.workspace_id,
        started_at=_instant(run.started),
        finished_at=_instant(time.time()),
        order=outcome.order.objects,
        deferred=outcome.order.deferred,
        object_cycles=outcome.order.cycles,
        record_cycles=outcome.cycles,
        objects=object_counts(spool, outcome.written, run.plans),
        sources=source_counts(
            spool, set(outcome.written), [p.stream for p in run.plans.values() if p.plain]
        ),
        provisioning=outcome.provisioning,
        owners=_owners(spool, outcome, run.fallback_owner_email, run.run_dir),
        merges=outcome.merges,
        rejects=RejectsSummary(
            count=problems.rejects,
            file=str(problems.rejects_path),
            top_reasons=_top_reasons(spool),
        ),
        repairs=RepairsSummary(
            count=problems.repairs,
            file=str(problems.repairs_path),
            by_reason=problems.repair_reasons.by_count(),
        ),
        attachments=manifest,
        workflows=workflows,
        outputs=RunOutputs(
            dir=str(run.run_dir), merges_file=str(merges_path), csv_mode=outcome.outputs
        ),
        notices=[
            n["notice"] for n in spool.side("_notices") if n.get("notice") and not n.get("status")
        ],
        needs_review=[
            ReviewItem(
                r["stream"], r["column"], r["outcome"], r["evidence"], r["question"], r["figure"]
            )
            for r in spool.side(REVIEW)
        ],
        inventories=_inventories(spool),
        api=outcome.api,
        dry_run=outcome.dry_run,
        sample=outcome.sample,
        preflight=outcome.preflight,
        requests=outcome.requests,
        load=load_over_time(outcome.request_log),
    )
    if run.status is not None:
        report.status = run.status
    # Balanced: the counts add up and the input is known to be whole. A source cut short, or
    # a tap that does not say whether it read everything, cannot be claimed to balance,
    # whatever the counts of what arrived say.
    report.balanced = report.status.outcome is Outcome.COMPLETE and counts_add_up(report)
    skipped = any(o.skipped for o in report.objects) or any(s.skipped for s in report.sources)
    report.complete = (
        report.balanced and run.scope.kind in (RunKind.FULL, RunKind.DELTA) and not skipped
    )
    return report


def _instant(epoch: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(epoch))


def _owners(
    spool: Spool, outcome: WriteOutcome, fallback: str | None, run_dir: Path
) -> OwnersReport:
    used = spool.owner_emails()
    source_users = list(spool.side("_owner"))
    # membership is known when the members were read (API mode) or listed (workspace_members)
    members = member_list(source_users, spool.owner_links(), outcome.members or None)
    write_invites(members, run_dir)
    matching = outcome.owner_matching if outcome.members else None
    if matching is not None:
        note = (
            f"{matching.links} owner links over the records written or to be written, to "
            f"{len(used)} distinct e-mails: {matching.matched} matched a workspace member by "
            f"e-mail (case-insensitive), {matching.fallback} were given the fallback member"
            f"{' ' + fallback if fallback else ''}, {matching.unowned} were left without owner; "
            f"{len(outcome.orphans)} e-mails match no member."
        )
    else:
        note = (
            f"{len(used)} distinct owner e-mails ({len(source_users)} source users). No "
            "workspace member list was given, so owner links are not in the CSV files: "
            "they are in the API leftovers, matched to members by e-mail when loaded "
            "(or set `workspace_members` and re-run)."
        )
    return OwnersReport(
        used=used,
        source_users=source_users,
        orphans=sorted(outcome.orphans),
        note=note,
        matching=matching,
        members=members,
    )


def _inventories(spool: Spool) -> list[InventorySection]:
    """The ``_inventory`` items by (source, section), in the order the taps sent them."""
    sections: dict[tuple[str, str], InventorySection] = {}
    for item in spool.side(INVENTORY):
        key = (str(item.get("source") or ""), str(item.get("section") or ""))
        section = sections.setdefault(key, InventorySection(*key))
        if item.get("by_hand"):
            section.by_hand.append(str(item["by_hand"]))
        if item.get("name"):
            details = {str(k): str(v) for k, v in (item.get("details") or {}).items()}
            section.items.append(InventoryEntry(str(item["name"]), details))
    return list(sections.values())


def _top_reasons(spool: Spool) -> list[tuple[str, int]]:
    """The ten commonest reject reasons (upstream's, then the target's), values blanked."""
    counts: dict[str, int] = {}
    reasons = [rec.get("reason") or "" for rec in spool.side("_rejects")]
    reasons += [p.reason for p in spool.problems() if p.kind is ProblemKind.REJECT]
    for reason in reasons:
        key = generic(reason)
        counts[key] = counts.get(key, 0) + 1
    return sorted(counts.items(), key=lambda kv: -kv[1])[:10]
