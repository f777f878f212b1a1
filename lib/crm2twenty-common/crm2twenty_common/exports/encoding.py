"""Which text encoding an export file is in.

Exports come from Windows tools as often as from web apps: UTF-8 with or without a BOM, UTF-16
with a BOM (Excel's "Unicode text"), or a Windows code page. The order of the checks:

1. the ``encoding`` setting, when given;
2. a byte-order mark (UTF-32, UTF-8, UTF-16; UTF-32 LE first, its BOM starts like UTF-16 LE's);
3. valid UTF-8 over the *whole* file, checked in chunks with an incremental decoder (constant
   memory; pure-ASCII chunks skip the decoder);
4. else cp1252 (Windows Western European), read like browsers read "windows-1252": its five
   undefined bytes become the C1 control characters of the same value, so a file is never
   refused for its encoding alone.

Not charset-normalizer or chardet: they guess among dozens of code pages from the bytes'
statistics, and short Western exports fool them (charset-normalizer 3.5 names cp1250 for the
cp1252 bytes of ``Café crème;Besançon``, which then read ``crčme``, and cp1006 for ``naïve``);
the rule above gives one answer for one file, checked over all of it.
"""

from __future__ import annotations

import codecs
from pathlib import Path

CHUNK = 1 << 20
FALLBACK = "cp1252"
LENIENT_ERRORS = "crm2twenty-cp1252"

_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)


def _c1_for_undefined(error: UnicodeError) -> tuple[str, int]:
    if not isinstance(error, UnicodeDecodeError):
        raise error
    bad = error.object[error.start : error.end]
    return "".join(chr(b) for b in bad), error.end


codecs.register_error(LENIENT_ERRORS, _c1_for_undefined)


def canonical_codec(name: str) -> str:
    """The codec's canonical name (``UTF8`` → ``utf-8``); an unknown name raises ValueError."""
    try:
        return codecs.lookup(name).name
    except LookupError:
        raise ValueError(
            f"unknown encoding {name!r} (the `encoding` setting takes a Python codec "
            "name such as utf-8, utf-8-sig, utf-16, cp1252, latin-1)"
        ) from None


def bom_encoding(path: Path) -> str | None:
    """The codec named by the file's byte-order mark, if it has one."""
    with path.open("rb") as handle:
        head = handle.read(4)
    return next((codec for bom, codec in _BOMS if head.startswith(bom)), None)


def is_utf8(path: Path) -> bool:
    """Whether the whole file is valid UTF-8, read in chunks (memory stays flat)."""
    decoder = codecs.getincrementaldecoder("utf-8")()
    with path.open("rb") as handle:
        try:
            while chunk := handle.read(CHUNK):
                # ASCII is valid UTF-8: skip the decoder unless it holds a split sequence.
                if chunk.isascii() and not decoder.getstate()[0]:
                    continue
                decoder.decode(chunk)
            decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            return False
    return True


def detect_encoding(path: Path, forced: str | None = None) -> str:
    """The codec to read ``path`` with: ``forced``, a BOM's, ``utf-8`` or ``cp1252``."""
    if forced:
        return canonical_codec(forced)
    return bom_encoding(path) or ("utf-8" if is_utf8(path) else FALLBACK)


def decode_errors(codec: str) -> str:
    """The ``errors=`` to open a file with: lenient for the cp1252 fallback, else strict."""
    return LENIENT_ERRORS if codec == FALLBACK else "strict"


def contains_nul(path: Path) -> bool:
    """Whether the file has a NUL byte (memchr speed). Python 3.10's csv module refuses NUL and
    3.11+ accepts it; the reader checks rows for NUL only in files where this is true."""
    with path.open("rb") as handle:
        while chunk := handle.read(CHUNK):
            if b"\x00" in chunk:
                return True
    return False
