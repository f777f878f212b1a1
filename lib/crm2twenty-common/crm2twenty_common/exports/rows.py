"""Reading one delimited export file as rows: ``(line, {column: text | None})``, or a BadRow.

- The file's encoding and delimiter are found once (``encoding``, ``dialect``), then it is
  streamed row by row: memory does not grow with the file.
- Line numbers are physical: the line a row starts on, 1-based, the header being line 1 (or the
  line of the first non-blank row). A quoted cell spanning lines moves the next row's number on.
- Blank rows (every cell empty or whitespace) are skipped.
- Ragged rows: missing trailing cells are None; surplus cells are ignored when empty, else the
  row is a :class:`BadRow`. A row the CSV parser refuses (an unterminated quote, text after a
  closing quote, a NUL character) is a BadRow too. Nothing is dropped silently.
- Empty cells are None; other text is passed on unchanged (typing is ``types``' job).
- A file that is not text (an image or a spreadsheet named ``.csv``) is an ExportError that
  says what it looks like (``filekind``), not one column of garbage.
"""

from __future__ import annotations

import csv
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

from crm2twenty_common.exports.dialect import sniff_delimiter
from crm2twenty_common.exports.encoding import contains_nul, decode_errors, detect_encoding
from crm2twenty_common.exports.errors import ExportError
from crm2twenty_common.exports.filekind import binary_kind
from crm2twenty_common.exports.headers import resolve_headers

RAW_LIMIT = 2000  # characters of a bad row's text kept for the rejects
FIELD_LIMIT = 1 << 25  # 32 MiB: long note bodies pass, a runaway quote stops somewhere

csv.field_size_limit(FIELD_LIMIT)


@dataclass(frozen=True)
class BadRow:
    """A row that cannot become a record: where it is, why, and its text (truncated)."""

    file: str
    line: int
    reason: str
    raw_text: str | None = None

    @property
    def location(self) -> str:
        return f"{self.file}:{self.line}"


Row = tuple[int, dict[str, "str | None"]]


def _tee(handle: Iterator[str], sink: list[str]) -> Iterator[str]:
    # The csv reader pulls exactly the physical lines of one row: keeping them gives a bad
    # row's raw text without a second read of the file.
    append = sink.append
    for line in handle:
        append(line)
        yield line


def raw_text(lines: list[str], limit: int = RAW_LIMIT) -> str:
    """The text of a row's physical lines, without the final line break, cut at ``limit``."""
    text, size = [], 0
    for line in lines:
        text.append(line)
        size += len(line)
        if size > limit:
            break
    joined = "".join(text)
    return joined[:limit] if len(joined) > limit else joined.rstrip("\r\n")


def _is_blank(cells: list[str]) -> bool:
    if not cells:
        return True
    first = cells[0]
    if first and not first.isspace():
        return False  # the usual case, decided by one cell
    return all(not c or c.isspace() for c in cells)


class ExportFile:
    """One delimited file of an export: its encoding, delimiter and columns, then its rows.

    ``aliases`` is a :func:`~crm2twenty_common.exports.headers.alias_table`; ``column_map`` the
    user's header → name map for this file's stream.
    """

    def __init__(
        self,
        path: Path,
        *,
        encoding: str | None = None,
        delimiter: str | None = None,
        aliases: Mapping[str, str] | None = None,
        column_map: Mapping[str, str] | None = None,
    ) -> None:
        self.path = path
        self.name = path.name
        self.encoding = detect_encoding(path, encoding)
        self.errors = decode_errors(self.encoding)
        binary = binary_kind(path, self.encoding, self.errors)
        if binary:
            raise ExportError(
                f"{self.name}: not a text file, it looks like {binary}; put the CSV export "
                "there instead (or move the file out of the export folder)"
            )
        self.forced_delimiter = bool(delimiter)
        try:
            self.delimiter = sniff_delimiter(path, self.encoding, delimiter, errors=self.errors)
        except UnicodeDecodeError as exc:
            raise self._decode_error(exc) from exc
        # Only files with a NUL byte pay for a per-row NUL check (and UTF-16/32 files, whose
        # ASCII is half NUL bytes).
        self._check_nul = contains_nul(path)
        self._sink: list[str] = []
        self.header_line, self.raw_header = self._read_header()
        headers = resolve_headers(self.raw_header, aliases or {}, column_map)
        self.columns = headers.names
        self.duplicates = headers.duplicates

    def _decode_error(self, exc: UnicodeDecodeError) -> ExportError:
        return ExportError(
            f"{self.name}: not valid {self.encoding} ({exc.reason} at byte "
            f"{exc.start} of a block); set the `encoding` setting to the file's "
            "encoding, or leave it unset to detect it"
        )

    def _open(self):
        return self.path.open(encoding=self.encoding, errors=self.errors, newline="")

    def _read_header(self) -> tuple[int, list[str]]:
        with self._open() as handle:
            reader = csv.reader(handle, delimiter=self.delimiter, strict=True)
            try:
                start = reader.line_num + 1
                for cells in reader:
                    if not _is_blank(cells):
                        return start, cells
                    start = reader.line_num + 1
            except csv.Error as exc:
                raise ExportError(
                    f"{self.name}:{reader.line_num}: the header row cannot be parsed as CSV ({exc})"
                ) from exc
            except UnicodeDecodeError as exc:
                raise self._decode_error(exc) from exc
        return 0, []

    def head(self, chars: int = 2000) -> str:
        """The start of the file as text (to say what a file that is not delimited holds)."""
        with self._open() as handle:
            return handle.read(chars)

    @property
    def has_header(self) -> bool:
        return bool(self.raw_header)

    def last_raw_text(self) -> str | None:
        """The text of the row :meth:`rows` yielded last (for a row found bad after parsing)."""
        return raw_text(self._sink) if self._sink else None

    def rows(self) -> Iterator[Row | BadRow]:
        """Each data row as ``(line, {column: text or None})``, or a :class:`BadRow`."""
        columns = self.columns
        width = len(columns)
        name = self.name
        check_nul = self._check_nul
        sink: list[str] = []
        self._sink = sink
        with self._open() as handle:
            reader = csv.reader(_tee(handle, sink), delimiter=self.delimiter, strict=True)
            header_seen = False
            while True:
                sink.clear()
                start = reader.line_num + 1
                try:
                    cells = next(reader)
                except StopIteration:
                    return
                except csv.Error as exc:
                    if not header_seen:
                        raise ExportError(
                            f"{name}:{start}: cannot be parsed as CSV ({exc})"
                        ) from exc
                    reason = (
                        "contains a NUL character"
                        if check_nul and any("\x00" in line for line in sink)
                        else f"cannot be parsed as CSV: {exc}"
                    )
                    yield BadRow(name, start, reason, raw_text(sink))
                    continue
                except UnicodeDecodeError as exc:
                    raise self._decode_error(exc) from exc
                if _is_blank(cells):
                    continue
                if not header_seen:
                    header_seen = True
                    continue
                if check_nul and any("\x00" in line for line in sink):
                    yield BadRow(name, start, "contains a NUL character", raw_text(sink))
                    continue
                count = len(cells)
                if count != width:
                    if count > width:
                        if any(c and not c.isspace() for c in cells[width:]):
                            yield BadRow(
                                name,
                                start,
                                f"row has {count} cells but the header has {width}",
                                raw_text(sink),
                            )
                            continue
                        del cells[width:]
                    else:
                        cells.extend([""] * (width - count))
                if "" in cells:
                    yield start, {k: v or None for k, v in zip(columns, cells, strict=True)}
                else:
                    yield start, dict(zip(columns, cells, strict=True))
