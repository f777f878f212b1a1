"""Undoing one run's record writes, in batches (``target-twenty-rollback`` drives it).

The run's writes are taken newest first and grouped: consecutive writes of one object with the
same undo become one request —

- records it created are destroyed by id filter, ``DELETE /rest/{plural}?filter=id[in]:[…]``,
  200 ids a request (what the URL holds; v2.21.0 has no record cap on them,
  docs/twenty-contract.md §2.11);
- records it updated get their earlier values back by a batch upsert of those values with the
  records' ids (§2.5, §2.6), at most 200 a request; a record someone destroyed since is made
  anew by that upsert, which its creator in the answer shows, and is destroyed again;
- records it took out of the trash go back to it (the same filter delete, ``soft_delete``).

Timeline activities: Twenty writes one for every record it creates or updates (§4.2). Its own
foreign keys remove those of destroyed people and companies (``onDelete: CASCADE``) but only
empty the target of those of notes, tasks and opportunities (``SET_NULL``), which then stay in
the workspace pointing at nothing (§2.11). So before destroying records of an object whose
timeline relation is not ``CASCADE`` in the live metadata, their activities — and those that
name them as the linked record — are destroyed by filter.

Each group is marked undone in the audit log once Twenty confirmed it, so a rollback killed
half-way resumes with the next group. Redoing the group in flight is harmless: destroying ids
that are gone or trashing records already in the trash matches nothing, and putting back values
already back changes nothing.
"""

from __future__ import annotations

import logging
import re
import time
from dataclasses import dataclass, field
from enum import Enum
from typing import Any

from target_twenty.api.client import TwentyClient, TwentyError, id_filter
from target_twenty.audit import Action, Audit, Logged, creator_of
from target_twenty.progress import DEFAULT_SECONDS

# ids per filter delete: the URL, not a record count, caps it (docs/twenty-contract.md §2.11)
DELETE_CAP = 200
UPSERT_CAP = 200  # records per batch upsert on v2.21.0 (§2.5); shrunk if Twenty names less
CAP = re.compile(r"Maximum number of records to upsert is (\d+)")
ACTIVITIES = "timelineActivities"
# Objects that appear on other records' timelines as linked (``linked-note.created`` on a
# person, with ``linkedRecordId``), as seen on a real v2.21.0 (docs/twenty-contract.md §2.11).
LINKED = frozenset({"note", "task"})


class Step(Enum):
    DESTROY = "destroyed"
    REVERT = "reverted"
    TRASH = "trashed"


@dataclass
class Group:
    step: Step
    object: str
    plural: str
    writes: list[Logged] = field(default_factory=list)
    ids: set[str] = field(default_factory=set)


def plan(writes: list[Logged]) -> tuple[list[Group], list[Logged]]:
    """The groups to undo, newest first; and the writes with nothing to undo (updates of
    records the run created, which go anyway; records Twenty matched by a unique value)."""
    created = {(w.object, w.id) for w in writes if w.action is Action.CREATED}
    groups: list[Group] = []
    nothing: list[Logged] = []
    for w in reversed(writes):
        if w.undone:
            continue
        if w.action is Action.CREATED:
            step = Step.DESTROY
        elif w.action is Action.RESTORED:
            step = Step.TRASH
        elif w.action is Action.UPDATED and (w.object, w.id) not in created:
            step = Step.REVERT
        else:
            nothing.append(w)
            continue
        cap = UPSERT_CAP if step is Step.REVERT else DELETE_CAP
        last = groups[-1] if groups else None
        # a record updated twice (a second pass) gets its values back in two requests, the
        # older values last
        if (
            last is None
            or last.step is not step
            or last.plural != w.plural
            or len(last.writes) >= cap
            or w.id in last.ids
        ):
            last = Group(step, w.object, w.plural)
            groups.append(last)
        last.writes.append(w)
        last.ids.add(w.id)
    return groups, nothing


