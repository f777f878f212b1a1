"""target-twenty: the Singer target that lands a CRM migration in Twenty."""

from __future__ import annotations

import typing as t

from crm2twenty_common.sdk_compat import (
    DrainsOnlyAtEndOfInput,
    HandsRecordsStraightToSinks,
    StopsWithoutStateOnSignal,
)
from crm2twenty_common.singer_input import MsgSpecNumberedReader
from crm2twenty_common.suite_settings import QuietMetrics
from crm2twenty_common.twenty.load import MAX_BATCH, default_rate
from singer_sdk import typing as th
from singer_sdk.exceptions import ConfigValidationError
from singer_sdk.helpers.capabilities import CapabilitiesEnum, TargetCapabilities
from singer_sdk.target_base import Target

from target_twenty.api.client import client_for, fetch_workspace
from target_twenty.migration import Migration
from target_twenty.progress import DEFAULT_SECONDS
from target_twenty.registry import WorkspaceMismatch
from target_twenty.sinks import SpoolSink
from target_twenty.workspace import Workspace

if t.TYPE_CHECKING:
    pass


class TargetTwenty(
    QuietMetrics,
    HandsRecordsStraightToSinks,
    DrainsOnlyAtEndOfInput,
    StopsWithoutStateOnSignal,
    Target,
):
    """Loads a CRM migration into Twenty CRM. It holds every record until the end of input (spooled to disk), reads what the workspace has, checks references, duplicates and values, orders objects by their relations (parents first; self-references and cycles in a second pass), then writes Twenty-importable CSV batches, or loads the workspace through its API: custom objects, fields and options provisioned first, paced to the workspace's rate limit, idempotent batch upserts with deterministic ids, failing rows isolated with Twenty's message, every write audited for `target-twenty-rollback`, with dry-run plans and sample runs with a field-level diff. The reconciliation report accounts for every source record: written, merged or rejected with a reason. Fed by crm2twenty-mapper, whose SCHEMA messages carry the Twenty field intent (`x-twenty`); a plain Singer stream becomes a custom object."""  # noqa: E501

    name = "target-twenty"
    default_sink_class = SpoolSink
    # Input errors name their line and stream, in one line (crm2twenty_common.singer_input);
    # msgspec decodes the lines (floats as Decimal, like the SDK's default json reader), at a
    # third of the default reader's cost.
    message_reader_class = MsgSpecNumberedReader
    # Records wait for every stream (parents before children): sinks drain only at end of
    # input (DrainsOnlyAtEndOfInput), and a signal stops the run without STATE
    # (StopsWithoutStateOnSignal); a record reaches its sink without the SDK's per-record
    # steps that change nothing here (HandsRecordsStraightToSinks): all in
    # crm2twenty_common.sdk_compat, with why.

    config_jsonschema = th.PropertiesList(
        th.Property(
            "mode",
            th.StringType,
            default="csv",
            allowed_values=["csv", "api"],
            description="`csv`: write Twenty-importable CSV batches (no server needed); "
            "`api`: provision and load a Twenty workspace through its API.",
        ),
        th.Property(
            "api_url",
            th.StringType,
            description="Base URL of the Twenty server, e.g. `https://api.twenty.com` or "
            "`https://crm.example.com` (API mode; in CSV mode, optional: the "
            "workspace's metadata and members are then read from it).",
        ),
        th.Property(
            "api_key",
            th.StringType,
            secret=True,
            description="A Twenty API key (Settings → APIs & Webhooks). Never logged.",
        ),
        th.Property(
            "requests_per_minute",
            th.IntegerType,
            description="The pacer's ceiling, shared by every request of the run. "
            "Default: 50 for Twenty Cloud (api.twenty.com), 100 for a "
            "self-hosted server (its default limit).",
        ),
        # the cap Twenty v2.21 answers with (docs/twenty-contract.md §2.5)
        th.Property(
            "batch_size",
            th.IntegerType,
            default=MAX_BATCH,
            description="Records per batch request (Twenty v2.21 takes 200); shrinks by "
            "itself to N when Twenty answers `Maximum number of records to upsert is N`.",
        ),
        th.Property(
            "max_concurrency",
            th.IntegerType,
            default=4,
            description="Most requests in flight at once. More than one is used only "
            "when the round-trip time, not the rate limit, is the bottleneck.",
        ),
        th.Property(
            "request_timeout",
            th.NumberType,
            default=60,
            description="Seconds to wait for one answer before retrying.",
        ),
        th.Property(
            "max_retries",
            th.IntegerType,
            default=8,
            description="Retries of one request on 429, 5xx, timeouts and lost "
            "connections (Retry-After honoured; exponential backoff when "
            "absent) before the run stops without writing state.",
        ),
        th.Property(
            "backoff_seconds",
            th.NumberType,
            default=1,
            description="Wait before the first retry when Twenty names none (no "
            "Retry-After: v2.21 sends none); each further retry waits twice as long "
            "(jittered, at most 60 s).",
        ),
        th.Property(
            "dry_run",
            th.BooleanType,
            default=False,
            description="API mode: read the workspace, plan and check everything, write "
            "nothing; the report gives per object the records, the exact "
            "number of requests and the ETA at `requests_per_minute`.",
        ),
        th.Property(
            "sample_size",
            th.IntegerType,
            description="API mode: load only the first N records of each object (with "
            "the records they point at), read them back and write a "
            "field-level diff (source → sent → returned) to "
            "`sample-diff.csv` and the report.",
        ),
        th.Property(
            "rewrite_unchanged",
            th.BooleanType,
            default=False,
            description="API mode: also send records whose payload is the same as the one "
            "an earlier run wrote and Twenty confirmed (by default they are counted "
            "as `unchanged` and not sent). Set it when records were edited or "
            "deleted in Twenty since, to put the migrated values back.",
        ),
        th.Property(
            "progress_seconds",
            th.NumberType,
            default=DEFAULT_SECONDS,
            description="How often a long run logs its progress line: per object the records "
            "received (while the input arrives), then done of the total (while writing), "
            "records/min, requests used against the rate limit (API mode) and the ETA. "
            "0 turns it off.",
        ),
        th.Property(
            "output_dir",
            th.StringType,
            default="output",
            description="Folder for the run's files: each run writes a sub-folder named "
            "after its run id (CSV batches, rejects.csv, repairs.csv, "
            "merges.csv, report.md/json, the attachment manifest) and "
            "`LATEST` names the newest run whose input was whole (a run whose tap or "
            "mapper failed does not move it), `LAST_RUN` the newest of all.",
        ),
        th.Property(
            "state_dir",
            th.StringType,
            description="Folder for what must outlive a run: the registry of records "
            "already written (with a hash of what was sent, so unchanged records "
            "are not sent again), used by delta runs to resolve references and "
            "duplicates against earlier runs, and the audit log for rollback. It "
            "belongs to one Twenty workspace: a key for another workspace is "
            "refused. Default: `<output_dir>/state`.",
        ),
        th.Property(
            "migration_name",
            th.StringType,
            default="crm2twenty migration",
            description="Name of this migration, shown in the report.",
        ),
        th.Property(
            "csv_max_rows",
            th.IntegerType,
            default=10_000,
            description="Most data rows per CSV file (Twenty's spreadsheet import refuses "
            "more than 10,000).",
        ),
        th.Property(
            "on_duplicate",
            th.StringType,
            default="link",
            allowed_values=["link", "merge", "reject"],
            description="Records sharing a unique value (person e-mail, company domain, "
            "a unique custom field), in the input or with a record an earlier "
            "run loaded: `link` keeps the first and points every reference "
            "at it; `merge` also fills its empty fields from the duplicate; "
            "`reject` rejects the later ones.",
        ),
        th.Property(
            "on_dangling_reference",
            th.StringType,
            default="null",
            allowed_values=["null", "reject"],
            description="A reference to a record absent from the migration (or rejected): "
            "`null` writes the record without that link and lists it in "
            "repairs.csv; `reject` rejects the record. Relations the rules "
            "mark `required` always reject.",
        ),
        th.Property(
            "on_invalid_value",
            th.StringType,
            default="null",
            allowed_values=["null", "reject"],
            description="A value Twenty would refuse (malformed e-mail, unknown SELECT "
            "option, unparsable date): `null` leaves the field empty, keeps the value "
            "verbatim in the TEXT field `<field>Raw` (an unknown option is only listed) and "
            "lists it in repairs.csv; `reject` rejects the record.",
        ),
        th.Property(
            "metadata_file",
            th.StringType,
            description="Your workspace's metadata, saved from `GET /rest/metadata/objects`"
            " (either response shape). Without it, CSV mode uses a bundled "
            "snapshot of a clean Twenty v2.21.0 workspace.",
        ),
        th.Property(
            "workspace_members",
            th.ArrayType(th.StringType),
            description="E-mails of the workspace members (CSV mode). When given, owner "
            "columns are written as `<Owner label> / User Email`, matched "
            "case-insensitively; otherwise owner links go to the API "
            "leftovers file.",
        ),
        th.Property(
            "fallback_owner_email",
            th.StringType,
            description="Member e-mail given to records whose source owner matches no "
            "workspace member (those owners are listed as orphans).",
        ),
        th.Property(
            "keep_spool",
            th.BooleanType,
            default=False,
            description="Keep the run's SQLite spool (`spool.sqlite`) for inspection.",
        ),
    ).to_dict()

    # The SDK's built-in ``validate_records`` (the migration checks every value against its
    # Twenty type and rejects or repairs the record; an SDK validator would abort the run),
    # ``load_method`` (every run upserts by deterministic id) and ``batch_size_rows`` (sinks
    # drain once, at end of input; ``batch_size`` sizes the API's batches) would be ignored:
    # they are not offered.
    capabilities: t.ClassVar[list[CapabilitiesEnum]] = [
        c for c in Target.capabilities if c is not TargetCapabilities.VALIDATE_RECORDS
    ]

    @classmethod
    def append_builtin_config(cls, config_jsonschema: dict) -> None:
        super().append_builtin_config(config_jsonschema)
        for name in ("load_method", "batch_size_rows", "validate_records"):
            config_jsonschema["properties"].pop(name, None)

    def __init__(self, *args: t.Any, **kwargs: t.Any) -> None:
        super().__init__(*args, **kwargs)
        config = dict(self.config)
        client = None
        if config.get("mode") == "api" or (config.get("api_url") and config.get("api_key")):
            if not (config.get("api_url") and config.get("api_key")):
                raise ConfigValidationError(
                    "API mode needs `api_url` and `api_key` (the key can "
                    "come from TARGET_TWENTY_API_KEY)"
                )
            config.setdefault("requests_per_minute", default_rate(config["api_url"]))
            try:
                client = client_for(config, self.logger)
            except ValueError as exc:  # the key names no workspace
                raise ConfigValidationError(str(exc), errors=[str(exc)]) from None
            workspace = fetch_workspace(client)
        elif config.get("metadata_file"):
            workspace = Workspace.from_file(config["metadata_file"])
        else:
            workspace = Workspace.bundled()
        if config.get("requests_per_minute") is None:
            config.pop("requests_per_minute", None)
        try:
            self.migration = Migration(config, workspace, self.logger, client)
        except WorkspaceMismatch as exc:
            raise ConfigValidationError(str(exc), errors=[str(exc)]) from None
        # Each sink hands its records to this run's migration.
        self.default_sink_class = t.cast(
            "type[SpoolSink]",
            type(
                "BoundSpoolSink",
                (SpoolSink,),
                {
                    "migration": self.migration,
                    "reader": t.cast("MsgSpecNumberedReader", self.message_reader),
                },
            ),
        )

    def get_sink_class(self, stream_name: str) -> type[SpoolSink]:
        return self.default_sink_class

    def process_endofpipe(self) -> None:
        self.migration.finish()
        if self.migration.held_back:
            # A plugin upstream failed or stopped early and nothing was written: the taps'
            # STATE would acknowledge what they read, so none is emitted (target_twenty.upstream).
            return
        if not self.migration.moves_bookmarks:
            # A dry or sample run leaves records for the full run: the taps' STATE would tell
            # Meltano they were loaded, so none is emitted and the bookmarks stay where they
            # were. The SDK's end of pipe only drains the sinks (nothing to do: the migration
            # has run) and writes that STATE, so it is not called.
            self.logger.info("dry or sample run: no STATE emitted, the taps' bookmarks stay")
            return
        # Only now, with everything written, may the final STATE be emitted.
        super().process_endofpipe()


if __name__ == "__main__":
    TargetTwenty.cli()
