"""One export file as one singer-sdk stream: schema inferred from a sample, rows streamed.

Every record carries ``_sdc_source_file`` and ``_sdc_source_lineno`` (the line its row starts
on). The primary key is the stream's key column(s); a file with a modified-date column (the
layout's replication key) replicates incrementally, else FULL_TABLE. A row that cannot become a
record (:class:`~crm2twenty_common.exports.rows.BadRow`) fails the sync or goes to ``_rejects``
(the ``on_bad_row`` setting); it is never dropped silently.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import posixpath
import re
import stat
import typing as t
from collections.abc import Iterable
from pathlib import Path

from singer_sdk.helpers.conform import TypeConformanceLevel
from singer_sdk.helpers.types import Context

from crm2twenty_common.exports import types
from crm2twenty_common.exports.errors import BadRowError, ExportError
from crm2twenty_common.exports.filekind import first_line, markup_kind
from crm2twenty_common.exports.headers import normalise
from crm2twenty_common.exports.jsonarray import JsonArrayFile
from crm2twenty_common.exports.layout import MANIFEST, FileRole
from crm2twenty_common.exports.rejects import REJECTS_STREAM, RejectSpool
from crm2twenty_common.exports.rows import BadRow, ExportFile
from crm2twenty_common.exports.settings import FAIL, ExportSettings
from crm2twenty_common.sdk_compat import KeepsAnnotations

if t.TYPE_CHECKING:
    from singer_sdk import Tap

SOURCE_FILE, SOURCE_LINE = "_sdc_source_file", "_sdc_source_lineno"
FILE_EXISTS, FILE_SIZE, ABSOLUTE_PATH = "file_exists", "file_size", "absolute_path"
MANIFEST_FIELDS = (FILE_EXISTS, FILE_SIZE, ABSOLUTE_PATH)
ARRAY_SCHEMA = {"type": ["array", "null"], "items": {}}
_LIST_SEPARATORS = re.compile(r"[;\r\n]+")

Source = ExportFile | JsonArrayFile


def as_array(text: str) -> list | None:
    """A cell for an array column as a list: a JSON array as it is, another JSON value (an
    object) as a one-item list, other text split on ``;`` and line breaks."""
    text = text.strip()
    if not text:
        return None
    if text[0] in "[{":
        try:
            value = json.loads(text)
        except ValueError:
            pass
        else:
            return value if isinstance(value, list) else [value]
    return [part.strip() for part in _LIST_SEPARATORS.split(text) if part.strip()] or None


def _delimiter_names(source: ExportFile) -> str:
    names = {",": "comma", ";": "semicolon", "\t": "tab", "|": "pipe"}
    if source.forced_delimiter:
        return names.get(source.delimiter, repr(source.delimiter))
    return "comma, semicolon or tab"


class ExportFileStream(KeepsAnnotations):
    """A stream over one export file (delimited or JSON array)."""

    # Records are built with exact JSON types already: skip the SDK's per-value conformance.
    TYPE_CONFORMANCE_LEVEL = TypeConformanceLevel.NONE
    # Exports are in no particular order: the bookmark is the maximum seen, kept at stream end.
    is_sorted = False

    def __init__(
        self,
        tap: Tap,
        *,
        role: FileRole,
        source: Source,
        settings: ExportSettings,
        spool: RejectSpool,
        replication_key: str | None = None,
    ) -> None:
        self.role = role
        self.source = source
        self.settings = settings
        self.spool = spool
        self.file_name = source.name
        name = role.stream
        self._rename_manifest_clashes()
        self.columns: list[str] = list(source.columns)
        missing = [k for k in role.key if k not in self.columns]
        if missing and isinstance(source, ExportFile):
            self._refuse_undelimited(source, missing[0])
        if missing:
            raise ExportError(
                f"{self.file_name}: no {' / '.join(missing)} column to use as the key of stream "
                f"{name!r} (its columns: {', '.join(self.columns) or 'none'}). Name the key "
                f"column with the `column_map` setting, e.g. "
                f'{{"{name}": {{"<your header>": "{missing[0]}"}}}}.'
            )
        if role.kind == MANIFEST and role.spec and role.spec.path_column not in self.columns:
            raise ExportError(
                f"{self.file_name}: no {role.spec.path_column} column (the attachment's path "
                f"relative to the export folder). Name it with the `column_map` setting, e.g. "
                f'{{"{name}": {{"<your header>": "{role.spec.path_column}"}}}}.'
            )
        self.array_columns = tuple(c for c in role.array_columns if c in self.columns)
        self.column_types = self._infer(name, tap)
        super().__init__(tap, schema=self._schema_of_columns(), name=name)
        self.primary_keys = list(role.key)
        if replication_key and self.column_types.get(
            replication_key, types.ColumnType(types.STRING)
        ).kind in (types.DATE, types.DATE_TIME):
            self.replication_key = replication_key
        self._prepare()

    # ---- discovery -----------------------------------------------------------------------

    def _refuse_undelimited(self, source: ExportFile, key: str) -> None:
        """A file without its key column that is no table at all: say what it is instead."""
        head = source.head()
        markup = markup_kind(head)
        if markup:
            raise ExportError(
                f"{self.file_name}: not a delimited file, it looks like {markup}; "
                "put the CSV export there instead"
            )
        if len(source.raw_header) == 1:
            raise ExportError(
                f"{self.file_name}: not a delimited file: its first line has no "
                f"{_delimiter_names(source)} ({first_line(head)}). If it is a one-column "
                f"file, name its {key} column with the `column_map` setting."
            )

    def _rename_manifest_clashes(self) -> None:
        # The manifest's computed columns win over same-named columns of the file, which
        # are kept as <name>_2.
        if self.role.kind == MANIFEST:
            self.source.columns = [
                f"{c}_2" if c in MANIFEST_FIELDS else c for c in self.source.columns
            ]

    def _sample(self) -> dict[str, list[str]]:
        values: dict[str, list[str]] = {c: [] for c in self.columns}
        limit = self.settings.infer_sample_rows
        rows = self.source.rows()
        try:
            for count, item in enumerate(rows, start=1):
                if not isinstance(item, BadRow):
                    for column, value in item[1].items():
                        if value is not None:
                            values[column].append(value)
                if count >= limit:
                    break
        finally:
            close = getattr(rows, "close", None)
            if close:
                close()
        return values

    def _infer(self, name: str, tap: Tap) -> dict[str, types.ColumnType]:
        date_format = self.settings.date_format_for(name)
        forced = self.settings.column_types_for(name)
        skip = set(self.array_columns)
        if self.role.kind == MANIFEST and self.role.spec:
            forced.setdefault(self.role.spec.path_column, types.STRING)  # paths are text
        sample = self._sample()
        found: dict[str, types.ColumnType] = {}
        for column in self.columns:
            if column in skip:
                continue
            label = f"{self.file_name} column {column}"
            if column in forced:
                found[column] = types.forced_type(
                    forced[column],
                    sample[column],
                    date_format,
                    column=label,
                    warn=tap.logger.warning,
                )
            else:
                found[column] = types.infer_type(
                    sample[column], date_format, column=label, warn=tap.logger.warning
                )
        given = self.settings.column_types.get(name, {})
        unknown = [c for c in given if c not in self.columns and normalise(c) not in self.columns]
        if unknown:
            tap.logger.warning(
                "%s: column_types names columns it does not have: %s (its columns: %s)",
                self.file_name,
                ", ".join(sorted(unknown)),
                ", ".join(self.columns),
            )
        return found

    def _schema_of_columns(self) -> dict[str, t.Any]:
        # (not ``_schema``: the SDK's Stream keeps its schema in an attribute of that name)
        keys = set(self.role.key)
        props: dict[str, t.Any] = {}
        for column in self.columns:
            if column in self.array_columns:
                props[column] = dict(ARRAY_SCHEMA)
            else:
                props[column] = self.column_types[column].json_schema(nullable=column not in keys)
        if self.role.kind == MANIFEST:
            props[FILE_EXISTS] = {"type": "boolean"}
            props[FILE_SIZE] = {"type": ["integer", "null"]}
            props[ABSOLUTE_PATH] = {"type": ["string", "null"]}
        for column, stream in self.role.references.items():
            props[column]["x-references"] = stream
        props[SOURCE_FILE] = {"type": "string"}
        props[SOURCE_LINE] = {"type": "integer"}
        return {"type": "object", "properties": props}

    def apply_catalog(self, catalog: t.Any) -> None:
        """Honour types changed in the input catalog (e.g. Meltano's ``schema:`` extra) as if
        they were ``column_types``."""
        super().apply_catalog(catalog)
        given = self.effective_schema.get("properties") or {}  # the catalog's, when it has one
        changed = False
        for column, ctype in list(self.column_types.items()):
            kind = _kind_of(given.get(column))
            if kind and kind != ctype.kind:
                self.column_types[column] = types.ColumnType(
                    kind, order=ctype.order, fmt=ctype.fmt, forced=True
                )
                changed = True
        if changed:
            self._prepare()

    def _prepare(self) -> None:
        self._typed = tuple(
            (c, types.converter(ct))
            for c, ct in self.column_types.items()
            if ct.kind != types.STRING
        )

    # ---- records -------------------------------------------------------------------------

    def _threshold(self, context: Context | None) -> str | None:
        """The bookmark (or start_date) in the form records carry, to compare as text."""
        if not self.replication_key:
            return None
        value = self.get_starting_replication_key_value(context)
        if value in (None, ""):
            return None
        text = str(value)
        ctype = self.column_types.get(self.replication_key)
        if ctype is None or ctype.kind not in (types.DATE, types.DATE_TIME):
            return text  # a key chosen in the catalog: compared as it is
        try:
            when = (
                dt.datetime.fromisoformat(text + "T00:00:00")
                if len(text) == 10
                else types.parse_iso_datetime(text)
            )
        except ValueError:
            raise ExportError(
                f"{self.name}: the bookmark or start_date {text!r} is not an ISO 8601 date-time"
            ) from None
        when = when.replace(tzinfo=dt.timezone.utc) if when.tzinfo is None else when
        if ctype.kind == types.DATE:
            return when.date().isoformat()
        return when.astimezone(dt.timezone.utc).isoformat()

    def get_records(self, context: Context | None) -> Iterable[dict[str, t.Any]]:
        threshold = self._threshold(context)
        rk = self.replication_key if threshold else None
        if rk:
            self.logger.info(
                "%s: reading rows modified on or after %s (%s)", self.file_name, threshold, rk
            )
        typed = self._typed
        keys = tuple(self.primary_keys or ())
        arrays = self.array_columns
        manifest = self.role.kind == MANIFEST
        file_name = self.file_name
        self._rejects_selected = self.spool.selected
        before = self.spool.counts.get(self.name, 0)
        skipped = 0
        for item in self.source.rows():
            if item.__class__ is BadRow:
                self._bad(item)
                continue
            line, record = t.cast("tuple[int, dict[str, t.Any]]", item)
            column: str | None = None
            value: t.Any = None
            try:
                for column, convert in typed:
                    value = record[column]
                    if value is not None:
                        record[column] = convert(value)
            except types.CastError:
                self._bad(
                    BadRow(
                        file_name,
                        line,
                        self._cast_reason(column, value),
                        self.source.last_raw_text(),
                    ),
                    record,
                )
                continue
            for column in keys:
                value = record.get(column)
                if value is None or (value.__class__ is str and not value.strip()):
                    self._bad(
                        BadRow(
                            file_name,
                            line,
                            f"empty key column {column}",
                            self.source.last_raw_text(),
                        ),
                        record,
                    )
                    break
            else:
                if manifest and not self._locate(record, line):
                    continue
                for column in arrays:
                    value = record[column]
                    if value is not None:
                        record[column] = as_array(value)
                if rk:
                    value = record[rk]
                    if value is not None and value < threshold:
                        skipped += 1
                        continue  # unchanged since the last run (or before start_date)
                record[SOURCE_FILE] = file_name
                record[SOURCE_LINE] = line
                yield record
        if skipped:
            self.logger.info(
                "%s: %d rows skipped, last modified before %s", file_name, skipped, threshold
            )
        rejected = self.spool.counts.get(self.name, 0) - before
        if rejected:
            self.logger.warning("%s: %d bad rows sent to %s", file_name, rejected, REJECTS_STREAM)

    def _cast_reason(self, column: str | None, value: t.Any) -> str:
        ctype = self.column_types[column or ""]
        if ctype.forced:
            return (
                f"column {column}: {value!r} is not {ctype.describe()} (the type set for "
                "it in `column_types` or the catalog)"
            )
        return (
            f"column {column}: {value!r} is not {ctype.describe()}, the type inferred from "
            f"the first {self.settings.infer_sample_rows} rows; set `column_types` to "
            f'override, e.g. {{"{self.name}": {{"{column}": "string"}}}}'
        )

    def _locate(self, record: dict[str, t.Any], line: int) -> bool:
        """Add the manifest's file facts; False (a bad row) for a path outside the folder."""
        column = self.role.spec.path_column if self.role.spec else "file_path"
        raw = record.get(column)
        record[FILE_EXISTS], record[FILE_SIZE], record[ABSOLUTE_PATH] = False, None, None
        if raw is None or not str(raw).strip():
            return True
        folder = self.settings.export_dir
        text = str(raw).strip().replace("\\", "/")
        relative: str | None = text
        if posixpath.isabs(text) or text[1:3] == ":/":  # /x or a Windows drive, C:/x
            try:
                relative = Path(text).resolve().relative_to(folder).as_posix()
            except ValueError:
                relative = None
        normal = posixpath.normpath(relative) if relative is not None else None
        if normal is None or normal == ".." or normal.startswith("../"):
            self._bad(
                BadRow(
                    self.file_name,
                    line,
                    f"{column} {raw!r} points outside the export folder",
                    self.source.last_raw_text(),
                ),
                record,
            )
            return False
        target = folder / normal
        record[ABSOLUTE_PATH] = str(target)
        try:
            info = os.stat(target)
        except OSError:
            return True
        if stat.S_ISREG(info.st_mode):
            record[FILE_EXISTS], record[FILE_SIZE] = True, info.st_size
        return True

    def _bad(self, bad: BadRow, record: dict[str, t.Any] | None = None) -> None:
        if self.settings.on_bad_row == FAIL:
            raise BadRowError(
                f"{bad.location}: {bad.reason}. Set `on_bad_row` to `reject` to "
                f"send such rows to the {REJECTS_STREAM} stream and go on."
            )
        if getattr(self, "_rejects_selected", True):
            self.spool.add(self.name, bad, self._source_key(record))
        else:
            self.logger.warning(
                "bad row at %s (%s); the %s stream is off (setting `side_streams`) or not "
                "selected, so it is only logged here",
                bad.location,
                bad.reason,
                REJECTS_STREAM,
            )

    def _source_key(self, record: dict[str, t.Any] | None) -> str | None:
        if not record:
            return None
        parts = [record.get(k) for k in self.primary_keys or ()]
        if not parts or any(p is None or p == "" for p in parts):
            return None
        return ":".join(str(p) for p in parts)


def _kind_of(schema: t.Any) -> str | None:
    if not isinstance(schema, dict):
        return None
    kinds = schema.get("type")
    kinds = [kinds] if isinstance(kinds, str) else list(kinds or [])
    kinds = [k for k in kinds if k != "null"]
    if len(kinds) != 1:
        return None
    if kinds[0] == "string" and schema.get("format") in (types.DATE, types.DATE_TIME):
        return schema["format"]
    return kinds[0] if kinds[0] in types.TYPES else None
