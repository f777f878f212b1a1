"""One run of target-twenty: the pipeline that calls the stages in order, and owns nothing else.

    spool → plan → provision → owners → checks → order → write → audit → report

- spool (intake.py, spool.py): each RECORD is checked against its field types and spooled;
- plan (plan.py): each SCHEMA became an object/field plan against the workspace;
- provision (provision.py): API mode creates what the workspace lacks, then the plans are
  rebuilt against it;
- owners (owners.py): owner e-mails → workspace members;
- checks (checks.py, with api/preflight.py against the live workspace): duplicates, options,
  references, cycles → rejects, repairs, merges;
- order (order.py): parents before children, deferred self-references;
- write (write/csv.py or write/api.py, one ``Writer`` protocol) → a ``WriteOutcome``;
- audit (registry.py, audit.py): what this run wrote is remembered for delta runs and rollback;
- report (report/): the RunReport → report.json / report.md, and the files beside them.
"""

from __future__ import annotations

import logging
import os
import secrets
import time
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from crm2twenty_common.cli import reported
from crm2twenty_common.completion import describe
from crm2twenty_common.twenty import NOTICES, is_side_stream

from target_twenty.api.client import TwentyClient
from target_twenty.api.preflight import Preflight, lookup_ids, run_preflight
from target_twenty.audit import Audit
from target_twenty.checks import CheckOutcome, Policies, run_checks
from target_twenty.intake import Intake
from target_twenty.order import load_order
from target_twenty.outcome import CsvOutputs, PreflightSummary, WriteOutcome
from target_twenty.owners import workspace_owners
from target_twenty.plan import ObjectPlan, provisioning
from target_twenty.progress import DEFAULT_SECONDS, Progress
from target_twenty.provision import provision
from target_twenty.registry import Registry
from target_twenty.report import (
    Mode,
    ReportContext,
    ReportFiles,
    RunReport,
    RunScope,
    build_report,
    prepare,
    write_report,
)
from target_twenty.report.model import Outcome, PluginRun, RunStatus
from target_twenty.report.scope import run_scope
from target_twenty.spool import Spool, remove_interrupted
from target_twenty.upstream import upstream_status
from target_twenty.workspace import Workspace
from target_twenty.write import WriteJob, Writer
from target_twenty.write.api import ApiWriter, rollback_command
from target_twenty.write.csv import CsvWriter


@dataclass(frozen=True)
class RunInfo:
    """What identifies this run and where its files go."""

    run_id: str
    mode: str  # csv | api
    output_dir: Path
    run_dir: Path
    state_dir: Path
    started: float


