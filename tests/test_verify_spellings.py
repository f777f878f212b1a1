"""verify's comparison against what a real Twenty v2.21.0 did: every value it stored in its own
spelling (tests/fakes/twenty_contract/value-spellings.json, docs/twenty-contract.md §4.6) is the
value sent, and another value is not."""

from __future__ import annotations

import copy
import json

import pytest
from fakes.twenty import SHARED
from target_twenty.verify.compare import compare
from target_twenty.workspace import Workspace

SPELLINGS = json.loads((SHARED / "value-spellings.json").read_text(encoding="utf-8"))["cases"]
WORKSPACE = Workspace.bundled()


def _checks(obj: str, sent: dict, stored: dict) -> list:
    fields = WORKSPACE.require(obj).fields
    return [
        check
        for name, value in sent.items()
        for check in compare(fields[name].type, name, value, stored.get(name))
    ]


@pytest.mark.parametrize("case", sorted(SPELLINGS))
def test_each_spelling_twenty_stored_is_the_value_sent(case: str) -> None:
    seen = SPELLINGS[case]
    checks = _checks(seen["object"], seen["sent"], seen["stored"])
    assert checks and all(c.same for c in checks), [c for c in checks if not c.same]


@pytest.mark.parametrize("case", sorted(SPELLINGS))
def test_another_value_in_its_place_is_a_difference(case: str) -> None:
    """Every string the server stored, changed by one character, is told apart."""
    seen = SPELLINGS[case]
    stored = copy.deepcopy(seen["stored"])
    changed = _change_first_string(stored)
    checks = _checks(seen["object"], seen["sent"], stored)
    if changed:
        assert any(not c.same for c in checks), case
    else:  # a case of numbers only
        assert seen["object"] == "opportunity"


def _change_first_string(value) -> bool:
    if isinstance(value, dict):
        for key, inner in value.items():
            if isinstance(inner, str) and inner.strip():
                value[key] = "9" + inner if inner[:1].isdigit() else "Z" + inner
                return True
            if _change_first_string(inner):
                return True
    if isinstance(value, list):
        return any(_change_first_string(v) for v in value)
    return False
