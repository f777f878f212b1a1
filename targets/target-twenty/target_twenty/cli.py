"""The ``target-twenty`` command: the Singer target, plus ``target-twenty rollback …``."""

from __future__ import annotations

import sys

from crm2twenty_common.cli import run

# Options of the target that take a value: "rollback" after one of them is that value.
_VALUED = {"--config", "--input", "--format", "--about-format"}


def _subcommand(argv: list[str]) -> int | None:
    """Where the word ``rollback`` stands as a subcommand. Meltano's ``invoke`` puts
    ``--config <file>`` before the user's words, so it need not come first."""
    for i, word in enumerate(argv):
        if word == "rollback" and (i == 0 or argv[i - 1] not in _VALUED):
            return i
    return None


def _main() -> None:
    argv = sys.argv[1:]
    at = _subcommand(argv)
    if at is not None:
        from target_twenty.rollback import main as rollback_main

        sys.exit(rollback_main(argv[:at] + argv[at + 1 :]))
    from target_twenty.target import TargetTwenty

    TargetTwenty.cli()


def main() -> None:
    """The command: an expected error (bad input, a refusal by Twenty, state of another
    workspace) is one line and exit status 1, not a traceback (crm2twenty_common.cli)."""
    from target_twenty.api.client import TwentyError
    from target_twenty.provision import ProvisioningError
    from target_twenty.registry import WorkspaceMismatch
    from target_twenty.write.api import LoadStopped

    expected = (TwentyError, ProvisioningError, WorkspaceMismatch, LoadStopped)
    run(_main, *expected, name="target-twenty")
