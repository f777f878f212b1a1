"""The suite's Singer reader: every error names its input line (and stream), in one line."""

from __future__ import annotations

import io
import json

import pytest
from crm2twenty_common.errors import UserError
from crm2twenty_common.singer_input import InputError, MsgSpecNumberedReader, NumberedReader
from singer_sdk.exceptions import RecordsWithoutSchemaException


def _lines(*items: object) -> io.StringIO:
    return io.StringIO("".join((i if isinstance(i, str) else json.dumps(i)) + "\n" for i in items))


SCHEMA = {"type": "SCHEMA", "stream": "s", "schema": {"properties": {}}}
RECORD = {"type": "RECORD", "stream": "s", "record": {"id": 1}}


@pytest.mark.parametrize("reader_class", [NumberedReader, MsgSpecNumberedReader])
def test_not_json_names_the_line_counting_blank_lines(reader_class: type[NumberedReader]) -> None:
    seen: list[tuple[int, str]] = []
    reader = reader_class()

    def keep(message: dict) -> None:
        seen.append((reader.line_number, message["type"]))

    with pytest.raises(InputError) as caught:
        reader.process_lines(_lines(SCHEMA, "", RECORD, "{oops"), {"SCHEMA": keep, "RECORD": keep})
    assert seen == [(1, "SCHEMA"), (3, "RECORD")]
    assert str(caught.value).startswith("input line 4: not a JSON message (")
    assert str(caught.value).endswith("'{oops'")
    assert "\n" not in str(caught.value)


def test_counts_are_per_message_type_and_blank_lines_are_not_messages() -> None:
    reader = NumberedReader()
    stats = reader.process_lines(
        _lines(SCHEMA, RECORD, "  ", RECORD), {"SCHEMA": lambda m: None, "RECORD": lambda m: None}
    )
    assert (stats["SCHEMA"], stats["RECORD"], sum(stats.values())) == (1, 2, 3)
    assert reader.line_number == 4


def test_a_long_bad_line_is_shown_cut() -> None:
    with pytest.raises(InputError) as caught:
        NumberedReader().process_lines(_lines("x" * 500), {})
    assert str(caught.value).endswith("'" + "x" * 60 + "…'")


def test_errors_of_a_handler_name_the_line_and_stream() -> None:
    def no_schema(message: dict) -> None:
        raise RecordsWithoutSchemaException("the SDK's words")

    def refuse(message: dict) -> None:
        raise UserError("the rules map no stream s")

    with pytest.raises(RecordsWithoutSchemaException) as before:
        NumberedReader().process_lines(
            _lines(SCHEMA, RECORD), {"SCHEMA": print, "RECORD": no_schema}
        )
    assert str(before.value).startswith("input line 2, stream s: a RECORD before any SCHEMA")
    with pytest.raises(InputError) as refused:
        NumberedReader().process_lines(_lines(RECORD), {"RECORD": refuse})
    assert str(refused.value) == "input line 1, stream s: the rules map no stream s"


def test_other_errors_of_a_handler_pass_unchanged() -> None:
    def broken(message: dict) -> None:
        raise KeyError("a defect keeps its own class and traceback")

    with pytest.raises(KeyError):
        NumberedReader().process_lines(_lines(RECORD), {"RECORD": broken})
