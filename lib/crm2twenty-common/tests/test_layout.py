"""What each file of an export folder is: known streams, links, custom objects, ignored files."""

from __future__ import annotations

from pathlib import Path

import pytest
from crm2twenty_common.exports import (
    CUSTOM,
    LINK,
    MANIFEST,
    TABLE,
    FileRole,
    Layout,
    StreamSpec,
    singular,
)

LAYOUT = Layout(
    streams=(
        StreamSpec("contacts", aliases={"email": ("mail",)}),
        StreamSpec("attachments", kind=MANIFEST, aliases={"uploaded_at": ("created_at",)}),
        StreamSpec("workflows", json_array=True),
    ),
    extensions=(".csv", ".vpl"),
)


def role_of(name: str) -> FileRole:
    """The role LAYOUT gives a file the test expects it to know."""
    role = LAYOUT.classify(Path(name))
    assert role is not None, name
    return role


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("matters", "matter"),
        ("companies", "company"),
        ("address", "address"),
        ("data", "data"),
        ("people", "person"),  # was "people": the Twenty module's one singular
        ("addresses", "address"),  # was "addresse"
    ],
)
def test_singular(name: str, expected: str) -> None:
    assert singular(name) == expected


def test_known_files_match_case_insensitively_with_any_of_the_extensions() -> None:
    role = role_of("Contacts.CSV")
    assert role and (role.stream, role.kind, role.key, role.json) == (
        "contacts",
        TABLE,
        ("id",),
        False,
    )
    assert role_of("contacts.vpl").stream == "contacts"
    # every stream knows the modified and created columns, beside its own aliases
    assert "last_modified" in role.aliases["updated_at"]
    assert "created_date" in role.aliases["created_at"]
    assert role.aliases["email"] == ("mail",)


def test_a_streams_own_alias_beats_a_common_column() -> None:
    role = role_of("attachments.csv")
    assert role.kind == MANIFEST
    assert "created_at" not in role.aliases  # here created_at means uploaded_at


def test_link_files_key_both_ids_named_after_the_file_parts() -> None:
    role = role_of("Matters__Contacts.csv")
    assert (role.stream, role.kind, role.key) == (
        "matter_contacts",
        LINK,
        ("matters_id", "contacts_id"),
    )
    # each key column names the stream it points at, so a link is known by its schema
    assert dict(role.references) == {"matters_id": "matters", "contacts_id": "contacts"}
    assert role.aliases["matters_id"] == ("matter_id",)
    assert role.aliases["contacts_id"] == ("contact_id",)


def test_any_other_file_is_a_custom_object_keyed_by_id() -> None:
    role = role_of("Practice Areas.csv")
    assert (role.stream, role.kind, role.key) == ("practice_areas", CUSTOM, ("id",))
    assert role.aliases["id"] == ("practice_area_id",)


@pytest.mark.parametrize(
    "name", ["notes.txt", ".contacts.csv", "._contacts.csv", "~$contacts.csv", "other.json"]
)
def test_files_that_are_not_streams(name: str) -> None:
    assert LAYOUT.classify(Path(name)) is None


def test_json_is_read_only_for_streams_that_accept_it() -> None:
    role = LAYOUT.classify(Path("workflows.json"))
    assert role and role.json and role.stream == "workflows"
    assert LAYOUT.classify(Path("contacts.json")) is None


def test_custom_objects_can_be_turned_off() -> None:
    strict = Layout(streams=LAYOUT.streams, custom_objects=False)
    assert strict.classify(Path("matters.csv")) is None
    assert strict.classify(Path("contacts.csv")) is not None


def test_a_layout_cannot_name_a_stream_twice() -> None:
    with pytest.raises(ValueError, match="names a stream twice"):
        Layout(streams=(StreamSpec("a"), StreamSpec("a")))
