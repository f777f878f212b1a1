"""Header names: normalised, aliased, mapped by the user, never lost."""

from __future__ import annotations

import pytest
from crm2twenty_common.exports.headers import alias_table, normalise, resolve_headers

ALIASES = alias_table(
    {
        "name": ("company_name", "account_name"),
        "id": ("company_id",),
        "full_name": ("name_of_person",),
    }
)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (" Company Name ", "company_name"),
        ("E-mail", "e_mail"),
        ("__Modified  Date__", "modified_date"),
        ("Société", "societe"),
        ("\ufeffID", "id"),
        ("Amount (€)", "amount"),
        ("姓名", "姓名"),
        ("  ", ""),
    ],
)
def test_normalise(raw: str, expected: str) -> None:
    assert normalise(raw) == expected


def test_aliases_map_to_canonical_names_and_unknown_headers_are_kept() -> None:
    assert resolve_headers(["Company ID", "Account Name", "Tier"], ALIASES) == [
        "id",
        "name",
        "tier",
    ]


def test_the_user_column_map_wins_over_aliases_by_raw_or_normalised_header() -> None:
    names = resolve_headers(
        ["Company Name", "Mail", "Ident"],
        ALIASES,
        {"company name": "legal_name", "Mail": "email", "ident": "id"},
    )
    assert names == ["legal_name", "email", "id"]


def test_empty_headers_are_numbered_by_position_and_duplicates_suffixed() -> None:
    names = resolve_headers(["id", "", "Tier", "tier", "TIER", "tier_2"], ALIASES)
    # tier_2 is a real header, so the duplicates skip that name
    assert names == ["id", "column_2", "tier", "tier_3", "tier_4", "tier_2"]


def test_an_alias_of_a_column_already_present_keeps_its_own_name() -> None:
    # The file has both `id` and `company_id`: the second must not become id_2.
    assert resolve_headers(["id", "company_id", "name"], ALIASES) == ["id", "company_id", "name"]


def test_a_canonical_name_is_never_taken_as_another_columns_alias() -> None:
    table = alias_table({"title": ("subject",), "job_title": ("title",)})
    assert table["title"] == "title"
    assert table["subject"] == "title"
