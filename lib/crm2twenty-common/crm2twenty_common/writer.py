"""A Singer message writer for high-volume taps: block-buffered stdout, C-speed JSON.

The SDK's default writer encodes with simplejson (``use_decimal`` keeps it on the pure-Python
path) and flushes stdout after every message, one ``write`` system call per record. Export
records hold only JSON-native values, so the standard library's C encoder fits; stdout is
flushed after each STATE message (so a target never sees a state before the records it covers
are out) and at exit.
"""

from __future__ import annotations

import datetime as dt
import decimal
import json
import sys
import typing as t

from singer_sdk.singerlib import StateMessage
from singer_sdk.singerlib.encoding import GenericSingerWriter

if t.TYPE_CHECKING:
    from singer_sdk.singerlib import Message


def _default(value: t.Any) -> t.Any:
    if isinstance(value, dt.datetime):
        return value.isoformat(sep="T")
    if isinstance(value, decimal.Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    return str(value)


_ENCODER = json.JSONEncoder(separators=(",", ":"), default=_default)


class BufferedSingerWriter(GenericSingerWriter[str, "Message"]):
    """Writes one JSON line per message; flushes on STATE messages only."""

    def serialize_message(self, message: Message) -> str:
        return _ENCODER.encode(message.to_dict())

    def write_message(self, message: Message) -> None:
        out = sys.stdout
        out.write(self.format_message(message) + "\n")
        if isinstance(message, StateMessage):
            out.flush()
