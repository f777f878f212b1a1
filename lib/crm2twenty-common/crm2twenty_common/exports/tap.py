"""A reusable singer-sdk tap over an export folder: one stream per file, plus ``_rejects`` and
``_notices`` with the ``side_streams`` setting.

A source's tap subclasses :class:`ExportFolderTap` and sets ``name``, ``layout`` (its
:class:`~crm2twenty_common.exports.layout.Layout`) and, to add settings,
``config_jsonschema = export_settings_schema(th.Property(...), ...)``. Discovery, schemas,
reading, bookmarks and rejects are all here. Hooks for what differs between sources:

- :meth:`ExportFolderTap.open_file` — how one file is opened (e.g. a fixed delimiter or
  encoding for one extension);
- ``file_stream_class`` — a subclass of
  :class:`~crm2twenty_common.exports.streams.ExportFileStream` (e.g. to post-process records).

The catalog is dynamic (built from the folder's files), so ``--discover`` needs the config.
"""

from __future__ import annotations

import typing as t
from functools import cached_property
from pathlib import Path

from singer_sdk import Tap

from crm2twenty_common.completion import ReportsCompletion
from crm2twenty_common.exports.errors import ExportError
from crm2twenty_common.exports.headers import alias_table
from crm2twenty_common.exports.jsonarray import JsonArrayFile
from crm2twenty_common.exports.layout import LINK, FileRole, Layout
from crm2twenty_common.exports.rejects import REJECTS_STREAM, RejectSpool, RejectsStream
from crm2twenty_common.exports.rows import ExportFile
from crm2twenty_common.exports.settings import ExportSettings, export_settings_schema
from crm2twenty_common.exports.streams import ExportFileStream, Source
from crm2twenty_common.notices import NOTICES, NoticesStream
from crm2twenty_common.renamed_streams import carry_bookmarks
from crm2twenty_common.suite_settings import SideStreamsSetting
from crm2twenty_common.writer import BufferedSingerWriter

if t.TYPE_CHECKING:
    from singer_sdk.streams import Stream


class ExportFolderTap(ReportsCompletion, SideStreamsSetting, Tap):
    """Base of the file-based taps; subclasses set ``name``, ``layout`` and a docstring."""

    layout: t.ClassVar[Layout]
    file_stream_class: t.ClassVar[type[ExportFileStream]] = ExportFileStream
    dynamic_catalog = True
    message_writer_class = BufferedSingerWriter
    config_jsonschema = export_settings_schema()

    def load_state(self, state: dict[str, t.Any]) -> None:
        # a link stream was once named as its file (``matters__contacts``): keep its bookmark
        super().load_state(carry_bookmarks(state, self._link_stream_of))

    def _link_stream_of(self, old: str) -> str | None:
        role = self.layout.classify(Path(f"{old}{self.layout.extensions[0]}"))
        return role.stream if role is not None and role.kind == LINK else None

    @cached_property
    def export_settings(self) -> ExportSettings:
        """The common settings, validated (a clear error for a bad value)."""
        return ExportSettings.from_config(self.config)

    def classify_files(self) -> list[FileRole]:
        """The files of the export folder that are streams, by stream name."""
        folder = self.export_settings.export_dir
        roles: dict[str, FileRole] = {}
        for path in sorted(folder.iterdir(), key=lambda p: p.name.lower()):
            if not path.is_file():
                continue
            role = self.layout.classify(path)
            if role is None:
                self.logger.info("%s: not a stream of this export, ignored", path.name)
                continue
            if role.stream in roles:
                raise ExportError(
                    f"{folder}: both {roles[role.stream].path.name} and "
                    f"{path.name} would be the stream {role.stream!r}; keep one"
                )
            roles[role.stream] = role
        return list(roles.values())

    def open_file(self, role: FileRole) -> Source:
        """Open one file of the export (encoding, delimiter and header found here)."""
        settings = self.export_settings
        aliases = alias_table(role.aliases)
        column_map = settings.column_map_for(role.stream)
        if role.json:
            return JsonArrayFile(
                role.path, encoding=settings.encoding, aliases=aliases, column_map=column_map
            )
        return ExportFile(
            role.path,
            encoding=settings.encoding,
            delimiter=settings.delimiter or self.layout.delimiter_for(role.path),
            aliases=aliases,
            column_map=column_map,
        )

    def discover_streams(self) -> list[Stream]:
        settings = self.export_settings
        spool = RejectSpool()
        streams: list[Stream] = []
        notices: list[str] = []  # for the report, besides the log (_notices)
        for role in self.classify_files():
            source = self.open_file(role)
            for duplicate in source.duplicates:
                notices.append(duplicate.describe(role.path.name))
                self.logger.warning("%s", notices[-1])
            if not source.has_header:
                notices.append(
                    f"{role.path.name}: empty (no header row), so no {role.stream} stream"
                )
                self.logger.warning("%s", notices[-1])
                continue
            stream = self.file_stream_class(
                self,
                role=role,
                source=source,
                settings=settings,
                spool=spool,
                replication_key=self.layout.replication_key,
            )
            self.logger.info(
                "%s → stream %s (%s, %s; %d columns; key %s; %s)",
                role.path.name,
                stream.name,
                source.encoding,
                "JSON" if source.delimiter is None else f"delimiter {source.delimiter!r}",
                len(stream.columns),
                ", ".join(stream.primary_keys),
                f"incremental by {stream.replication_key}"
                if stream.replication_key
                else "full table",
            )
            streams.append(stream)
        if self.side_streams:  # else bad rows are logged (ExportFileStream)
            streams.append(RejectsStream(self, spool))
            streams.append(NoticesStream(self, notices))
        return streams

    @property
    def streams(self) -> dict[str, Stream]:
        # The SDK syncs streams in name order and the side streams sort first; the rows
        # `_rejects` emits are gathered while the others sync, so the two go last. A link
        # (``matter_contacts``) goes after the data streams, so both its sides come first.
        streams = super().streams
        links = [
            n for n, s in streams.items() if isinstance(s, ExportFileStream) and s.role.kind == LINK
        ]
        for name in (*links, NOTICES, REJECTS_STREAM):
            if name in streams:
                streams[name] = streams.pop(name)
        return streams
