"""The errors an export tap stops with. Their messages name the file and say what to change."""

from __future__ import annotations

from crm2twenty_common.errors import UserError


class ExportError(UserError):
    """An export folder, file or setting the tap cannot work with (e.g. no key column)."""


class BadRowError(ExportError):
    """A bad row while ``on_bad_row`` is ``fail``: the message names the file, line and reason."""
