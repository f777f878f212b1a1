"""tap-sage-crm: the tap class and its settings."""

from __future__ import annotations

import atexit
import typing as t
from functools import cached_property

from crm2twenty_common.cli import entry_point
from crm2twenty_common.completion import ReportsCompletion
from crm2twenty_common.inventory import inventory_streams
from crm2twenty_common.notices import notices_streams
from crm2twenty_common.pacer import RetryPolicy
from crm2twenty_common.renamed_streams import carry_bookmarks
from crm2twenty_common.suite_settings import SideStreamsSetting
from crm2twenty_common.twenty import plural, singular
from singer_sdk import Tap
from singer_sdk import typing as th

from tap_sage_crm import inventory
from tap_sage_crm.entities import (
    LIBRARY_STREAM,
    STANDARD,
    WORKFLOW_ENTITY,
    WORKFLOWS_STREAM,
    EntityInfo,
)
from tap_sage_crm.rest import SageRest, SageRestStream
from tap_sage_crm.soap import SageError, SoapSession
from tap_sage_crm.streams import SageStream

if t.TYPE_CHECKING:
    from singer_sdk.streams import Stream


# the streams of a tap without custom entities: a custom entity's name never takes theirs
_BUILT_IN = frozenset({*(stream for stream, _ in STANDARD), WORKFLOWS_STREAM})


def custom_stream(entity: str, taken: t.AbstractSet[str]) -> str:
    """A custom entity's stream: its name in the plural like the standard streams (Project →
    projects), or as Sage spells it, lowercased, when a stream already has that plural."""
    lower = entity.lower()
    for name in (plural(singular(lower)), lower):
        if name not in taken:
            return name
    raise SageError(f"custom entity {entity}: the stream names {lower!r} and its plural are taken")


def _renamed(old: str) -> str | None:
    """The stream a bookmark of an older version's stream ``old`` belongs to now."""
    if old == "library":
        return LIBRARY_STREAM
    return None if old in _BUILT_IN else custom_stream(old, _BUILT_IN)


