"""What report.md and report.html both say, worked out once from the ``RunReport``: the status
banners at the top (how the run went, in the same words in both), whether the counts add up,
the totals and the objects in load order. The templates only lay these out.

Banner text is Markdown inline (``**bold**`` and ```code```): report.md prints it as it is,
report.html turns those two marks into HTML (render.inline).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

from target_twenty.report.model import (
    ObjectCount,
    Outcome,
    RunKind,
    RunReport,
    SourceCount,
    counts_add_up,
)


class Tone(str, Enum):
    """How a banner reads at a glance (report.html colours it)."""

    FAILED = "failed"  # the run failed, or counts do not add up
    WARNING = "warning"  # not a finished migration: a dry run, a sample, skipped records
    INFO = "info"  # what kind of run it was
    OK = "ok"  # every count adds up and the migration is done


@dataclass
class Banner:
    tone: Tone
    text: str  # Markdown inline


@dataclass
class Part:
    """One share of a row's records (written, merged, …): its figure and where report.json
    holds it (a JSON Pointer)."""

    kind: str
    count: int
    pointer: str


@dataclass
class ObjectRow:
    position: int | str  # in the load order ("" for an object outside it)
    index: int  # in report.objects (and report.json's "objects")
    count: ObjectCount

    @property
    def parts(self) -> list[Part]:
        return _parts(self.count, f"/objects/{self.index}", OBJECT_PARTS)


@dataclass
class SourceRow:
    index: int  # in report.sources
    count: SourceCount

    @property
    def parts(self) -> list[Part]:
        return _parts(self.count, f"/sources/{self.index}", SOURCE_PARTS)


# What becomes of records, in the order the report draws them.
OBJECT_PARTS = ("written", "unchanged", "merged", "rejected", "skipped")
SOURCE_PARTS = ("written", "unchanged", "merged", "rejected", "ignored", "skipped")


def _parts(row: ObjectCount | SourceCount, at: str, kinds: tuple[str, ...]) -> list[Part]:
    return [Part(kind, getattr(row, kind), f"{at}/{kind}") for kind in kinds if getattr(row, kind)]


@dataclass
class ReportView:
    r: RunReport
    banners: list[Banner]  # the outcome when the run failed, then the kind of run
    verdict: Banner  # whether the counts add up
    counts_add_up: bool
    skipped: int  # records of every object left for a later run
    unchanged: int  # records not sent again: Twenty had them as they are
    objects: list[ObjectRow]  # in load order
    sources: list[SourceRow]
    totals: list[Part]  # over every source stream: what became of the records read (written,
    # merged and rejected always; the others when there are some)
    read: int  # records read from the source, over every stream


def view(report: RunReport) -> ReportView:
    skipped = sum(o.skipped or 0 for o in report.objects)
    adds_up = counts_add_up(report)
    position = {name: i + 1 for i, name in enumerate(report.order)}
    objects = sorted(
        (ObjectRow(position.get(o.object, ""), i, o) for i, o in enumerate(report.objects)),
        key=lambda row: position.get(row.count.object, 999),
    )
    totals = [
        Part(kind, sum(getattr(s, kind) or 0 for s in report.sources), f"/sources/*/{kind}")
        for kind in SOURCE_PARTS
    ]
    return ReportView(
        r=report,
        banners=[b for b in (_outcome(report), _kind(report, skipped)) if b is not None],
        verdict=_verdict(report, adds_up, skipped),
        counts_add_up=adds_up,
        skipped=skipped,
        unchanged=sum(o.unchanged or 0 for o in report.objects),
        objects=objects,
        sources=[SourceRow(i, s) for i, s in enumerate(report.sources)],
        totals=[t for t in totals if t.count or t.kind in ("written", "merged", "rejected")],
        read=sum(s.read for s in report.sources),
    )


_AGAIN = "Fix the cause and run again. `LATEST` still names the last run that ran to the end."


def _outcome(r: RunReport) -> Banner | None:
    """A run that failed, or whose input was not whole, says so before anything else."""
    status = r.status
    if status.failed_in == "target":
        return Banner(
            Tone.FAILED,
            f"**FAILED — {status.summary.rstrip('.')}.** The taps' bookmarks were not moved: "
            "fix the cause and run again (what was written is recognised by its id, not "
            "written twice). `LATEST` still names the last run that ran to the end.",
        )
    if status.outcome.holds_back:
        where = " to Twenty" if r.mode.value == "api" else " (no CSV batches)"
        return Banner(
            Tone.FAILED,
            f"**{status.outcome.value.upper()} — {status.summary.rstrip('.')}.** Nothing was "
            f"written{where}: the {status.held_back} records received are held back (counted "
            "as skipped below), so that half a source does not land half-linked, and the "
            f"taps' bookmarks were not moved. {_AGAIN}",
        )
    return None


def _kind(r: RunReport, skipped: int) -> Banner:
    kind, scope = r.scope.kind, r.scope
    if kind is RunKind.DRY_RUN:
        text = "**DRY RUN — nothing was written to Twenty.**"
        if (d := r.dry_run) is not None:
            text += (
                f" A real run would send {d.requests} requests ({d.reads} reads, {d.writes} "
                f"writes, {d.metadata_requests} metadata, {d.uploads} uploads), about "
                f"{d.eta_minutes} minutes at {d.requests_per_minute} requests per minute; the "
                f"{skipped} records it would load are counted as skipped below."
            )
        return Banner(Tone.WARNING, text + " The taps' bookmarks were not moved.")
    if kind is RunKind.SAMPLE:
        s = r.sample
        text = (
            f"**SAMPLE — not a complete migration: {s.records if s else 0} records were loaded "
            f"and read back; the other {skipped} were skipped and wait for a full run** (run "
            "again without `sample_size`: the taps' bookmarks were not moved)."
        )
        if s:
            text += (
                f" {s.mismatches} of {s.fields} values read back differ from what was sent — "
                "`sample-diff.csv`."
            )
        return Banner(Tone.WARNING, text)
    if kind is RunKind.DELTA:
        return Banner(
            Tone.INFO,
            "**DELTA — this run's input holds what changed:** earlier runs of this migration "
            f"wrote {scope.earlier_records} records, {scope.earlier_records - scope.carried_again}"
            " of which this input does not carry and were left as they are; the counts below "
            "are this run's input.",
        )
    again = (
        f" — a re-run: {scope.carried_again} of its records were written by earlier runs."
        if scope.carried_again
        else "."
    )
    return Banner(Tone.INFO, f"**FULL run**{again}")


def _verdict(r: RunReport, adds_up: bool, skipped: int) -> Banner:
    """Whether the counts add up; never that they do when the input was not whole."""
    outcome = r.status.outcome
    if r.status.failed_in == "target":
        return Banner(Tone.FAILED, "**The counts cannot add up: the run stopped while writing.**")
    if outcome.holds_back:
        return Banner(
            Tone.FAILED, "**The counts cannot add up: the source was not read to the end.**"
        )
    if not adds_up:
        return Banner(Tone.FAILED, "**Some counts do not add up — see the rows marked ✗.**")
    if outcome is Outcome.UNCONFIRMED:
        return Banner(
            Tone.WARNING, f"**The counts add up for what arrived, but {r.status.summary}.**"
        )
    if r.complete:
        return Banner(Tone.OK, "**All counts add up.**")
    return Banner(
        Tone.WARNING,
        f"**The counts add up, with {skipped} records skipped: this run is not a finished "
        "migration.**",
    )
