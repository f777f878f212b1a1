"""tap-supabase-atomic: the tap class and its settings."""

from __future__ import annotations

import typing as t

from crm2twenty_common.cli import entry_point
from crm2twenty_common.completion import ReportsCompletion
from crm2twenty_common.inventory import inventory_streams
from crm2twenty_common.notices import notices_streams
from crm2twenty_common.suite_settings import SideStreamsSetting
from singer_sdk import Tap
from singer_sdk import typing as th

from tap_supabase_atomic import db, settings
from tap_supabase_atomic.db import AtomicError
from tap_supabase_atomic.enums import EnumerationFileError
from tap_supabase_atomic.source import ORDER, Source
from tap_supabase_atomic.streams import (
    AtomicStream,
    AttachmentsStream,
    ConfigurationStream,
)

if t.TYPE_CHECKING:
    from singer_sdk.streams import Stream


class TapSupabaseAtomic(ReportsCompletion, SideStreamsSetting, Tap):
    """Reads Atomic CRM (marmelab) from its Supabase PostgreSQL: companies, contacts, contact and deal notes, deals, tasks, sales (users), tags, the configuration pick-lists and the files named in its jsonb columns. Legacy table and column names are read as the current ones, custom columns added in Supabase Studio are discovered with their types, and a role that cannot read every row of a table fails with that table's name."""  # noqa: E501

    name = "tap-supabase-atomic"
    dynamic_catalog = True

    config_jsonschema = th.PropertiesList(
        th.Property(
            "dsn",
            th.StringType,
            secret=True,
            description="A libpq connection string or URI, e.g. `postgresql://postgres:…@db."
            "<project>.supabase.co:5432/postgres`. When set, host/port/database/user/password "
            "are not used.",
        ),
        th.Property("host", th.StringType, default="127.0.0.1", description="Database host."),
        th.Property("port", th.IntegerType, default=5432, description="Database port."),
        th.Property("database", th.StringType, default="postgres", description="Database name."),
        th.Property(
            "user",
            th.StringType,
            default="postgres",
            description="A role that owns the tables or has BYPASSRLS (Supabase's `postgres`).",
        ),
        th.Property("password", th.StringType, secret=True, description="That role's password."),
        th.Property(
            "sslmode",
            th.StringType,
            allowed_values=["disable", "allow", "prefer", "require", "verify-ca", "verify-full"],
            description="libpq sslmode (Supabase accepts `require`).",
        ),
        th.Property(
            "schema", th.StringType, default="public", description="Schema of Atomic's tables."
        ),
        th.Property(
            "connect_timeout", th.IntegerType, default=10, description="Seconds to connect."
        ),
        th.Property(
            "enumerations_file",
            th.StringType,
            description="Pick-lists used when the `configuration` table lacks them: your "
            "`src/App.tsx` (the literal props of `<CRM>`), or a JSON/YAML file with the same "
            "keys (dealStages, dealCategories, taskTypes, noteStatuses, companySectors, "
            "currency).",
        ),
        th.Property(
            "deals_incremental",
            th.BooleanType,
            default=False,
            description="Read deals incrementally by `updated_at`. Off by default: Atomic does "
            "not maintain `updated_at`, so changed deals may be missed.",
        ),
        th.Property(
            "start_date",
            th.DateTimeType,
            description="With deals_incremental: the first run reads deals updated on or after "
            "this.",
        ),
        th.Property(
            "download_dir",
            th.StringType,
            description="Download files kept in Supabase Storage into this folder (as "
            "`<bucket>/<path>`), so target-twenty can upload them. Unset: files are listed only.",
        ),
        th.Property(
            "storage_url",
            th.StringType,
            description="The Supabase project URL, e.g. `https://<project>.supabase.co`.",
        ),
        th.Property(
            "storage_key",
            th.StringType,
            secret=True,
            description="A service-role (or secret) key for the authenticated Storage endpoint.",
        ),
        th.Property(
            "storage_bucket",
            th.StringType,
            default="attachments",
            description="The Storage bucket (Atomic's `VITE_ATTACHMENTS_BUCKET`).",
        ),
        th.Property(
            "storage_access",
            th.StringType,
            default="auto",
            allowed_values=["auto", "public", "authenticated"],
            description="`public` or `authenticated` endpoint; `auto`: authenticated when "
            "storage_key is set.",
        ),
        th.Property(
            "timeout", th.NumberType, default=60, description="Seconds to wait for one download."
        ),
    ).to_dict()

    def __init__(self, *args: t.Any, **kwargs: t.Any) -> None:
        self._source: Source | None = None
        super().__init__(*args, **kwargs)

    @property
    def source(self) -> Source:
        if self._source is None:
            self._source = Source(self.config)
        return self._source

    def discover_streams(self) -> list[Stream]:
        source = self.source
        try:
            tables = source.tables
            streams: list[Stream] = [
                AtomicStream(self, tables[s], source) for s in ORDER if s in tables
            ]  # (they read the pick-lists: the configuration table, the enumerations file)
        except db.AtomicError as exc:
            raise RuntimeError(str(exc)) from None
        return [
            *streams,
            ConfigurationStream(self, source),
            AttachmentsStream(self, source),
            *inventory_streams(
                self, lambda: settings.inventory(source.enumerations.config, self.name)
            ),
            *notices_streams(self, source.notices),
        ]

    def load_streams(self) -> list[Stream]:  # type: ignore[misc]  # SDK @final
        return self.discover_streams()  # ORDER, not the SDK's alphabetical order

    def sync_all(self) -> None:  # type: ignore[misc]  # SDK @final
        try:
            super().sync_all()
            if not self.side_streams:  # no `_notices` stream: what it would say is logged
                for notice in self.source.notices():
                    self.logger.warning("%s", notice)
        except db.AtomicError as exc:
            raise RuntimeError(str(exc)) from None
        finally:
            self.source.close()


# The command (pyproject.toml): an expected error is one line, not a traceback.
main = entry_point(TapSupabaseAtomic, AtomicError, EnumerationFileError)

if __name__ == "__main__":
    main()
