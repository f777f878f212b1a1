"""API mode: the ordered, paced, idempotent load.

Objects go in dependency order; within an object, batches of ``batch_size`` records are sent
with ``POST /rest/batch/{plural}?upsert=true`` and our deterministic ids, so a re-run updates
instead of duplicating. A batch Twenty refuses is bisected until the bad rows are alone; those
are rejected with Twenty's own message while the good rows land. ``Maximum number of records
to upsert is N`` shrinks the batch size to N. Batches of one object run concurrently only when
the round-trip time, not the rate limit, is what holds the load back. Each batch's intent (ids,
and the values an update replaces) goes to the audit log before the request, and Twenty's answer,
paired by id, confirms it (audit.py).
A record whose body hashes as the one Twenty confirmed last time (the registry's) is not sent:
it is ``UNCHANGED``, so a re-run or a delta costs what changed (unless ``rewrite_unchanged``).
"""

from __future__ import annotations

import logging
import math
import re
import threading
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field

from crm2twenty_common.twenty import raw_field_label, raw_field_name

from target_twenty.api.bodies import Bodies
from target_twenty.api.client import TwentyClient, TwentyError, id_filter
from target_twenty.api.preflight import TRASH_TOO, Restore
from target_twenty.api.progress import ClientGauge
from target_twenty.api.refusals import refused_fields
from target_twenty.audit import Action, Audit, SentSource, Write, creator_of
from target_twenty.outcome import ObjectRef
from target_twenty.owners import Owners
from target_twenty.plan import ObjectPlan
from target_twenty.progress import Progress
from target_twenty.provision import add_text_field
from target_twenty.registry import Registry
from target_twenty.spool import Spool, Status
from target_twenty.values import verbatim
from target_twenty.verify.sent import source_of
from target_twenty.workspace import Obj, Workspace, unique_key

CAP = re.compile(r"Maximum number of records to upsert is (\d+)")
RETRY_CHUNK = 60


@dataclass
class LoadResult:
    written: dict[str, int] = field(default_factory=dict)
    created: dict[str, int] = field(default_factory=dict)
    updated: dict[str, int] = field(default_factory=dict)
    restored: list[ObjectRef] = field(default_factory=list)
    uploads: int = 0


