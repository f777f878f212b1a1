"""A renamed stream keeps its bookmark (crm2twenty_common.renamed_streams)."""

from __future__ import annotations

from crm2twenty_common.renamed_streams import carry_bookmarks

OLD = {"replication_key": "updated_at", "replication_key_value": "2024-01-01"}
NEW = {"replication_key": "updated_at", "replication_key_value": "2024-06-01"}


def test_a_bookmark_moves_to_the_new_name_and_the_input_is_left_alone() -> None:
    state = {"bookmarks": {"library": OLD, "users": NEW}}
    out = carry_bookmarks(state, {"library": "libraries"}.get)
    assert out == {"bookmarks": {"libraries": OLD, "users": NEW}}
    assert state == {"bookmarks": {"library": OLD, "users": NEW}}


def test_a_bookmark_already_under_the_new_name_wins() -> None:
    state = {"bookmarks": {"library": OLD, "libraries": NEW}}
    assert carry_bookmarks(state, {"library": "libraries"}.get) == {"bookmarks": {"libraries": NEW}}


def test_a_state_without_bookmarks_is_returned_as_is() -> None:
    assert carry_bookmarks({}, {"library": "libraries"}.get) == {}
