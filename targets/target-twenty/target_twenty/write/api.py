"""API mode's writer: load the workspace through Twenty's REST API (or plan it: dry run).

The ``Writer`` for API mode. A dry run estimates the requests (api/dryrun.py) and writes
nothing; a sample run loads a few records of each object and diffs them (api/sample.py);
otherwise the paced, idempotent load (api/loader.py) writes every pending record, each
batch's intent going to the audit log before it is sent (audit.py). Records unchanged since
Twenty confirmed them are not sent, and a dry run does not count them.
"""

from __future__ import annotations

import dataclasses
import logging
import os
import shlex
from pathlib import Path
from typing import Any

from crm2twenty_common.twenty.load import MAX_BATCH

from target_twenty.api.client import TwentyClient, TwentyError, stopped
from target_twenty.api.dryrun import estimate
from target_twenty.api.loader import Loader
from target_twenty.api.sample import choose_sample, diff_sample
from target_twenty.audit import Audit
from target_twenty.outcome import ApiStats, WriteOutcome
from target_twenty.progress import DEFAULT_SECONDS
from target_twenty.registry import Registry
from target_twenty.spool import Spool
from target_twenty.workspace import Workspace
from target_twenty.write import WriteJob


class LoadStopped(RuntimeError):
    """A request failed past its retries (or the key was refused): the load stops."""


class ApiWriter:
    """The ``Writer`` for API mode."""

    def __init__(
        self,
        client: TwentyClient,
        config: dict[str, Any],
        spool: Spool,
        registry: Registry,
        audit: Audit,
        run_id: str,
        run_dir: Path,
        workspace: Workspace,
        logger: logging.Logger,
    ) -> None:
        self.client, self.config, self.spool = client, config, spool
        self.registry, self.audit = registry, audit
        self.run_id, self.run_dir = run_id, run_dir
        self.workspace, self.logger = workspace, logger

    def write(self, job: WriteJob) -> WriteOutcome:
        restores = job.preflight.restore if job.preflight is not None else []
        if self.config.get("dry_run"):
            self._loader(job, None).set_aside_unchanged(job.order.objects)
            outcome = job.outcome({})
            outcome.dry_run = estimate(
                self.spool,
                job.order,
                job.provisioning,
                len(restores),
                self.config,
                dataclasses.replace(self.client.stats),
                self.registry.known,
            )
            self.spool.skip_pending("dry run: nothing was written")
            outcome.requests = dataclasses.replace(self.client.stats)
            outcome.request_log = self.client.log.copy()
            return outcome
        size = self.config.get("sample_size")
        sample = choose_sample(self.spool, job.order, int(size)) if size else None
        loader = self._loader(job, sample)
        try:
            loaded = loader.load(job.order.objects, job.order.deferred, restores)
        except TwentyError as exc:
            # no STATE has been emitted: the same command loads what is left
            raise LoadStopped(stopped(f"the load of run {self.run_id}", exc)) from exc
        outcome = job.outcome(loaded.written)
        stats = self.client.stats
        outcome.api = ApiStats(
            created=loaded.created,
            updated=loaded.updated,
            restored=loaded.restored,
            uploads=loaded.uploads,
            requests=stats.requests,
            retries=stats.retries,
            rate_limited=stats.rate_limited,
            batch_size=loader.batch_size,
            audit=str(self.audit.path),
            rollback=rollback_command(self.run_id, self.client.base, self.audit.path.parent),
        )
        if sample is not None:
            outcome.sample = diff_sample(
                self.client,
                self.spool,
                job.plans,
                self.workspace,
                self.audit.confirmed(self.run_id),
                self.run_dir,
                job.owners,
            )
        outcome.requests = dataclasses.replace(self.client.stats)
        outcome.request_log = self.client.log.copy()
        return outcome

    def _loader(self, job: WriteJob, sample: set[int] | None) -> Loader:
        return Loader(
            self.client,
            self.spool,
            job.plans,
            self.workspace,
            self.audit,
            self.registry,
            self.run_id,
            batch_size=int(self.config.get("batch_size", MAX_BATCH)),
            migration_name=self.config.get("migration_name", "crm2twenty migration"),
            owners=job.owners,
            max_concurrency=int(self.config.get("max_concurrency", 4)),
            progress_seconds=float(self.config.get("progress_seconds", DEFAULT_SECONDS)),
            logger=self.logger,
            only=sample,
            rewrite_unchanged=bool(self.config.get("rewrite_unchanged")),
        )


def rollback_command(run_id: str, api_url: str, state_dir: Path) -> str:
    """The command that undoes this run, as it can be typed where the run was started: through
    Meltano (which gives the rollback this run's settings) when Meltano ran the target, else
    the executable with the settings it needs in ``TARGET_TWENTY_*`` variables (the API key
    is never written out: it must be in ``TARGET_TWENTY_API_KEY``)."""
    loader = os.environ.get("MELTANO_LOADER_NAME")
    if loader:
        return f"meltano invoke {shlex.quote(loader + ':rollback')} --run {run_id}"
    return (
        f"TARGET_TWENTY_API_URL={shlex.quote(api_url)} "
        f"TARGET_TWENTY_STATE_DIR={shlex.quote(str(state_dir))} "
        f"target-twenty-rollback --run {run_id}"
    )
