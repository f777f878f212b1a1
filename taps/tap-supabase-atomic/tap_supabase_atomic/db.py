"""The Supabase PostgreSQL: connection, table probing (current and legacy names), column types
and the read-permission checks that stop an extraction from being silently empty."""

from __future__ import annotations

import datetime as dt
import decimal
import typing as t
import uuid
from dataclasses import dataclass, field

import psycopg2
import psycopg2.errors
import psycopg2.extras
from psycopg2 import sql

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
    typname: str  # pg_type.typname (int8, citext, _jsonb …)
    element: str | None  # the element type of an array
    category: str  # pg_type.typcategory (A = array, E = enum …)


@dataclass
class Table:
    stream: str
    name: str  # the table's real name (legacy names included)
    columns: dict[str, Column] = field(default_factory=dict)


def connect(config: dict) -> t.Any:
    """A read-only psycopg2 connection from `dsn`, or from host/port/database/user/password."""
    timeout = int(config.get("connect_timeout", 10))
    if config.get("dsn"):
        kwargs: dict[str, t.Any] = {"dsn": config["dsn"]}
    else:
        kwargs = {
            "host": config.get("host", "127.0.0.1"),
            "port": int(config.get("port", 5432)),
            "dbname": config.get("database", "postgres"),
            "user": config.get("user", "postgres"),
        }
        if config.get("password"):
            kwargs["password"] = config["password"]
    if config.get("sslmode"):
        kwargs["sslmode"] = config["sslmode"]
    try:
        conn = psycopg2.connect(
            connect_timeout=timeout, application_name="tap-supabase-atomic", **kwargs
        )
    except psycopg2.OperationalError as exc:
        # psycopg2's message names host and user but never the password
        raise AtomicError(f"cannot connect to the Supabase PostgreSQL: {exc}".strip()) from None
    # One read-only REPEATABLE READ transaction for the whole run: every stream sees the same
    # snapshot, so a note cannot name a contact the contacts stream never saw.
    conn.set_session(isolation_level="REPEATABLE READ", readonly=True, autocommit=False)
    return conn


_TABLES_SQL = """
SELECT c.relname, a.attname, ty.typname, ty.typcategory, et.typname
  FROM pg_class c
  JOIN pg_namespace n ON n.oid = c.relnamespace
  JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
  JOIN pg_type ty ON ty.oid = a.atttypid
  LEFT JOIN pg_type et ON et.oid = ty.typelem AND ty.typcategory = 'A'
 WHERE n.nspname = %s AND c.relkind IN ('r', 'p') AND c.relname = ANY(%s)
 ORDER BY c.relname, a.attnum
"""


def probe(conn: t.Any, schema: str) -> dict[str, Table]:
    """The Atomic tables present in ``schema``, by stream, with their columns.

    Read from pg_catalog rather than information_schema: information_schema lists only the
    columns the role may read, so a table without SELECT would look absent and be skipped
    silently instead of failing with its name."""
    names = [n for names in TABLES.values() for n in names]
    found: dict[str, dict[str, Column]] = {}
    with conn.cursor() as cur:
        cur.execute(_TABLES_SQL, (schema, names))
        for rel, col, typname, category, element in cur.fetchall():
            found.setdefault(rel, {})[col] = Column(col, typname, element, category)
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


_ACCESS_SQL = """
SELECT has_table_privilege(current_user, c.oid, 'SELECT'),
       c.relrowsecurity, c.relforcerowsecurity,
       pg_get_userbyid(c.relowner) = current_user,
       r.rolsuper OR r.rolbypassrls, current_user
  FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace,
       pg_roles r
 WHERE n.nspname = %s AND c.relname = %s AND r.rolname = current_user
"""


def check_access(conn: t.Any, schema: str, table: str) -> None:
    """Fail, naming the table, when this role cannot read every row of it.

    Atomic enables row-level security on every table with policies for `authenticated` only;
    a role that merely has SELECT then reads 0 rows and no error (docs/sources.md §2.5)."""
    with conn.cursor() as cur:
        cur.execute(_ACCESS_SQL, (schema, table))
        row = cur.fetchone()
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


