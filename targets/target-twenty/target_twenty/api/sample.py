"""API mode's sample run: load a few records of each object, read them back, compare.

``choose_sample`` picks the first ``sample_size`` records of each object plus every record
they point at (so the sample loads without dangling references) and marks the rest skipped;
``diff_sample`` reads what was written back from Twenty and writes ``sample-diff.csv``: every
mapped field, a composite sub-field by sub-field, an owner as the workspace member id.
"""

from __future__ import annotations

import csv
import json
import random
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from crm2twenty_common.twenty import PROVENANCE_PROPERTY

from target_twenty.api.client import TwentyClient
from target_twenty.order import LoadOrder
from target_twenty.outcome import FieldDiff, SampleDiff
from target_twenty.owners import Owners
from target_twenty.plan import FieldPlan, ObjectPlan
from target_twenty.spool import Spool
from target_twenty.verify.compare import compare
from target_twenty.workspace import Workspace


def choose_sample(spool: Spool, order: LoadOrder, size: int) -> set[int]:
    """The first ``sample_size`` records of each object, plus every record they point at
    (transitively), so the sample loads without dangling references. The rest are
    marked skipped: a full run loads them."""
    chosen: set[int] = set()
    for name in order.objects:
        chosen.update(spool.first_pending(name, size))
    frontier = set(chosen)
    while frontier:
        frontier = spool.parents(frontier) - chosen
        chosen |= frontier
    spool.skip_pending("not in the sample", keep=sorted(chosen))
    return chosen


def diff_sample(
    client: TwentyClient,
    spool: Spool,
    plans: dict[str, ObjectPlan],
    workspace: Workspace,
    written: set[tuple[str, str]],
    run_dir: Path,
    owners: Owners,
) -> SampleDiff:
    """Read every sampled record back and compare every mapped field: the source value, the
    value sent, the value Twenty returned. A composite is compared sub-field by sub-field in
    the shape Twenty returns it (docs/twenty-contract.md §4.1), an owner by workspace member
    id."""
    path = run_dir / "sample-diff.csv"
    rows_out: list[list[str | None]] = []
    by_object: dict[str, list[str]] = {}
    for obj, rid in written:
        by_object.setdefault(obj, []).append(rid)
    for obj, ids in sorted(by_object.items()):
        plan = plans[obj]
        plural = workspace.require(obj).plural
        back = {}
        for i in range(0, len(ids), 60):
            flt = f"id[in]:[{','.join(json.dumps(x) for x in ids[i : i + 60])}]"
            back.update({r["id"]: r for r in client.records(plural, flt)})
        for rid in sorted(ids):
            row = spool.find(obj, rid)
            if row is None:
                continue
            record = row.data
            source = (record.get(PROVENANCE_PROPERTY) or {}).get("src") or {}
            got = back.get(rid, {})
            for prop, sent in record.items():
                fp = plan.fields.get(prop)
                if prop.startswith("_") or fp is None:
                    continue
                for field, src, value, returned, same in _compared(fp, sent, got, owners):
                    rows_out.append(
                        [
                            obj,
                            rid,
                            row.source.stream,
                            row.source.key,
                            field,
                            _text(source.get(src, source.get(prop, "(not kept)"))),
                            _text(value),
                            _text(returned),
                            "" if same else "MISMATCH",
                        ]
                    )
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(
            [
                "object",
                "id",
                "source_stream",
                "source_key",
                "field",
                "source_value",
                "sent_value",
                "twenty_value",
                "flag",
            ]
        )
        writer.writerows(rows_out)
    by_field: dict[str, FieldDiff] = {}
    for r in rows_out:
        tally = by_field.setdefault(f"{r[0]}.{r[4]}", FieldDiff(0, 0))
        tally.compared += 1
        tally.mismatches += bool(r[-1])
    picked = random.Random(0).sample(rows_out, min(30, len(rows_out)))
    return SampleDiff(
        file=str(path),
        records=len(written),
        fields=len(rows_out),
        mismatches=sum(t.mismatches for t in by_field.values()),
        by_field=dict(sorted(by_field.items())),
        mismatched=[r for r in rows_out if r[-1]][:50],
        examples=sorted(picked),
    )


def _compared(
    fp: FieldPlan, sent: Any, got: dict, owners: Owners
) -> Iterator[tuple[str, str, Any, Any, bool]]:
    """(field, its key in the source values, value sent, value returned, same?) for one
    mapped property: one per sub-field of a composite."""
    if fp.match == "userEmail":  # an owner: the member the e-mail resolves to
        column = fp.column or fp.name
        member = owners.member_for(sent)
        yield column, fp.prop, member, got.get(column), member == got.get(column)
        return
    name = fp.column or fp.name
    for check in compare(fp.kind, name, sent, got.get(name)):
        src = fp.prop + check.field[len(name) :]  # a composite's sub-field: prop.sub
        yield check.field, src, check.sent, check.stored, check.same


def _text(value: Any) -> str:
    if value is None:
        return ""
    return (
        value if isinstance(value, str) else json.dumps(value, ensure_ascii=False, sort_keys=True)
    )
