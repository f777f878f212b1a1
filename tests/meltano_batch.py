"""Run many quick `meltano` commands in one Python process: the real Meltano CLI, imported once,
instead of a Meltano start-up (seconds on a busy machine) per command.

    python tests/meltano_batch.py results.json < commands.json

Input: a JSON list of ``{"args": [...], "env": {...}}``, run in order in the current directory
(the Meltano project); output, in the file named: a JSON list of
``{"exit": int, "stdout": str, "error": str}`` (``stdout``: what Meltano itself printed).
A plugin Meltano starts (`meltano invoke <plugin>`) reads and writes this process's own standard
input and output: a command's ``"stdin"`` and ``"stdout"`` name files to connect them to, e.g.
a tap's output for a target's input. For commands that start no pipeline (config set/list/unset,
invoke, run --dry-run); pipelines (`meltano run`) run as their own processes.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import sys
import traceback
from collections.abc import Iterator

import click
from meltano.cli import cli


@contextlib.contextmanager
def _connected(fd: int, path: str | None, mode: str) -> Iterator[None]:
    """File descriptor ``fd`` (what a plugin inherits) connected to the file at ``path``."""
    if path is None:
        yield
        return
    sys.stdout.flush()
    saved = os.dup(fd)
    with open(path, mode) as handle:
        os.dup2(handle.fileno(), fd)
    try:
        yield
    finally:
        os.dup2(saved, fd)
        os.close(saved)


def run_one(
    args: list[str], env: dict[str, str], stdin: str | None = None, stdout: str | None = None
) -> dict:
    saved = dict(os.environ)
    os.environ.update(env)
    out = io.StringIO()
    code, error = 0, ""
    try:
        with (
            _connected(0, stdin, "rb"),
            _connected(1, stdout, "wb"),
            contextlib.redirect_stdout(out),
        ):
            cli.main(args=args, obj={"project": None}, standalone_mode=False)
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else 1
    except click.exceptions.ClickException as exc:
        code, error = exc.exit_code, exc.format_message()
    except Exception as exc:  # what Meltano's own entry point would report and exit 1 for
        code = 1
        error = "".join(traceback.format_exception_only(type(exc), exc)).strip()
    finally:
        os.environ.clear()
        os.environ.update(saved)
    return {"exit": code, "stdout": out.getvalue(), "error": error}


def main() -> int:
    commands = json.load(sys.stdin)
    results = [
        run_one(c["args"], c.get("env") or {}, c.get("stdin"), c.get("stdout")) for c in commands
    ]
    with open(sys.argv[1], "w", encoding="utf-8") as handle:
        json.dump(results, handle)
    return 0


if __name__ == "__main__":
    sys.exit(main())
