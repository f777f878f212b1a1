"""Reading a JSON export file (a top-level array of objects) as rows, like a delimited file.

The array is streamed element by element (``json.JSONDecoder.raw_decode`` over a sliding
buffer), so memory holds one element, not the file, and each element's row number is the line
its ``{`` is on. Keys are named like CSV headers (normalised, aliases, ``column_map``); the
columns are every key seen in the file, in first-seen order. Values become cell text so that
typing works as for CSV: strings as they are, numbers as written, booleans ``true``/``false``,
arrays and objects JSON-encoded, null and ``""`` None.

An element that is not an object is a bad row. Invalid JSON is a bad row at the line where it
starts, and the rest of the file cannot be read (its reason says so).

Not ijson: its events and items carry no position, so a row's line number (which every bad row
and reject names) could not be kept; its C backends also want UTF-8 bytes, where this reads the
text the encoding detection decoded (cp1252 and UTF-16 exports included).
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from crm2twenty_common.exports.encoding import decode_errors, detect_encoding
from crm2twenty_common.exports.errors import ExportError
from crm2twenty_common.exports.headers import resolve_headers
from crm2twenty_common.exports.rows import RAW_LIMIT, BadRow, Row

CHUNK_CHARS = 1 << 16
MAX_ELEMENT_CHARS = 1 << 26  # one element larger than 64 MiB: the file is broken, not big
_WS = " \t\r\n"
_DECODER = json.JSONDecoder()


def _cell(value: Any) -> str | None:
    if value is None or value == "":
        return None
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    return json.dumps(value, ensure_ascii=False)


class _Elements:
    """The elements of a JSON array in a text file, with the line each starts on."""

    def __init__(self, path: Path, encoding: str, name: str) -> None:
        self.path, self.encoding, self.name = path, encoding, name

    def __iter__(self) -> Iterator[tuple[int, Any] | BadRow]:
        errors = decode_errors(self.encoding)
        # Universal newlines: CR and CRLF become LF, so counting LFs counts lines (JSON
        # strings cannot hold a raw line break, so no value changes).
        with self.path.open(encoding=self.encoding, errors=errors) as handle:
            buf, pos, line, eof = "", 0, 1, False

            def fill() -> bool:
                nonlocal buf, pos, eof
                chunk = handle.read(CHUNK_CHARS)
                if not chunk:
                    eof = True
                    return False
                buf, pos = buf[pos:] + chunk, 0
                return True

            def next_char() -> str | None:
                # The next non-blank character (not consumed), counting the lines skipped.
                nonlocal pos, line
                while True:
                    while pos < len(buf) and buf[pos] in _WS:
                        line += buf[pos] == "\n"
                        pos += 1
                    if pos < len(buf):
                        return buf[pos]
                    if not fill():
                        return None

            char = next_char()
            if char is None:
                return  # an empty file holds no rows
            if char != "[":
                raise ExportError(
                    f"{self.name}:{line}: expected a JSON array of objects "
                    f"(`[{{...}}, ...]`), found {buf[pos : pos + 20]!r}"
                )
            pos += 1
            state = "first"  # first: a value or `]`; value: a value; after: `,` or `]`
            while True:
                char = next_char()
                if char is None:
                    yield BadRow(
                        self.name,
                        line,
                        "invalid JSON (the array is not closed by `]`); the file may be cut short",
                    )
                    return
                if state == "after":
                    if char == "]":
                        return
                    if char != ",":
                        yield self._broken(line, buf[pos:], "`,` or `]` expected")
                        return
                    pos += 1
                    state = "value"
                    continue
                if char == "]" and state == "first":
                    return
                start = line
                while True:
                    try:
                        value, end = _DECODER.raw_decode(buf, pos)
                    except json.JSONDecodeError as exc:
                        if not eof and len(buf) - pos < MAX_ELEMENT_CHARS and fill():
                            continue
                        yield self._broken(
                            start + buf.count("\n", pos, exc.pos), buf[pos:], exc.msg
                        )
                        return
                    if end == len(buf) and not eof and fill():
                        continue  # a number cut at the buffer's end may go on
                    break
                line += buf.count("\n", pos, end)
                pos = end
                state = "after"
                yield start, value

    def _broken(self, line: int, text: str, why: str) -> BadRow:
        return BadRow(
            self.name,
            line,
            f"invalid JSON ({why}); the rest of the file cannot be read",
            text[:RAW_LIMIT],
        )


class JsonArrayFile:
    """A JSON array export file with the same interface as
    :class:`~crm2twenty_common.exports.rows.ExportFile`: ``columns``, then ``rows()``."""

    delimiter = None

    def __init__(
        self,
        path: Path,
        *,
        encoding: str | None = None,
        aliases: Mapping[str, str] | None = None,
        column_map: Mapping[str, str] | None = None,
    ) -> None:
        self.path = path
        self.name = path.name
        self.encoding = detect_encoding(path, encoding)
        keys: dict[str, None] = {}
        self.count = 0
        for item in self._elements():
            if not isinstance(item, BadRow) and isinstance(item[1], dict):
                self.count += 1
                keys.update(dict.fromkeys(item[1]))
        self.raw_header = list(keys)
        headers = resolve_headers(self.raw_header, aliases or {}, column_map)
        self.columns = headers.names
        self.duplicates = headers.duplicates
        self._last: Any = None

    def _elements(self) -> _Elements:
        return _Elements(self.path, self.encoding, self.name)

    @property
    def has_header(self) -> bool:
        return bool(self.raw_header)

    def last_raw_text(self) -> str | None:
        """The JSON of the element :meth:`rows` yielded last."""
        if self._last is None:
            return None
        return json.dumps(self._last, ensure_ascii=False)[:RAW_LIMIT]

    def rows(self) -> Iterator[Row | BadRow]:
        columns = self.columns
        names = dict(zip(self.raw_header, columns, strict=True))
        for item in self._elements():
            if isinstance(item, BadRow):
                yield item
                continue
            line, value = item
            if not isinstance(value, dict):
                yield BadRow(
                    self.name,
                    line,
                    f"a JSON {type(value).__name__}, not an object",
                    json.dumps(value, ensure_ascii=False)[:RAW_LIMIT],
                )
                continue
            self._last = value
            row = dict.fromkeys(columns)
            for key, cell in value.items():
                row[names[key]] = _cell(cell)
            yield line, row
