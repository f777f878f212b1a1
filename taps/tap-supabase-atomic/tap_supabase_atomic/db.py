"""Atomic CRM's tables in the Supabase PostgreSQL: probing them (current and legacy names) and
their columns through pg_catalog, the read-permission checks that stop an extraction from being
silently empty, and the few queries the streams share (SQLAlchemy Core on the run's snapshot)."""

from __future__ import annotations

import datetime as dt
import decimal
import typing as t
import uuid
from dataclasses import dataclass, field

import psycopg2.errors
import sqlalchemy as sa

# stream → table names, newest first (docs/sources.md §2.4: "contactNotes"/"dealNotes" were
# renamed on 2026-01-15 by 20260115150819_snake_case_renaming.sql).
TABLES: dict[str, tuple[str, ...]] = {
    "sales": ("sales",),
    "tags": ("tags",),
    "companies": ("companies",),
    "contacts": ("contacts",),
    "contact_notes": ("contact_notes", "contactNotes"),
    "deals": ("deals",),
    "deal_notes": ("deal_notes", "dealNotes"),
    "tasks": ("tasks",),
    "configuration": ("configuration",),
}
# An Atomic CRM database always has these; without them the connection points elsewhere.
REQUIRED = ("sales", "companies", "contacts", "deals")


class AtomicError(Exception):
    """A problem the user must fix (connection, permissions, schema); the message says which."""


@dataclass
class Column:
    name: str
    type: str  # format_type(): bigint, citext, jsonb, timestamp with time zone, text[] …
    element: str | None  # an array's element type (format_type() of it), else None


@dataclass
class Table:
    stream: str
    name: str  # the table's real name (legacy names included)
    columns: dict[str, Column] = field(default_factory=dict)


_TABLES_SQL = sa.text("""
SELECT c.relname, a.attname, format_type(a.atttypid, NULL),
       CASE WHEN ty.typcategory = 'A' THEN format_type(ty.typelem, NULL) END
  FROM pg_class c
  JOIN pg_namespace n ON n.oid = c.relnamespace
  JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
  JOIN pg_type ty ON ty.oid = a.atttypid
 WHERE n.nspname = :schema AND c.relkind IN ('r', 'p') AND c.relname = ANY(:names)
 ORDER BY c.relname, a.attnum
""")


def probe(conn: sa.Connection, schema: str) -> dict[str, Table]:
    """The Atomic tables present in ``schema``, by stream, with their columns.

    Read from pg_catalog rather than information_schema: information_schema lists only the
    columns the role may read, so a table without SELECT would look absent and be skipped
    silently instead of failing with its name."""
    names = [n for names in TABLES.values() for n in names]
    found: dict[str, dict[str, Column]] = {}
    for rel, col, type_, element in conn.execute(_TABLES_SQL, {"schema": schema, "names": names}):
        found.setdefault(rel, {})[col] = Column(col, type_, element)
    tables: dict[str, Table] = {}
    for stream, candidates in TABLES.items():
        for name in candidates:
            if name in found:
                tables[stream] = Table(stream, name, found[name])
                break
    missing = [s for s in REQUIRED if s not in tables]
    if missing:
        raise AtomicError(
            f"schema {schema!r} has no Atomic CRM table {', '.join(missing)}: check the "
            "connection's database and the `schema` setting"
        )
    return tables


_ACCESS_SQL = sa.text("""
SELECT has_table_privilege(current_user, c.oid, 'SELECT'),
       c.relrowsecurity, c.relforcerowsecurity,
       pg_get_userbyid(c.relowner) = current_user,
       r.rolsuper OR r.rolbypassrls, current_user
  FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace,
       pg_roles r
 WHERE n.nspname = :schema AND c.relname = :table AND r.rolname = current_user
""")


def check_access(conn: sa.Connection, schema: str, table: str) -> None:
    """Fail, naming the table, when this role cannot read every row of it.

    Atomic enables row-level security on every table with policies for `authenticated` only;
    a role that merely has SELECT then reads 0 rows and no error (docs/sources.md §2.5)."""
    row = conn.execute(_ACCESS_SQL, {"schema": schema, "table": table}).first()
    if row is None:
        raise AtomicError(f"table {schema}.{table} does not exist")
    can_select, rls, forced, owner, bypass, role = row
    if not can_select:
        raise AtomicError(
            f"role {role!r} cannot read table {schema}.{table} (no SELECT privilege): grant it, "
            "or connect as `postgres` or Supabase's service role"
        )
    if rls and not bypass and (forced or not owner):
        raise AtomicError(
            f"table {schema}.{table} has row-level security and role {role!r} neither owns it "
            "nor has BYPASSRLS, so it would read only the rows its policies allow (often none, "
            "without an error): connect as `postgres` or a role with BYPASSRLS"
        )


def to_json(value: t.Any) -> t.Any:
    """A value psycopg2 returned, as JSON (timestamps in ISO 8601, naive ones taken as UTC).

    Ours, not the SDK's record conformance: that keeps a Decimal as Decimal, leaves uuids and
    dates inside arrays as they are, and writes every timestamp with microseconds."""
    if isinstance(value, dt.datetime):
        if value.tzinfo is None:
            value = value.replace(tzinfo=dt.timezone.utc)
        return value.isoformat()
    if isinstance(value, dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, decimal.Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, list):
        return [to_json(v) for v in value]
    if isinstance(value, memoryview | bytes):
        return bytes(value).hex()
    return value


def table(schema: str, name: str, columns: t.Iterable[str]) -> sa.Table:
    """A table to build queries on (SQLAlchemy quotes legacy names like "contactNotes"), from
    the columns probe() found: no reflection query."""
    return sa.Table(name, sa.MetaData(), *(sa.Column(c) for c in columns), schema=schema)


def select_rows(
    conn: sa.Connection, schema: str, name: str, columns: list[str], *, order: list[str]
) -> t.Iterator[dict]:
    """Every row of a table, in ``order``, through a server-side cursor (memory stays flat)."""
    tbl = table(schema, name, {*columns, *order})
    query = sa.select(*(tbl.c[c] for c in columns)).order_by(*(tbl.c[c] for c in order))
    for row in conn.execute(query.execution_options(yield_per=2000)).mappings():
        yield {c: to_json(v) for c, v in row.items()}


def json_kinds(conn: sa.Connection, schema: str, name: str, column: Column) -> set[str]:
    """The JSON kinds (object, array, string …) a json/jsonb column holds, to type a custom
    column: a list-only column is an array, anything else an object."""
    fn = sa.func.jsonb_typeof if column.type == "jsonb" else sa.func.json_typeof
    col = table(schema, name, [column.name]).c[column.name]
    query = sa.select(fn(col)).where(col.is_not(None)).distinct()
    try:
        with conn.begin_nested():  # a savepoint: a refusal keeps the run's snapshot
            return {kind for (kind,) in conn.execute(query)}
    except sa.exc.ProgrammingError as exc:
        if not isinstance(exc.orig, psycopg2.errors.InsufficientPrivilege):
            raise
        return set()  # discovery only: the sync names the table it cannot read


def distinct_values(conn: sa.Connection, schema: str, name: str, column: str) -> list[str]:
    """The distinct non-empty values of a text column, most used first (inferred pick-lists)."""
    col = table(schema, name, [column]).c[column]
    count = sa.func.count()
    query = (
        sa.select(col, count)
        .where(col.is_not(None), col != "")
        .group_by(col)
        .order_by(count.desc(), col)
    )
    return [str(v) for v, _ in conn.execute(query)]
