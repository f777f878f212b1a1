"""``target-twenty-verify``: after an API load, read back every record it wrote and compare every
field with what was sent and with the source value.

    meltano invoke target-twenty:verify                        # the newest API run
    meltano invoke target-twenty:verify --run <run id> [--object person --object company]
    meltano invoke target-twenty:verify --all                  # every run of this state

Writes ``verify.csv`` and ``verify.html`` into the run's folder (``verify-all.*`` in the newest
run's with ``--all``) and prints one line: ``N records, M fields: all equal``, or the differences
by field. Exit status 1 when a value differs or a record is missing or in the trash.
"""

from __future__ import annotations

import argparse
import logging
import time
from pathlib import Path
from typing import Any

from target_twenty.api.client import TwentyError, client_for, fetch_workspace
from target_twenty.audit import Audit
from target_twenty.outcome import RequestStats
from target_twenty.registry import WorkspaceMismatch
from target_twenty.rollback import load_config, state_dir
from target_twenty.target import default_rate
from target_twenty.verify.check import VerifyResult, verify
from target_twenty.verify.files import VerifyFiles, write_files

LOG = logging.getLogger("target-twenty.verify")


def run_verify(
    config: dict[str, Any],
    run: str | None = None,
    *,
    every_run: bool = False,
    objects: list[str] | None = None,
) -> tuple[VerifyResult, VerifyFiles]:
    """Verify one run (default: the newest API run not rolled back), or every run."""
    audit = Audit(state_dir(config) / "audit.sqlite")
    runs = [r for r in audit.runs() if not r.rolled_back]
    if not runs:
        raise SystemExit(f"no API run to verify in {audit.path}")
    if run is not None:
        known = {r.run: r for r in audit.runs()}
        if run not in known:
            raise SystemExit(f"no API run {run!r} in {audit.path} (target-twenty-rollback --list)")
        if known[run].rolled_back:
            raise SystemExit(f"run {run} was rolled back at {known[run].rolled_back}")
    chosen = run or runs[-1].run
    config.setdefault("requests_per_minute", default_rate(config["api_url"]))
    client = client_for(config, LOG)
    try:  # a key for another workspace would find none of the run's records
        for r in runs if every_run else [r for r in audit.runs() if r.run == chosen]:
            audit.check_workspace(r.run, client.workspace_id)
    except WorkspaceMismatch as exc:
        raise SystemExit(str(exc)) from exc
    started = time.monotonic()
    workspace = fetch_workspace(client)
    verified = [r.run for r in runs] if every_run else [chosen]
    result, checks = verify(client, audit, workspace, verified, every_run, objects)
    if not every_run and not result.objects:
        raise SystemExit(
            f"run {chosen} has no record to verify: it wrote none, or it ran before the audit "
            "log kept what was sent"
        )
    run_dir = Path(config.get("output_dir") or "output") / (runs[-1].run if every_run else chosen)

    def finished() -> VerifyResult:
        result.seconds = time.monotonic() - started
        result.requests = RequestStats(**vars(client.stats))
        return result

    files = write_files(run_dir, "verify-all" if every_run else "verify", checks, finished)
    return result, files


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(
        prog="target-twenty-verify", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument(
        "--config",
        action="append",
        default=[],
        help="config file (repeatable) or ENV; TARGET_TWENTY_* variables apply",
    )
    which = parser.add_mutually_exclusive_group()
    which.add_argument("--run", help="the run id to verify (default: the newest API run)")
    which.add_argument(
        "--all",
        action="store_true",
        help="every record any run of this state wrote, as the last run sent it",
    )
    parser.add_argument(
        "--object",
        action="append",
        help="only this object (repeatable; singular or plural name)",
    )
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    config = load_config(args.config)
    for key in ("api_url", "api_key"):
        if not config.get(key):
            parser.error(f"{key} is missing: give it in --config or TARGET_TWENTY_{key.upper()}")
    try:
        result, files = run_verify(config, args.run, every_run=args.all, objects=args.object)
    except LookupError as exc:  # an --object the workspace does not have
        raise SystemExit(str(exc).strip("'\"")) from exc
    except TwentyError as exc:
        raise SystemExit(f"verify stopped: {exc}") from exc
    print(f"verify {', '.join(result.runs)}: {result.summary()}")
    print(f"cost: {result.cost()}")
    print(f"files: {files.html} {files.csv}")
    return 0 if result.equal else 1
