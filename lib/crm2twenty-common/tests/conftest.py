"""Fixtures for the export-reading tests: files written into tmp_path, a tap run to messages."""

from __future__ import annotations

import io
import json
from collections.abc import Callable
from contextlib import redirect_stdout
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from crm2twenty_common.exports import MANIFEST, ExportFolderTap, Layout, StreamSpec

DEMO_LAYOUT = Layout(
    streams=(
        StreamSpec(
            "people", aliases={"name": ("full_name", "person"), "email": ("e_mail", "mail")}
        ),
        StreamSpec("attachments", kind=MANIFEST, aliases={"file_path": ("path",)}),
        StreamSpec(
            "workflows",
            json_array=True,
            array_columns=("conditions", "actions"),
            aliases={"trigger": ("event",)},
        ),
    )
)


class DemoTap(ExportFolderTap):
    """A tap over a small demo layout, for these tests."""

    name = "tap-demo-export"
    layout = DEMO_LAYOUT


@dataclass
class Run:
    """What one sync printed, by message type and stream."""

    messages: list[dict] = field(default_factory=list)

    def records(self, stream: str) -> list[dict]:
        return [
            m["record"] for m in self.messages if m["type"] == "RECORD" and m["stream"] == stream
        ]

    def schema(self, stream: str) -> dict:
        return next(m for m in self.messages if m["type"] == "SCHEMA" and m["stream"] == stream)

    @property
    def streams(self) -> list[str]:
        """Streams in the order their first RECORD or SCHEMA came out."""
        seen: dict[str, None] = {}
        for m in self.messages:
            if m["type"] in ("SCHEMA", "RECORD"):
                seen.setdefault(m["stream"], None)
        return list(seen)

    @property
    def state(self) -> dict:
        return [m for m in self.messages if m["type"] == "STATE"][-1]["value"]


def write_file(folder: Path, name: str, data: str | bytes, encoding: str = "utf-8") -> Path:
    path = folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data if isinstance(data, bytes) else data.encode(encoding))
    return path


def run_tap(
    tap_class: type[ExportFolderTap], folder: Path, state: dict | None = None, **config: object
) -> Run:
    tap = tap_class(config={"export_dir": str(folder), "side_streams": True, **config}, state=state)
    buffer = io.StringIO()
    with redirect_stdout(buffer):
        tap.sync_all()
    return Run([json.loads(line) for line in buffer.getvalue().splitlines()])


@pytest.fixture
def write(tmp_path: Path) -> Callable[..., Path]:
    """``write(name, text_or_bytes, encoding="utf-8")`` → a file in the export folder."""
    return lambda name, data, encoding="utf-8": write_file(tmp_path, name, data, encoding)


@pytest.fixture
def sync(tmp_path: Path) -> Callable[..., Run]:
    """``sync(state=None, **config)`` → the demo tap's output over tmp_path."""
    return lambda state=None, **config: run_tap(DemoTap, tmp_path, state, **config)


@pytest.fixture
def demo_tap() -> type[DemoTap]:
    """The demo tap class (test modules cannot import this conftest by name)."""
    return DemoTap
