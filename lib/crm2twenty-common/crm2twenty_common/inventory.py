"""The suite's ``_inventory`` stream: what cannot move to Twenty, section by section, for the
migration report (crm2twenty-mapper passes it through; target-twenty gives each section its own
heading). A tap lists what its source shows, or says what to collect by hand; it sends the stream
only with its ``side_streams`` setting on, like ``_notices`` (crm2twenty_common.suite_settings)."""

from __future__ import annotations

import typing as t

from singer_sdk.helpers.types import Context
from singer_sdk.streams import Stream

from crm2twenty_common.suite_settings import SIDE_STREAMS
from crm2twenty_common.twenty import INVENTORY, INVENTORY_SCHEMA, InventoryItem

if t.TYPE_CHECKING:
    from singer_sdk import Tap

__all__ = ["INVENTORY", "InventoryItem", "InventoryStream", "inventory_streams"]


class InventoryStream(Stream):
    """``items`` is read when the stream syncs: a callable for what the sync itself learns, or a
    list known at discovery."""

    name = INVENTORY
    primary_keys: t.ClassVar[list[str]] = []
    schema: t.ClassVar[dict] = INVENTORY_SCHEMA

    def __init__(
        self, tap: Tap, items: t.Callable[[], t.Iterable[InventoryItem]] | t.Iterable[InventoryItem]
    ) -> None:
        super().__init__(tap)
        self.tap = tap  # the SDK keeps it only as the private `_tap`
        self._items = items

    def get_records(self, context: Context | None) -> t.Iterable[dict]:
        items = self._items() if callable(self._items) else self._items
        for item in items:
            yield item.as_record()


def inventory_streams(
    tap: Tap, items: t.Callable[[], t.Iterable[InventoryItem]] | t.Iterable[InventoryItem]
) -> list[Stream]:
    """The ``_inventory`` stream when the tap's ``side_streams`` setting is on, else none."""
    return [InventoryStream(tap, items)] if tap.config.get(SIDE_STREAMS) else []
