"""API mode: the ordered, paced, idempotent load.

Objects go in dependency order; within an object, batches of ``batch_size`` records are sent
with ``POST /rest/batch/{plural}?upsert=true`` and our deterministic ids, so a re-run updates
instead of duplicating. A batch Twenty refuses is bisected until the bad rows are alone; those
are rejected with Twenty's own message while the good rows land. ``Maximum number of records
to upsert is N`` shrinks the batch size to N. Batches of one object run concurrently only when
the round-trip time, not the rate limit, is what holds the load back. Every confirmed write goes
to the audit log (with the values it replaced) before the next batch starts.
"""

from __future__ import annotations

import json
import logging
import math
import re
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from target_twenty.api.audit import Audit
from target_twenty.api.client import TwentyClient, TwentyError
from target_twenty.plan import FieldPlan, ObjectPlan
from target_twenty.spool import Spool
from target_twenty.workspace import Obj, Workspace

CAP = re.compile(r"Maximum number of records to upsert is (\d+)")
RETRY_CHUNK = 60


@dataclass
class LoadResult:
    written: dict[str, int] = field(default_factory=dict)
    created: dict[str, int] = field(default_factory=dict)
    updated: dict[str, int] = field(default_factory=dict)
    restored: list[dict[str, str]] = field(default_factory=list)
    uploads: int = 0


