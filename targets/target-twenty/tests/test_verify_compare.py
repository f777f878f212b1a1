"""verify's field comparison: Twenty's spellings of a value sent are the same value
(docs/twenty-contract.md §4.6); anything else is a difference."""

from __future__ import annotations

import pytest
from target_twenty.verify.compare import compare, same

UPPER_ID = "0F8A3C1E-0000-5000-8000-0000000000AB"


@pytest.mark.parametrize(
    ("kind", "sent", "stored"),
    [
        ("DATE_TIME", "2024-03-01T10:00:00Z", "2024-03-01T10:00:00.000Z"),
        ("DATE_TIME", "2024-03-01T11:00:00+01:00", "2024-03-01T10:00:00.000Z"),
        ("DATE", "2024-03-01", "2024-03-01"),
        ("CURRENCY", 12500000, "12500000"),
        ("NUMBER", 3, 3.0),
        ("TEXT", "", None),
        ("TEXT", None, ""),
        ("EMAILS", "Ann@Example.com", "ann@example.com"),
        ("EMAILS", ["A@x.test"], ["a@x.test"]),
        ("MULTI_SELECT", ["B", "A"], ["A", "B"]),
        ("PHONES", [{"number": "7700900123"}], [{"number": "7700900123", "callingCode": "+44"}]),
        ("RELATION", UPPER_ID, UPPER_ID.lower()),
    ],
)
def test_twentys_spelling_of_a_value_is_the_same_value(kind: str, sent, stored) -> None:
    assert same(kind, sent, stored)


@pytest.mark.parametrize(
    ("kind", "sent", "stored"),
    [
        ("TEXT", "Acme", "Acme Ltd"),
        ("TEXT", "Acme", None),
        ("TEXT", "acme", "Acme"),  # only e-mails and ids ignore case
        ("DATE_TIME", "2024-03-01T10:00:00Z", "2024-03-01T10:00:01.000Z"),
        ("NUMBER", 3, 4),
        ("BOOLEAN", True, False),
        ("MULTI_SELECT", ["A", "B"], ["A"]),
        ("SELECT", "OPEN", None),
    ],
)
def test_another_value_is_a_difference(kind: str, sent, stored) -> None:
    assert not same(kind, sent, stored)


def test_a_composite_is_compared_sub_field_by_sub_field() -> None:
    checks = list(
        compare(
            "FULL_NAME",
            "name",
            {"firstName": "Ann", "lastName": "Lee"},
            {"firstName": "Ann", "lastName": "Leigh"},
        )
    )
    assert [(c.field, c.same) for c in checks] == [
        ("name.firstName", True),
        ("name.lastName", False),
    ]
    # a sub-field empty when sent and when stored is not a value to check
    assert list(compare("LINKS", "domainName", {"primaryLinkUrl": "", "x": None}, {})) == []
