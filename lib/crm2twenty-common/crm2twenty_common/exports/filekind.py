"""What a file named like an export but not a delimited text file looks like, for its error.

A PNG saved as ``companies.csv`` decodes as cp1252 (every byte does), so without this check it
reads as one column named after its garbage. A file is **not text** when the start of it, decoded
as the file's detected encoding, is more than 10 % control characters (tab and line breaks
aside; a few NUL bytes in a CSV only make bad rows); ``puremagic`` (magic numbers, pure Python)
names the format. A text file with no key column is **not delimited** when it is a JSON, HTML or
XML document (:func:`markup_kind`) or its first line holds no delimiter.
"""

from __future__ import annotations

import json
from pathlib import Path

import puremagic

HEAD_BYTES = 8192
CONTROL_SHARE = 0.10
MIN_CONTROLS = 8  # a short file with one stray control character is still text
_TEXT_MIMES = ("text/", "application/json", "application/xml", "application/csv")


def _controls(text: str) -> int:
    # C0 and C1 controls and undecodable bytes; tab, line breaks and form feed are text.
    return sum(
        1
        for c in text
        if (c < " " and c not in "\t\n\r\f\v") or "\x7f" <= c < "\xa0" or c == "\ufffd"
    )


def _format_name(data: bytes) -> str | None:
    """The binary format puremagic finds at the start of ``data``, if any."""
    try:
        matches = puremagic.magic_string(data)
    except puremagic.PureError:  # no signature matched
        return None
    for match in matches:
        mime = match.mime_type or ""
        if mime and not mime.startswith(_TEXT_MIMES):
            return f"{match.name} ({mime})"
    return None


def binary_kind(path: Path, codec: str, errors: str) -> str | None:
    """What the file is when it is not text (``a Portable Network Graphics file (image/png)``),
    or None for text."""
    with path.open("rb") as handle:
        data = handle.read(HEAD_BYTES)
    if not data:
        return None
    text = data.decode(codec, errors="replace" if errors == "strict" else errors)
    controls = _controls(text)
    named = _format_name(data)
    if controls >= MIN_CONTROLS and controls > len(text) * CONTROL_SHARE:
        return f"a {named}" if named else "binary data, not text"
    if named and controls:  # a known binary format whose start is mostly text (a PDF)
        return f"a {named}"
    return None


def markup_kind(sample: str) -> str | None:
    """What a text that is a document, not a table, looks like (``a JSON document``, ``an HTML
    page``, ``an XML document``), or None."""
    start = sample.lstrip("\ufeff \t\r\n")
    lowered = start[:200].lower()
    if start[:1] in "[{":
        try:
            json.loads(sample)
        except ValueError:
            if start[:1] == "{" or start[:2] in ("[{", '["'):
                return "a JSON document (or the start of one)"
        else:
            return "a JSON document"
    if lowered.startswith(("<!doctype html", "<html")):
        return "an HTML page"
    if lowered.startswith("<?xml"):
        return "an XML document"
    return None


def first_line(sample: str, chars: int = 40) -> str:
    """The first non-blank line, cut for a message."""
    line = next((x for x in sample.lstrip("\ufeff").splitlines() if x.strip()), "")
    return repr(line[:chars] + "…" if len(line) > chars else line)
