"""What kind of run this is, for the top of the report: DRY RUN, SAMPLE, FULL or DELTA.

In API mode, a dry run writes nothing, a sample run loads a few records of each object; both
leave the rest for a full run. Otherwise the registry (what earlier runs of this migration
wrote), read before this run writes, decides: a run whose input leaves out records earlier
runs wrote is a DELTA (its input is what changed: the taps read from their bookmarks, or the
export holds only new rows); a run whose input carries every record earlier runs wrote is
FULL (a first load, or a re-run of everything, such as the full run after a sample).
"""

from __future__ import annotations

from typing import Any

from target_twenty.registry import Registry
from target_twenty.report.model import RunKind, RunScope
from target_twenty.spool import Spool


def run_scope(config: dict[str, Any], registry: Registry, spool: Spool) -> RunScope:
    earlier = registry.count()
    carried = spool.count_known() if earlier else 0
    api = config.get("mode") == "api"
    if api and config.get("dry_run"):
        kind = RunKind.DRY_RUN
    elif api and config.get("sample_size"):
        kind = RunKind.SAMPLE
    else:
        kind = RunKind.DELTA if earlier > carried else RunKind.FULL
    return RunScope(kind=kind, earlier_records=earlier, carried_again=carried)
