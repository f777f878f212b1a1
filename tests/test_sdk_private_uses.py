"""No plugin touches singer-sdk's private internals except through crm2twenty_common.sdk_compat.

A source scan of every plugin package (tests excepted): a private name of the SDK's — a
``_``-prefixed attribute of its Stream, Tap, Target, Sink or InlineMapper classes, or one its
source assigns on ``self`` — that a plugin defines, assigns or reaches through ``self``,
``super()`` or ``cls``. That also catches a private name of our own that collides with one of
the SDK's (``exports/streams.py`` had a method ``_schema``; the SDK's Stream keeps its schema in an
attribute of that name).
"""

from __future__ import annotations

import re
from pathlib import Path

import singer_sdk
from singer_sdk import Stream, Tap
from singer_sdk.mapper_base import InlineMapper
from singer_sdk.sinks import Sink
from singer_sdk.target_base import Target

ROOT = Path(__file__).parents[1]
PACKAGES = ("lib", "taps", "targets", "transforms")
ALLOWED_FILE = "sdk_compat.py"
# Uses the target's and the mapper's owners replace with sdk_compat (DrainsOnlyAtEndOfInput,
# StopsWithoutStateOnSignal, KeepsRecordsAsSent) or the public write_message; delete each entry
# as its use goes (the last test fails while an entry names a use that no longer exists).
PENDING: set[tuple[str, str]] = set()

_USE = re.compile(
    r"(?:self|super\(\)|cls)\.(_[a-zA-Z]\w*)\b"  # reached through the instance or class
    r"|^\s*def (_[a-zA-Z]\w*)\("  # defined (an override, or a clash)
    r"|^\s{4}(_[a-zA-Z]\w*)\s*(?::[^=\n]+)?=(?!=)",  # set as a class attribute
    re.MULTILINE,
)
_ASSIGNED = re.compile(r"self\.(_[a-zA-Z]\w*)\s*(?::[^=\n]+)?=(?!=)")


def _sdk_private_names() -> set[str]:
    names = {
        n
        for cls in (Stream, Tap, Target, Sink, InlineMapper)
        for n in dir(cls)
        if n.startswith("_") and not n.startswith("__")
    }
    for source in Path(singer_sdk.__file__).parent.rglob("*.py"):
        names |= set(_ASSIGNED.findall(source.read_text(encoding="utf-8")))
    return names - {"_abc_impl"}


def _uses() -> set[tuple[str, str]]:
    private = _sdk_private_names()
    found = set()
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            rel = path.relative_to(ROOT).as_posix()
            if "/tests/" in rel or path.name == ALLOWED_FILE or "/.venv/" in rel:
                continue
            for match in _USE.finditer(path.read_text(encoding="utf-8")):
                name = next(g for g in match.groups() if g)
                if name in private:
                    found.add((rel, name))
    return found


USES = _uses()


def test_the_scan_knows_the_sdk_private_names() -> None:
    names = _sdk_private_names()
    assert {"_schema", "_tap", "_write_state_message", "_handle_termination"} <= names


def test_no_plugin_touches_sdk_private_internals_outside_sdk_compat() -> None:
    unexpected = sorted(USES - PENDING)
    assert not unexpected, f"use sdk_compat or a public hook instead: {unexpected}"


def test_pending_uses_are_still_there() -> None:
    gone = PENDING - USES
    assert not gone, f"switched to sdk_compat: delete {sorted(gone)} from PENDING"
