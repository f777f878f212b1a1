"""The crm2twenty mapper plugin: a singer-sdk InlineMapper around the mapping runtime.

Flow: rules.py loads and checks the rules file; on each SCHEMA, runtime.py has compile.py build
the stream's plan (infer.py guesses rules for what the file does not name); on each RECORD the
runtime applies the plan and emits the Twenty-shaped records and the side streams
(side_streams.py). Value transforms are in transforms.py, Twenty field intent in intent.py.
"""

from __future__ import annotations

import os
import sys
import typing as t

from crm2twenty_common.cli import entry_point
from crm2twenty_common.completion import ReportsCompletion
from crm2twenty_common.singer_input import MsgSpecNumberedReader
from crm2twenty_common.writer import BufferedSingerWriter, flush_stdout
from singer_sdk import typing as th
from singer_sdk.helpers.capabilities import CapabilitiesEnum, PluginCapabilities
from singer_sdk.mapper_base import InlineMapper

from crm2twenty_mapper import rules as rules_mod
from crm2twenty_mapper import transforms
from crm2twenty_mapper.runtime import Runtime

if t.TYPE_CHECKING:
    from singer_sdk import singerlib as singer

    from crm2twenty_mapper.deferred import InferringRun


class Crm2TwentyMapper(ReportsCompletion, InlineMapper):
    """Turns source-shaped CRM streams into Twenty-shaped streams (company, person, opportunity, note, noteTarget, task, taskTarget, attachment, custom objects), following one reviewable YAML rules file per source. Every record gets a deterministic id (UUIDv5 of migration namespace, source, object, source key), references are computed the same way, and each SCHEMA carries the Twenty field intent in the `x-twenty` keyword so that target-twenty can provision fields, objects and options. Rows a rule cannot map go to the `_rejects` stream with the reason."""  # noqa: E501

    name = "crm2twenty-mapper"
    completion_stage = "mapper"  # it says on `_notices` that it started, completed or failed
    # No stream-maps / flattening: this mapper does not run the SDK's stream-maps engine, and
    # advertising the settings would have them silently ignored.
    capabilities: t.ClassVar[list[CapabilitiesEnum]] = [
        PluginCapabilities.ABOUT,
        PluginCapabilities.STRUCTURED_LOGGING,
    ]
    # Errors in the input name its line (and stream), in one line.
    message_reader_class = MsgSpecNumberedReader
    message_writer_class = BufferedSingerWriter

    config_jsonschema = th.PropertiesList(
        th.Property(
            "rules",
            th.StringType,
            description=(
                "Rules to apply: a path to a YAML rules file, or the name of a built-in one "
                "(allegory, …). When empty, the built-in rules whose `extractors` list names the "
                "Meltano extractor feeding this mapper (MELTANO_EXTRACTOR_NAME) are used, so one "
                "`mapper` mapping serves every source."
            ),
        ),
        th.Property(
            "migration_namespace",
            th.StringType,
            default="crm2twenty",
            description=(
                "Seed of every deterministic record id (a UUID or any text). Keep it the same for "
                "every run of one migration: re-runs then update records instead of duplicating "
                "them. Use another value to load the same source as separate records."
            ),
        ),
        th.Property(
            "rule_options",
            th.ObjectType(additional_properties=True),
            description=(
                'Choices the rules file offers under `options`, e.g. `{"cases_as": '
                '"supportCase"}` for Sage CRM cases as a custom object instead of tasks.'
            ),
        ),
        th.Property(
            "default_country",
            th.StringType,
            description=(
                "The country a phone number written without its calling code is read in "
                "(`07700 900123` with `GB`) when neither its row nor its company names one: "
                "an ISO code or an English name. Overrides the rules' `defaults.phone_country`; "
                "`none`: no default, such numbers are kept verbatim in `phonesRaw`. A number "
                "with its calling code (`+44 …`) always takes that code's country."
            ),
        ),
        th.Property(
            "infer",
            th.BooleanType,
            default=True,
            description=(
                "When `rules` is empty: decide what the built-in rules do not name from the data "
                "(references, polymorphic parents, value patterns), exactly as the proposal "
                "command (`crm2twenty-propose`) would, and list weak evidence for review. Has no "
                "effect once `rules` names a file: confirmed rules are used as written."
            ),
        ),
        th.Property(
            "keep_source_values",
            th.IntegerType,
            default=1000,
            description=(
                "Carry the raw source values of the first N records of each stream in the "
                "records' provenance, so that target-twenty's sample run can show source → sent "
                "→ returned for each field. 0 turns it off."
            ),
        ),
    ).to_dict()

    def __init__(self, *args: t.Any, **kwargs: t.Any) -> None:
        super().__init__(*args, **kwargs)
        choice = rules_mod.choose(
            self.config.get("rules"),
            os.environ.get("MELTANO_EXTRACTOR_NAME"),
            os.environ.get("MELTANO_EXTRACTOR_NAMESPACE"),
        )
        options = self.config.get("rule_options")
        namespace = self.config.get("migration_namespace", "crm2twenty")
        keep = int(self.config.get("keep_source_values", 1000))
        defaults: dict[str, t.Any] = {}
        if country := self.config.get("default_country"):
            try:
                defaults["phone_country"] = transforms.default_country(country)
            except ValueError as exc:
                raise rules_mod.RulesError(str(exc)) from None
        self.inferring: InferringRun | None = None
        if not self.config.get("rules") and self.config.get("infer", True):
            # no confirmed rules: the built-in ones, plus what the data needs (deferred.py,
            # imported only then: the proposal's libraries are a fifth of a second to import)
            from crm2twenty_mapper.deferred import InferringRun

            where, data = rules_mod.load_data(choice)
            self.inferring = InferringRun(data, where, options, namespace, keep, defaults=defaults)
            self.rules = self.inferring.rules
            self.runtime = self.inferring.runtime
        else:
            self.rules = rules_mod.load(choice, options, defaults)
            self.runtime = Runtime(self.rules, namespace, keep)
        # (the rules file and the options, as the run got them from Meltano's settings)
        self.logger.info(
            "Mapping with %s (source %s)%s%s",
            self.rules.path,
            self.rules.source,
            "".join(f", option {k}={v}" for k, v in sorted((options or {}).items())),
            ", plus what the data needs (no confirmed rules file)" if self.inferring else "",
        )

    def map_schema_message(self, message_dict: dict) -> t.Iterable[singer.Message]:
        return (self.inferring or self.runtime).on_schema(
            message_dict["stream"],
            message_dict["schema"],
            list(message_dict.get("key_properties") or []),
        )

    def map_record_message(self, message_dict: dict) -> t.Iterable[singer.Message]:
        line = t.cast("MsgSpecNumberedReader", self.message_reader).line_number
        return (self.inferring or self.runtime).on_record(
            message_dict["stream"], message_dict["record"], line
        )

    def map_state_message(self, message_dict: dict) -> t.Iterable[singer.Message]:
        # (the inferring run's STATE comes after the records it holds)
        return (self.inferring or self.runtime).on_state(message_dict["value"])

    def map_activate_version_message(self, message_dict: dict) -> t.Iterable[singer.Message]:
        # Source-side table versions mean nothing to Twenty-shaped streams.
        return ()

    def process_endofpipe(self) -> None:
        for message in (self.inferring or self.runtime).summary():
            self.write_message(message)
        flush_stdout()  # our writer gathers lines
        sys.stdout.flush()
        for stream, counts in sorted(self.runtime.counts.items()):
            self.logger.info(
                "%s: read %d, mapped %d, rejected %d, ignored %d",
                stream,
                counts.read,
                counts.mapped,
                counts.rejected,
                counts.ignored,
            )


# The command (pyproject.toml): an expected error is one line, not a traceback.
main = entry_point(Crm2TwentyMapper)  # RulesError is a UserError

if __name__ == "__main__":
    main()
    sys.exit(0)
