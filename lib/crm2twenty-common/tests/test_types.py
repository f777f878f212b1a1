"""Type inference from a sample, and the converters: strict when inferred, lenient when forced."""

from __future__ import annotations

import pytest
from crm2twenty_common.exports import types as ty


def infer(values: list[str], date_format: str = "auto") -> ty.ColumnType:
    return ty.infer_type(values, date_format, column="c")


def convert(values: list[str], value: str, date_format: str = "auto") -> object:
    return ty.converter(infer(values, date_format))(value)


@pytest.mark.parametrize(
    ("values", "kind"),
    [
        (["1", "22", "-3", "0"], "integer"),
        (["0", "1", "1", "0"], "integer"),  # only 0/1: integer, not boolean
        (["1.5", "2", "-0.25", ".5"], "number"),
        (["yes", "No", "Y", "n", "TRUE", "false"], "boolean"),
        (["yes", "no", "1", "0"], "boolean"),  # 1/0 beside words: boolean
        (["01234", "12345"], "string"),  # a zip code with a leading zero
        (["0612345678", "0698765432"], "string"),  # a French mobile number
        (["+4420794600", "+3361234567"], "string"),  # international numbers
        (["00.5"], "string"),
        (["1,5", "2,25"], "string"),  # decimal commas are not guessed at
        (["1234567890123456"], "string"),  # 16 digits: an id, not a quantity
        (["1e5"], "string"),
        (["2020-01-02", "2021-12-31"], "date"),
        (["2020-01-02 10:11:12", "2020-01-02T10:11Z", "2020-01-02T10:11:12.5+02:00"], "date-time"),
        (["2020-01-02", "2020-01-03 10:00"], "date-time"),  # a date beside date-times: midnight
        (["2020-13-02"], "string"),  # month 13
        (["abc", "1"], "string"),
        ([], "string"),
        (["", "  "], "string"),
    ],
)
def test_inference(values: list[str], kind: str) -> None:
    assert infer(values).kind == kind


def test_day_first_is_detected_from_a_first_part_above_12() -> None:
    col = infer(["01/02/2024", "31/12/2024", "05/06/2024"])
    assert (col.kind, col.order) == ("date", ty.DMY)
    assert ty.converter(col)("01/02/2024") == "2024-02-01"


def test_month_first_is_detected_from_a_second_part_above_12() -> None:
    col = infer(["12/31/2024 14:05", "01/02/2024 08:00"])
    assert (col.kind, col.order) == ("date-time", ty.MDY)
    assert ty.converter(col)("02/01/2024 08:00") == "2024-02-01T08:00:00+00:00"


def test_an_ambiguous_sample_reads_month_first_and_warns_naming_the_column() -> None:
    warnings: list[str] = []
    col = ty.infer_type(
        ["03/04/2021", "05/06/2021"], column="deals.close_date", warn=warnings.append
    )
    assert col.order == ty.MDY
    assert ty.converter(col)("03/04/2021") == "2021-03-04"
    assert len(warnings) == 1 and "deals.close_date" in warnings[0]
    assert "date_format" in warnings[0]


def test_a_sample_with_both_orders_is_text_with_a_warning() -> None:
    warnings: list[str] = []
    col = ty.infer_type(["31/01/2024", "01/31/2024"], column="x", warn=warnings.append)
    assert col.kind == "string"
    assert warnings and "day-first in some rows and month-first in others" in warnings[0]


def test_date_format_modes_and_an_explicit_format() -> None:
    assert convert(["03/04/2021"], "03/04/2021", "dayfirst") == "2021-04-03"
    assert convert(["13/04/2021"], "03/04/2021", "monthfirst") is not None  # mode wins...
    assert infer(["13/04/2021"], "monthfirst").kind == "date"
    with pytest.raises(ty.CastError):  # ...so 13 as a month fails after the sample
        convert(["03/04/2021"], "13/04/2021", "monthfirst")
    col = infer(["05.03.2022 10:00"], "%d.%m.%Y %H:%M")
    assert col.kind == "date-time"
    assert ty.converter(col)("05.03.2022 10:00") == "2022-03-05T10:00:00+00:00"
    assert ty.converter(col)("2022-03-06T10:00:00Z") == "2022-03-06T10:00:00+00:00"  # ISO too


def test_dotted_and_year_first_dates() -> None:
    assert convert(["03.04.2021 14:05"], "25.12.2021 09:30", "dayfirst") == (
        "2021-12-25T09:30:00+00:00"
    )
    assert convert(["2021/03/04"], "2021/12/25") == "2021-12-25"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2021-03-04 14:05:06", "2021-03-04T14:05:06+00:00"),  # naive → UTC
        ("2021-03-04T14:05:06Z", "2021-03-04T14:05:06+00:00"),
        ("2021-03-04T14:05:06+02:00", "2021-03-04T12:05:06+00:00"),  # converted to UTC
        ("2021-03-04T14:05:06+0200", "2021-03-04T12:05:06+00:00"),
        ("2021-03-04T14:05:06.123456789-05", "2021-03-04T19:05:06.123456+00:00"),
        ("2021-03-04 9:05", "2021-03-04T09:05:00+00:00"),
        ("2021-03-04", "2021-03-04T00:00:00+00:00"),
    ],
)
def test_date_times_are_emitted_in_utc_with_an_offset(text: str, expected: str) -> None:
    col = infer(["2021-01-01 00:00:00"])
    assert ty.converter(col)(text) == expected


@pytest.mark.parametrize(
    ("values", "bad"),
    [
        (["1", "2"], "3.5"),
        (["1", "2"], "007"),
        (["1.5"], "abc"),
        (["yes", "no"], "maybe"),
        (["2021-01-02"], "2021-02-30"),
        (["2021-01-02"], "2021-01-03 10:00"),  # a time would be lost in a date column
        (["31/01/2024"], "01/31/2024"),  # day-first column, month 31
    ],
)
def test_strict_converters_refuse_values_that_do_not_fit(values: list[str], bad: str) -> None:
    with pytest.raises(ty.CastError):
        convert(values, bad)


def test_converters_type_values_and_treat_whitespace_as_empty() -> None:
    assert convert(["1"], " 42 ") == 42
    assert convert(["1"], "  ") is None
    assert convert(["1.5"], "3") == 3 and convert(["1.5"], "3.25") == 3.25
    assert convert(["yes"], "Y") is True and convert(["yes"], "0") is False


def test_forced_types_are_lenient_where_the_user_has_decided() -> None:
    integer = ty.converter(ty.forced_type("integer", ["007"]))
    assert integer("007") == 7 and integer("+5") == 5 and integer("12.0") == 12
    with pytest.raises(ty.CastError):
        integer("1.5")
    assert ty.converter(ty.forced_type("number", []))("1e3") == 1000.0
    date = ty.converter(ty.forced_type("date", ["31/01/2024"]))
    assert date("28/02/2024 10:00") == "2024-02-28"  # forced date: the date part is kept
    assert ty.converter(ty.forced_type("string", ["1"])) is str


def test_unknown_settings_are_refused() -> None:
    with pytest.raises(ValueError, match="unknown column type 'text'"):
        ty.type_setting("text")
    with pytest.raises(ValueError, match="neither one of auto"):
        ty.date_format_setting("DD/MM/YYYY")
    assert ty.date_format_setting(None) == "auto"


def test_json_schemas() -> None:
    assert ty.ColumnType("date").json_schema() == {"type": ["string", "null"], "format": "date"}
    assert ty.ColumnType("integer").json_schema(nullable=False) == {"type": "integer"}
