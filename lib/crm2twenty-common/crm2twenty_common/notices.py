"""The suite's ``_notices`` stream: what a tap could not read or had to decide, in words, for the
migration report (crm2twenty-mapper passes it through; target-twenty lists it)."""

from __future__ import annotations

import typing as t

from singer_sdk.helpers.types import Context
from singer_sdk.streams import Stream

from crm2twenty_common.twenty import NOTICES, NOTICES_SCHEMA, Notice

if t.TYPE_CHECKING:
    from singer_sdk import Tap

__all__ = ["NOTICES", "NoticesStream"]


class NoticesStream(Stream):
    """``notices`` is read when the stream syncs: give a callable for what the sync itself
    learns (a tap syncs this stream last), or a list known at discovery."""

    name = NOTICES
    primary_keys: t.ClassVar[list[str]] = []
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
