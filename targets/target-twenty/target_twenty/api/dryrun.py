"""API mode's dry run: every request a real run would send, and how long it would take.

A real run makes again every read this dry run made to plan (the data model, the members, the
pre-flight's and the reference look-ups' reads: ``so_far``). Beyond them it makes:

- metadata: the provisioning's requests (one per object, field and option list to create) and
  its re-reads of the data model (at the start, after creating objects, at the end);
- per object: its batches, the second-pass batches of deferred relations, one upload per
  attachment file not uploaded before, and the reads of the values its updates replace (for
  rollback: records an earlier run wrote, read in chunks per batch, as ``api/loader.py`` does);
- one read per custom object created with a unique field (the pre-flight asks whether it holds
  records; it cannot, so nothing more);
- one write per trashed record to restore.

The ETA is at ``requests_per_minute``; batches and minutes are counted by
``crm2twenty_common.twenty.load``, as the source profile counts them. Nothing is written. Beside
the load, the plan gives what ``verify`` will cost afterwards (verify/cost.py): its reads and
their time at the same pace.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

from crm2twenty_common.twenty.load import MAX_BATCH, batches, minutes

from target_twenty.api.loader import RETRY_CHUNK
from target_twenty.order import LoadOrder
from target_twenty.outcome import DryRunPlan, PlannedObject, RequestStats
from target_twenty.plan import Provisioning
from target_twenty.spool import Spool
from target_twenty.verify.cost import verify_reads

Known = Callable[[str, list[str]], set[str]]  # Registry.known: ids an earlier run wrote


def estimate(
    spool: Spool,
    order: LoadOrder,
    prov: Provisioning,
    restores: int,
    config: dict[str, Any],
    so_far: RequestStats,
    known: Known,
) -> DryRunPlan:
    batch = int(config.get("batch_size", MAX_BATCH))
    rpm = int(config["requests_per_minute"])
    objects = [_object(spool, order, name, batch, known, rpm) for name in order.objects]
    provisioning = len(prov.objects) + len(prov.fields) + len(prov.options)
    if provisioning:
        provisioning += 3 if prov.objects else 2  # provision.py re-reads the data model
    new_uniques = sum(
        any(fp.intent.get("unique") for fp in p.fields.values()) for p in prov.objects
    )
    metadata = so_far.metadata + provisioning
    reads = so_far.reads + new_uniques + sum(o.reads for o in objects)
    uploads = sum(o.uploads for o in objects)
    writes = restores + sum(o.requests - o.reads - o.uploads for o in objects)
    total = metadata + reads + writes + uploads
    verify = sum(o.verify_reads for o in objects)
    return DryRunPlan(
        objects=objects,
        metadata_requests=metadata,
        restores=restores,
        reads=reads,
        writes=writes,
        uploads=uploads,
        requests=total,
        reads_so_far=so_far.requests,
        requests_per_minute=rpm,
        batch_size=batch,
        eta_minutes=minutes(total, rpm),
        verify_requests=verify,
        verify_minutes=minutes(verify, rpm),
    )


def _object(
    spool: Spool, order: LoadOrder, name: str, batch: int, known: Known, rpm: int
) -> PlannedObject:
    rows = spool.pending(name)
    requests = batches(len(rows), batch)
    for obj, prop in order.deferred:
        if obj == name:
            requests += batches(spool.count_pending(name, needs=prop), batch)
    reads = uploads = 0
    for i in range(0, len(rows), batch):
        chunk = rows[i : i + batch]
        ids = [r.id for r in chunk]
        read_before = {rid for rid, data in spool.external(name, ids).items() if data}
        earlier = known(name, [rid for rid in ids if rid not in read_before])
        reads += math.ceil(len(earlier) / RETRY_CHUNK)
        if name == "attachment":  # a file is uploaded once: not again for an earlier run's
            files = [r.id for r in chunk if (r.data.get("_file") or {}).get("exists")]
            uploads += len(files) - len(known(name, files))
    requests += reads + uploads
    return PlannedObject(
        name, len(rows), requests, uploads, reads, minutes(requests, rpm), verify_reads(len(rows))
    )
