"""The Supabase PostgreSQL through the SDK's `SQLConnector`: the engine, the one snapshot every
stream reads, and the SDK's SQL-to-JSON-schema type mapping."""

from __future__ import annotations

import typing as t

import psycopg2
import sqlalchemy as sa
from singer_sdk.sql import SQLConnector
from sqlalchemy.dialects.postgresql.base import ischema_names

from tap_supabase_atomic.db import AtomicError, Column


class AtomicConnector(SQLConnector):
    """One engine and one connection per run, read-only in one REPEATABLE READ transaction:
    every stream sees the same snapshot, so a note cannot name a contact the contacts stream
    never saw (the SDK's connector opens a connection per stream, through its private
    ``_connect``; the streams read through ``snapshot`` instead)."""

    def __init__(self, config: dict) -> None:
        super().__init__(config)
        self._snapshot: sa.Connection | None = None

    def get_sqlalchemy_url(self, config: dict[str, t.Any]) -> str:
        return "postgresql+psycopg2://"  # the settings go to psycopg2 as they are (create_engine)

    def create_engine(self) -> sa.Engine:
        # `dsn` is a libpq string (key=value or URI) that SQLAlchemy's URL cannot hold as is,
        # so psycopg2 gets the settings directly; the SDK's JSON (de)serialisers stay per engine.
        kwargs = connect_args(self.config)
        return sa.create_engine(
            self.sqlalchemy_url,
            creator=lambda: psycopg2.connect(**kwargs),
            poolclass=sa.pool.NullPool,
            json_serializer=self.serialize_json,
            json_deserializer=self.deserialize_json,
        )

    @property
    def snapshot(self) -> sa.Connection:
        """The run's connection, its read-only REPEATABLE READ transaction begun."""
        if self._snapshot is None or self._snapshot.closed:
            try:
                conn = self._engine.connect()
            except sa.exc.OperationalError as exc:
                # psycopg2's message names host and user but never the password
                raise AtomicError(
                    f"cannot connect to the Supabase PostgreSQL: {exc.orig}".strip()
                ) from None
            conn.execution_options(isolation_level="REPEATABLE READ", postgresql_readonly=True)
            conn.begin()
            self._snapshot = conn
        return self._snapshot

    def close(self) -> None:
        if self._snapshot is not None and not self._snapshot.closed:
            # closed without a rollback: the transaction only read, and the server may be gone
            self._snapshot.invalidate()
            self._snapshot.close()
        self._snapshot = None

    def column_schema(self, column: Column) -> dict:
        """The JSON schema of a column (every column may be null). The SDK maps scalar types;
        arrays are ours (the SDK maps `ARRAY` to a string)."""
        if column.element is not None:
            return {"type": ["array", "null"], "items": self._scalar(column.element)}
        schema = self._scalar(column.type)
        return {**schema, "type": [*schema["type"], "null"]}

    def _scalar(self, pg_type: str) -> dict:
        sa_type = ischema_names.get(pg_type)  # format_type()'s names: bigint, text, jsonb …
        if sa_type is None:
            return {"type": ["string"]}  # enums, domains, extension types
        schema = dict(self.to_jsonschema_type(sa_type()))
        kind = schema["type"]
        schema["type"] = list(kind) if isinstance(kind, list) else [kind]
        return schema


def connect_args(config: t.Mapping[str, t.Any]) -> dict[str, t.Any]:
    """psycopg2's arguments from `dsn`, or from host/port/database/user/password."""
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
    kwargs["connect_timeout"] = int(config.get("connect_timeout", 10))
    kwargs["application_name"] = "tap-supabase-atomic"
    return kwargs