class Loader:
    def __init__(
        self,
        client: TwentyClient,
        spool: Spool,
        plans: dict[str, ObjectPlan],
        workspace: Workspace,
        audit: Audit,
        run: str,
        *,
        batch_size: int,
        migration_name: str,
        owners: Any,
        known: Callable[[str, list[str]], set[str]],
        reject: Callable[[int, str], None],
        repair: Callable[[int, str, Any, str], None],
        max_concurrency: int,
        progress_seconds: float,
        logger: logging.Logger,
        only: set[int] | None = None,
    ) -> None:
        self.client, self.spool, self.plans, self.ws = client, spool, plans, workspace
        self.audit, self.run = audit, run
        self.batch_size = batch_size
        self.created_by = {"source": "IMPORT", "name": migration_name}
        self.owners = owners  # migration.Owners: e-mail → workspace member id
        self.known = known  # ids among these that earlier runs wrote
        self.reject, self.repair = reject, repair
        self.max_concurrency = max(1, max_concurrency)
        self.progress_seconds = progress_seconds
        self.logger = logger
        self.only = only  # a sample: the record seqs to load
        self.lock = threading.RLock()
        self.result = LoadResult()
        self.failed_ids: dict[str, set[str]] = {}
        self.priors: dict[str, dict] = {}
        self.total = 0
        self.done = 0
        self.started = 0.0

    # ---- driving ------------------------------------------------------------------------

    def load(
        self,
        order: list[str],
        deferred: list[tuple[str, str]],
        restores: list[tuple[str, str, str]],
    ) -> LoadResult:
        self.total = self._count(order)
        self.started = time.monotonic()
        stop = threading.Event()
        reporter = threading.Thread(target=self._progress, args=(stop,), daemon=True)
        reporter.start()
        try:
            for obj, plural, rid in restores:
                self.client.restore(plural, rid)
                self.audit.record_writes(self.run, obj, plural, [(rid, "restored", None)])
                self.result.restored.append({"object": obj, "id": rid})
            for name in order:
                self._load_object(self.plans[name])
            for name, prop in deferred:
                self._second_pass(self.plans[name], prop)
        finally:
            stop.set()
            reporter.join()
        self._log_progress()
        return self.result

    def _count(self, order: list[str]) -> int:
        total = 0
        for name in order:
            total += sum(1 for _ in self._rows(self.plans[name]))
        return total

    def _rows(self, plan: ObjectPlan, needs: str | None = None) -> Iterator[tuple[int, str, dict]]:
        sql = "SELECT seq, id, data FROM records WHERE object=? AND status IS NULL"
        params: tuple = (plan.name,)
        if needs:
            sql += " AND json_extract(data, ?) IS NOT NULL"
            params += (f'$."{needs}"',)
        with self.lock:
            rows = self.spool.db.execute(sql + " ORDER BY seq", params).fetchall()
        for seq, rid, data in rows:
            if self.only is None or seq in self.only:
                yield seq, rid, json.loads(data)

    def _workers(self) -> int:
        """More than one request in flight only when latency, not the limit, is the cap."""
        if self.client.stats["requests"] < 3:
            return 1
        per_second = (self.client.pacer.limit or 6000) / self.client.pacer.window
        needed = math.ceil(per_second * self.client.mean_latency * 2)
        return max(1, min(self.max_concurrency, needed))

    def _load_object(self, plan: ObjectPlan) -> None:
        obj = self.ws.find(plan.name)
        if obj is None:
            raise RuntimeError(f"object {plan.name} is not in the workspace after provisioning")
        rows = list(self._rows(plan))
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

    # ---- one batch ----------------------------------------------------------------------

    def _batch(self, plan: ObjectPlan, obj: Obj, rows: list[tuple[int, str, dict]]) -> None:
        items = []
        for seq, rid, record in rows:
            body, problem = self._body(plan, obj, seq, rid, record)
            if problem:
                self._reject(plan, seq, rid, problem)
                continue
            items.append((seq, rid, body))
        self._fetch_priors(plan, obj, [rid for _, rid, _ in items])
        self._send(plan, obj, items)

    def _body(
        self, plan: ObjectPlan, obj: Obj, seq: int, rid: str, record: dict
    ) -> tuple[dict, str | None]:
        body: dict[str, Any] = {"id": rid}
        for prop, value in record.items():
            if prop.startswith("_"):
                continue
            fp = plan.fields.get(prop)
            if fp is None or fp.deferred:
                continue
            if fp.kind == "RELATION" and fp.match == "userEmail":
                member = self._member(value)
                if member:
                    body[fp.column] = member
                continue
            if fp.kind == "RELATION" and value in self.failed_ids.get(fp.target or "", ()):
                problem = self._dangling(plan, seq, fp, value)
                if problem:
                    return body, problem
                continue
            body[fp.column or fp.name] = value
        if "createdBy" in obj.fields:
            body["createdBy"] = dict(self.created_by)
        if obj.name == "attachment":
            problem = self._attach_file(obj, rid, record, body)
            if problem:
                return body, problem
        return body, None

    def _dangling(self, plan: ObjectPlan, seq: int, fp: FieldPlan, target_id: str) -> str | None:
        reason = f"{fp.prop} points at {fp.target} {target_id}, which Twenty refused"
        if fp.intent.get("required"):
            return reason
        with self.lock:
            self.repair(seq, fp.prop, target_id, reason + "; left empty")
        return None

    def _member(self, email: Any) -> str | None:
        with self.lock:
            return self.owners.resolve(email)

    def _attach_file(self, obj: Obj, rid: str, record: dict, body: dict) -> str | None:
        info = record.get("_file") or {}
        if self.known(obj.name, [rid]):
            return None  # uploaded by an earlier run; a file can be attached once only
        if not info.get("exists") or not info.get("path"):
            return f"file missing in the export: {info.get('relativePath') or info.get('path')}"
        path, name = Path(info["path"]), record.get("name") or Path(info["path"]).name
        if "file" in obj.fields and obj.fields["file"].type == "FILES":
            uploaded = self.client.upload_file(obj.fields["file"].id or "", path, name)
            body["file"] = [{"fileId": uploaded["id"], "label": name}]
        elif "fullPath" in obj.fields:
            body["fullPath"] = self.client.upload_legacy(path, name)
        else:
            return "this workspace's attachments have neither a file nor a fullPath field"
        with self.lock:
            self.result.uploads += 1
        return None

    def _fetch_priors(self, plan: ObjectPlan, obj: Obj, ids: list[str]) -> None:
        """The values an update will replace, for rollback: from the pre-flight's reads, or
        read now for records an earlier run wrote."""
        with self.lock:
            for rid, data in self.spool.db.execute(
                f"SELECT id, data FROM external WHERE object=? AND id IN "  # noqa: S608
                f"({','.join('?' * len(ids))})",
                (plan.name, *ids),
            ).fetchall():
                self.priors.setdefault(rid, json.loads(data) if data else {})
        unknown = [rid for rid in ids if rid not in self.priors]
        for rid in self.known(plan.name, unknown) if unknown else ():
            self.priors.setdefault(rid, {})  # placeholder: filled below if Twenty has it
        wanted = [rid for rid in ids if rid in self.priors and not self.priors[rid]]
        for i in range(0, len(wanted), RETRY_CHUNK):
            flt = f"id[in]:[{','.join(json.dumps(x) for x in wanted[i : i + RETRY_CHUNK])}]"
            for row in self.client.list(obj.plural, flt):
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
            try:
                returned = self.client.batch_upsert(obj.plural, [b for _, _, b in chunk])
            except TwentyError as exc:
                if exc.status != 400 and exc.status != 422:
                    raise
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
                            self.repair(
                                seq,
                                next(k for k in body if k != "id"),
                                None,
                                f"Twenty refused the link: {text}; left empty",
                            )
                    else:
                        self._reject(plan, seq, rid, f"Twenty refused the record: {text}")
                    continue
                half = len(chunk) // 2
                stack.extend([chunk[half:], chunk[:half]])
                continue
            self._confirm(plan, obj, chunk, returned, second_pass)

    def _confirm(
        self,
        plan: ObjectPlan,
        obj: Obj,
        chunk: list[tuple[int, str, dict]],
        returned: list[dict],
        second_pass: bool,
    ) -> None:
        writes = []
        with self.lock:
            if second_pass:
                writes = [
                    (
                        rid,
                        "updated",
                        {k: (self.priors.get(rid) or {}).get(k) for k in body if k != "id"},
                    )
                    for _, rid, body in chunk
                ]
                self.audit.record_writes(self.run, plan.name, obj.plural, writes)
                return
            for (_seq, rid, body), row in zip(chunk, returned, strict=False):
                actual = row.get("id", rid) if isinstance(row, dict) else rid
                if actual != rid:
                    self.logger.warning(
                        "%s %s matched existing record %s in Twenty", obj.name, rid, actual
                    )
                prior = self.priors.get(actual)
                if prior is None:
                    writes.append((actual, "created", None))
                    self.result.created[plan.name] = self.result.created.get(plan.name, 0) + 1
                else:
                    if prior.get("deletedAt"):
                        # the upsert took it out of the trash; listed first so a rollback puts
                        # the old values back before trashing it again
                        writes.append((actual, "restored", None))
                        self.result.restored.append({"object": plan.name, "id": actual})
                    sent = [k for k in body if k not in ("id", "createdBy")]
                    writes.append((actual, "updated", {k: prior.get(k) for k in sent}))
                    self.result.updated[plan.name] = self.result.updated.get(plan.name, 0) + 1
                self.result.written[plan.name] = self.result.written.get(plan.name, 0) + 1
                self.done += 1
            self.audit.record_writes(self.run, plan.name, obj.plural, writes)

    def _reject(self, plan: ObjectPlan, seq: int, rid: str, reason: str) -> None:
        with self.lock:
            self.reject(seq, reason)
            self.failed_ids.setdefault(plan.name, set()).add(rid)
            self.done += 1

    # ---- second pass --------------------------------------------------------------------

    def _second_pass(self, plan: ObjectPlan, prop: str) -> None:
        """Relations that had to wait (self-references, cycles): set once every record exists."""
        fp = plan.fields[prop]
        obj = self.ws.find(plan.name)
        written = {rid for rid in self._written_ids(plan)}
        items = []
        for seq, rid, record in self._rows(plan, needs=prop):
            target = record.get(prop)
            if rid not in written:
                continue
            if target in self.failed_ids.get(fp.target or "", ()):
                self._dangling(plan, seq, fp, target)
                continue
            items.append((seq, rid, {"id": rid, fp.column or prop: target}))
        for i in range(0, len(items), self.batch_size):
            self._send(plan, obj, items[i : i + self.batch_size], second_pass=True)

    def _written_ids(self, plan: ObjectPlan) -> set[str]:
        with self.lock:
            return {
                r[0]
                for r in self.audit.db.execute(
                    "SELECT id FROM writes WHERE run=? AND object=?", (self.run, plan.name)
                )
            }

    # ---- progress -----------------------------------------------------------------------

    def _progress(self, stop: threading.Event) -> None:
        while not stop.wait(self.progress_seconds):
            self._log_progress()

    def _log_progress(self) -> None:
        elapsed = max(time.monotonic() - self.started, 1e-6)
        rate = self.done / elapsed
        left = self.total - self.done
        limit = self.client.pacer.limit or 0
        per_request = self.done / max(self.client.stats["requests"], 1)
        eta = left / max(rate, limit / 60 * per_request, 1e-6) if left > 0 else 0
        self.logger.info(
            "progress: %d/%d records (%.1f/s), %d requests (%d in the last minute of %s), "
            "%d retries, ETA %.0f s",
            self.done,
            self.total,
            rate,
            self.client.stats["requests"],
            self.client.pacer.used_in_window(),
            limit or "unlimited",
            self.client.stats["retries"],
            eta,
        )
