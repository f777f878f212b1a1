"""The suite's ``_notices`` stream: what a tap could not read or had to decide, in words, for the
migration report (crm2twenty-mapper passes it through; target-twenty lists it). A tap adds it
only with its ``side_streams`` setting on (crm2twenty_common.suite_settings)."""

from __future__ import annotations

import typing as t

from singer_sdk.helpers.types import Context
from singer_sdk.streams import Stream

from crm2twenty_common.suite_settings import SIDE_STREAMS
from crm2twenty_common.twenty import NOTICES, NOTICES_KEY, NOTICES_SCHEMA, Notice

if t.TYPE_CHECKING:
    from singer_sdk import Tap

__all__ = ["NOTICES", "NoticesStream", "notices_streams"]


class NoticesStream(Stream):
    """``notices`` is read when the stream syncs: give a callable for what the sync itself
    learns (a tap syncs this stream last), or a list known at discovery."""

    name = NOTICES
    primary_keys: t.ClassVar[list[str]] = list(NOTICES_KEY)
    schema: t.ClassVar[dict] = NOTICES_SCHEMA

    def __init__(
        self, tap: Tap, notices: t.Callable[[], t.Iterable[str]] | t.Iterable[str]
    ) -> None:
        super().__init__(tap)
        self.tap = tap  # the SDK keeps it only as the private `_tap`
        self._notices = notices

    def get_records(self, context: Context | None) -> t.Iterable[dict]:
        notices = self._notices() if callable(self._notices) else self._notices
        for notice in notices:
            yield Notice(source=self.tap.name, notice=notice).as_record()


def notices_streams(
    tap: Tap, notices: t.Callable[[], t.Iterable[str]] | t.Iterable[str]
) -> list[Stream]:
    """The ``_notices`` stream when the tap's ``side_streams`` setting is on, else none (each
    tap logs its notices where it finds them)."""
    return [NoticesStream(tap, notices)] if tap.config.get(SIDE_STREAMS) else []
