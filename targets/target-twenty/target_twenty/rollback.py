"""``target-twenty rollback``: undo what one API run did, from its audit log.

In reverse order of the run's writes: records it created are destroyed (hard delete: they did
not exist before), records it updated get back the values they had, records it restored from the
trash go back to the trash; with ``--remove-metadata``, the options it added are removed (the
earlier list is PATCHed back with its ids), and the fields and objects it created are deleted.

    target-twenty rollback --config config.json --list
    target-twenty rollback --config config.json --run 20261122T101500Z-ab12 [--remove-metadata]
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

from target_twenty.api.client import TwentyError, client_for
from target_twenty.audit import Audit
from target_twenty.registry import Registry

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
    runs = {r[0]: r for r in audit.runs()}
    if run not in runs:
        raise SystemExit(f"no API run {run!r} in {audit.path} (see --list)")
    if runs[run][4]:
        raise SystemExit(f"run {run} was already rolled back at {runs[run][4]}")
    later = [r for r in runs.values() if r[2] > runs[run][2] and not r[4] and r[5]]
    if later and not force:
        raise SystemExit(
            "later runs wrote after this one and are not rolled back: "
            f"{', '.join(r[0] for r in later)}; roll them back first (newest first) "
            "or pass --force"
        )
    config.setdefault("requests_per_minute", 100 if "twenty.com" not in config["api_url"] else 50)
    client = client_for(config, LOG)
    writes = audit.writes(run)
    created = {(obj, rid) for obj, _p, rid, action, _ in writes if action == "created"}
    done = {"destroyed": 0, "reverted": 0, "trashed": 0, "missing": 0, "metadata": 0}
    for obj, plural, rid, action, prior in reversed(writes):
        try:
            if action == "created":
                client.destroy(plural, rid)
                done["destroyed"] += 1
            elif action == "updated" and (obj, rid) not in created:
                client.update(plural, rid, prior or {})
                done["reverted"] += 1
            elif action == "restored":
                client.soft_delete(plural, rid)
                done["trashed"] += 1
        except TwentyError as exc:
            if exc.status != 404:
                raise
            done["missing"] += 1  # already gone: nothing to undo
    if remove_metadata:
        for kind, mid, obj, name, prior in reversed(audit.metadata(run)):
            if kind == "options":
                client.patch_field(mid, {"options": prior})
            elif kind == "field":
                client.delete_field(mid)
            elif kind == "object":
                client.delete_object(mid)
            done["metadata"] += 1
            LOG.info("removed %s %s%s", kind, obj, f".{name}" if kind != "object" else "")
    db = sqlite3.connect(":memory:", isolation_level=None)
    Registry(state_dir(config) / "registry.sqlite", db).forget(run, sorted(created))
    audit.mark_rolled_back(run)
    return done


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(
        prog="target-twenty rollback", description=__doc__.split("\n\n")[0]
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
        for run, _mig, started, finished, rolled, writes in audit.runs():
            print(
                f"{run:<24} {started or '':<21} {finished or '(interrupted)':<21} {writes:>7}  "
                f"{rolled or ''}"
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
