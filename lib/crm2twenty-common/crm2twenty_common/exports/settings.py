"""The settings every export tap has, as a ``config_jsonschema`` fragment, and their reading.

A tap reuses them with ``config_jsonschema = export_settings_schema(<its own th.Property>…)``.
:meth:`ExportSettings.from_config` validates what the JSON schema cannot (codec names, strptime
formats, types) once, before any file is read, so that a typo fails with a clear message.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from singer_sdk import typing as th

from crm2twenty_common.exports.dialect import delimiter_setting
from crm2twenty_common.exports.encoding import canonical_codec
from crm2twenty_common.exports.errors import ExportError
from crm2twenty_common.exports.headers import normalise
from crm2twenty_common.exports.types import (
    TYPES,
    date_format_setting,
    parse_iso_datetime,
    type_setting,
)

FAIL, REJECT = "fail", "reject"

EXPORT_SETTINGS = th.PropertiesList(
    th.Property(
        "export_dir",
        th.StringType,
        required=True,
        title="Export folder",
        description="Path of the export folder: one file per object, as described in the "
        "tap's README. Sub-folders are not read as streams (they hold attachment "
        "files). A relative path is taken from the working directory.",
        examples=["/data/exports/2024-06-30"],
    ),
    th.Property(
        "encoding",
        th.StringType,
        title="Encoding",
        description="Force the text encoding of every file, as a Python codec name (`utf-8`, "
        "`utf-8-sig`, `utf-16`, `cp1252`, `latin-1`, ...). Unset: detected per "
        "file: a UTF-8 or UTF-16 byte-order mark, else UTF-8 when the whole file "
        "is valid UTF-8, else `cp1252`. The encoding used is logged per file.",
        examples=["cp1252"],
    ),
    th.Property(
        "delimiter",
        th.StringType,
        title="Delimiter",
        description="Force the delimiter of every delimited file: `,` (or `comma`), `;` (or "
        "`semicolon`), `tab` (or `\\t`), or `pipe`. Unset: sniffed per file among "
        "comma, semicolon and tab, and logged.",
    ),
    th.Property(
        "column_map",
        th.ObjectType(additional_properties=th.ObjectType(additional_properties=th.StringType)),
        title="Column map",
        description='Rename columns, per stream: `{"contacts": {"Mail": "email"}}`. Keys '
        "are headers as they are in the file (or normalised: `mail`), values the "
        "column names to emit, used as given. Wins over the built-in aliases; use "
        "it to name a key column the tap cannot find. Unmapped headers are kept "
        "under their normalised name (lower case, `_` for other characters).",
    ),
    th.Property(
        "column_types",
        th.ObjectType(
            additional_properties=th.ObjectType(
                additional_properties=th.StringType(allowed_values=list(TYPES))
            )
        ),
        title="Column types",
        description="Force column types, per stream, instead of inferring them: "
        '`{"companies": {"postal_code": "string"}}`. Types: `string`, '
        "`integer`, `number`, `boolean`, `date`, `date-time`. Columns are named as "
        "emitted (after aliases and `column_map`). Use it when a value after the "
        "sample does not fit the inferred type, or to keep codes as text.",
    ),
    th.Property(
        "date_format",
        th.StringType,
        default="auto",
        title="Date format",
        description="How to read dates that are not ISO 8601 (ISO is always recognised): "
        "`auto` decides per column from the sample (a first part above 12 as in "
        "`31/01/2024` means day-first, a second part above 12 month-first, else "
        "month-first with a warning naming the column), `dayfirst`, `monthfirst`, "
        "or a Python strptime format such as `%d.%m.%Y %H:%M`. Date-times are "
        "emitted in UTC; a time without an offset is taken as UTC.",
        examples=["auto", "dayfirst", "%d.%m.%Y"],
    ),
    th.Property(
        "date_formats",
        th.ObjectType(additional_properties=th.StringType),
        title="Date formats per stream",
        description="A `date_format` per stream, overriding `date_format` for that stream: "
        '`{"deals": "dayfirst"}`.',
    ),
    th.Property(
        "on_bad_row",
        th.StringType,
        default=FAIL,
        allowed_values=[FAIL, REJECT],
        title="On a bad row",
        description="What to do with a row that cannot become a record (it cannot be parsed, "
        "has more non-empty cells than the header, has an empty key, a value that "
        "does not fit its column's type, or an attachment path outside the export "
        "folder): `fail` stops with an error naming the file, line and reason; "
        "`reject` sends it to the `_rejects` stream (emitted after all other "
        "streams) with the reason, its location and raw text, and goes on.",
    ),
    th.Property(
        "infer_sample_rows",
        th.IntegerType(minimum=1),
        default=1000,
        title="Rows sampled for types",
        description="How many rows of each file are read to infer its column types. A value "
        "after them that does not fit makes a bad row, so a larger sample is safer "
        "and slower to discover.",
    ),
    th.Property(
        "start_date",
        th.DateTimeType,
        title="Start date",
        description="For files with a modified-date column (`updated_at` or an alias such as "
        "`modified`, `last_modified`, `Modified Date`): skip rows last modified "
        "before this on the first run; later runs start from the bookmark. Rows "
        "with an empty modified date are always read.",
    ),
)


def export_settings_schema(*extra: th.Property) -> dict:
    """The ``config_jsonschema`` of an export tap: the common settings plus a tap's own."""
    return th.PropertiesList(*EXPORT_SETTINGS.wrapped.values(), *extra).to_dict()


