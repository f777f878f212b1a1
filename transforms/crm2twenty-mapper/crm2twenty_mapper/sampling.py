"""What inference reads of the data: each stream's schema, its first rows, and all its keys.

The proposal (proposal.py) and a run without a confirmed rules file (deferred.py) decide from the
same evidence — the first :data:`SAMPLE_ROWS` rows of every stream and the complete set of every
stream's keys — so that the rules file the proposal writes reproduces the run. Keys are kept as
64-bit hashes in an ``array`` (8 bytes a key): a million keys cost 8 MB, not a set of strings.
"""

from __future__ import annotations

import bisect
from array import array
from dataclasses import dataclass, field
from typing import Any

from crm2twenty_mapper.ids import KeyTemplate
from crm2twenty_mapper.rules import Rules

# As many rows as the file taps read to infer column types (their `infer_sample_rows` default).
SAMPLE_ROWS = 1000


class KeySet:
    """The keys of one stream, as hashes of their canonical text (``ids.key_text``)."""

    __slots__ = ("_hashes", "_sorted")

    def __init__(self) -> None:
        self._hashes = array("q")
        self._sorted = True

    def add(self, key: str) -> None:
        self._hashes.append(hash(key))
        self._sorted = False

    def __len__(self) -> int:
        return len(self._hashes)

    def __contains__(self, text: object) -> bool:
        if not isinstance(text, str):
            return False
        if not self._sorted:
            self._hashes = array("q", sorted(self._hashes))
            self._sorted = True
        wanted = hash(text)
        at = bisect.bisect_left(self._hashes, wanted)
        return at < len(self._hashes) and self._hashes[at] == wanted


@dataclass
class StreamSample:
    """One source stream as inference sees it."""

    stream: str
    properties: dict[str, Any]
    key_properties: list[str]
    rows: list[dict] = field(default_factory=list)
    read: int = 0
    keys: KeySet = field(default_factory=KeySet)
    key: KeyTemplate | None = None  # what a reference to this stream resolves against

    def has_key(self, value: Any) -> bool:
        """Whether a reference holding ``value`` names a record of this stream."""
        if self.key is None or len(self.key.columns) != 1:
            return False
        text = self.key.for_value(value)
        return text is not None and text in self.keys

    def values(self, column: str) -> list[Any]:
        """The sample's non-empty values of ``column``."""
        out = []
        for row in self.rows:
            value = row.get(column)
            if value is None or (isinstance(value, str) and not value.strip()):
                continue
            out.append(value)
        return out


class Sampler:
    """Collects :class:`StreamSample` s from Singer SCHEMA and RECORD messages, in the order the
    tap sent the streams."""

    def __init__(self, rules: Rules, rows: int = SAMPLE_ROWS) -> None:
        self.rules = rules
        self.limit = rows
        self.streams: dict[str, StreamSample] = {}

    def on_schema(self, stream: str, schema: dict, key_properties: list[str]) -> StreamSample:
        props = dict(schema.get("properties") or {})
        sample = self.streams.get(stream)
        if sample is None:
            sample = self.streams[stream] = StreamSample(stream, props, list(key_properties))
        else:
            sample.properties.update(props)
        sample.key = self._template(stream, props, key_properties)
        return sample

    def _template(self, stream: str, props: dict, key_properties: list[str]) -> KeyTemplate | None:
        """The key a reference to ``stream`` resolves against: its rules' primary key, else the
        tap's key properties, else an ``id`` column."""
        outputs = self.rules.streams.get(stream)
        if outputs:
            primary = next(o for i, o in enumerate(outputs) if o.get("primary", i == 0))
            return KeyTemplate(primary.get("key", "id"))
        if key_properties:
            keys = list(key_properties)
            return KeyTemplate(keys if len(keys) > 1 else keys[0])
        return KeyTemplate("id") if "id" in props else None

    def on_record(self, stream: str, record: dict) -> None:
        sample = self.streams.get(stream)
        if sample is None:
            return
        sample.read += 1
        if len(sample.rows) < self.limit:
            sample.rows.append(record)
        if sample.key is not None:
            key = sample.key.render(record)
            if key is not None:
                sample.keys.add(key)
