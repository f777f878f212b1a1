"""tap-practicehub: the tap class and its settings."""

from __future__ import annotations

import typing as t
from functools import cached_property

from crm2twenty_common.cli import entry_point
from crm2twenty_common.completion import ReportsCompletion
from crm2twenty_common.inventory import INVENTORY, InventoryItem, inventory_streams
from crm2twenty_common.notices import NOTICES, notices_streams
from crm2twenty_common.pacer import Pacer, RetryPolicy
from crm2twenty_common.suite_settings import SideStreamsSetting
from singer_sdk import Tap
from singer_sdk import typing as th

from tap_practicehub.client import PracticeHubError, Session, base_url, check_app_details
from tap_practicehub.streams import STREAM_TYPES, ExtraStream

if t.TYPE_CHECKING:
    from singer_sdk.streams import Stream


# PracticeHub's API documents no endpoint for appointment reminders or messaging settings
# (docs/sources.md §3.8): the report says what to collect by hand.
REMINDERS = "PracticeHub appointment reminders and messaging"
REMINDERS_BY_HAND = (
    "PracticeHub's API documents no endpoint for appointment reminders or patient messaging, "
    "so none was read. Note from PracticeHub's settings which reminders and messages the "
    "clinic sends (when, by SMS or e-mail, to whom, with which text), to rebuild them as "
    "Twenty workflows."
)