class Migration:
    """Receives the Singer stream (through the sink), then runs the stages at end of input."""

    def __init__(
        self,
        config: dict[str, Any],
        workspace: Workspace,
        logger: logging.Logger,
        client: TwentyClient | None = None,
    ) -> None:
        self.config = config
        self.logger = logger
        self.client = client  # when an API is configured
        output_dir = Path(config.get("output_dir") or "output").resolve()
        output_dir.mkdir(parents=True, exist_ok=True)
        while True:  # a folder of its own: two runs started in the same second never share one
            run_id = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime()) + "-" + secrets.token_hex(2)
            try:
                (output_dir / run_id).mkdir()
                break
            except FileExistsError:
                continue
        self.run = RunInfo(
            run_id=run_id,
            mode=config.get("mode", "csv"),
            output_dir=output_dir,
            run_dir=output_dir / run_id,
            state_dir=Path(config.get("state_dir") or output_dir / "state").resolve(),
            started=time.time(),
        )
        self.spool = Spool(self.run.run_dir / "spool.sqlite")
        for stale in remove_interrupted(output_dir, self.spool.path):
            logger.info("removed the spool an interrupted run left: %s", stale)
        self.registry = Registry(self.run.state_dir / "registry.sqlite", self.spool.db)
        if self.run.mode == "api" and client is not None:
            # before any input is read: state of another workspace is refused, naming both
            self.registry.check_workspace(client.workspace_id, bind=not bool(config.get("dry_run")))
        self.policies = Policies.from_config(config)
        self.intake = Intake(self.spool, workspace, self.policies.on_invalid_value, logger)
        self.held_back = False  # the input was not whole: nothing written (see upstream.py)
        seconds = float(config.get("progress_seconds", DEFAULT_SECONDS))
        self.reading = Progress("reading", seconds, logger)
        self._stages = ExitStack()
        prepare()  # the report's templates, before any input: not after it, when time counts

    @property
    def mode(self) -> str:
        return self.run.mode

    @property
    def moves_bookmarks(self) -> bool:
        """Whether this run may acknowledge the taps' STATE: not a dry or sample run (API
        mode), which leave records for the full run."""
        return not (
            self.mode == "api" and (self.config.get("dry_run") or self.config.get("sample_size"))
        )

    @property
    def plans(self) -> dict[str, ObjectPlan]:
        return self.intake.plans

    # ---- the spool stage: the sink hands every message here ---------------------------

    def on_schema(self, stream: str, schema: dict, key_properties: list[str]) -> None:
        self.intake.on_schema(stream, schema, key_properties)

    def on_record(self, stream: str, record: dict, line: int | None = None) -> None:
        if not is_side_stream(stream):
            if not self.reading.objects:  # the first record: the progress line starts
                self._stages.enter_context(self.reading.running())
            self.reading.add(stream)
        self.intake.on_record(stream, record, line)

    # ---- end of input: the other stages, in order -------------------------------------

    def finish(self) -> RunReport:
        """Provision, check, order, write, remember and report; returns the report."""
        spool, intake, run = self.spool, self.intake, self.run
        self._stages.close()  # the input is over: so is its progress line
        spool.finish_input()
        self.logger.info(
            "input complete: %d records in %d objects; checking",
            intake.received,
            len(intake.plans),
        )
        scope = run_scope(self.config, self.registry, spool)  # before this run is remembered
        upstream = upstream_status(spool.side(NOTICES), os.environ.get("MELTANO_EXTRACTOR_NAME"))
        if upstream.outcome.holds_back:
            return self._hold_back(scope, upstream)
        api = self.client if run.mode == "api" else None
        dry_run = bool(self.config.get("dry_run"))
        audit = Audit(run.state_dir / "audit.sqlite") if api is not None else None
        try:
            outcome = self._write(api, audit, dry_run)
        except Exception as exc:
            # the input was whole but this target stopped: the report says so, and what was
            # written before it stopped; no STATE follows, so the taps' bookmarks stay
            self._failed(scope, upstream, exc, audit)
            raise
        # report
        report = build_report(self._report_context(scope, upstream), spool, outcome)
        files = self._write_report(report)
        if upstream.outcome is Outcome.UNCONFIRMED:
            self.logger.warning("%s: see %s", upstream.summary, files.markdown)
        elif not report.balanced:
            self.logger.warning("some counts do not add up: see %s", files.markdown)
        elif not report.complete:
            self.logger.info(
                "%s run: not a finished migration (%s)", scope.kind.value, files.markdown
            )
        spool.close()
        if not self.config.get("keep_spool"):
            (run.run_dir / "spool.sqlite").unlink(missing_ok=True)
        return report

    def _write(self, api: TwentyClient | None, audit: Audit | None, dry_run: bool) -> WriteOutcome:
        """Provision, owners, checks, order, write and remember: the stages that change
        something outside the run's folder."""
        spool, intake, run = self.spool, self.intake, self.run
        if audit is not None and not dry_run:
            assert api is not None
            audit.start(
                run.run_id, self.config.get("migration_name", ""), api.base, api.workspace_id
            )
        # provision
        needs = provisioning(list(intake.plans.values()))
        if api is not None and audit is not None and not dry_run and not needs.is_empty():
            intake.replan(provision(api, needs, audit, run.run_id, self.logger))
        # owners
        owners = workspace_owners(self.config, api)
        # checks (API mode: also against the live workspace)
        checks, preflight = self._checks(api)
        # order
        order = load_order(intake.plans)
        # write
        writer: Writer
        if api is not None and audit is not None:
            writer = ApiWriter(
                api,
                self.config,
                spool,
                self.registry,
                audit,
                run.run_id,
                run.run_dir,
                intake.workspace,
                self.logger,
            )
        else:
            writer = CsvWriter(spool, run.run_dir, int(self.config.get("csv_max_rows", 10_000)))
        job = WriteJob(
            order, intake.plans, intake.schemas, checks, needs, owners, preflight=preflight
        )
        outcome = writer.write(job)
        outcome.owner_matching = owners.match_all(spool.owner_links())
        # audit
        self._remember(outcome, audit, dry_run)
        return outcome

    def _failed(
        self, scope: RunScope, upstream: RunStatus, exc: Exception, audit: Audit | None
    ) -> None:
        """The report of a run this target could not finish: FAILED, the error, and what
        Twenty confirmed before it stopped (API mode) — the rollback command undoes it."""
        run, spool = self.run, self.spool
        error = describe(exc)
        written: dict[str, int] = {}
        if audit is not None:
            for obj, _id in audit.confirmed(run.run_id):
                written[obj] = written.get(obj, 0) + 1
        done = sum(written.values())
        summary = f"target-twenty failed while writing: {error.rstrip('.')}"
        if run.mode == "api":
            assert self.client is not None
            summary += (
                f"; Twenty confirmed {done} records before it stopped "
                f"(`{rollback_command(run.run_id, self.client.base, run.state_dir)}` undoes them)"
            )
        status = RunStatus(
            Outcome.FAILED,
            summary,
            [*upstream.plugins, PluginRun("target-twenty", "target", "failed", error)],
            failed_in="target",
        )
        outcome = self._unfinished(written)
        where = ""
        try:
            report = build_report(self._report_context(scope, status), spool, outcome)
            where = f" (report: {self._write_report(report).markdown})"
        except Exception:  # the report of a failure must not hide the failure itself
            self.logger.exception("the report of the failed run could not be written")
        # the run's closing line, said once: the command exits 1 without repeating it
        self.logger.error("FAILED — %s%s", summary, where)
        reported(exc)

    def _hold_back(self, scope: RunScope, upstream: RunStatus) -> RunReport:
        """The input is not whole (a plugin upstream failed or stopped early): nothing is
        checked or written, so that half a source does not land half-linked; the report says
        why, and what was received and not written."""
        self.held_back = True
        spool, run = self.spool, self.run
        upstream.held_back = spool.skip_pending(f"not written: {upstream.summary}")
        self.logger.error(
            "%s — %s. Nothing was written: the %d records received are held back; fix the "
            "cause and run again (the taps' bookmarks were not moved).",
            upstream.outcome.value.upper(),
            upstream.summary,
            upstream.held_back,
        )
        outcome = self._unfinished({})
        report = build_report(self._report_context(scope, upstream), spool, outcome)
        self._write_report(report)
        spool.close()
        if not self.config.get("keep_spool"):
            (run.run_dir / "spool.sqlite").unlink(missing_ok=True)
        return report

    def _unfinished(self, written: dict[str, int]) -> WriteOutcome:
        """The outcome of a run that did not get through its write stage (held back, or
        stopped): the load order and provisioning it planned, and only what was ``written``."""
        mode = self.run.mode
        return WriteOutcome(
            order=load_order(self.intake.plans),
            cycles=[],
            merges=[],
            written=written,
            provisioning=provisioning(list(self.intake.plans.values())).needs(),
            members={},
            orphans=set(),
            outputs=CsvOutputs([], {}, None, 0, []) if mode == "csv" else None,
            preflight=PreflightSummary([], []) if mode == "api" else None,
        )

    def _write_report(self, report: RunReport) -> ReportFiles:
        """report.json, report.md and report.html; ``LAST_RUN`` names this run whatever became
        of it, ``LATEST`` only a run whose input was whole (or cannot be known not to be)."""
        run = self.run
        files = write_report(report, run.run_dir)
        (run.output_dir / "LAST_RUN").write_text(run.run_id + "\n", encoding="utf-8")
        if not report.status.outcome.holds_back:
            (run.output_dir / "LATEST").write_text(run.run_id + "\n", encoding="utf-8")
        self.logger.info("report: %s (and %s, %s)", files.html, files.markdown, files.json)
        return files

    def _report_context(self, scope: RunScope, upstream: RunStatus) -> ReportContext:
        run = self.run
        return ReportContext(
            run_id=run.run_id,
            mode=Mode(run.mode),
            scope=scope,
            migration=self.config.get("migration_name", "crm2twenty migration"),
            workspace=self.intake.workspace.source,
            workspace_id=self.client.workspace_id if self.client is not None else None,
            started=run.started,
            run_dir=run.run_dir,
            fallback_owner_email=self.config.get("fallback_owner_email"),
            plans=self.intake.plans,
            status=upstream,
        )

    def _checks(self, api: TwentyClient | None) -> tuple[CheckOutcome, Preflight | None]:
        intake = self.intake
        if api is None:
            return run_checks(self.spool, intake.plans, self.policies), None
        found = Preflight()

        def against_workspace() -> None:
            nonlocal found
            found = run_preflight(
                api,
                self.spool,
                intake.plans,
                intake.workspace,
                self.policies.on_duplicate,
                trust_registry=not self.config.get("rewrite_unchanged"),
            )

        checks = run_checks(
            self.spool,
            intake.plans,
            self.policies,
            lookup=lookup_ids(api, self.spool, intake.workspace),
            between=against_workspace,
        )
        return checks, found

    def _remember(self, outcome: WriteOutcome, audit: Audit | None, dry_run: bool) -> None:
        """The audit stage: the registry learns what was written (API: what Twenty confirmed)
        and the audit log marks the run finished."""
        run_id = self.run.run_id
        if audit is None:
            self.registry.remember_written(run_id, self.spool, list(outcome.written))
            return
        if dry_run:
            return
        self.registry.remember_written(
            run_id, self.spool, list(outcome.written), confirmed=audit.confirmed(run_id)
        )
        audit.finish(run_id)
