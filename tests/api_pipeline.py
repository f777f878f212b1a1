"""`meltano run tap-allegory-csv mapper target-twenty` in API mode into one fake Twenty, as the
README's sequence runs it: every run with the same state id and output folder (a state left by
one run would limit the next), and the commands a report gives run as written."""

from __future__ import annotations

import shlex
import uuid
from pathlib import Path

import e2e_run
from fakes.twenty import FakeTwenty


class ApiPipeline:
    """The Allegory export at ``export`` into ``twenty``; output and state under ``base``."""

    def __init__(self, twenty: FakeTwenty, base: Path, export: Path) -> None:
        self.output = base / "out"
        self.suffix = f"api-{uuid.uuid4().hex}"
        self.env = {
            "TAP_ALLEGORY_CSV_EXPORT_DIR": str(export),
            **e2e_run.api_env(twenty, base / "state"),
        }

    def run(self, *extra: str, **settings: str) -> dict:
        """One run (``extra``: options of `meltano run`) with these target settings on top."""
        return e2e_run.meltano_run(
            "tap-allegory-csv", self.output, self.suffix, {**self.env, **settings}, *extra
        )

    def invoke(self, command: str, *, fails: bool = False) -> str:
        """A command a report or README gives, as written (``meltano …``); its output."""
        words = shlex.split(command)
        assert words[0] == "meltano", command
        return e2e_run.meltano(words[1:], self.output, self.env, fails=fails).stdout
