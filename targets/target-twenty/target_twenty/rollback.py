"""``target-twenty-rollback``: undo what one API run did, from its audit log.

Newest first and in batches (undo.py): records it created are destroyed, with the timeline
activities Twenty wrote for them; records it updated get back the values they had; records it
restored from the trash go back to it. With ``--remove-metadata``, the options it added are
removed (the earlier list is PATCHed back with its ids), and the fields and objects it created
are deleted. A batch the run had sent but never saw confirmed (it was killed) is undone as if it
had landed (audit.py).

Runs are undone newest first. ``--force`` undoes an older run anyway; afterwards a later run is
listed as rolled back too when nothing of it is left to undo — every record it wrote was one the
older run created, now destroyed — and otherwise with the number of writes it still has.

Interrupted (killed, a revoked key, a server that stopped answering), a rollback keeps what it
undid; the same command, run again, goes on from there.

    target-twenty-rollback --config config.json --list
    target-twenty-rollback --config config.json --run 20261122T101500Z-ab12 [--remove-metadata]
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sqlite3
import sys
from pathlib import Path
from typing import Any

from target_twenty.api.client import (
    TwentyClient,
    TwentyError,
    client_for,
    fetch_workspace,
    stopped,
)
from target_twenty.audit import Action, Audit, MetaWrite, RunInfo
from target_twenty.progress import DEFAULT_SECONDS
from target_twenty.registry import Registry, WorkspaceMismatch
from target_twenty.undo import Undoer, plan
from target_twenty.workspace import Workspace

LOG = logging.getLogger("target-twenty.rollback")
ENV = "TARGET_TWENTY_"


def load_config(paths: list[str]) -> dict[str, Any]:
    """Config files (later ones win), then ``TARGET_TWENTY_*`` variables, as Meltano sets them."""
    config: dict[str, Any] = {}
    for path in paths:
        if path != "ENV":
            config.update(json.loads(Path(path).read_text(encoding="utf-8")))
    for key, value in os.environ.items():
        if key.startswith(ENV) and value:
            config.setdefault(key[len(ENV) :].lower(), value)
    return config


def state_dir(config: dict[str, Any]) -> Path:
    return Path(config.get("state_dir") or Path(config.get("output_dir") or "output") / "state")


def rollback(
    config: dict[str, Any], run: str, *, remove_metadata: bool = False, force: bool = False
) -> dict[str, int]:
    audit = Audit(state_dir(config) / "audit.sqlite")
    runs = {r.run: r for r in audit.runs()}
    if run not in runs:
        raise SystemExit(f"no API run {run!r} in {audit.path} (see --list)")
    info = runs[run]
    if info.rolled_back:
        raise SystemExit(f"run {run} was already rolled back at {info.rolled_back}")
    later = [r for r in runs.values() if _after(r, info) and not r.rolled_back and r.left]
    if later and not force:
        raise SystemExit(
            "later runs wrote after this one and are not rolled back: "
            f"{', '.join(r.run for r in later)}; roll them back first (newest first) "
            "or pass --force"
        )
    config.setdefault("requests_per_minute", 100 if "twenty.com" not in config["api_url"] else 50)
    client = client_for(config, LOG)
    try:  # a key for another workspace would find none of the run's ids there
        audit.check_workspace(run, client.workspace_id)
    except WorkspaceMismatch as exc:
        raise SystemExit(str(exc)) from exc
    writes = audit.writes(run)
    groups, nothing = plan(writes)
    audit.mark_undone([w.seq for w in nothing])
    undoer = Undoer(
        client, audit, LOG, progress_seconds=float(config.get("progress_seconds", DEFAULT_SECONDS))
    )
    metadata = 0
    try:
        undoer.run(groups, run, frozenset(w.object for w in writes if w.action is Action.CREATED))
        if remove_metadata:
            metadata = _undo_metadata(client, audit, run)
    except TwentyError as exc:
        raise SystemExit(stopped(f"rollback of {run}", exc)) from exc
    if undoer.failed:
        shown = "; ".join(f"{f.object} {f.id}: {f.reason}" for f in undoer.failed[:5])
        raise SystemExit(
            f"rollback of {run}: Twenty refused to put back {len(undoer.failed)} records "
            f"({shown}); everything else is undone. Fix those values and run the same "
            "command again to finish."
        )
    created = sorted({(w.object, w.id) for w in writes if w.action is Action.CREATED})
    db = sqlite3.connect(":memory:", isolation_level=None)
    Registry(state_dir(config) / "registry.sqlite", db).forget(run, created)
    audit.mark_rolled_back(run)
    if later:
        _settle_later(audit, later, set(created))
    return {**undoer.done, "metadata": metadata, "requests": client.stats.requests}


def _after(r: RunInfo, info: RunInfo) -> bool:
    return r.order > info.order


def _settle_later(audit: Audit, later: list[RunInfo], destroyed: set[tuple[str, str]]) -> None:
    """After ``--force``: writes of later runs to records this rollback destroyed have nothing
    left to undo; a later run with nothing left at all is rolled back."""
    for info in later:
        moot = [
            w.seq for w in audit.writes(info.run) if not w.undone and (w.object, w.id) in destroyed
        ]
        audit.mark_undone(moot)
        if not any(not w.undone for w in audit.writes(info.run)):
            audit.mark_rolled_back(info.run)
            LOG.info("run %s has nothing left to undo: its records are gone", info.run)


def _undo_metadata(client: TwentyClient, audit: Audit, run: str) -> int:
    """Options back, then fields and objects deleted, newest first. A write the run never saw
    confirmed is found by its name, if Twenty made it."""
    todo = [m for m in reversed(audit.metadata(run)) if not m.undone]
    live = fetch_workspace(client) if any(not m.id for m in todo) else None
    count = 0
    for m in todo:
        mid = m.id or _find(live, m)
        try:
            if not mid:
                pass  # never made: nothing to undo
            elif m.kind == "options":
                client.patch_field(mid, {"options": m.prior})
            elif m.kind == "field":
                client.delete_field(mid)
            elif m.kind == "object":
                client.delete_object(mid)
        except TwentyError as exc:
            if exc.status != 404:
                raise
            mid = ""  # already gone
        audit.mark_undone([m.seq], metadata=True)
        if mid:
            count += 1
            where = m.object if m.kind == "object" else f"{m.object}.{m.name}"
            LOG.info("removed %s %s", m.kind, where)
    return count


def _find(live: Workspace | None, m: MetaWrite) -> str:
    obj = live.find(m.object or "") if live is not None else None
    if obj is None:
        return ""
    if m.kind == "object":
        return obj.id or ""
    found = obj.fields.get(m.name or "")
    return (found.id or "") if found is not None else ""


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(
        prog="target-twenty-rollback", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument(
        "--config",
        action="append",
        default=[],
        help="config file (repeatable) or ENV; TARGET_TWENTY_* variables apply",
    )
    parser.add_argument("--run", help="the run id to undo (its report names it)")
    parser.add_argument("--list", action="store_true", help="list the API runs in the audit log")
    parser.add_argument(
        "--remove-metadata",
        action="store_true",
        help="also remove the custom objects, fields and options the run created",
    )
    parser.add_argument(
        "--force",
        action="store_true",
        help="undo this run even though later runs are not rolled back",
    )
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    config = load_config(args.config)
    if args.list:
        audit = Audit(state_dir(config) / "audit.sqlite")
        print(f"{'run':<24} {'started':<21} {'finished':<21} {'writes':>7}  rolled back")
        for r in audit.runs():
            partly = f"partly ({r.left} writes left)" if r.left < r.writes else ""
            rolled = r.rolled_back or partly
            print(
                f"{r.run:<24} {r.started or '':<21} {r.finished or '(interrupted)':<21} "
                f"{r.writes:>7}  {rolled}"
            )
        return 0
    if not args.run:
        parser.error("--run is required (or --list)")
    for key in ("api_url", "api_key"):
        if not config.get(key):
            parser.error(f"{key} is missing: give it in --config or TARGET_TWENTY_{key.upper()}")
    done = rollback(config, args.run, remove_metadata=args.remove_metadata, force=args.force)
    print(json.dumps({"run": args.run, **done}))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
