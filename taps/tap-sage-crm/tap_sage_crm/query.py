"""Query strings built from settings or state, so that no value can change the query.

Sage CRM takes a SQL WHERE clause (SOAP ``queryString``) or an SData filter (REST ``where=``).
Every column name is checked against ``^[a-z][a-z0-9_]*$`` and every value becomes a literal:
text in single quotes with quotes doubled, numbers as numbers, dates re-formatted from a parsed
date. A value cannot end its literal early, so ``x' or '1'='1`` stays a value.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

_IDENT = re.compile(r"^[a-z][a-z0-9_]*$")
_SQL_OPS = {"eq": "=", "ne": "<>", "gt": ">", "ge": ">=", "lt": "<", "le": "<="}


class UnsafeQuery(ValueError):
    """A column name or value that cannot be put in a query safely."""


def column(name: str) -> str:
    lowered = str(name).strip().lower()
    if not _IDENT.match(lowered):
        raise UnsafeQuery(f"{name!r} is not a Sage column name")
    return lowered


def instant(value: Any) -> dt.datetime:
    """A date-time from a setting or a bookmark, in UTC; anything else is refused."""
    if isinstance(value, dt.datetime):
        when = value
    else:
        text = str(value).strip()
        try:
            when = dt.datetime.fromisoformat(text[:-1] + "+00:00" if text.endswith("Z") else text)
        except ValueError as exc:
            raise UnsafeQuery(f"{value!r} is not an ISO 8601 date-time") from exc
    if when.tzinfo is not None:
        when = when.astimezone(dt.timezone.utc).replace(tzinfo=None)
    return when


def sql_literal(value: Any) -> str:
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, dt.datetime):
        return f"'{value:%Y-%m-%d %H:%M:%S}'"
    return "'" + str(value).replace("'", "''") + "'"


def sdata_literal(value: Any) -> str:
    if isinstance(value, dt.datetime):
        return f"@{value:%Y-%m-%dT%H:%M:%S}@"
    return sql_literal(value)


def condition(name: str, op: str, value: Any, dialect: str) -> str:
    """``column op value`` in the ``sql`` (SOAP) or ``sdata`` (REST) dialect."""
    if op not in _SQL_OPS:
        raise UnsafeQuery(f"unknown operator {op!r}")
    col = column(name)
    if isinstance(value, list | tuple):
        if not value:
            raise UnsafeQuery(f"an empty list of values for {name}")
        parts = [condition(col, "eq", v, dialect) for v in value]
        return "(" + " or ".join(parts) + ")"
    if dialect == "sql":
        return f"{col} {_SQL_OPS[op]} {sql_literal(value)}"
    return f"{col} {op} {sdata_literal(value)}"


def where(conditions: list[str]) -> str:
    return " and ".join(conditions)
