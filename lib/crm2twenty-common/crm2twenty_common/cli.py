"""Every plugin's command: an expected error is one line on stderr and exit status 1.

Each plugin's ``[project.scripts]`` entry is a ``main = entry_point(<the plugin class>, <its own
expected errors>)`` beside the plugin. A :class:`~crm2twenty_common.errors.UserError`, or one of
the error classes the plugin names (a remote system's refusal, a rules file that does not load,
...), is logged as one ERROR line through the plugin's logger and the process exits with status 1.
Set ``CRM2TWENTY_DEBUG=1`` to get the traceback instead (the singer-sdk then logs it, as for any
other error).
"""

from __future__ import annotations

import logging
import os
import sys
import typing as t

from crm2twenty_common.errors import UserError

if t.TYPE_CHECKING:
    from singer_sdk.plugin_base import PluginBase

DEBUG_ENV = "CRM2TWENTY_DEBUG"
_REPORTED = "crm2twenty_reported"


def reported(exc: BaseException) -> BaseException:
    """Mark ``exc`` as already said in the log, in one line of its plugin's own (a failed run's
    closing line): the command then exits 1 without saying it again."""
    setattr(exc, _REPORTED, True)
    return exc


def debugging() -> bool:
    """Whether ``CRM2TWENTY_DEBUG`` asks for tracebacks (any value but empty, 0, false, no)."""
    return os.environ.get(DEBUG_ENV, "").strip().lower() not in ("", "0", "false", "no")


def one_line(exc: BaseException) -> str:
    """The error's message on one line (a message never spans lines in the log)."""
    return " ".join(str(exc).split()) or type(exc).__name__


def run(command: t.Callable[[], object], *expected: type[BaseException], name: str) -> None:
    """Run ``command``; an expected error becomes one ERROR line (logger ``name``) and exit 1.

    ``expected``: the plugin's own error classes that are a user's to fix, besides UserError.
    """
    caught: tuple[type[BaseException], ...] = (UserError, *expected)
    try:
        command()
    except caught as exc:
        if debugging():
            raise
        if getattr(exc, _REPORTED, False):
            sys.exit(1)
        logger = logging.getLogger(name)
        if not logger.hasHandlers():  # failed before the SDK set up its logging
            logging.basicConfig(format="%(levelname)s %(name)s: %(message)s")
        logger.error("%s", one_line(exc))
        sys.exit(1)


def entry_point(plugin: type[PluginBase], *expected: type[BaseException]) -> t.Callable[[], None]:
    """The console-script function of a singer-sdk plugin (its ``cli``, errors on one line)."""

    def main() -> None:
        run(lambda: plugin.cli(), *expected, name=plugin.name)

    main.__doc__ = f"The ``{plugin.name}`` command."
    return main
