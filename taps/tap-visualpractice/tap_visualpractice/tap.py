"""tap-visualpractice: the tap class. Everything but the layout lives in crm2twenty_common."""

from __future__ import annotations

import typing as t

from crm2twenty_common.cli import entry_point
from crm2twenty_common.exports import ExportFolderTap, Layout, export_settings_schema
from singer_sdk import typing as th

from tap_visualpractice.streams import LAYOUT, SYNC_FIRST

if t.TYPE_CHECKING:
    from singer_sdk.streams import Stream


class TapVisualPractice(ExportFolderTap):
    """Singer tap for Visual Practice export folders: one CSV or VPL (quote-and-comma) file per object (companies, contacts, deals, pipeline_stages, activities, notes, tasks, users, the attachments manifest, workflows as CSV, VPL or JSON, `<a>__<b>` many-to-many links, and any other file as a custom object) becomes one stream per file. Encodings (UTF-8, UTF-16, cp1252) are detected per file, CSV delimiters (comma, semicolon, tab) sniffed, VPL files read as comma-separated with CR, LF or CRLF line ends; headers are matched to canonical columns through aliases and `column_map`, and unknown columns are kept; column types are inferred from a sample. A row that cannot be read fails the run with its file and line, or with `on_bad_row: reject` goes to the `_rejects` stream with the reason (with `side_streams` on; else to the log). Files with a modified-date column replicate incrementally."""  # noqa: E501

    name = "tap-visualpractice"
    layout: t.ClassVar[Layout] = LAYOUT
    # The common settings; `delimiter` is re-described because VPL files are not sniffed.
    config_jsonschema = export_settings_schema(
        th.Property(
            "delimiter",
            th.StringType,
            title="Delimiter",
            description="Force the delimiter of every file, VPL included: `,` (or `comma`), "
            "`;` (or `semicolon`), `tab` (or `\\t`), or `pipe`. Unset: comma for `.vpl` "
            "files (the format fixes it); for `.csv` files sniffed among comma, semicolon "
            "and tab. The delimiter used is logged per file.",
        )
    )

    @property
    def streams(self) -> dict[str, Stream]:
        streams = super().streams  # the SDK's cached dict, `_rejects` already last
        if list(streams)[: len(SYNC_FIRST)] != [n for n in SYNC_FIRST if n in streams]:
            rest = [n for n in streams if n not in SYNC_FIRST]
            for name in [n for n in SYNC_FIRST if n in streams] + rest:
                streams[name] = streams.pop(name)  # re-insert in the wanted order
        return streams


# The command (pyproject.toml): an expected error is one line, not a traceback.
main = entry_point(TapVisualPractice)

if __name__ == "__main__":
    main()
