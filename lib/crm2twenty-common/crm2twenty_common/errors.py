"""The one base class of the errors a user can fix: bad input, settings or surroundings.

A plugin stops on one of these with a single line that says what and where (``cli.entry_point``
prints it), not with a traceback: the traceback of an expected error shows our code, not the
user's problem. Errors of other classes are defects and keep their traceback.
"""

from __future__ import annotations


class UserError(Exception):
    """An expected error: its message names the file, line or setting and what to change."""
