"""The suite's completion signal: each of our plugins says on ``_notices`` that it started, and
then that it completed or failed (with the error), so that target-twenty can tell a source read
to the end from one cut short.

Why: Singer has no end-of-stream message, and when a tap dies Meltano closes the next plugin's
stdin all the same (meltano/core/block/extract_load.py, ``_handle_head_completed``): the target
sees an ordinary end of input and, without this, would report half a source as balanced.
docs/singer-meltano.md §2.8 describes the protocol and what the target makes
of it.

The notices are written around the SDK's whole ``invoke`` (a classmethod the command line
calls, public, overridable): STARTED before the plugin is even built (a bad configuration then
still says FAILED), COMPLETED once ``sync_all`` (tap) or ``listen`` (mapper) returned, FAILED
with the error when either raised; the exception is then re-raised unchanged, so the plugin
still exits non-zero as it would have. ``--about`` writes nothing of this.

A tap says all this only with its ``side_streams`` setting on (suite_settings.py): a tap piped
into another target sends its data streams alone. The mapper always says it (its output is for
target-twenty only).
"""

from __future__ import annotations

import sys
import typing as t
from enum import Enum

from singer_sdk.singerlib import RecordMessage, SchemaMessage

from crm2twenty_common.sdk_compat import config_input
from crm2twenty_common.suite_settings import QuietMetrics, SideStreamsSetting
from crm2twenty_common.twenty import NOTICES, NOTICES_KEY, NOTICES_SCHEMA, Notice
from crm2twenty_common.writer import flush_stdout

__all__ = ["ReportsCompletion", "RunStatus", "status_messages"]

_ERROR_CHARS = 500


class RunStatus(str, Enum):
    STARTED = "started"
    COMPLETED = "completed"
    FAILED = "failed"


_SAYS = {
    RunStatus.STARTED: "started",
    RunStatus.COMPLETED: "completed: it read everything it was asked for",
    RunStatus.FAILED: "failed",
}


def status_messages(
    plugin: str, stage: str, status: RunStatus, error: str | None = None
) -> list[SchemaMessage | RecordMessage]:
    """The ``_notices`` SCHEMA and the one RECORD saying ``plugin``'s status."""
    notice = f"{plugin} {_SAYS[status]}" + (f": {error}" if error else "")
    record = Notice(plugin, notice, status=status.value, stage=stage, error=error)
    return [
        SchemaMessage(stream=NOTICES, schema=NOTICES_SCHEMA, key_properties=list(NOTICES_KEY)),
        RecordMessage(stream=NOTICES, record=record.as_record()),
    ]


def describe(exc: BaseException) -> str:
    """The error in one line (its first), for the report: no traceback."""
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    if not text or type(exc).__module__ == "builtins":  # our errors say what they are
        text = f"{type(exc).__name__}: {text}" if text else type(exc).__name__
    return text[:_ERROR_CHARS]


class ReportsCompletion(QuietMetrics):
    """Mixin for a singer-sdk ``Tap`` or ``InlineMapper`` (put it first among the bases)."""

    completion_stage: t.ClassVar[str] = "tap"  # what the plugin is: tap | mapper

    @classmethod
    def invoke(
        cls, *, about: bool = False, about_format: str | None = None, **kwargs: t.Any
    ) -> None:
        invoke = super().invoke  # type: ignore[misc]
        if about:
            invoke(about=about, about_format=about_format, **kwargs)
            return
        if issubclass(cls, SideStreamsSetting) and not cls.side_streams_asked(
            *config_input(kwargs)
        ):
            invoke(about=about, about_format=about_format, **kwargs)
            return
        cls._say(RunStatus.STARTED)
        try:
            invoke(about=about, about_format=about_format, **kwargs)
        except SystemExit as exc:
            if exc.code not in (0, None):
                cls._say(RunStatus.FAILED, f"exited with code {exc.code}")
            raise
        except BaseException as exc:
            cls._say(RunStatus.FAILED, describe(exc))
            raise
        cls._say(RunStatus.COMPLETED)

    @classmethod
    def _say(cls, status: RunStatus, error: str | None = None) -> None:
        writer = cls.message_writer_class()  # type: ignore[attr-defined]
        try:
            flush_stdout()  # after whatever the plugin wrote (our writer gathers lines)
            sys.stdout.flush()
            plugin = cls.name  # type: ignore[attr-defined]  # the plugin's, from its base
            for message in status_messages(plugin, cls.completion_stage, status, error):
                writer.write_message(message)
            flush_stdout()
            sys.stdout.flush()
        except (BrokenPipeError, ValueError):  # nobody reads any more (or stdout is closed)
            pass
