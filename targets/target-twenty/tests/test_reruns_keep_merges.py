"""Re-runs keep merges: a record merged into a duplicate in one run is still that duplicate in a
later run that carries references to it but not the record itself (a delta, or a plain re-run
whose taps re-send only their full-table streams). The registry remembers the merge."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fakes.twenty import FakeTwenty
from test_api_mode import ApiRunner, writes
from twenty_builders import OPPORTUNITY, PERSON, prop, record, rid, schema

NOTE = schema("note", {"title": prop("TEXT")})
NOTE_TARGET = schema(
    "noteTarget",
    {
        "noteId": prop("RELATION", target="note", match="id", required=True),
        "targetPersonId": prop("RELATION", target="person", match="id", required=True),
    },
)


@pytest.fixture
def fake() -> Iterator[FakeTwenty]:
    with FakeTwenty() as server:
        yield server
    assert server.violations == []


def _links() -> list[dict]:
    """What a tap re-sends on a plain re-run: the rows of its full-table streams (the deal,
    the note and its target), which point at person 2, merged into person 1 the first time."""
    return [
        record("opportunity", "d", name="Deal", pointOfContactId=rid("person", 2)),
        record("note", "n", title="Call"),
        record("noteTarget", "n:2", noteId=rid("note", "n"), targetPersonId=rid("person", 2)),
    ]


def first_input() -> list[dict]:
    return [
        PERSON,
        OPPORTUNITY,
        NOTE,
        NOTE_TARGET,
        record("person", 1, name={"firstName": "Ana"}, emails={"primaryEmail": "ana@x.com"}),
        record("person", 2, name={"firstName": "Ana"}, emails={"primaryEmail": "ANA@x.com"}),
        *_links(),
    ]


def rerun_input() -> list[dict]:
    return [PERSON, OPPORTUNITY, NOTE, NOTE_TARGET, *_links()]


def test_a_plain_rerun_writes_the_links_of_the_first_run_csv(run_target) -> None:
    first = run_target(first_input())
    assert first.counts("person")["merged"] == 1
    assert first.csv("*opportunities*")[0]["Point of Contact / Id"] == rid("person", 1)
    rerun = run_target(rerun_input())
    (deal,) = rerun.csv("*opportunities*")
    assert deal["Point of Contact / Id"] == rid("person", 1)  # not left empty
    assert rerun.counts("noteTarget")["written"] == 1  # not rejected as dangling
    assert rerun.side("rejects.csv") == [] and rerun.side("repairs.csv") == []
    assert rerun.report["balanced"]


def test_a_plain_rerun_does_not_overwrite_the_right_links_api(fake, tmp_path) -> None:
    api = ApiRunner(tmp_path)
    api(fake, first_input())
    deal = fake.records["opportunity"][rid("opportunity", "d")]
    assert deal["pointOfContactId"] == rid("person", 1)
    sent = len(writes(fake))
    rerun = api(fake, rerun_input())
    assert writes(fake)[sent:] == []  # the same links as Twenty holds: nothing to send
    assert fake.records["opportunity"][rid("opportunity", "d")]["pointOfContactId"] == rid(
        "person", 1
    )
    assert rerun.counts("noteTarget").get("unchanged") == 1
    assert rerun.report["balanced"] and rerun.side("repairs.csv") == []


def test_a_merged_record_written_on_its_own_later_is_no_longer_redirected(run_target) -> None:
    run_target(first_input())
    # person 2's e-mail changed: no longer a duplicate, written as itself
    run_target(
        [PERSON, record("person", 2, name={"firstName": "Ann"}, emails={"primaryEmail": "b@x"})]
    )
    rerun = run_target(rerun_input())
    (deal,) = rerun.csv("*opportunities*")
    assert deal["Point of Contact / Id"] == rid("person", 2)
