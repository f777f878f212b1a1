"""Lookup tables filled from a source stream (lookup_table.py)."""

from __future__ import annotations

from crm2twenty_mapper.lookup_table import LookupTable


def test_keys_match_without_regard_to_case_and_the_latest_value_wins() -> None:
    table = LookupTable()
    table.put("Acme", "France")
    table.put("31", "United Kingdom")
    table.put("31", "Ireland")
    assert table.get("ACME") == "France"
    assert table.get("31") == "Ireland"
    assert table.get("32") is None
    assert table.get("nobody") is None
    assert len(table) == 2


def test_a_record_number_is_not_the_same_key_as_its_zero_padded_text() -> None:
    table = LookupTable()
    table.put("7", "France")
    table.put("007", "Spain")
    table.put("0", "Italy")
    assert (table.get("7"), table.get("007"), table.get("0")) == ("France", "Spain", "Italy")
    assert table.get("07") is None


def test_sparse_and_long_numbers_are_kept_too() -> None:
    table = LookupTable()
    table.put("4000000000", "Peru")  # beyond any array slot
    table.put("900000", "Chile")  # far beyond the rows put so far: kept in the dict
    for n in range(1, 200):
        table.put(str(n), "Spain")
    table.put("900000", "Bolivia")
    assert table.get("4000000000") == "Peru"
    assert table.get("900000") == "Bolivia"
    assert table.get("199") == "Spain"
    assert table.get("200") is None


def test_values_that_cannot_be_hashed_are_kept_as_they_are() -> None:
    table = LookupTable()
    table.put("1", ["a", "b"])
    table.put("2", ["a", "b"])
    assert table.get("1") == ["a", "b"]
    assert table.get("2") == ["a", "b"]


def test_a_key_put_before_the_array_reached_it_is_still_found() -> None:
    table = LookupTable()
    table.put("70000", "Peru")  # far beyond the rows put so far: kept in the dict
    for n in range(1, 3001):
        table.put(str(n), "Spain")
    table.put("70001", "Chile")  # now within reach: the array grows past 70000
    assert table.get("70000") == "Peru"
    table.put("70000", "Bolivia")
    assert table.get("70000") == "Bolivia"
    assert table.get("70001") == "Chile"
