"""What an export folder holds: which file is which stream, its key and its column aliases.

A file-based tap is a :class:`Layout` plus settings. The layout lists the streams it knows
(:class:`StreamSpec`: file names, key columns, aliases of each canonical column, a special kind)
and the file extensions it reads; :meth:`Layout.classify` then says what any file is:

- a known stream (``table``; ``manifest`` for an attachments manifest);
- ``<a>__<b>.<ext>``: a many-to-many ``link`` between two objects, keyed by both id columns,
  each marked with the stream it references; the stream is named ``<singular a>_<b>``
  (``matters__contacts.csv`` → ``matter_contacts``) so that no stream name holds ``__``;
- any other ``<name>.<ext>``: a ``custom`` object keyed by ``id``;
- ``<name>.json`` for a stream that accepts it (``json_array``): a JSON array of objects.

Hidden files (``.x``, macOS ``._x``) and Office lock files (``~$x``) are never streams.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType

from crm2twenty_common.exports.headers import normalise
from crm2twenty_common.twenty import singular

TABLE, MANIFEST, LINK, CUSTOM = "table", "manifest", "link", "custom"

# Columns that say when a row last changed: the replication key, where a file has one.
MODIFIED_ALIASES = (
    "modified",
    "modified_at",
    "modified_on",
    "modified_date",
    "date_modified",
    "last_modified",
    "last_modified_at",
    "last_modified_date",
    "updated",
    "updated_on",
    "updated_date",
    "date_updated",
    "last_updated",
    "changed_at",
)
CREATED_ALIASES = ("created", "created_on", "created_date", "date_created", "creation_date")


def _frozen(aliases: Mapping[str, tuple[str, ...]]) -> Mapping[str, tuple[str, ...]]:
    return MappingProxyType({k: tuple(v) for k, v in aliases.items()})


@dataclass(frozen=True)
class StreamSpec:
    """One stream a layout knows.

    ``files``: base names without extension, matched case-insensitively (default: the stream
    name). ``aliases``: canonical column → other header spellings. ``kind``: ``table`` or
    ``manifest`` (adds ``file_exists``, ``file_size``, ``absolute_path`` from ``path_column``).
    ``json_array``: ``<file>.json`` (a JSON array of objects) is read too. ``array_columns``:
    emitted as JSON arrays (from a JSON list, a cell holding a JSON array, or text split on
    ``;`` and line breaks).
    """

    name: str
    files: tuple[str, ...] = ()
    key: tuple[str, ...] = ("id",)
    aliases: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    kind: str = TABLE
    json_array: bool = False
    array_columns: tuple[str, ...] = ()
    path_column: str = "file_path"
    description: str = ""

    def __post_init__(self) -> None:
        if self.kind not in (TABLE, MANIFEST):
            raise ValueError(f"stream {self.name}: kind must be {TABLE!r} or {MANIFEST!r}")
        object.__setattr__(self, "files", tuple(f.lower() for f in self.files or (self.name,)))
        object.__setattr__(self, "aliases", _frozen(self.aliases))


@dataclass(frozen=True)
class FileRole:
    """What one file of the folder is: the stream it feeds and how to read it."""

    path: Path
    stream: str
    kind: str  # table | manifest | link | custom
    key: tuple[str, ...]
    aliases: Mapping[str, tuple[str, ...]]
    json: bool = False  # a JSON array file, not a delimited one
    spec: StreamSpec | None = None
    array_columns: tuple[str, ...] = ()
    # key column → the stream it points at (a link's two sides), emitted as ``x-references``
    references: Mapping[str, str] = field(default_factory=dict)


# The attachments manifest, as the suite defines it for every export-folder source: one row a
# file, its path relative to the folder, the record it belongs to, and its name, type and date.
ATTACHMENTS_MANIFEST = StreamSpec(
    "attachments",
    kind=MANIFEST,
    path_column="file_path",
    description="the manifest of attached files",
    aliases={
        "id": ("attachment_id",),
        "file_path": ("path", "file", "location"),
        "parent_object": ("object", "parent_type", "entity"),
        "parent_id": ("record_id", "entity_id"),
        "file_name": ("name", "filename"),
        "mime_type": ("content_type", "type"),
        "uploaded_at": ("created_at", "uploaded"),
    },
)


@dataclass(frozen=True)
class Layout:
    """The files a source's export holds.

    ``replication_key`` is the canonical name of the modified-date column and
    ``replication_key_aliases`` its other spellings; ``common_aliases`` apply to every stream
    (a stream's own aliases win). ``custom_objects``: whether unknown files are streams.
    ``delimiters``: extension → the delimiter its format fixes (``{".vpl": ","}``: Visual
    Practice's quote-and-comma text), used instead of sniffing unless the ``delimiter``
    setting forces one for every file.
    """

    streams: tuple[StreamSpec, ...]
    extensions: tuple[str, ...] = (".csv",)
    replication_key: str = "updated_at"
    replication_key_aliases: tuple[str, ...] = MODIFIED_ALIASES
    common_aliases: Mapping[str, tuple[str, ...]] = field(
        default_factory=lambda: {"created_at": CREATED_ALIASES}
    )
    link_separator: str = "__"
    custom_objects: bool = True
    delimiters: Mapping[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        object.__setattr__(self, "extensions", tuple(e.lower() for e in self.extensions))
        object.__setattr__(
            self, "delimiters", MappingProxyType({k.lower(): v for k, v in self.delimiters.items()})
        )
        names = [s.name for s in self.streams]
        if len(set(names)) != len(names):
            raise ValueError(f"a layout names a stream twice: {names}")

    def delimiter_for(self, path: Path) -> str | None:
        """The delimiter the file's extension fixes, or None (sniff it)."""
        return self.delimiters.get(path.suffix.lower())

    def spec(self, name: str) -> StreamSpec | None:
        return next((s for s in self.streams if s.name == name), None)

    def _stream_of(self, base: str) -> str:
        """The stream a file named ``base`` feeds (a link's side names a file, e.g. ``people``
        for the ``contacts`` stream)."""
        spec = next((s for s in self.streams if base in s.files), None)
        return spec.name if spec else base

    def _aliases(self, own: Mapping[str, tuple[str, ...]]) -> dict[str, tuple[str, ...]]:
        # A common column the stream spells as an alias of one of its own is left out
        # (attachments: `created_at` is an alias of `uploaded_at`).
        taken = {normalise(a) for names in own.values() for a in names}
        common = {self.replication_key: self.replication_key_aliases, **self.common_aliases}
        merged = {k: v for k, v in common.items() if normalise(k) not in taken}
        merged.update(own)
        if self.replication_key in own:  # a stream's own spellings add to the common ones
            merged[self.replication_key] = (
                *own[self.replication_key],
                *self.replication_key_aliases,
            )
        return merged

    def classify(self, path: Path) -> FileRole | None:
        """The role of a file in the export folder, or None when it is not a stream."""
        name = path.name
        if name.startswith((".", "~$")):
            return None
        suffix = path.suffix.lower()
        base = path.stem.lower()
        if suffix == ".json":
            spec = next((s for s in self.streams if s.json_array and base in s.files), None)
            if spec is None:
                return None
            return FileRole(
                path,
                spec.name,
                spec.kind,
                spec.key,
                self._aliases(spec.aliases),
                json=True,
                spec=spec,
                array_columns=spec.array_columns,
            )
        if suffix not in self.extensions:
            return None
        spec = next((s for s in self.streams if base in s.files), None)
        if spec is not None:
            return FileRole(
                path,
                spec.name,
                spec.kind,
                spec.key,
                self._aliases(spec.aliases),
                spec=spec,
                array_columns=spec.array_columns,
            )
        if not self.custom_objects:
            return None
        sep = self.link_separator
        if sep in base:
            left, right = (normalise(p) for p in base.split(sep, 1))
            if left and right:
                key = (f"{left}_id", f"{right}_id")
                aliases = {key[0]: (f"{singular(left)}_id",), key[1]: (f"{singular(right)}_id",)}
                if key[0] == key[1]:  # a self link: contacts__contacts
                    key = (key[0], f"{right}_id_2")
                    aliases = {key[0]: aliases[key[0]]}
                refs = dict(zip(key, (self._stream_of(left), self._stream_of(right)), strict=True))
                return FileRole(
                    path,
                    f"{singular(left)}_{right}",
                    LINK,
                    key,
                    self._aliases(aliases),
                    references=MappingProxyType(refs),
                )
        stream = normalise(path.stem)
        if not stream:
            return None
        return FileRole(
            path, stream, CUSTOM, ("id",), self._aliases({"id": (f"{singular(stream)}_id",)})
        )
