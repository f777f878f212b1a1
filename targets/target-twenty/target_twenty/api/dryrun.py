"""API mode's dry run: what a real run would send, and how long it would take.

Per object: the records to write and the exact number of requests (batches, second-pass
batches for deferred relations, one per attachment upload); plus the metadata to create and the
trashed records to restore; the ETA is at ``requests_per_minute``. Nothing is written.
"""

from __future__ import annotations

import math
from typing import Any

from target_twenty.order import LoadOrder
from target_twenty.outcome import DryRunPlan, PlannedObject
from target_twenty.plan import Provisioning
from target_twenty.spool import Spool


def estimate(
    spool: Spool,
    order: LoadOrder,
    prov: Provisioning,
    restores: int,
    config: dict[str, Any],
    reads_so_far: int,
) -> DryRunPlan:
    batch = int(config.get("batch_size", 60))
    rpm = int(config["requests_per_minute"])
    objects = []
    total = 0
    for name in order.objects:
        n = spool.count_pending(name)
        uploads = spool.count_uploads() if name == "attachment" else 0
        requests = math.ceil(n / batch) + uploads
        for obj, prop in order.deferred:
            if obj == name:
                requests += math.ceil(spool.count_pending(name, needs=prop) / batch)
        objects.append(PlannedObject(name, n, requests, uploads))
        total += requests
    metadata = len(prov.objects) + len(prov.fields) + len(prov.options)
    total += metadata + restores
    return DryRunPlan(
        objects=objects,
        metadata_requests=metadata,
        restores=restores,
        requests=total,
        reads_so_far=reads_so_far,
        requests_per_minute=rpm,
        batch_size=batch,
        eta_minutes=round(total / rpm, 1),
    )
