"""The write stage: a ``Writer`` lands the checked, ordered records and says what it did.

Two writers implement the protocol: ``write.csv.CsvWriter`` (Twenty-importable spreadsheet
files, no server needed) and ``write.api.ApiWriter`` (the workspace, through its REST API).
Both take a ``WriteJob`` (what the earlier stages decided) and return a ``WriteOutcome``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

from target_twenty.outcome import WriteOutcome

if TYPE_CHECKING:
    from target_twenty.api.preflight import Preflight
    from target_twenty.checks import CheckOutcome
    from target_twenty.order import LoadOrder
    from target_twenty.owners import Owners
    from target_twenty.plan import ObjectPlan, Provisioning


@dataclass
class WriteJob:
    """What the stages before the write decided."""

    order: LoadOrder
    plans: dict[str, ObjectPlan]
    schemas: dict[str, dict]  # object → the SCHEMA it came with (for the API leftovers)
    checks: CheckOutcome
    provisioning: Provisioning
    owners: Owners
    preflight: Preflight | None = None  # API mode: what the workspace already holds

    def outcome(self, written: dict[str, int]) -> WriteOutcome:
        """The part of the outcome both writers share."""
        return WriteOutcome(
            order=self.order,
            cycles=list(self.checks.cycles),
            merges=[*self.checks.merges, *(self.preflight.merges() if self.preflight else [])],
            written=written,
            provisioning=self.provisioning.needs(),
            members=dict(self.owners.members),
            orphans=self.owners.orphans,
            preflight=self.preflight.summary() if self.preflight is not None else None,
        )


class Writer(Protocol):
    def write(self, job: WriteJob) -> WriteOutcome: ...