class Loader:
    def __init__(
        self,
        client: TwentyClient,
        spool: Spool,
        plans: dict[str, ObjectPlan],
        workspace: Workspace,
        audit: Audit,
        registry: Registry,
        run: str,
        *,
        batch_size: int,
        migration_name: str,
        owners: Owners,
        max_concurrency: int,
        progress_seconds: float,
        logger: logging.Logger,
        only: set[int] | None = None,
        rewrite_unchanged: bool = False,
    ) -> None:
        self.client, self.spool, self.plans, self.ws = client, spool, plans, workspace
        self.audit, self.run = audit, run
        self.batch_size = batch_size
        self.owners = owners  # e-mail → workspace member id
        self.known = registry.known  # ids among these that earlier runs wrote
        self.hashes = registry.hashes  # their confirmed payloads' hashes
        self.rewrite_unchanged = rewrite_unchanged
        self.max_concurrency = max(1, max_concurrency)
        self.progress = Progress("writing", progress_seconds, logger, ClientGauge(client))
        self.logger = logger
        self.only = only  # a sample: the record seqs to load
        self.lock = threading.RLock()
        self.result = LoadResult()
        self.failed_ids: dict[str, set[str]] = {}
        self.bodies = Bodies(client, spool, owners, self.failed_ids, self.lock, migration_name)
        self.priors: dict[str, dict] = {}
        self.sources: dict[str, SentSource] = {}  # by id, until the audit log has the write
        # records sent again without a value Twenty refused: (object, field, cause) → count
        self.refused: Counter[tuple[str, str, str]] = Counter()
        self.matched: dict[str, int] = {}  # per object: records Twenty matched by a unique value

    # ---- driving ------------------------------------------------------------------------

    def load(
        self,
        order: list[str],
        deferred: list[tuple[str, str]],
        restores: list[Restore],
    ) -> LoadResult:
        self.progress.expect(self._count(order))
        with self.progress.running():
            for r in restores:
                restored = [Write(r.id, Action.RESTORED)]
                batch = self.audit.intend(self.run, r.object, r.plural, restored)
                self.client.restore(r.plural, r.id)
                self.audit.confirm(batch, self.run, r.object, r.plural, restored)
                self.result.restored.append(ObjectRef(r.object, r.id))
            for name in order:
                self._load_object(self.plans[name])
            for name, prop in deferred:
                self._second_pass(self.plans[name], prop)
        for (name, raw, cause), count in sorted(self.refused.items()):
            self.logger.warning(
                "Twenty refused %d %s record(s): %s; each was written without the value, "
                "kept verbatim in %s (repairs.csv lists them)",
                count,
                name,
                cause,
                raw,
            )
        self.result.uploads = self.bodies.uploads
        if self.bodies.missing_files:
            self.logger.warning(
                "%d attachments written without their file, which the export does not have "
                "(attachments-manifest.csv names each file)",
                self.bodies.missing_files,
            )
        return self.result

    def set_aside_unchanged(self, order: list[str]) -> None:
        """A dry run: mark what a load would not send (unchanged), so the plan counts the rest."""
        for name in order:
            obj = self.ws.find(name)
            if obj is not None:  # an object the run would create holds nothing of ours yet
                self._changed(self.plans[name], obj, list(self._rows(self.plans[name])))

    def _count(self, order: list[str]) -> dict[str, int]:
        """Records to send per object, in load order (the progress line's totals)."""
        return {name: sum(1 for _ in self._rows(self.plans[name])) for name in order}

    def _rows(self, plan: ObjectPlan, needs: str | None = None) -> Iterator[tuple[int, str, dict]]:
        with self.lock:
            rows = self.spool.pending(plan.name, needs)
        for row in rows:
            if self.only is None or row.seq in self.only:
                yield row.seq, row.id, row.data

    def _workers(self) -> int:
        """More than one request in flight only when latency, not the limit, is the cap."""
        if self.client.stats.requests < 3:
            return 1
        per_second = (self.client.pacer.limit or 6000) / self.client.pacer.window
        needed = math.ceil(per_second * self.client.mean_latency * 2)
        return max(1, min(self.max_concurrency, needed))

    def _load_object(self, plan: ObjectPlan) -> None:
        obj = self.ws.find(plan.name)
        if obj is None:
            raise RuntimeError(f"object {plan.name} is not in the workspace after provisioning")
        rows = self._changed(plan, obj, list(self._rows(plan)))
        if not rows:
            return
        self.logger.info("loading %d %s", len(rows), obj.plural)
        pending: set[Future] = set()
        with ThreadPoolExecutor(max_workers=self.max_concurrency) as pool:
            i = 0
            while i < len(rows) or pending:
                while i < len(rows) and len(pending) < self._workers():
                    batch = rows[i : i + self.batch_size]
                    i += len(batch)
                    pending.add(pool.submit(self._batch, plan, obj, batch))
                if pending:
                    done, pending = wait(pending, return_when=FIRST_COMPLETED)
                    for future in done:
                        future.result()  # a fatal error stops the load here
        if self.matched.get(plan.name):
            self.logger.warning(
                "%s: Twenty matched %d records to existing ones through a unique value and "
                "updated those; their earlier values were not read, so a rollback leaves them "
                "as written",
                obj.plural,
                self.matched[plan.name],
            )

    def _changed(
        self, plan: ObjectPlan, obj: Obj, rows: list[tuple[int, str, dict]]
    ) -> list[tuple[int, str, dict, dict]]:
        """(seq, id, body, record) of the records to send: the others are rejected, or
        unchanged since Twenty confirmed them."""
        with self.lock:
            confirmed = (
                {} if self.rewrite_unchanged else self.hashes(plan.name, [r[1] for r in rows])
            )
        out, unchanged = [], 0
        for seq, rid, record in rows:
            body, problem = self.bodies.body(plan, obj, seq, rid, record)
            if problem:
                self._reject(plan, seq, rid, problem)
                continue
            digest = self.bodies.fingerprint(plan, body, record)
            with self.lock:
                if confirmed.get(rid) == digest:
                    self.spool.mark(seq, Status.UNCHANGED, reason="as Twenty confirmed it before")
                    self.progress.skip(plan.name)  # progress and ETA count what is sent
                    unchanged += 1
                    continue
                self.spool.set_hash(seq, digest)
            out.append((seq, rid, body, record))
        if unchanged:
            self.logger.info("%d %s unchanged since the last run: not sent", unchanged, obj.plural)
        return out

    # ---- one batch ----------------------------------------------------------------------

    def _batch(self, plan: ObjectPlan, obj: Obj, rows: list[tuple[int, str, dict, dict]]) -> None:
        # priors first: whether Twenty already holds an attachment's file decides its upload
        self._fetch_priors(plan, obj, [rid for _, rid, _, _ in rows])
        items = []
        for seq, rid, body, record in rows:
            with self.lock:
                prior = self.priors.get(rid)
                self.sources[rid] = source_of(plan, record, body)
            problem = self.bodies.attach(obj, record, body, prior)
            if problem:
                self._reject(plan, seq, rid, problem)
                continue
            items.append((seq, rid, body))
        if items:
            self._send(plan, obj, items)

    def _fetch_priors(self, plan: ObjectPlan, obj: Obj, ids: list[str]) -> None:
        """The values an update will replace, for rollback: from the pre-flight's reads, or
        read now for records an earlier run wrote."""
        with self.lock:
            for rid, data in self.spool.external(plan.name, ids).items():
                self.priors.setdefault(rid, data)
            unknown = [rid for rid in ids if rid not in self.priors]
            # under the lock too: the registry is attached to the spool's connection, which the
            # other batches' threads use (two at once: sqlite3 "bad parameter or API misuse")
            earlier = self.known(plan.name, unknown) if unknown else set()
        for rid in earlier:
            self.priors.setdefault(rid, {})  # placeholder: filled below if Twenty has it
        wanted = [rid for rid in ids if rid in self.priors and not self.priors[rid]]
        for i in range(0, len(wanted), RETRY_CHUNK):
            # the trash too: the upsert restores a record of ours trashed since
            # (docs/twenty-contract.md §2.6), and the audit must say so
            flt = f"and({id_filter(wanted[i : i + RETRY_CHUNK])},{TRASH_TOO})"
            for row in self.client.records(obj.plural, flt):
                self.priors[row["id"]] = row
        for rid in wanted:  # known to us but gone from Twenty: it will be created again
            if not self.priors.get(rid):
                self.priors.pop(rid, None)

    def _send(
        self,
        plan: ObjectPlan,
        obj: Obj,
        items: list[tuple[int, str, dict]],
        second_pass: bool = False,
    ) -> None:
        stack = [items]
        while stack:
            chunk = stack.pop()
            if not chunk:
                continue
            with self.lock:
                intent = self._intent(chunk, second_pass)
            # written ahead: a kill from here on leaves this batch pending, for rollback
            batch = self.audit.intend(self.run, plan.name, obj.plural, intent)
            try:
                returned = self.client.batch_upsert(obj.plural, [b for _, _, b in chunk])
            except TwentyError as exc:
                # 413: the batch is over Twenty's 10 MB body limit, refused unread
                # (docs/twenty-contract.md §2.14): halves go through
                if exc.status not in (400, 413, 422):
                    raise  # the batch may have landed: its intent stays pending
                self.audit.drop(batch)  # refused: all or nothing (docs/twenty-contract.md §2.5)
                text = "; ".join(exc.messages)
                cap = CAP.search(text)
                if cap and len(chunk) > int(cap.group(1)):
                    with self.lock:
                        self.batch_size = min(self.batch_size, int(cap.group(1)))
                        self.logger.info(
                            "Twenty caps batches at %d records: batch size is now %d",
                            int(cap.group(1)),
                            self.batch_size,
                        )
                    size = self.batch_size
                    stack.extend(chunk[i : i + size] for i in range(0, len(chunk), size))
                    continue
                if len(chunk) == 1:
                    seq, rid, body = chunk[0]
                    if second_pass:  # the record is in; only this link is not
                        with self.lock:
                            self.spool.set_hash(seq, None)  # not as hashed: send it next run
                            self.spool.repair(
                                seq,
                                next(k for k in body if k != "id"),
                                None,
                                f"Twenty refused the link: {text}; left empty",
                            )
                    else:
                        retry = self._without_refused(plan, obj, seq, body, text)
                        if retry is not None:
                            stack.append([(seq, rid, retry)])
                        else:
                            self._reject(plan, seq, rid, f"Twenty refused the record: {text}")
                    continue
                half = len(chunk) // 2
                stack.extend([chunk[half:], chunk[:half]])
                continue
            self._confirm(plan, obj, chunk, intent, batch, returned, second_pass)

    def _without_refused(
        self, plan: ObjectPlan, obj: Obj, seq: int, body: dict, message: str
    ) -> dict | None:
        """The body again without the values Twenty refused, each kept verbatim in its
        ``<field>Raw`` (created now if the workspace lacks it), or None when the message names
        no field we can tell, or these values were taken out already."""
        refusal = refused_fields(message, obj, body)
        if refusal is None:
            return None
        retry = dict(body)
        props = {fp.column or fp.name: prop for prop, fp in plan.fields.items()}
        with self.lock:
            for name in refusal.fields:
                raw = raw_field_name(name)
                field = obj.fields.get(name)
                if raw not in obj.fields:
                    label = raw_field_label(field.label if field else name)
                    add_text_field(self.client, obj, raw, label, self.audit, self.run)
                value = retry.pop(name)
                text = verbatim(field.type if field else "TEXT", value)
                retry[raw] = f"{retry[raw]}; {text}" if retry.get(raw) else text
                self.spool.repair(
                    seq,
                    props.get(name, name),
                    value,
                    f"Twenty refused it: {message}; kept verbatim in {raw}",
                )
                self.refused[(plan.name, raw, f"{name}: {refusal.cause}")] += 1
        return retry

    def _intent(self, chunk: list[tuple[int, str, dict]], second_pass: bool) -> list[Write]:
        """What the batch will do to each record, from the values read before it is sent."""
        writes: list[Write] = []
        for _seq, rid, body in chunk:
            prior = self.priors.get(rid)
            source = self.sources.get(rid)  # with the body sent: what verify compares
            if second_pass:
                before = prior or {}
                values = {k: before.get(k) for k in body if k != "id"}
                writes.append(Write(rid, Action.UPDATED, values, creator_of(before), body, source))
            elif prior is None:
                writes.append(Write(rid, Action.CREATED, sent=body, source=source))
            else:
                if prior.get("deletedAt"):
                    # the upsert takes it out of the trash; listed first so a rollback puts the
                    # old values back before trashing it again
                    writes.append(Write(rid, Action.RESTORED))
                values = {k: prior.get(k) for k in body if k not in ("id", "createdBy")}
                writes.append(Write(rid, Action.UPDATED, values, creator_of(prior), body, source))
        return writes

    def _confirm(
        self,
        plan: ObjectPlan,
        obj: Obj,
        chunk: list[tuple[int, str, dict]],
        intent: list[Write],
        batch: int,
        returned: list[dict],
        second_pass: bool,
    ) -> None:
        """Twenty's answer, paired with what was sent by id, never by position: it returns the
        records it updated first, then those it created (docs/twenty-contract.md §2.5)."""
        with self.lock:
            for _, rid, _ in chunk:
                self.sources.pop(rid, None)
        if second_pass:
            self.audit.confirm(batch, self.run, plan.name, obj.plural, intent)
            return
        sent = {rid for _, rid, _ in chunk}
        answered = {row.get("id") for row in returned if isinstance(row, dict)}
        strays = [row for row in returned if isinstance(row, dict) and row.get("id") not in sent]
        missing = [(rid, body) for _, rid, body in chunk if rid not in answered]
        matched = _pair_by_unique(obj, missing, strays) if strays else {}
        writes = [
            Write(matched[w.id], Action.MATCHED, sent=w.sent, source=w.source)
            if w.id in matched
            else w
            for w in intent
            if w.id not in matched or w.action is Action.CREATED
        ]
        self.audit.confirm(batch, self.run, plan.name, obj.plural, writes)
        with self.lock:
            result, name = self.result, plan.name
            for w in writes:
                if w.action is Action.CREATED:
                    result.created[name] = result.created.get(name, 0) + 1
                elif w.action is Action.RESTORED:
                    result.restored.append(ObjectRef(name, w.id))
                else:
                    result.updated[name] = result.updated.get(name, 0) + 1
            result.written[name] = result.written.get(name, 0) + len(chunk)
            self.progress.add(name, len(chunk))
            if matched:
                self.matched[name] = self.matched.get(name, 0) + len(matched)

    def _reject(self, plan: ObjectPlan, seq: int, rid: str, reason: str) -> None:
        with self.lock:
            self.sources.pop(rid, None)
            self.spool.reject(seq, reason)
            self.failed_ids.setdefault(plan.name, set()).add(rid)
            self.progress.add(plan.name)

    # ---- second pass --------------------------------------------------------------------

    def _second_pass(self, plan: ObjectPlan, prop: str) -> None:
        """Relations that had to wait (self-references, cycles): set once every record exists."""
        fp = plan.fields[prop]
        obj = self.ws.require(plan.name)
        written = {rid for rid in self._written_ids(plan)}
        items = []
        for seq, rid, record in self._rows(plan, needs=prop):
            target = record.get(prop)
            if rid not in written:
                continue
            if target is not None and target in self.failed_ids.get(fp.target or "", ()):
                self.bodies.dangling(seq, fp, target)
                continue
            body = {"id": rid, fp.column or prop: target}
            with self.lock:
                self.sources[rid] = source_of(plan, record, body)
            items.append((seq, rid, body))
        for i in range(0, len(items), self.batch_size):
            self._send(plan, obj, items[i : i + self.batch_size], second_pass=True)

    def _written_ids(self, plan: ObjectPlan) -> set[str]:
        with self.lock:
            return self.audit.written_ids(self.run, plan.name)


def _pair_by_unique(
    obj: Obj, missing: list[tuple[str, dict]], strays: list[dict]
) -> dict[str, str]:
    """Our id → the id of the existing record Twenty matched it to through a unique value
    (person e-mail, company domain, custom unique fields: docs/twenty-contract.md §2.6)."""
    pairs: dict[str, str] = {}
    for f in obj.unique_fields():
        theirs = {key: row["id"] for row in strays if (key := unique_key(f.type, row.get(f.name)))}
        for rid, body in missing:
            key = unique_key(f.type, body.get(f.name))
            if rid not in pairs and key in theirs:
                pairs[rid] = theirs[key]
    return pairs
