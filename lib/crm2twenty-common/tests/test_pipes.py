"""The suite's readers and writers widen the pipes they are given (Linux), and leave anything
else as it is."""

from __future__ import annotations

import contextlib
import io
import os
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from crm2twenty_common import writer
from crm2twenty_common.pipes import PIPE_BYTES, widen
from crm2twenty_common.singer_input import NumberedReader
from singer_sdk.singerlib import RecordMessage

fcntl = pytest.importorskip("fcntl")
if not hasattr(fcntl, "F_GETPIPE_SZ"):
    pytest.skip("pipe sizes are a Linux feature", allow_module_level=True)
if int(Path("/proc/sys/fs/pipe-max-size").read_text()) < PIPE_BYTES:
    pytest.skip("this system caps pipes below 1 MiB", allow_module_level=True)


def _size(fd: int) -> int:
    return fcntl.fcntl(fd, fcntl.F_GETPIPE_SZ)


@pytest.fixture
def pipe() -> Iterator[tuple[int, int]]:
    read, write = os.pipe()
    yield read, write
    for fd in (read, write):
        with contextlib.suppress(OSError):  # (a test closed it already)
            os.close(fd)


def test_a_pipe_is_widened_and_a_file_or_text_stream_left_alone(
    pipe: tuple[int, int], tmp_path: Path
) -> None:
    read, write = pipe
    default = _size(read)
    assert default < PIPE_BYTES
    with open(tmp_path / "file", "w") as handle:
        widen(handle)  # not a pipe: nothing to do, no error
    widen(io.StringIO())  # no file descriptor
    assert _size(read) == default
    with os.fdopen(os.dup(write), "wb") as end:
        widen(end)
    assert _size(read) == PIPE_BYTES


def test_the_writer_widens_the_stdout_pipe_it_writes_to(
    pipe: tuple[int, int], monkeypatch: pytest.MonkeyPatch
) -> None:
    read, write = pipe
    out = os.fdopen(write, "w", encoding="utf-8")
    monkeypatch.setattr(sys, "stdout", out)
    writer.BufferedSingerWriter().write_message(RecordMessage(stream="s", record={"a": 1}))
    writer.flush_stdout()
    assert _size(read) == PIPE_BYTES
    assert os.read(read, 100) == b'{"type":"RECORD","stream":"s","record":{"a":1}}\n'
    out.close()


def test_the_reader_widens_the_stdin_pipe_it_reads(pipe: tuple[int, int]) -> None:
    read, write = pipe
    os.write(write, b'{"type": "STATE", "value": {}}\n')
    os.close(write)
    seen: list[dict] = []
    with os.fdopen(read, "r", encoding="utf-8") as stdin:
        counts = NumberedReader().process_lines(stdin, {"STATE": seen.append})
        assert _size(read) == PIPE_BYTES
    assert counts["STATE"] == 1 and seen == [{"type": "STATE", "value": {}}]
