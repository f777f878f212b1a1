"""Runs target-twenty in-process on a list of Singer messages."""

from __future__ import annotations

import io
from contextlib import redirect_stdout
from pathlib import Path
from typing import Any

import pytest
from target_twenty.target import TargetTwenty
from twenty_builders import Run, singer_input


@pytest.fixture
def run_target(tmp_path: Path):
    def run(messages: list[dict], *, tap_completed: bool = True, **config: Any) -> Run:
        output = tmp_path / "out"
        cfg = {"output_dir": str(output), **config}
        target = TargetTwenty(config=cfg, validate_config=True)
        buffer = io.StringIO()
        with redirect_stdout(buffer):
            target.listen(singer_input(messages, tap_completed=tap_completed))
        return Run(output, buffer.getvalue(), latest="LAST_RUN")  # this run, whatever became of it

    return run
