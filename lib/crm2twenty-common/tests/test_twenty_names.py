"""Twenty naming against the captured v2.21.0 metadata: every standard object's singular,
plural and labels, and names Twenty refuses."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from crm2twenty_common.twenty import (
    RESERVED_NAMES,
    camel_case,
    is_valid_name,
    label_case,
    object_labels,
    option_value,
    plural,
    singular,
)

CONTRACT = Path(__file__).parents[3] / "tests" / "fakes" / "twenty_contract"


def _objects() -> list[dict]:
    data = json.loads((CONTRACT / "metadata-objects.json").read_text())["data"]
    return data["objects"] if isinstance(data, dict) else data


OBJECTS = _objects()
# Labels Twenty's standard objects carry that are written by hand rather than spelled from the
# name (sentence case, or a word dropped): the only objects whose labels are not derived.
HAND_WRITTEN_LABELS = {
    "calendarEvent": ("Calendar event", "Calendar events"),
    "calendarEventParticipant": ("Calendar event participant", "Calendar event participants"),
    "messageList": ("List", "Lists"),
    "messageListMember": ("List Member", "List Members"),
    "messageCampaign": ("Campaign", "Campaigns"),
}


def test_the_captured_metadata_has_the_standard_objects() -> None:
    names = {o["nameSingular"] for o in OBJECTS}
    assert {"person", "company", "opportunity", "note", "task", "workspaceMember"} <= names
    assert len(OBJECTS) == 28


@pytest.mark.parametrize("obj", OBJECTS, ids=lambda o: o["nameSingular"])
def test_singular_and_plural_reproduce_every_standard_object(obj: dict) -> None:
    assert plural(obj["nameSingular"]) == obj["namePlural"]
    assert singular(obj["namePlural"]) == obj["nameSingular"]
    assert singular(obj["nameSingular"]) == obj["nameSingular"]  # already singular: kept


@pytest.mark.parametrize("obj", OBJECTS, ids=lambda o: o["nameSingular"])
def test_labels_reproduce_every_standard_object(obj: dict) -> None:
    labels = (obj["labelSingular"], obj["labelPlural"])
    expected = HAND_WRITTEN_LABELS.get(obj["nameSingular"]) or object_labels(obj["nameSingular"])
    assert labels == expected
    # Even a hand-written label pluralises by the same rule, and names back to the object.
    assert plural(obj["labelSingular"]) == obj["labelPlural"]
    if obj["nameSingular"] not in ("messageList", "messageListMember", "messageCampaign"):
        assert camel_case(obj["labelSingular"]) == obj["nameSingular"]


def test_every_standard_name_is_well_formed() -> None:
    for obj in OBJECTS:
        assert is_valid_name(obj["nameSingular"]), obj["nameSingular"]
        assert is_valid_name(obj["namePlural"]), obj["namePlural"]
        for field in obj["fields"]:
            # Standard fields may use names reserved for custom ones (company `address`).
            assert is_valid_name(field["name"]) or field["name"] in RESERVED_NAMES, field["name"]


@pytest.mark.parametrize(
    ("one", "many"),
    [
        ("person", "people"),
        ("salesPerson", "salesPeople"),
        ("Person", "People"),
        ("company", "companies"),
        ("address", "addresses"),
        ("status", "statuses"),
        ("case", "cases"),
        ("supportCase", "supportCases"),
        ("box", "boxes"),
        ("church", "churches"),
        ("day", "days"),
        ("pipeline_stage", "pipeline_stages"),
        ("timelineActivity", "timelineActivities"),
        ("child", "children"),
        ("alias", "aliases"),
        ("class", "classes"),
        ("branch", "branches"),
        ("phase", "phases"),
        ("purchase", "purchases"),
        ("house", "houses"),
        ("size", "sizes"),
        ("matterPerson", "matterPeople"),
        ("bonus", "bonuses"),
        ("campus", "campuses"),
        ("course", "courses"),
        ("cause", "causes"),
    ],
)
def test_plural_and_singular_are_inverse(one: str, many: str) -> None:
    assert plural(one) == many
    assert singular(many) == one
    assert singular(one) == one


@pytest.mark.parametrize(
    "word", ["status", "address", "analysis", "news", "series", "bus", "alias", "campus"]
)
def test_a_singular_ending_in_s_stays(word: str) -> None:
    assert singular(word) == word


@pytest.mark.parametrize("word", ["people", "salesPeople", "children", "news", "series"])
def test_an_irregular_or_invariant_plural_stays(word: str) -> None:
    assert plural(word) == word


@pytest.mark.parametrize(
    ("text", "name"),
    [
        ("Favourite Colour", "favouriteColour"),
        ("favourite_colour", "favouriteColour"),
        ("Négociation", "negociation"),
        ("2nd phone", "field2ndPhone"),
        ("address", "addressCustom"),  # reserved: Twenty's own suffix
        ("Type", "typeCustom"),
        ("x" * 80, "x" * 63),
    ],
)
def test_camel_case_gives_names_twenty_accepts(text: str, name: str) -> None:
    assert camel_case(text) == name
    assert is_valid_name(name)


def test_names_twenty_refuses() -> None:
    for bad in ("address", "user", "Company", "first_name", "2nd", "", "x" * 64, "naïve"):
        assert not is_valid_name(bad), bad
    assert camel_case("").startswith("field")
    assert is_valid_name(camel_case("!!!"))


def test_label_case() -> None:
    assert label_case("favourite_colour") == "Favourite Colour"
    assert label_case("taskTarget") == "Task Target"
    assert label_case("annualRevenue") == "Annual Revenue"
    assert object_labels("supportCase") == ("Support Case", "Support Cases")
    assert object_labels("person") == ("Person", "People")


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("Closed Won", "CLOSED_WON"),
        ("2024 Q1", "OPT_2024_Q1"),
        ("Négociation", "NEGOCIATION"),
        ("tier one", "TIER_ONE"),
    ],
)
def test_option_values_match_twentys_measured_pattern(text: str, value: str) -> None:
    from crm2twenty_common.twenty import OPTION_VALUE_PATTERN

    assert option_value(text) == value
    assert OPTION_VALUE_PATTERN.match(value)
    assert OPTION_VALUE_PATTERN.match(option_value("★★★"))
