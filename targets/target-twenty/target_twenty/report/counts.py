"""Reconciliation: does every record read come out somewhere? (report.builder calls these.)

Per Twenty object: received = written + merged + rejected (+ skipped, + unchanged). Per source
stream: read = written + merged + rejected + ignored (+ skipped, + unchanged), where a source
row's fate is its primary record's fate, or the tap's or mapper's reject. ``balanced``
says whether it adds up.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable

from target_twenty.plan import BOOKKEEPING
from target_twenty.report.model import ObjectCount, SourceCount
from target_twenty.spool import ObjectTally, Spool, Status


def object_counts(
    spool: Spool, written: dict[str, int], declared: Iterable[str] = ()
) -> list[ObjectCount]:
    """Per object that received records, and (0 received) per ``declared`` one that did not:
    a stream whose SCHEMA came without a record is listed, not left out."""
    tallies = spool.object_tallies()
    seen = {t.object for t in tallies}
    tallies += [ObjectTally(obj, 0, 0, 0, 0) for obj in sorted(set(declared) - seen)]
    rows = []
    for t in sorted(tallies, key=lambda t: t.object):
        wrote = written.get(t.object, 0)
        rows.append(
            ObjectCount(
                object=t.object,
                received=t.received,
                written=wrote,
                merged=t.merged,
                rejected=t.rejected,
                skipped=t.skipped or None,
                unchanged=t.unchanged or None,
                balanced=t.received == wrote + t.merged + t.rejected + t.skipped + t.unchanged,
            )
        )
    return rows


def source_counts(
    spool: Spool, written_objects: set[str], declared: Iterable[str] = ()
) -> list[SourceCount]:
    """Per source stream, from the mapper's _summary and each primary record's fate; a
    ``declared`` stream (a plain Singer stream's SCHEMA) without a record is listed with 0."""
    fates: dict[str, Counter[str]] = defaultdict(Counter, {s: Counter() for s in declared})
    for stream, obj, status, n in spool.primary_fates():
        if status is Status.PENDING:  # never marked: written, unless its object was not
            fate = "written" if obj in written_objects else "unwritten"
        else:
            fate = status.value
        fates[stream][fate] += n
    kept_out = [s for s in spool.side_streams() if s not in BOOKKEEPING]
    for side in kept_out:  # rows the rules turned into report data (owners, workflows …)
        for rec in spool.side(side):
            prov = rec.get("_crm2twenty") or {}
            if prov.get("primary", True) and prov.get("stream"):
                fates[prov["stream"]]["written"] += 1
    upstream: dict[str, Counter[str]] = defaultdict(Counter)
    for rec in spool.side("_rejects"):
        upstream[rec.get("source_stream") or "?"][f"rejected_by_{rec.get('stage', 'tap')}"] += 1
    summaries = {rec["stream"]: rec for rec in spool.side("_summary")}
    rows = []
    for stream in sorted(set(fates) | set(summaries) | set(upstream)):
        summary = summaries.get(stream, {})
        f, u = fates[stream], upstream[stream]
        primary = sum(f.values())
        written, merged = f["written"], f[Status.MERGED.value]
        skipped = f[Status.SKIPPED.value]
        unchanged = f[Status.UNCHANGED.value]
        by_tap, by_mapper = u["rejected_by_tap"], u["rejected_by_mapper"]
        by_target = f[Status.REJECTED.value]
        read = summary.get("read", primary + by_tap + by_mapper)
        ignored = summary.get("ignored", 0)
        rejected = by_tap + by_mapper + by_target
        rows.append(
            SourceCount(
                stream=stream,
                read=read,
                rejected_by_tap=by_tap,
                rejected_by_mapper=by_mapper,
                ignored=ignored,
                ignored_because=summary.get("ignored_because"),
                written=written,
                merged=merged,
                rejected_by_target=by_target,
                skipped=skipped or None,
                unchanged=unchanged or None,
                lost_in_transit=summary.get("mapped", 0) - primary
                if summary and summary.get("mapped") != primary
                else None,
                rejected=rejected,
                balanced=read == written + merged + rejected + ignored + skipped + unchanged,
            )
        )
    return rows