class TapSageCrm(ReportsCompletion, SideStreamsSetting, Tap):
    """Reads Sage CRM — companies, persons, addresses, e-mails and phones with their link tables, leads, opportunities, cases, communications and their links, notes, libraries (attachments), users, captions (translations of coded values) and every custom entity — over its SOAP web services (through zeep, keeping Sage's one-session-per-user rule and always logging off) or its REST API (2019 R2+). Schemas come from Sage's metadata; streams replicate incrementally by `<prefix>_updateddate`; deleted rows are skipped or flagged; every query is built so that no setting or bookmark can change it."""  # noqa: E501

    name = "tap-sage-crm"
    dynamic_catalog = True

    config_jsonschema = th.PropertiesList(
        th.Property(
            "api",
            th.StringType,
            default="soap",
            allowed_values=["soap", "rest"],
            description="`soap`: the web services (every version); `rest`: the "
            "sagecrm2 REST API (2019 R2 and later).",
        ),
        th.Property(
            "base_url",
            th.StringType,
            required=True,
            description="The Sage CRM server, e.g. `https://crm.example.com`.",
        ),
        th.Property(
            "install_name",
            th.StringType,
            default="crm",
            description="The install name in Sage's URLs (`/crm/eware.dll`, `/sdata/crmj`).",
        ),
        th.Property(
            "wsdl_url",
            th.StringType,
            description="SOAP: the WSDL. Default "
            "`<base_url>/<install_name>/eware.dll/webservices/webservice.wsdl`"
            " (2024 R1 help names `CRMwebservice.wsdl`; set it if yours does).",
        ),
        th.Property(
            "username",
            th.StringType,
            required=True,
            secret=True,
            description="A Sage user with 'Allow Web Service Access'.",
        ),
        th.Property(
            "password",
            th.StringType,
            required=True,
            secret=True,
            description="That user's password.",
        ),
        th.Property(
            "start_date",
            th.DateTimeType,
            description="Read rows updated on or after this (later runs use the "
            "bookmark of `<prefix>_updateddate`).",
        ),
        th.Property(
            "deleted_records",
            th.StringType,
            default="skip",
            allowed_values=["skip", "flag"],
            description="Rows Sage marks deleted (`<prefix>_deleted`): `skip` them, or "
            "`flag` them (emitted with `is_deleted: true`).",
        ),
        th.Property(
            "filters",
            th.ObjectType(additional_properties=True),
            description="Per stream, `{column: value or [values]}` rows must match, e.g. "
            '`{"companies": {"comp_type": ["Customer", "Prospect"]}}`. Values '
            "are quoted safely; column names must be Sage column names.",
        ),
        th.Property(
            "library_dir",
            th.StringType,
            description="A copy of (or mount of) Sage's library folder, so attachment "
            "files can be found: `<library_dir>/<libr_filepath>/"
            "<libr_filename>`.",
        ),
        th.Property(
            "page_size",
            th.IntegerType,
            default=100,
            description="REST: records per page (`count`).",
        ),
        th.Property(
            "user_agent",
            th.StringType,
            description="REST: the User-Agent header of every request (the SDK's RESTStream "
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
            description="Retries of a call that failed in transit (with backoff).",
        ),
        th.Property(
            "backoff_seconds",
            th.NumberType,
            default=0.5,
            description="Wait before the first retry when the server names none (no "
            "Retry-After); each further retry waits twice as long (jittered, at most 30 s).",
        ),
    ).to_dict()

    def __init__(self, *args: t.Any, **kwargs: t.Any) -> None:
        self._client: t.Any = None
        super().__init__(*args, **kwargs)

    @cached_property
    def retry_policy(self) -> RetryPolicy:
        """One policy for the run, REST and SOAP alike."""
        c = self.config
        return RetryPolicy(
            max_tries=int(c.get("max_retries", 5)) + 1, base=float(c.get("backoff_seconds", 0.5))
        )

    @property
    def client(self) -> t.Any:
        if self._client is None:
            c = self.config
            base = c["base_url"].rstrip("/")
            install = c.get("install_name", "crm")
            if c.get("api", "soap") == "rest":
                self._client = SageRest(
                    base,
                    install,
                    c["username"],
                    c["password"],
                    timeout=float(c.get("timeout", 60)),
                    policy=self.retry_policy,
                    page_size=int(c.get("page_size", 100)),
                )
            else:
                wsdl = (
                    c.get("wsdl_url") or f"{base}/{install}/eware.dll/webservices/webservice.wsdl"
                )
                self._client = SoapSession(
                    wsdl,
                    c["username"],
                    c["password"],
                    timeout=float(c.get("timeout", 60)),
                    policy=self.retry_policy,
                )
            # Whatever path ends the process (a discovery made by the SDK's constructor, an
            # exit before sync), the session must not outlive it.
            atexit.register(self.close)
        return self._client

    def close(self) -> None:
        if self._client is not None:
            self._client.close()

    def load_state(self, state: dict[str, t.Any]) -> None:
        # streams once named in the singular (``library``, a custom entity's ``project``)
        super().load_state(carry_bookmarks(state, _renamed))

    def discover_streams(self) -> list[Stream]:
        # The session lasts only while working: the SDK builds taps (and discovers) before it
        # knows whether a sync follows, and an idle session would lock the user out.
        try:
            metadata = {m.entity.lower(): m for m in self.client.metadata()}
        finally:
            self.close()
        notices: list[str] = []
        references: dict[str, str] = {}
        chosen: list[EntityInfo] = []
        for stream, entity in STANDARD:
            info = metadata.pop(entity.lower(), None)
            if info is None:
                notices.append(
                    f"The {entity} entity is not available to web services, so "
                    f"{stream} were not read (enable its 'Allow Web Service Access')."
                )
                continue
            info.stream = stream
            references[entity.lower()] = stream
            chosen.append(info)
        workflow = metadata.pop(WORKFLOW_ENTITY.lower(), None)
        if workflow is not None:
            workflow.stream = WORKFLOWS_STREAM
            chosen.append(workflow)
        else:
            notices.append(
                "Workflow rules are not readable through Sage's web services; rebuild "
                "them from Administration → Advanced Customization → Workflow."
            )
        taken = {info.stream for info in chosen}
        for info in sorted(metadata.values(), key=lambda m: m.entity.lower()):
            if info.custom:
                info.stream = custom_stream(info.entity, taken)
                taken.add(info.stream)
                references[info.entity.lower()] = info.stream
                chosen.append(info)
        kind = SageRestStream if isinstance(self.client, SageRest) else SageStream
        streams: list[Stream] = [kind(self, info, self.client, references) for info in chosen]
        for notice in notices:  # the log has them too, whether or not `_notices` is sent
            self.logger.warning("%s", notice)
        return [
            *streams,
            *inventory_streams(self, inventory.by_hand(self.name)),
            *notices_streams(self, notices),
        ]

    def load_streams(self) -> list[Stream]:  # type: ignore[misc]  # SDK @final
        # Discovery order, not the SDK's alphabetical one: the mapper's lookups (users,
        # captions, companies, communications) must pass before the streams that use them.
        return self.discover_streams()

    def sync_all(self) -> None:  # type: ignore[misc]  # SDK @final
        try:
            super().sync_all()
        finally:
            self.close()  # after an error, Ctrl-C or SIGTERM (the SDK raises on both signals)

    def run_discovery(self) -> str:
        try:
            return super().run_discovery()
        finally:
            self.close()

    def run_sync_dry_run(self, *args: t.Any, **kwargs: t.Any) -> bool:  # type: ignore[misc]  # SDK @final; `--test`
        try:
            return super().run_sync_dry_run(*args, **kwargs)
        finally:
            self.close()


# The command (pyproject.toml): an expected error is one line, not a traceback.
main = entry_point(TapSageCrm, SageError)

if __name__ == "__main__":
    main()