def _per_stream(config: Mapping[str, Any], name: str) -> dict[str, Any]:
    value = config.get(name) or {}
    if not isinstance(value, Mapping):
        raise ExportError(f"`{name}` must be an object keyed by stream name")
    return dict(value)


@dataclass(frozen=True)
class ExportSettings:
    """The common settings, validated."""

    export_dir: Path
    encoding: str | None = None
    delimiter: str | None = None
    column_map: Mapping[str, Mapping[str, str]] = field(default_factory=dict)
    column_types: Mapping[str, Mapping[str, str]] = field(default_factory=dict)
    date_format: str = "auto"
    date_formats: Mapping[str, str] = field(default_factory=dict)
    on_bad_row: str = FAIL
    infer_sample_rows: int = 1000
    start_date: dt.datetime | None = None

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> ExportSettings:
        try:
            return cls._read(config)
        except ValueError as exc:
            raise ExportError(f"invalid setting: {exc}") from exc

    @classmethod
    def _read(cls, config: Mapping[str, Any]) -> ExportSettings:
        if not config.get("export_dir"):
            raise ExportError("the `export_dir` setting is required: the export folder's path")
        folder = Path(str(config["export_dir"])).expanduser()
        if not folder.is_dir():
            raise ExportError(f"export_dir {str(folder)!r} is not a folder")
        encoding = config.get("encoding") or None
        types = {
            stream: {column: type_setting(kind) for column, kind in dict(cols).items()}
            for stream, cols in _per_stream(config, "column_types").items()
        }
        on_bad_row = config.get("on_bad_row") or FAIL
        if on_bad_row not in (FAIL, REJECT):
            raise ValueError(f"on_bad_row must be {FAIL!r} or {REJECT!r}, not {on_bad_row!r}")
        sample = int(config.get("infer_sample_rows") or 1000)
        if sample < 1:
            raise ValueError("infer_sample_rows must be at least 1")
        start = config.get("start_date")
        return cls(
            export_dir=folder.resolve(),
            encoding=canonical_codec(encoding) if encoding else None,
            delimiter=delimiter_setting(config.get("delimiter")),
            column_map=_per_stream(config, "column_map"),
            column_types=types,
            date_format=date_format_setting(config.get("date_format")),
            date_formats={
                k: date_format_setting(v) for k, v in _per_stream(config, "date_formats").items()
            },
            on_bad_row=on_bad_row,
            infer_sample_rows=sample,
            start_date=_instant(start) if start else None,
        )

    def date_format_for(self, stream: str) -> str:
        return self.date_formats.get(stream) or self.date_format

    def column_map_for(self, stream: str) -> dict[str, str]:
        return dict(self.column_map.get(stream) or {})

    def column_types_for(self, stream: str) -> dict[str, str]:
        """Forced types by column name; keys given as headers are normalised too."""
        forced = dict(self.column_types.get(stream) or {})
        for column, kind in list(forced.items()):
            forced.setdefault(normalise(column), kind)
        return forced


def _instant(value: Any) -> dt.datetime:
    if isinstance(value, dt.datetime):
        when = value
    else:
        text = str(value).strip()
        when = (
            dt.datetime.fromisoformat(text + "T00:00:00")
            if len(text) == 10
            else parse_iso_datetime(text)
        )
    return when.replace(tzinfo=dt.timezone.utc) if when.tzinfo is None else when
