"""A Singer message writer for high-volume plugins: msgspec JSON, stdout flushed on STATE only.

singer-sdk ships ``singer_sdk.contrib.msgspec.MsgSpecWriter``, whose encoder we share, but it
flushes stdout after every message: one system call per record. Here lines gather in our own
buffer, written out at 256 KiB, after each STATE message (so a target never sees a state before
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

from crm2twenty_common.pipes import widen

if t.TYPE_CHECKING:
    from singer_sdk.singerlib import Message


# bytes gathered before one write: a quarter of the widened pipe's capacity (pipes.py), so the
# reader can take one while the next is written
_CHUNK = 1 << 18
# One buffer in front of stdout for the whole process, as stdout itself is one: lines of every
# writer (the plugin's, the completion notices') come out in the order they were written.
_PENDING = bytearray()
# the stdout the gathered lines were written for: if a caller (a test) swaps sys.stdout, the
# lines go to the stream that was stdout when they were written
_written_for: t.Any = None


def flush_stdout() -> None:
    """Write out what is gathered and flush stdout (a plugin's end and exit call it)."""
    if not _PENDING:
        return
    out = _written_for or sys.stdout
    binary = getattr(out, "buffer", None)  # none: a text stream put in its place (tests)
    if binary is not None:
        binary.write(_PENDING)
    else:
        out.write(_PENDING.decode())
    _PENDING.clear()
    (binary or out).flush()


atexit.register(flush_stdout)


class BufferedSingerWriter(GenericSingerWriter[bytes, "Message"]):
    """Writes one JSON line per message; flushes on STATE messages, at 256 KiB and at exit."""

    def serialize_message(self, message: Message) -> bytes:
        return encoder.encode(message.to_dict()) + b"\n"

    def write_message(self, message: Message) -> None:
        global _written_for  # the one stdout of the process, as _PENDING is its one buffer
        if _written_for is not sys.stdout:
            flush_stdout()
            _written_for = sys.stdout
            widen(sys.stdout)
        encoder.encode_into(message.to_dict(), _PENDING, -1)  # at its end, no new allocation
        _PENDING.append(0x0A)
        if len(_PENDING) >= _CHUNK or isinstance(message, StateMessage):
            flush_stdout()

    flush = staticmethod(flush_stdout)
