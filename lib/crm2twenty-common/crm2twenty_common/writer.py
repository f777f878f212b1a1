"""A Singer message writer for high-volume plugins: msgspec JSON, stdout flushed on STATE only.

singer-sdk ships ``singer_sdk.contrib.msgspec.MsgSpecWriter``, whose encoder we share, but it
flushes stdout after every message: one system call per record. Here lines gather in our own
buffer, written out at 64 KiB, after each STATE message (so a target never sees a state before
the records it covers are out) and at exit. The buffer is ours, not stdout's, because
``PYTHONUNBUFFERED`` (set by many CI and container images) makes stdout's own one unbuffered.
msgspec writes UTF-8 rather than ``\\u`` escapes and a Decimal as the number it holds
(``12.50``); a Singer reader decodes both to the same values as the standard library's JSON did.
"""

from __future__ import annotations

import atexit
import sys
import typing as t

from singer_sdk.contrib.msgspec import encoder
from singer_sdk.singerlib import StateMessage
from singer_sdk.singerlib.encoding import GenericSingerWriter

if t.TYPE_CHECKING:
    from singer_sdk.singerlib import Message


_CHUNK = 1 << 16  # bytes gathered before one write: a pipe's default capacity


class BufferedSingerWriter(GenericSingerWriter[bytes, "Message"]):
    """Writes one JSON line per message; flushes on STATE messages, at 64 KiB and at exit."""

    def __init__(self) -> None:
        super().__init__()
        self._pending = bytearray()  # msgspec encodes into its end without a new allocation
        atexit.register(self.flush)

    def serialize_message(self, message: Message) -> bytes:
        return encoder.encode(message.to_dict()) + b"\n"

    def write_message(self, message: Message) -> None:
        pending = self._pending
        encoder.encode_into(message.to_dict(), pending, -1)
        pending.append(0x0A)
        if len(pending) >= _CHUNK or isinstance(message, StateMessage):
            self.flush()

    def flush(self) -> None:
        """Write out what is gathered and flush stdout (the plugin's end calls it too)."""
        pending = self._pending
        if not pending:
            return
        out = sys.stdout
        binary = getattr(out, "buffer", None)  # none: a text stream put in its place (tests)
        if binary is not None:
            binary.write(pending)
        else:
            out.write(pending.decode())
        pending.clear()
        (binary or out).flush()
