"""Workspace metadata parsing, join-column resolution across versions, value checks and cells."""

from __future__ import annotations

import copy
import json
from decimal import Decimal
from importlib import resources

import pytest
from target_twenty.values import InvalidValue, csv_cell, neutralise, normalise
from target_twenty.workspace import Obj, Workspace, unique_key


def bundled_payload() -> dict:
    path = resources.files("target_twenty") / "data" / "workspace-v2.21.0.json"
    return json.loads(path.read_text(encoding="utf-8"))


def _join_column(obj: Obj, prop: str, target: str) -> str | None:
    found = obj.relation_to(prop, target)
    return found.join_column if found is not None else None


def test_both_metadata_response_shapes_give_the_same_workspace() -> None:
    nested = bundled_payload()
    flat = {"data": nested["data"]["objects"]}
    a, b = Workspace.from_payload(nested, "a"), Workspace.from_payload(flat, "b")
    assert sorted(a.objects) == sorted(b.objects)
    assert a.require("people").name == "person" and a.require("Companies").name == "company"
    with pytest.raises(ValueError, match="no list of objects"):
        Workspace.from_payload({"data": {"objects": "nope"}}, "broken")


def test_v2_21_facts_read_from_metadata_not_hard_coded() -> None:
    ws = Workspace.bundled()
    company, person = ws.require("company"), ws.require("person")
    assert "employees" not in company.fields and "city" not in person.fields
    assert [f.name for f in person.unique_fields()] == ["emails"]
    assert [f.name for f in company.unique_fields()] == ["domainName"]
    note_target = ws.require("noteTarget")
    assert _join_column(note_target, "targetPersonId", "person") == "targetPersonId"
    assert note_target.has_morph_relations and not company.has_morph_relations
    assert ws.require("attachment").fields["file"].type == "FILES"
    assert ws.require("opportunity").fields["stage"].option_values == {
        "NEW",
        "SCREENING",
        "MEETING",
        "PROPOSAL",
        "CUSTOMER",
    }


def test_an_older_workspace_with_person_id_join_columns_is_resolved() -> None:
    payload = copy.deepcopy(bundled_payload())
    for obj in payload["data"]["objects"]:
        if obj["nameSingular"] == "noteTarget":
            for f in obj["fields"]:
                if f["name"].startswith("target"):
                    bare = f["name"][6].lower() + f["name"][7:]
                    f["name"], f["type"] = bare, "RELATION"
                    f["settings"] = {**f["settings"], "joinColumnName": f"{bare}Id"}
    old = Workspace.from_payload(payload, "old").require("noteTarget")
    assert _join_column(old, "targetPersonId", "person") == "personId"
    assert _join_column(old, "targetCompanyId", "company") == "companyId"
    assert not old.has_morph_relations


def test_unique_keys_compare_like_twenty() -> None:
    assert unique_key("EMAILS", {"primaryEmail": " Ana@X.com "}) == "ana@x.com"
    same = {
        unique_key("LINKS", {"primaryLinkUrl": u})
        for u in ("https://acme.com", "http://www.acme.com/", "ACME.com")
    }
    assert same == {"acme.com"}
    assert unique_key("LINKS", {"primaryLinkUrl": "https://acme.com/fr"}) == "acme.com/fr"
    assert unique_key("EMAILS", {"primaryEmail": ""}) is None


@pytest.mark.parametrize(
    ("kind", "value", "expected"),
    [
        ("DATE_TIME", "2020-01-02T03:04:05+02:00", "2020-01-02T01:04:05.000Z"),
        ("DATE_TIME", "2021-03-04", "2021-03-04T00:00:00.000Z"),
        ("DATE", "2021-03-04T10:00:00Z", "2021-03-04"),
        ("NUMBER", "12.50", 12.5),
        ("BOOLEAN", "true", True),
        ("EMAILS", "A@B.co", {"primaryEmail": "a@b.co"}),
        (
            "CURRENCY",
            {"amountMicros": "5000000", "currencyCode": "EUR"},
            {"amountMicros": 5_000_000, "currencyCode": "EUR"},
        ),
        ("FULL_NAME", "Ana Ruiz", {"firstName": "Ana", "lastName": "Ruiz"}),
        ("RICH_TEXT", "hello", {"markdown": "hello"}),
        ("MULTI_SELECT", "A", ["A"]),
        # the fast paths give what the general ones do
        ("DATE_TIME", "2020-01-02T03:04:05.000Z", "2020-01-02T03:04:05.000Z"),
        ("DATE_TIME", " 2020-01-02T03:04:05.000Z ", "2020-01-02T03:04:05.000Z"),
        (
            "RELATION",
            "E0CB538C-58F3-5904-9AAA-E93B60F3183D",
            "e0cb538c-58f3-5904-9aaa-e93b60f3183d",
        ),
        (
            "RELATION",
            "e0cb538c-58f3-5904-9aaa-e93b60f3183d",
            "e0cb538c-58f3-5904-9aaa-e93b60f3183d",
        ),
        ("TEXT", Decimal("2.50"), "2.5"),
        (
            "ADDRESS",
            {"addressCity": "Leeds", "n": [Decimal("1.0")]},
            {"addressCity": "Leeds", "n": [1]},
        ),
    ],
)
def test_values_are_normalised_for_twenty(kind, value, expected) -> None:
    assert normalise(kind, value) == expected


@pytest.mark.parametrize(
    ("kind", "value"),
    [
        ("DATE_TIME", "not a date"),
        ("NUMBER", "abc"),
        ("BOOLEAN", "yes"),
        ("EMAILS", {"primaryEmail": "bob@"}),
        ("LINKS", {"primaryLinkUrl": "no url"}),
        ("RELATION", "123"),
        ("CURRENCY", {"amountMicros": 1, "currencyCode": "euro"}),
        ("TEXT", {"a": 1}),
        ("DATE", "2021-02-30"),
        ("DATE_TIME", "2021-02-30T00:00:00.000Z"),  # canonical in form, not a real day
        ("DATE_TIME", "2021-01-01T25:00:00.000Z"),
    ],
)
def test_values_twenty_would_refuse_are_invalid(kind, value) -> None:
    with pytest.raises(InvalidValue):
        normalise(kind, value)


def test_csv_cells() -> None:
    assert csv_cell("CURRENCY", "amountMicros", 1_500_000) == "1.5"
    assert csv_cell("CURRENCY", "amountMicros", 12_000_000) == "12"
    assert csv_cell("BOOLEAN", None, False) == "false"
    assert csv_cell("EMAILS", "additionalEmails", ["a@x.co", "b@x.co"]) == '["a@x.co", "b@x.co"]'
    assert csv_cell("TEXT", None, None) == ""


@pytest.mark.parametrize(
    ("cell", "expected"),
    [
        ("=1+1", "'=1+1"),
        ("+cmd|' /C calc'!A0", "'+cmd|' /C calc'!A0"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\tx", "'\tx"),
        ("\rx", "'\rx"),
        ("-Sales", "'-Sales"),
        ("-12.5", "-12.5"),
        ("+44 20 7946 0958", "+44 20 7946 0958"),
        ("+1", "+1"),
        ("plain", "plain"),
    ],
)
def test_formula_injection_is_neutralised(cell: str, expected: str) -> None:
    assert neutralise(cell)[0] == expected
