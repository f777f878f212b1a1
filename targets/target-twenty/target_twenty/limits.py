"""The sizes Twenty cannot store, checked as records arrive (docs/twenty-contract.md §2.14).

Twenty keeps text in PostgreSQL ``text`` columns, which take any length; two limits remain:

- a unique field's value (person e-mail, company domain, a unique custom field) goes into a
  unique B-tree index, which refuses an entry over 2,704 bytes: the write would fail. Such a
  value is an invalid value (``on_invalid_value``): left out of the record and kept whole in
  repairs.csv, or the record is rejected. It is never cut: a cut value is another value.
- one request body is at most 10 MB (the server's JSON body limit): a record larger than that
  can never be sent, so it is rejected, naming its size.
"""

from __future__ import annotations

import typing as t

from target_twenty.values import InvalidValue

if t.TYPE_CHECKING:
    from target_twenty.plan import FieldPlan

# PostgreSQL's B-tree entry limit ("index row size … exceeds btree version 4 maximum 2704").
UNIQUE_VALUE_BYTES = 2704
# Twenty's JSON body limit, ``settings.storage.maxFileSize`` = '10MB' (the bytes package: MiB).
REQUEST_BYTES = 10 * 1024 * 1024


def is_unique(fp: FieldPlan) -> bool:
    return bool((fp.existing is not None and fp.existing.unique) or fp.intent.get("unique"))


def check_unique_size(fp: FieldPlan, stored: str) -> None:
    """Raise InvalidValue when ``stored`` (the value as Twenty stores it) cannot be indexed."""
    size = len(stored.encode("utf-8"))
    if size > UNIQUE_VALUE_BYTES:
        raise InvalidValue(
            f"{size:,} bytes, more than the {UNIQUE_VALUE_BYTES:,} bytes Twenty's unique index "
            "on this field can hold (not cut: the whole value is kept here)"
        )


def oversized(data_json: str) -> str | None:
    """Why a record (its JSON, as the API client sends it) cannot be sent, or None."""
    size = len(data_json)
    if size <= REQUEST_BYTES:
        return None
    return (
        f"the record is {size / 1024 / 1024:.1f} MB as JSON, more than the 10 MB Twenty "
        "takes in one request; not cut: the source keeps it whole"
    )
