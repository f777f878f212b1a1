"""What verifying a run will cost, for the dry-run plan: one read per 200 records of each object
written (check.py's page), and one unlimited read of the data model."""

from __future__ import annotations

from crm2twenty_common.twenty.load import batches

from target_twenty.verify.check import PAGE


def verify_reads(records: int) -> int:
    """Record reads to verify ``records`` records of one object."""
    return batches(records, PAGE)
