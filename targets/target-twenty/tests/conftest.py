"""Runs target-twenty in-process on a list of Singer messages."""

from __future__ import annotations

import io
import json
from contextlib import redirect_stdout
from pathlib import Path
from typing import Any

import pytest
from target_twenty.target import TargetTwenty
from twenty_builders import Run


@pytest.fixture
def run_target(tmp_path: Path):
    def run(messages: list[dict], **config: Any) -> Run:
        output = tmp_path / "out"
        cfg = {"output_dir": str(output), **config}
        target = TargetTwenty(config=cfg, validate_config=True)
        buffer = io.StringIO()
        with redirect_stdout(buffer):
            target.listen(io.StringIO("".join(json.dumps(m) + "\n" for m in messages)))
        return Run(output, buffer.getvalue())

    return run