def json_schema(column: Column) -> dict:
    """The JSON schema of a column, from its PostgreSQL type (every column may be null)."""
    if column.category == "A":
        item = json_schema(Column(column.name, column.element or "text", None, ""))
        item["type"] = [x for x in item["type"] if x != "null"] or ["string"]
        return {"type": ["array", "null"], "items": item}
    base = _SCALARS.get(column.typname)
    if base is None:
        return {"type": ["string", "null"]}  # enums, uuid, citext, varchar, time, domains …
    return {**base, "type": [*base["type"], "null"]}


_SCALARS: dict[str, dict] = {
    "int2": {"type": ["integer"]},
    "int4": {"type": ["integer"]},
    "int8": {"type": ["integer"]},
    "numeric": {"type": ["number"]},
    "float4": {"type": ["number"]},
    "float8": {"type": ["number"]},
    "money": {"type": ["number"]},
    "bool": {"type": ["boolean"]},
    "date": {"type": ["string"], "format": "date"},
    "timestamptz": {"type": ["string"], "format": "date-time"},
    "timestamp": {"type": ["string"], "format": "date-time"},
    # a jsonb value may be an object or a list; the known columns narrow this down
    "json": {"type": ["object", "array"]},
    "jsonb": {"type": ["object", "array"]},
}


def to_json(value: t.Any) -> t.Any:
    """A value psycopg2 returned, as JSON (timestamps in ISO 8601, naive ones taken as UTC)."""
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


def select_rows(
    conn: t.Any,
    schema: str,
    table: str,
    columns: list[str],
    *,
    order: list[str],
    since: tuple[str, t.Any] | None = None,
    batch: int = 2000,
) -> t.Iterator[dict]:
    """Every row of a table (a server-side cursor, so memory stays flat), in ``order``."""
    query = sql.SQL("SELECT {cols} FROM {table}").format(
        cols=sql.SQL(", ").join(sql.Identifier(c) for c in columns),
        table=sql.Identifier(schema, table),
    )
    params: list[t.Any] = []
    if since is not None:
        query += sql.SQL(" WHERE {col} >= %s").format(col=sql.Identifier(since[0]))
        params.append(since[1])
    query += sql.SQL(" ORDER BY {cols}").format(
        cols=sql.SQL(", ").join(sql.Identifier(c) for c in order)
    )
    with conn.cursor(name=f"tap_{uuid.uuid4().hex}") as cur:
        cur.itersize = batch
        cur.execute(query, params)
        for row in cur:
            yield {c: to_json(v) for c, v in zip(columns, row, strict=True)}


def json_kinds(conn: t.Any, schema: str, table: str, column: Column) -> set[str]:
    """The JSON kinds (object, array, string …) a json/jsonb column holds, to type a custom
    column: a list-only column is an array, anything else an object."""
    fn = "jsonb_typeof" if column.typname == "jsonb" else "json_typeof"
    query = sql.SQL("SELECT DISTINCT {fn}({col}) FROM {table} WHERE {col} IS NOT NULL").format(
        fn=sql.Identifier(fn), col=sql.Identifier(column.name), table=sql.Identifier(schema, table)
    )
    try:
        return {kind for (kind,) in scalar_rows(conn, query)}
    except psycopg2.errors.InsufficientPrivilege:
        conn.rollback()  # discovery only: the sync names the table it cannot read
        return set()


def scalar_rows(conn: t.Any, query: sql.Composable, params: tuple = ()) -> list[tuple]:
    with conn.cursor() as cur:
        cur.execute(query, params)
        rows = cur.fetchall()
    return rows


def distinct_values(conn: t.Any, schema: str, table: str, column: str) -> list[str]:
    """The distinct non-empty values of a text column, most used first (inferred pick-lists)."""
    query = sql.SQL(
        "SELECT {col}, count(*) FROM {table} WHERE {col} IS NOT NULL AND {col} <> '' "
        "GROUP BY {col} ORDER BY count(*) DESC, {col}"
    ).format(col=sql.Identifier(column), table=sql.Identifier(schema, table))
    return [str(v) for v, _ in scalar_rows(conn, query)]


psycopg2.extras.register_default_jsonb(globally=True)
