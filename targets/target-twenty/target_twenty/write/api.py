"""API mode's writer: load the workspace through Twenty's REST API (or plan it: dry run).

The ``Writer`` for API mode. A dry run estimates the requests (api/dryrun.py) and writes
nothing; a sample run loads a few records of each object and diffs them (api/sample.py);
otherwise the paced, idempotent load (api/loader.py) writes every pending record, each
confirmed write going to the audit log first.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from target_twenty.api.client import TwentyClient
from target_twenty.api.dryrun import estimate
from target_twenty.api.loader import Loader
from target_twenty.api.sample import choose_sample, diff_sample
from target_twenty.audit import Audit
from target_twenty.outcome import ApiStats, WriteOutcome
from target_twenty.registry import Registry
from target_twenty.spool import Spool
from target_twenty.workspace import Workspace
from target_twenty.write import WriteJob


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
            outcome = job.outcome({})
            outcome.dry_run = estimate(
                self.spool,
                job.order,
                job.provisioning,
                len(restores),
                self.config,
                int(self.client.stats["requests"]),
            )
            self.spool.skip_pending("dry run: nothing was written")
            return outcome
        size = self.config.get("sample_size")
        sample = choose_sample(self.spool, job.order, int(size)) if size else None
        loader = Loader(
            self.client,
            self.spool,
            job.plans,
            self.workspace,
            self.audit,
            self.registry,
            self.run_id,
            batch_size=int(self.config.get("batch_size", 200)),
            migration_name=self.config.get("migration_name", "crm2twenty migration"),
            owners=job.owners,
            max_concurrency=int(self.config.get("max_concurrency", 4)),
            progress_seconds=float(self.config.get("progress_seconds", 30)),
            logger=self.logger,
            only=sample,
        )
        loaded = loader.load(job.order.objects, job.order.deferred, restores)
        outcome = job.outcome(loaded.written)
        stats = self.client.stats
        outcome.api = ApiStats(
            created=loaded.created,
            updated=loaded.updated,
            restored=loaded.restored,
            uploads=loaded.uploads,
            requests=int(stats["requests"]),
            retries=int(stats["retries"]),
            rate_limited=int(stats["rate_limited"]),
            batch_size=loader.batch_size,
            audit=str(self.audit.path),
            rollback=f"target-twenty rollback --config <config> --run {self.run_id}",
        )
        if sample is not None:
            outcome.sample = diff_sample(
                self.client,
                self.spool,
                job.plans,
                self.workspace,
                self.audit.confirmed(self.run_id),
                self.run_dir,
            )
        return outcome
