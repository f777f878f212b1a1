"""Header names: normalised, aliased, mapped by the user, never lost."""

from __future__ import annotations

from pathlib import Path

import pytest
from crm2twenty_common.exports.headers import alias_table, normalise, resolve_headers
from crm2twenty_common.exports.rows import ExportFile

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
    assert resolve_headers(["Company ID", "Account Name", "Tier"], ALIASES).names == [
        "id",
        "name",
        "tier",
    ]


def test_the_user_column_map_wins_over_aliases_by_raw_or_normalised_header() -> None:
    names = resolve_headers(
        ["Company Name", "Mail", "Ident"],
        ALIASES,
        {"company name": "legal_name", "Mail": "email", "ident": "id"},
    ).names
    assert names == ["legal_name", "email", "id"]


def test_empty_headers_are_numbered_by_position_and_duplicates_suffixed() -> None:
    headers = resolve_headers(["id", "", "Tier", "tier", "TIER", "tier_2"], ALIASES)
    # tier_2 is a real header, so the duplicates skip that name
    assert headers.names == ["id", "column_2", "tier", "tier_3", "tier_4", "tier_2"]
    assert [(d.position, d.header, d.first, d.name) for d in headers.duplicates] == [
        (4, "tier", 3, "tier_3"),
        (5, "TIER", 3, "tier_4"),
    ]


def test_an_alias_of_a_column_already_present_keeps_its_own_name() -> None:
    # The file has both `id` and `company_id`: the second must not become id_2.
    headers = resolve_headers(["id", "company_id", "name"], ALIASES)
    assert headers.names == ["id", "company_id", "name"]
    assert headers.duplicates == []


def test_a_canonical_name_is_never_taken_as_another_columns_alias() -> None:
    table = alias_table({"title": ("subject",), "job_title": ("title",)})
    assert table["title"] == "title"
    assert table["subject"] == "title"


# The contacts aliases of an Allegory-style export: `email_2` is the secondary e-mail's column.
CONTACT_ALIASES = alias_table(
    {
        "email": ("email_address", "e_mail", "primary_email"),
        "email_2": ("secondary_email", "other_email"),
        "state": ("region",),
    }
)


def test_a_second_e_mail_header_is_not_taken_for_the_secondary_e_mail() -> None:
    headers = resolve_headers(["ID", "E-mail", "Name", "E-mail"], CONTACT_ALIASES)
    assert headers.names == ["id", "email", "name", "e_mail_2"]
    (duplicate,) = headers.duplicates
    assert duplicate.describe("contacts.csv") == (
        "contacts.csv: the header 'E-mail' of column 4 repeats column 2's; it is read as e_mail_2"
    )


def test_a_duplicate_name_skips_every_alias_and_canonical_name() -> None:
    # `email` twice: email_2 is the secondary e-mail's canonical name, so the copy is email_3.
    headers = resolve_headers(["Email", "Email"], CONTACT_ALIASES)
    assert headers.names == ["email", "email_3"]


def test_two_aliases_of_one_column_keep_their_own_names_and_are_no_duplicates() -> None:
    headers = resolve_headers(["Email Address", "Primary Email"], CONTACT_ALIASES)
    assert headers.names == ["email", "primary_email"]
    assert headers.duplicates == []


def test_a_file_with_a_repeated_header_warns_naming_the_file_and_columns(tmp_path: Path) -> None:
    path = tmp_path / "contacts.csv"
    path.write_text("ID,E-mail,State,E-mail\n1,a@x.org,NY,b@x.org\n", encoding="utf-8")
    source = ExportFile(path, aliases=CONTACT_ALIASES)
    assert source.columns == ["id", "email", "state", "e_mail_2"]
    assert [d.describe(source.name) for d in source.duplicates] == [
        "contacts.csv: the header 'E-mail' of column 4 repeats column 2's; it is read as e_mail_2"
    ]
    ((line, row),) = list(source.rows())  # type: ignore[misc]
    assert (line, row["email"], row["e_mail_2"]) == (2, "a@x.org", "b@x.org")
