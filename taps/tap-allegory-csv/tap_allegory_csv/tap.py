"""tap-allegory-csv: the tap class. Everything but the layout lives in crm2twenty_common."""

from __future__ import annotations

import typing as t

from crm2twenty_common.cli import entry_point
from crm2twenty_common.exports import ExportFolderTap, Layout, export_settings_schema

from tap_allegory_csv.streams import LAYOUT


class TapAllegoryCsv(ExportFolderTap):
    """Singer tap for Allegory CRM export folders: one CSV per object (companies, contacts, deals, tasks, notes, users, the attachments manifest, workflows as CSV or JSON, `<a>__<b>.csv` many-to-many links, and any other CSV as a custom object) becomes one stream per file. Encodings (UTF-8, UTF-16, cp1252) and delimiters (comma, semicolon, tab) are detected per file; headers are matched to canonical columns through aliases and `column_map`, and unknown columns are kept; column types are inferred from a sample. A row that cannot be read fails the run with its file and line, or with `on_bad_row: reject` goes to the `_rejects` stream with the reason (with `side_streams` on; else to the log). Files with a modified-date column replicate incrementally."""  # noqa: E501

    name = "tap-allegory-csv"
    layout: t.ClassVar[Layout] = LAYOUT
    config_jsonschema = export_settings_schema()


# The command (pyproject.toml): an expected error is one line, not a traceback.
main = entry_point(TapAllegoryCsv)

if __name__ == "__main__":
    main()
