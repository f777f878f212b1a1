"""The Singer writer of the export taps and the mapper: what a reader decodes from it."""

from __future__ import annotations

import io
import json
import sys
from decimal import Decimal

import pytest
from crm2twenty_common.writer import BufferedSingerWriter
from singer_sdk.singerlib import RecordMessage, StateMessage


class _Stdout(io.TextIOWrapper):
    """A stdout with a binary buffer underneath, as a process has."""

    def __init__(self) -> None:
        self.raw_bytes = io.BytesIO()
        super().__init__(self.raw_bytes, encoding="utf-8")


@pytest.mark.parametrize("binary", [True, False], ids=["stdout", "text-stream"])
def test_lines_decode_to_the_values_written(monkeypatch: pytest.MonkeyPatch, binary: bool) -> None:
    out = _Stdout() if binary else io.StringIO()
    monkeypatch.setattr(sys, "stdout", out)
    writer = BufferedSingerWriter()
    record = {"name": "Société Générale ✓", "amount": Decimal("12.50"), "n": 3, "none": None}
    writer.write_message(RecordMessage(stream="company", record=record))
    writer.write_message(StateMessage(value={"bookmarks": {"company": {"v": 1}}}))
    text = out.raw_bytes.getvalue().decode() if isinstance(out, _Stdout) else out.getvalue()
    lines = [json.loads(line) for line in text.splitlines()]
    assert lines[0] == {
        "type": "RECORD",
        "stream": "company",
        "record": {"name": "Société Générale ✓", "amount": 12.5, "n": 3, "none": None},
    }
    assert lines[1] == {"type": "STATE", "value": {"bookmarks": {"company": {"v": 1}}}}
    assert len(lines) == 2  # one line per message


def test_lines_gather_until_a_state_then_all_come_out_in_order(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    out = _Stdout()
    monkeypatch.setattr(sys, "stdout", out)
    writer = BufferedSingerWriter()
    for n in range(3):
        writer.write_message(RecordMessage(stream="company", record={"n": n}))
    assert out.raw_bytes.getvalue() == b""  # gathered, not yet written: no call per record
    writer.write_message(StateMessage(value={"n": 2}))
    lines = [json.loads(line) for line in out.raw_bytes.getvalue().splitlines()]
    assert [line.get("record", {}).get("n") for line in lines] == [0, 1, 2, None]
    writer.write_message(RecordMessage(stream="company", record={"n": 3}))
    writer.flush()  # the plugin's end
    assert json.loads(out.raw_bytes.getvalue().splitlines()[-1])["record"] == {"n": 3}
