"""Reading Singer messages with their input line numbers, for the suite's mapper and target.

The singer-sdk's readers stop on a bad line with three tracebacks and no line number. This
reader counts the lines (blank lines are skipped, not counted as messages) and turns what is
wrong with one line into an :class:`InputError` naming it: a line that is not JSON, a JSON value
that is not a message, an unknown message type, a message missing its keys, a RECORD before its
stream's SCHEMA, and any :class:`~crm2twenty_common.errors.UserError` a handler raises.
``line_number`` is the line being handled, for handlers that name it (a record's reject).
"""

from __future__ import annotations

import sys
import typing as t
from collections import Counter, defaultdict

from singer_sdk.contrib.msgspec import decoder as msgspec_decoder
from singer_sdk.exceptions import RecordsWithoutSchemaException
from singer_sdk.singerlib.encoding import GenericSingerReader
from singer_sdk.singerlib.exceptions import InvalidInputLine
from singer_sdk.singerlib.json import deserialize_json

from crm2twenty_common.errors import UserError
from crm2twenty_common.pipes import widen

SNIPPET = 60  # characters of a bad line shown in the error


class InputError(UserError):
    """A Singer input line the plugin cannot use; the message names the line (and stream)."""


class RecordBeforeSchema(InputError, RecordsWithoutSchemaException):
    """A RECORD before any SCHEMA of its stream (still the SDK's exception class, for callers
    and the SDK's standard target tests that expect it)."""


def snippet(line: str) -> str:
    text = line.strip()
    return repr(text if len(text) <= SNIPPET else text[:SNIPPET] + "…")


def _where(number: int, message: dict) -> str:
    stream = message.get("stream")
    return (
        f"input line {number}, stream {stream}"
        if isinstance(stream, str)
        else (f"input line {number}")
    )


class NumberedReader(GenericSingerReader[str]):
    """A Singer reader that knows the input line it is on and names it in every error."""

    default_input = sys.stdin

    def __init__(self) -> None:
        super().__init__()
        self.line_number = 0

    def deserialize_json(self, line: str) -> dict:
        """The message of one line (the SDK's JSON reading: decimals stay exact)."""
        return deserialize_json(line)

    def process_lines(
        self,
        file_input: t.IO[str] | None,
        callbacks: dict[str, t.Callable[[dict], None]],
    ) -> t.Counter[str]:
        stats: dict[str, int] = defaultdict(int)
        number = 0
        source = file_input or self.default_input
        widen(source)
        for line in source:
            number += 1
            self.line_number = number
            if line.isspace() or not line:  # (no copy of a long line, unlike strip)
                continue
            message = self._decode_line(number, line)
            kind = message["type"]
            callback = callbacks.get(kind)
            if callback is None:
                raise InputError(
                    f"input line {number}: unknown Singer message type {kind!r} "
                    "(expected SCHEMA, RECORD, STATE, ACTIVATE_VERSION or BATCH)"
                )
            try:
                callback(message)
            except RecordsWithoutSchemaException:
                raise RecordBeforeSchema(
                    f"{_where(number, message)}: a RECORD before any SCHEMA of its stream "
                    "(a Singer tap sends a stream's SCHEMA first)"
                ) from None
            except InvalidInputLine as exc:
                raise InputError(f"{_where(number, message)}: {exc}") from None
            except InputError:
                raise
            except UserError as exc:
                raise InputError(f"{_where(number, message)}: {exc}") from exc
            stats[kind] += 1
        return Counter(stats)

    def _decode_line(self, number: int, line: str) -> dict:
        try:
            message = self.deserialize_json(line)
        except Exception as exc:  # each JSON library raises its own class
            reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
            raise InputError(
                f"input line {number}: not a JSON message ({reason}): {snippet(line)}"
            ) from None
        if type(message) is not dict or type(message.get("type")) is not str:
            raise InputError(
                f'input line {number}: not a Singer message (a JSON object with a "type"): '
                f"{snippet(line)}"
            )
        return message


class MsgSpecNumberedReader(NumberedReader):
    """The same, decoding with msgspec (the SDK's ``MsgSpecReader`` decoder: faster)."""

    def deserialize_json(self, line: str) -> dict:
        return msgspec_decoder.decode(line)
