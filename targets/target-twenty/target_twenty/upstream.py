"""Whether the input is whole: what the plugins upstream said of their own run.

Each tap and the mapper of this suite says on ``_notices`` that it started, then that it
completed or failed (crm2twenty_common.completion; docs/singer-meltano.md §2.8). The end of the
target's input says nothing by itself: Meltano closes it when a tap dies just as when it
finishes. So:

- a plugin said it failed → FAILED (its error goes to the report);
- a plugin said it started and never said it completed → INCOMPLETE (stopped or crashed);
- no tap said anything → UNCONFIRMED: a Singer tap outside this suite, or one of the suite's
  with its ``side_streams`` setting off (docs/singer-meltano.md §2.10), whose input cannot be
  known to be whole (the run goes on, since a tap from elsewhere is a legitimate input; the
  report and the log say so instead of claiming balance, and name the setting);
- else COMPLETE.

A FAILED or INCOMPLETE input is held back: nothing is written, no STATE is emitted (the taps'
bookmarks stay), and ``LATEST`` keeps naming the last run that ran to the end.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from target_twenty.report.model import Outcome, PluginRun, RunStatus

_RANK = {"started": 0, "completed": 1, "failed": 2}


def upstream_status(notices: Iterable[dict[str, Any]], extractor: str | None = None) -> RunStatus:
    """The run's status from the ``_notices`` records (in arrival order); ``extractor``: the
    tap's name where Meltano gives it (MELTANO_EXTRACTOR_NAME), for the advice."""
    plugins: dict[tuple[str, str], PluginRun] = {}
    for notice in notices:
        status = notice.get("status")
        if status not in _RANK:
            continue
        key = (str(notice.get("stage") or "tap"), str(notice.get("source") or "?"))
        seen = plugins.get(key)
        if seen is None or _RANK[status] >= _RANK[seen.status]:
            plugins[key] = PluginRun(key[1], key[0], status, notice.get("error"))
    runs = list(plugins.values())
    failed = [p for p in runs if p.status == "failed"]
    if failed:
        return RunStatus(
            Outcome.FAILED, "; ".join(f"{p.plugin} failed: {p.error}" for p in failed), runs
        )
    cut = [p for p in runs if p.status == "started"]
    if cut:
        names = ", ".join(p.plugin for p in cut)
        return RunStatus(
            Outcome.INCOMPLETE,
            f"{names} started but never said it completed: it was stopped or crashed before "
            "the end of its input",
            runs,
        )
    if not any(p.stage == "tap" for p in runs):
        return RunStatus(Outcome.UNCONFIRMED, _unconfirmed(extractor), runs)
    taps = ", ".join(p.plugin for p in runs if p.stage == "tap")
    return RunStatus(Outcome.COMPLETE, f"{taps} read everything it was asked for", runs)


def _unconfirmed(extractor: str | None) -> str:
    """Why the input cannot be confirmed whole, and what turns the confirmation on."""
    tap = extractor or "<tap>"
    return (
        "the tap does not say whether it read everything: no completion notice arrived on "
        "`_notices`, so this run cannot confirm that its input was whole. A tap of this suite "
        "sends it (with its rejected rows on `_rejects`) only with its `side_streams` setting "
        f"on (`meltano config set {tap} side_streams true`; this project's meltano.yml turns "
        "it on); a tap from elsewhere never does"
    )