@dataclass
class Failure:
    object: str
    id: str
    reason: str


class Undoer:
    def __init__(
        self,
        client: TwentyClient,
        audit: Audit,
        logger: logging.Logger,
        *,
        progress_seconds: float = DEFAULT_SECONDS,
    ) -> None:
        self.client, self.audit, self.logger = client, audit, logger
        self.progress_seconds = progress_seconds
        self.done = {"destroyed": 0, "reverted": 0, "trashed": 0, "missing": 0, "activities": 0}
        self.failed: list[Failure] = []
        self.upsert_cap = UPSERT_CAP
        self._activities: ActivityColumns | None = None
        self._orphans = False  # destroyed records left activities pointing at nothing

    def run(
        self, groups: list[Group], label: str, created: set[str] | frozenset = frozenset()
    ) -> None:
        """Undo ``groups``; ``created``: every object the run created records of (undone now
        or by an earlier, interrupted rollback), for the sweep of orphaned activities."""
        total = sum(len(g.writes) for g in groups)
        started = last = time.monotonic()
        undone = 0
        for g in groups:
            failed = len(self.failed)
            if g.step is Step.DESTROY:
                self._destroy(g)
            elif g.step is Step.TRASH:
                self._trash(g)
            else:
                self._revert(g)
            left = {f.id for f in self.failed[failed:]}
            self.audit.mark_undone([w.seq for w in g.writes if w.id not in left])
            undone += len(g.writes)
            if time.monotonic() - last >= self.progress_seconds and undone < total:
                last = time.monotonic()
                self.logger.info(
                    "rollback of %s: %d of %d writes undone, %d requests, %.0f s",
                    label,
                    undone,
                    total,
                    self.client.stats.requests,
                    last - started,
                )
        if self._orphans or (created and created & self._activity_columns().uncascaded.keys()):
            self._sweep_orphans()

    # ---- the three undos ----------------------------------------------------------------

    def _destroy(self, g: Group) -> None:
        ids = [w.id for w in g.writes]
        gone = self._destroy_ids(g.object, g.plural, ids)
        self.done["destroyed"] += gone
        self.done["missing"] += len(ids) - gone  # already gone: nothing to undo

    def _destroy_ids(self, obj: str, plural: str, ids: list[str]) -> int:
        """Destroy these records (at most ``DELETE_CAP``) and the timeline activities Twenty
        would leave behind; returns how many records were there."""
        if obj in self._activity_columns().uncascaded:
            # Its own activities lose their target and are swept once at the end; those it
            # is linked from on other timelines go now (an id list of 200 is what the URL
            # holds, so the two are not one filter: docs/twenty-contract.md §2.11).
            self._orphans = True
            if obj in LINKED:
                flt = id_filter(ids, "linkedRecordId")
                self.done["activities"] += self._delete_all(ACTIVITIES, flt)
        return len(self.client.delete_where(plural, id_filter(ids)))

    def _trash(self, g: Group) -> None:
        ids = [w.id for w in g.writes]
        gone = self.client.delete_where(g.plural, id_filter(ids), soft=True)
        self.done["trashed"] += len(gone)
        self.done["missing"] += len(ids) - len(gone)

    def _revert(self, g: Group) -> None:
        """An upsert of a record someone has destroyed since would make it anew. Twenty's
        answer shows it: its creator is not the one the record had (an update keeps it). When
        the audit has no creator to compare with, the live records are read first."""
        ids = [w.id for w in g.writes]
        creators = {w.id: w.creator for w in g.writes}
        if any(c is None for c in creators.values()):
            live = {row["id"] for row in self.client.records(g.plural, id_filter(ids))}
        else:
            live = set(ids)
        rows = [{"id": w.id, **(w.prior or {})} for w in g.writes if w.id in live]
        self.done["missing"] += len(ids) - len(rows)
        answered = self._upsert(g, rows)
        anew = [
            r["id"]
            for r in answered
            if creators.get(r.get("id", "")) is not None and creator_of(r) != creators[r["id"]]
        ]
        for i in range(0, len(anew), DELETE_CAP):
            self._destroy_ids(g.object, g.plural, anew[i : i + DELETE_CAP])
        self.done["reverted"] += len(rows) - len(anew)
        self.done["missing"] += len(anew)

    def _upsert(self, g: Group, rows: list[dict]) -> list[dict]:
        """Batch upserts of ``rows``, shrunk to Twenty's cap; a row it refuses is a failure
        (bisected out, the others land). Returns Twenty's answer."""
        answered: list[dict] = []
        stack = [rows] if rows else []
        while stack:
            chunk = stack.pop()
            try:
                answered.extend(self.client.batch_upsert(g.plural, chunk))
            except TwentyError as exc:
                if exc.status not in (400, 422):
                    raise
                text = "; ".join(exc.messages)
                cap = CAP.search(text)
                if cap and len(chunk) > int(cap.group(1)):
                    self.upsert_cap = min(self.upsert_cap, int(cap.group(1)))
                    size = self.upsert_cap
                    stack.extend(chunk[i : i + size] for i in range(0, len(chunk), size))
                elif len(chunk) == 1:
                    self.failed.append(Failure(g.object, chunk[0]["id"], text))
                else:
                    half = len(chunk) // 2
                    stack.extend([chunk[half:], chunk[:half]])
        return answered

    # ---- timeline activities ------------------------------------------------------------

    def _activity_columns(self) -> ActivityColumns:
        if self._activities is None:
            self._activities = _activity_columns(self.client.metadata_objects())
        return self._activities

    def _sweep_orphans(self) -> None:
        """Destroy the timeline activities no record owns any more: every target empty. Those
        show nowhere; they are what destroying notes, tasks, opportunities or non-cascading
        custom objects leaves behind (§2.11). One filter, no ids."""
        targets = self._activity_columns().targets
        if targets:
            flt = f"and({','.join(f'{c}[is]:NULL' for c in targets)})"
            self.done["activities"] += self._delete_all(ACTIVITIES, flt)

    def _delete_all(self, plural: str, flt: str) -> int:
        """Destroy every record the filter matches. v2.21.0 destroys them all at once; an older
        server may refuse a filter matching more than its cap (then they are listed and
        destroyed by id) or delete only the first ones (then the same filter goes again)
        (§2.11)."""
        deleted = 0
        while True:
            try:
                gone = self.client.delete_where(plural, flt)
            except TwentyError as exc:
                if exc.status != 400:
                    raise
                ids = [row["id"] for row in self.client.records(plural, flt)]
                for i in range(0, len(ids), DELETE_CAP):
                    chunk = ids[i : i + DELETE_CAP]
                    deleted += len(self.client.delete_where(plural, id_filter(chunk)))
                return deleted
            deleted += len(gone)
            if len(gone) < DELETE_CAP:
                return deleted


@dataclass(frozen=True)
class ActivityColumns:
    """timelineActivity's target join columns, from the live metadata."""

    uncascaded: dict[str, str]  # object → its column, where destroying it does not cascade
    targets: list[str]  # every target join column


def _activity_columns(payload: Any) -> ActivityColumns:
    data = payload.get("data", payload) if isinstance(payload, dict) else payload
    objects = data.get("objects", []) if isinstance(data, dict) else data
    for obj in objects or []:
        if obj.get("nameSingular") != "timelineActivity":
            continue
        uncascaded, targets = {}, []
        for f in obj.get("fields") or []:
            settings = f.get("settings") or {}
            column, name = settings.get("joinColumnName"), f.get("name") or ""
            if not column or not name.startswith("target") or len(name) < 7:
                continue
            targets.append(column)
            if settings.get("onDelete") != "CASCADE":
                uncascaded[name[6].lower() + name[7:]] = column
        return ActivityColumns(uncascaded, targets)
    return ActivityColumns({}, [])
