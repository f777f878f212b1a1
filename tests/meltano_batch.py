"""Run many quick `meltano` commands in one Python process: the real Meltano CLI, imported once,
instead of a Meltano start-up (seconds on a busy machine) per command.

    python tests/meltano_batch.py results.json < commands.json

Input: a JSON list of ``{"args": [...], "env": {...}}``, run in order in the current directory
(the Meltano project); output, in the file named (a plugin Meltano starts writes to this
process's own stdout): a JSON list of ``{"exit": int, "stdout": str, "error": str}``.
For commands that start no pipeline (config set/list/unset, invoke --dump=config, run --dry-run,
a plugin command); pipelines run as their own processes.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import sys
import traceback

import click
from meltano.cli import cli


def run_one(args: list[str], env: dict[str, str]) -> dict:
    saved = dict(os.environ)
    os.environ.update(env)
    out = io.StringIO()
    code, error = 0, ""
    try:
        with contextlib.redirect_stdout(out):
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
    results = [run_one(c["args"], c.get("env") or {}) for c in commands]
    with open(sys.argv[1], "w", encoding="utf-8") as handle:
        json.dump(results, handle)
    return 0


if __name__ == "__main__":
    sys.exit(main())