class TapPracticeHub(ReportsCompletion, SideStreamsSetting, Tap):
    """Reads PracticeHub (practicehub.io) — patients, practitioners, appointment types, appointments, invoices, payments, payment methods, patient packages, patient logs (treatment notes) and patient files, plus any other list endpoint named in `extra_streams` — at the API's pace: one pacer per run, shared by every stream, keeps requests `min_interval_seconds` apart, 429s wait (Retry-After, else backoff) and ask the same page again. Pages of 100 follow `links.next`; rows served twice are passed once and counted; state records the next page, so an interrupted run resumes where it stopped; later runs ask `updated=gte:<bookmark>` and notice when the API ignores it."""  # noqa: E501

    name = "tap-practicehub"

    config_jsonschema = th.PropertiesList(
        th.Property(
            "account",
            th.StringType,
            description="Your PracticeHub sub-domain: `<account>` in "
            "`https://<account>.neptune.practicehub.io`. Or set `api_url`.",
        ),
        th.Property(
            "api_url",
            th.StringType,
            description="The API base for any other host or region, e.g. "
            "`https://myclinic.practicehub.io/api` (replaces `account`).",
        ),
        th.Property(
            "api_key",
            th.StringType,
            required=True,
            secret=True,
            description="API key from Settings → Developers (sent as `x-practicehub-key`).",
        ),
        th.Property(
            "app_details",
            th.StringType,
            required=True,
            description="The `x-app-details` header PracticeHub requires: "
            "`appname=contact@email`, e.g. `crm2twenty=it@clinic.example`.",
        ),
        th.Property(
            "min_interval_seconds",
            th.NumberType,
            default=1.05,
            description="Least time between two requests of this run, all streams "
            "together (PracticeHub allows about one a second).",
        ),
        th.Property(
            "start_date",
            th.DateTimeType,
            description="First run: read rows updated on or after this. Later runs use "
            "each stream's `updated` bookmark.",
        ),
        th.Property(
            "page_size",
            th.IntegerType,
            default=100,
            description="Rows per page (PracticeHub's maximum, and default, is 100).",
        ),
        th.Property(
            "timezone",
            th.StringType,
            default="UTC",
            description="IANA zone of PracticeHub's naive timestamps (`created`, `updated`, "
            "`start` …), e.g. `Europe/London`.",
        ),
        th.Property(
            "download_dir",
            th.StringType,
            description="When set, each patient file's pre-signed `url` is downloaded "
            "here as it is read (`local_path`, `file_exists`), so target-twenty can upload it.",
        ),
        th.Property(
            "filters",
            th.ObjectType(additional_properties=True),
            description='Per stream, `{field: "op:value"}` added to every request, e.g. '
            '`{"practitioners": {"active": "eq:1"}}`. PracticeHub ignores invalid filters '
            "silently.",
        ),
        th.Property(
            "extra_fields",
            th.ObjectType(additional_properties=True),
            description="Per stream, `{field: type}` for fields this tap does not declare "
            "(an account's custom compliance fields), type one of string, integer, number, "
            'boolean, date, date-time, object, array: `{"patients": {"consent_given": '
            '"boolean"}}`.',
        ),
        th.Property(
            "extra_streams",
            th.ObjectType(additional_properties=True),
            description="Further list endpoints, `{stream: path}`, e.g. "
            '`{"locations": "locations"}`: id, created, updated as columns, the whole row '
            "in `record`.",
        ),
        th.Property(
            "user_agent",
            th.StringType,
            description="User-Agent header of every PracticeHub request (the SDK's RESTStream "
            "setting; "
            "default `singer-sdk/<version>`).",
        ),
        th.Property(
            "timeout", th.NumberType, default=60, description="Seconds to wait for one answer."
        ),
        th.Property(
            "max_retries",
            th.IntegerType,
            default=5,
            description="Retries of a page after a 5xx or a network error (429s wait and "
            "retry on their own).",
        ),
        th.Property(
            "backoff_seconds",
            th.NumberType,
            default=1,
            description="Wait before the first retry (or the first wait after a 429) when "
            "PracticeHub names none (no Retry-After); each further one waits twice as long "
            "(jittered, at most 30 s).",
        ),
    ).to_dict()

    def __init__(self, *args: t.Any, **kwargs: t.Any) -> None:
        self.notices: list[str] = []
        super().__init__(*args, **kwargs)

    def run_session(self) -> Session:
        return self.session

    @cached_property
    def session(self) -> Session:
        """This run's one pacer, retry policy and counts, shared by every stream."""
        c = self.config
        check_app_details(c.get("app_details", ""))
        return Session(
            base=base_url(c),
            pacer=Pacer(min_interval=float(c.get("min_interval_seconds", 1.05))),
            policy=RetryPolicy(
                max_tries=int(c.get("max_retries", 5)) + 1,
                base=float(c.get("backoff_seconds", 1)),
            ),
            timeout=float(c.get("timeout", 60)),
        )

    def discover_streams(self) -> list[Stream]:
        streams: list[Stream] = [
            kind(self, self.run_session, self.notices) for kind in STREAM_TYPES
        ]
        known = {s.name for s in streams} | {NOTICES, INVENTORY}
        for name, path in (self.config.get("extra_streams") or {}).items():
            if name in known:
                continue
            streams.append(
                ExtraStream(
                    self,
                    self.run_session,
                    self.notices,
                    name=name,
                    path="/" + str(path).strip("/"),
                    schema=ExtraStream.SCHEMA,
                )
            )
        return [
            *streams,
            *inventory_streams(
                self, [InventoryItem(self.name, REMINDERS, by_hand=REMINDERS_BY_HAND)]
            ),
            *notices_streams(self, lambda: self.notices),
        ]

    def load_streams(self) -> list[Stream]:  # type: ignore[misc]  # SDK @final
        # Discovery order, not the SDK's alphabetical one: practitioners and appointment
        # types pass before the streams the mapper resolves through them; notices last.
        return self.discover_streams()

    def sync_all(self) -> None:  # type: ignore[misc]  # SDK @final
        try:
            super().sync_all()
        finally:
            if "session" in self.__dict__:  # a request was made
                s = self.session
                self.logger.info(
                    "PracticeHub: %d requests, %d answered 429, %d retried after errors, "
                    "%.1f s waited for the pacer",
                    s.pacer.requests,
                    s.counts.throttled,
                    s.counts.retried,
                    s.pacer.waited,
                )
                s.http.close()


# The command (pyproject.toml): an expected error is one line, not a traceback.
main = entry_point(TapPracticeHub, PracticeHubError)

if __name__ == "__main__":
    main()
