"""Reading export folders for file-based taps (tap-allegory-csv, tap-visualpractice).

A source's tap is a :class:`Layout` plus :class:`ExportFolderTap`::

    class TapX(ExportFolderTap):
        name = "tap-x"
        layout = Layout(streams=(StreamSpec("contacts", aliases={...}), ...),
                        extensions=(".csv",))
        config_jsonschema = export_settings_schema()  # plus the tap's own th.Property items

Modules, each usable alone: ``encoding`` (detect a file's encoding), ``dialect`` (sniff its
delimiter), ``headers`` (normalise and alias header names), ``rows`` (stream a delimited file
as ``(line, dict)`` rows or :class:`BadRow`), ``jsonarray`` (the same for a JSON array file),
``types`` (infer and convert column types), ``layout`` (what each file of a folder is),
``settings`` (the common settings), ``rejects`` (the ``_rejects`` stream), ``streams`` (one file
as a stream) and ``tap`` (the tap).
"""

from crm2twenty_common.exports.errors import BadRowError, ExportError
from crm2twenty_common.exports.jsonarray import JsonArrayFile
from crm2twenty_common.exports.layout import (
    ATTACHMENTS_MANIFEST,
    CREATED_ALIASES,
    CUSTOM,
    LINK,
    MANIFEST,
    MODIFIED_ALIASES,
    TABLE,
    FileRole,
    Layout,
    StreamSpec,
    singular,
)
from crm2twenty_common.exports.rejects import (
    REJECTS_SCHEMA,
    REJECTS_STREAM,
    RejectSpool,
    RejectsStream,
)
from crm2twenty_common.exports.rows import BadRow, ExportFile
from crm2twenty_common.exports.settings import (
    EXPORT_SETTINGS,
    ExportSettings,
    export_settings_schema,
)
from crm2twenty_common.exports.streams import SOURCE_FILE, SOURCE_LINE, ExportFileStream
from crm2twenty_common.exports.tap import ExportFolderTap

__all__ = [
    "ATTACHMENTS_MANIFEST",
    "CREATED_ALIASES",
    "CUSTOM",
    "EXPORT_SETTINGS",
    "LINK",
    "MANIFEST",
    "MODIFIED_ALIASES",
    "REJECTS_SCHEMA",
    "REJECTS_STREAM",
    "SOURCE_FILE",
    "SOURCE_LINE",
    "TABLE",
    "BadRow",
    "BadRowError",
    "ExportError",
    "ExportFile",
    "ExportFileStream",
    "ExportFolderTap",
    "ExportSettings",
    "FileRole",
    "JsonArrayFile",
    "Layout",
    "RejectSpool",
    "RejectsStream",
    "StreamSpec",
    "export_settings_schema",
    "singular",
]
