"""What loading records through Twenty's API costs: batches, and minutes at the rate limit.

The one place these facts are turned into figures: target-twenty's dry-run plan and the mapper's
source profile both count with it.

- a batch upsert takes at most 200 records on v2.21.0 and costs one request of the rate limit
  whatever its size (docs/twenty-contract.md §2.5);
- the limit is 100 requests a minute per workspace on a self-hosted server; Twenty Cloud has
  answered 429 beyond about 50 (docs/twenty-contract.md §2.10).
"""

from __future__ import annotations

import math
from urllib.parse import urlsplit

MAX_BATCH = 200
SELF_HOSTED_RATE = 100
CLOUD_RATE = 50


def default_rate(api_url: str | None) -> int:
    """Requests a minute to pace at when the setting is empty: Twenty Cloud's observed limit
    for a ``*.twenty.com`` URL (twentyhq/twenty#14122), else a self-hosted server's default."""
    host = urlsplit(api_url or "").hostname or ""
    return CLOUD_RATE if host == "twenty.com" or host.endswith(".twenty.com") else SELF_HOSTED_RATE


def batches(records: int, batch_size: int = MAX_BATCH) -> int:
    """Batch requests that write ``records`` records."""
    return math.ceil(records / batch_size) if records > 0 else 0


def minutes(requests: int, requests_per_minute: int) -> float:
    """Minutes ``requests`` take at ``requests_per_minute`` (one decimal)."""
    return round(requests / requests_per_minute, 1)
