"""The report tells the truth about the run's input: a tap that failed or stopped early makes
the run FAILED or INCOMPLETE (nothing written, no STATE, LATEST not moved); a tap outside the
suite, which says nothing of its run, makes it UNCONFIRMED, never balanced; a declared stream
with no record is listed with 0."""

from __future__ import annotations

import json

from crm2twenty_common.completion import RunStatus
from twenty_builders import COMPANY, PERSON, record, says, schema

STATE = {"type": "STATE", "value": {"bookmarks": {"companies": {"replication_key_value": 9}}}}
ERROR = "deals.csv:6: row has 15 cells but the header has 13"


def test_a_tap_that_failed_makes_the_run_failed_and_nothing_is_written(run_target) -> None:
    before = run_target([COMPANY, record("company", 1, name="Acme")])
    run = run_target(
        [
            *says(RunStatus.STARTED),
            COMPANY,
            PERSON,
            record("company", 1, name="Acme"),
            record("company", 2, name="Beta"),
            STATE,
            *says(RunStatus.FAILED, error=ERROR),
        ],
        tap_completed=False,
    )
    # LATEST still names the run before; LAST_RUN names this one
    assert (run.output / "LATEST").read_text().strip() == before.dir.name != run.dir.name
    failed = run
    report = failed.report
    assert report["status"] == {
        "outcome": "failed",
        "summary": f"tap-test failed: {ERROR}",
        "plugins": [{"plugin": "tap-test", "stage": "tap", "status": "failed", "error": ERROR}],
        "held_back": 2,
    }
    assert report["balanced"] is False and report["complete"] is False
    assert not (failed.dir / "csv").exists() or failed.files() == []
    company = failed.counts("company")
    assert (company["received"], company["written"], company["skipped"]) == (2, 0, 2)
    assert failed.counts("person")["received"] == 0  # declared, no record: listed all the same
    assert STATE["value"] not in [json.loads(line) for line in run.stdout.splitlines() if line]
    md = (failed.dir / "report.md").read_text(encoding="utf-8")
    assert md.split("\n")[2].startswith(f"**FAILED — tap-test failed: {ERROR}.** Nothing was")
    assert "All counts add up" not in md
    assert "**The counts cannot add up: the source was not read to the end.**" in md
    assert "## Notices from the source" not in md  # the status is not repeated as a notice


def test_a_tap_that_never_said_it_completed_makes_the_run_incomplete(run_target) -> None:
    run = run_target(
        [*says(RunStatus.STARTED), COMPANY, record("company", 1, name="Acme")],
        tap_completed=False,
    )
    report = run.report
    assert report["status"]["outcome"] == "incomplete"
    assert report["status"]["summary"].startswith("tap-test started but never said it completed")
    assert report["balanced"] is False and report["status"]["held_back"] == 1


def test_a_tap_outside_the_suite_cannot_be_claimed_to_balance(run_target) -> None:
    plain = {
        "type": "SCHEMA",
        "stream": "visits",
        "key_properties": ["id"],
        "schema": {"type": "object", "properties": {"id": {"type": "string"}}},
    }
    empty = {**plain, "stream": "calls"}
    run = run_target(
        [plain, empty, {"type": "RECORD", "stream": "visits", "record": {"id": "v1"}}, STATE],
        tap_completed=False,
    )
    assert run.report["status"]["outcome"] == "unconfirmed"
    assert run.report["balanced"] is False  # the counts add up, but the input may be partial
    assert {s["stream"]: s["read"] for s in run.report["sources"]} == {"calls": 0, "visits": 1}
    assert run.files()  # written as usual, with the report saying what it cannot know
    md = (run.dir / "report.md").read_text(encoding="utf-8")
    assert "**The counts add up for what arrived, but the tap does not say whether it" in md
    assert json.loads(run.stdout.strip().splitlines()[-1]) == STATE["value"]


def test_a_run_whose_taps_completed_balances(run_target) -> None:
    run = run_target([COMPANY, record("company", 1, name="Acme")])
    assert run.report["status"]["outcome"] == "complete"
    assert run.report["balanced"] and run.report["complete"]
    assert "**All counts add up.**" in (run.dir / "report.md").read_text(encoding="utf-8")


def test_a_declared_object_without_records_is_listed(run_target) -> None:
    run = run_target([COMPANY, schema("note", {}), record("company", 1, name="Acme")])
    assert run.counts("note") == {
        "object": "note",
        "received": 0,
        "written": 0,
        "merged": 0,
        "rejected": 0,
        "balanced": True,
    }
