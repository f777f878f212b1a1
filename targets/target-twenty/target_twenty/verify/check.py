"""Read back every record a run wrote and compare each field with what was sent.

Which records: those whose body the run sent and Twenty confirmed (the audit log), or every
run's (``--all``), none a rollback undid; what they should hold: every field as the last body
that carried it, whichever run sent it (a delta's update counts, a rolled-back one does not).
They are read 200 at a time by id, the server's page limit (docs/twenty-contract.md §2.9; 200 ids
keep the request line near 9 KB, §2.11), the trash included so that a trashed record is told
from a missing one, through the load's client and pacer: verify uses the rate limit as the load
does and never exceeds it.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from enum import Enum
from typing import Any

from target_twenty.api.client import TwentyClient, id_filter
from target_twenty.api.preflight import TRASH_TOO
from target_twenty.audit import Audit, LastSent
from target_twenty.outcome import RequestStats
from target_twenty.verify.compare import compare
from target_twenty.verify.sent import NOT_KEPT
from target_twenty.workspace import Obj, Workspace

PAGE = 200  # records per read: the most Twenty v2.21 answers (docs/twenty-contract.md §2.9)
NOT_COMPARED = ("id", "createdBy")  # the key itself; the creator an update does not change


class Verdict(str, Enum):
    EQUAL = "equal"
    DIFFERENT = "different"
    MISSING = "missing"  # not in the workspace (destroyed since)
    TRASHED = "in the trash"


@dataclass(frozen=True)
class Checked:
    """One line of verify.csv."""

    object: str
    id: str
    source_stream: str | None
    source_key: str | None
    field: str
    source: Any
    sent: Any
    stored: Any
    verdict: Verdict


@dataclass
class VerifyResult:
    runs: list[str]  # the runs whose records were verified
    objects: list[str]
    records: int = 0
    fields: int = 0
    differences: Counter[str] = field(default_factory=Counter)  # "object.field" → values
    missing: int = 0  # records
    trashed: int = 0  # records
    requests: RequestStats = field(default_factory=RequestStats)
    seconds: float = 0.0
    requests_per_minute: int = 0

    @property
    def equal(self) -> bool:
        return not (self.differences or self.missing or self.trashed)

    def summary(self) -> str:
        """``N records, M fields: all equal``, or the differences by field."""
        head = f"{_count(self.records, 'record')}, {_count(self.fields, 'field')}: "
        if self.equal:
            return head + "all equal"
        parts = []
        if self.differences:
            total = sum(self.differences.values())
            by_field = ", ".join(f"{k} {n}" for k, n in sorted(self.differences.items()))
            parts.append(f"{total} differ ({by_field})")
        if self.missing:
            parts.append(f"{_count(self.missing, 'record')} missing")
        if self.trashed:
            parts.append(f"{_count(self.trashed, 'record')} in the trash")
        return head + "; ".join(parts)

    def cost(self) -> str:
        return (
            f"{self.requests.reads} record reads, {self.requests.metadata} metadata, in "
            f"{self.seconds:.1f} s ({self.requests_per_minute} requests a minute; "
            f"{self.requests.waited_seconds:.1f} s waited on the limit, "
            f"{self.requests.rate_limited} answered 429)"
        )


def verify(
    client: TwentyClient,
    audit: Audit,
    workspace: Workspace,
    runs: list[str],
    every_run: bool,
    objects: list[str] | None = None,
) -> tuple[VerifyResult, Iterator[Checked]]:
    """The result (filled in as the checks are consumed) and the checks, in object and id
    order. ``runs``: the run verified (or, with ``every_run``, all those of the audit log)."""
    records = audit.sent_records(None if every_run else runs[0])
    wanted = {workspace.require(o).name for o in objects} if objects else None
    by_object: dict[str, tuple[str, list[str]]] = {}
    for obj, plural, rid in records:
        if wanted is None or obj in wanted:
            by_object.setdefault(obj, (plural, []))[1].append(rid)
    result = VerifyResult(runs, sorted(by_object), requests_per_minute=int(client.pacer.limit or 0))
    return result, _checks(client, audit, workspace, by_object, result)


def _checks(
    client: TwentyClient,
    audit: Audit,
    workspace: Workspace,
    by_object: dict[str, tuple[str, list[str]]],
    result: VerifyResult,
) -> Iterator[Checked]:
    for name, (plural, ids) in sorted(by_object.items()):
        obj = workspace.find(name)
        for i in range(0, len(ids), PAGE):
            chunk = ids[i : i + PAGE]
            sent = audit.last_sent(name, chunk)
            flt = f"and({id_filter(chunk)},{TRASH_TOO})"
            stored = {r["id"]: r for r in client.records(plural, flt, page_size=PAGE)}
            for rid in chunk:
                yield from _record(name, obj, rid, sent[rid], stored.get(rid), result)


def _record(
    name: str, obj: Obj | None, rid: str, last: LastSent, stored: dict | None, result: VerifyResult
) -> Iterator[Checked]:
    result.records += 1
    origin = last.source
    values = (origin.values if origin else None) or {}
    gone = stored is None or bool(stored.get("deletedAt"))
    verdict_if_gone = Verdict.MISSING if stored is None else Verdict.TRASHED
    if gone:
        if stored is None:
            result.missing += 1
        else:
            result.trashed += 1
    for column, sent in last.body.items():
        if column in NOT_COMPARED:
            continue
        kind = _kind(obj, column)
        for check in compare(kind, column, sent, (stored or {}).get(column)):
            result.fields += 1
            if gone:
                verdict = verdict_if_gone
            elif check.same:
                verdict = Verdict.EQUAL
            else:
                verdict = Verdict.DIFFERENT
                result.differences[f"{name}.{check.field}"] += 1
            yield Checked(
                name,
                rid,
                origin.stream if origin else None,
                origin.key if origin else None,
                check.field,
                values.get(check.field, NOT_KEPT),
                check.sent,
                None if stored is None else check.stored,
                verdict,
            )


def _kind(obj: Obj | None, column: str) -> str:
    """The field type a body field has in the workspace (a join column: its relation)."""
    if obj is None:
        return "TEXT"
    found = obj.fields.get(column)
    if found is not None:
        return found.type
    return "RELATION" if obj.by_join_column(column) is not None else "TEXT"


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"
