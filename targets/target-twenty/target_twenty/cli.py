"""The commands: ``target-twenty`` (the Singer target), ``target-twenty-rollback`` (undo one
API run from its audit log; Meltano runs it as ``meltano invoke target-twenty:rollback``) and
``target-twenty-verify`` (read back what an API run wrote and compare it with what was sent;
``meltano invoke target-twenty:verify``)."""

from __future__ import annotations

import sys

from crm2twenty_common.cli import run


def _expected() -> tuple[type[Exception], ...]:
    """What an expected error is (bad input, a refusal by Twenty, state of another
    workspace): one line and exit status 1, not a traceback (crm2twenty_common.cli)."""
    from target_twenty.api.client import TwentyError
    from target_twenty.provision import ProvisioningError
    from target_twenty.registry import WorkspaceMismatch
    from target_twenty.write.api import LoadStopped

    return (TwentyError, ProvisioningError, WorkspaceMismatch, LoadStopped)


def _target() -> None:
    from target_twenty.target import TargetTwenty

    TargetTwenty.cli()


def _rollback() -> None:
    from target_twenty.rollback import main as rollback_main

    sys.exit(rollback_main(sys.argv[1:]))


def _verify() -> None:
    from target_twenty.verify.command import main as verify_main

    sys.exit(verify_main(sys.argv[1:]))


def main() -> None:
    """``target-twenty``: the Singer target."""
    run(_target, *_expected(), name="target-twenty")


def rollback_main() -> None:
    """``target-twenty-rollback``: undo one API run."""
    run(_rollback, *_expected(), name="target-twenty-rollback")


def verify_main() -> None:
    """``target-twenty-verify``: read back what an API run wrote and compare."""
    run(_verify, *_expected(), name="target-twenty-verify")
