"""End to end: the real `meltano run tap-visualpractice mapper target-twenty` on the bundled sample.

Expected figures are derived here from the export files themselves (read with Python's csv
module: the `.vpl` files are quote-and-comma text with CR line ends) and from the generator's
list of planted defects (examples/visualpractice/expected.json), not from the code under test.
"""

from __future__ import annotations

import csv
import json
import uuid
from collections import defaultdict
from datetime import datetime
from pathlib import Path

import e2e_run
import pytest
from fakes.twenty import FakeTwenty

ROOT = e2e_run.ROOT
EXPORT = ROOT / "examples/visualpractice/export"
EXPECTED = json.loads((ROOT / "examples/visualpractice/expected.json").read_text(encoding="utf-8"))
MEMBERS = EXPECTED["workspace_members"]
FALLBACK = MEMBERS[0]
pytestmark = pytest.mark.e2e

rows_of = e2e_run.csv_rows
side_rows = e2e_run.side_rows


def meltano_run(export: Path, output: Path, suffix: str) -> dict:
    env = {
        "TAP_VISUALPRACTICE_EXPORT_DIR": str(export),
        # A member spelled in capitals: owners match case-insensitively.
        "TARGET_TWENTY_WORKSPACE_MEMBERS": json.dumps(
            [MEMBERS[0], MEMBERS[1].upper(), *MEMBERS[2:]]
        ),
        "TARGET_TWENTY_FALLBACK_OWNER_EMAIL": FALLBACK,
    }
    return e2e_run.meltano_run("tap-visualpractice", output, suffix, env)


def read(name: str, *, encoding: str = "utf-8", delimiter: str = ",") -> list[dict]:
    with (EXPORT / name).open(encoding=encoding, newline="") as handle:
        return list(csv.DictReader(handle, delimiter=delimiter))


def iso(stamp: str) -> str:
    """The export's naive `YYYY-MM-DD HH:MM[:SS]` (UTC) as Twenty's ISO 8601 form."""
    return datetime.fromisoformat(stamp).strftime("%Y-%m-%dT%H:%M:%S.000Z")


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> dict:
    """One run over a copy of the export (the later-run test changes that copy and runs again
    with the same state id and output folder)."""
    return e2e_run.rerunnable(tmp_path_factory, EXPORT, "visualpractice", meltano_run)


def test_every_source_record_is_accounted_for(run: dict) -> None:
    report = run["report"]
    assert report["balanced"]
    sources = {s["stream"]: s for s in report["sources"]}
    for name, count in EXPECTED["rows"].items():
        s = sources[name.rsplit(".", 1)[0]]
        assert s["read"] == count, name
        assert s["read"] == s["written"] + s["merged"] + s["rejected"] + s["ignored"], name
    assert sum(s["read"] for s in sources.values()) == EXPECTED["total"]


def test_vpl_contacts_bad_rows_nameless_duplicates_and_repairs(run: dict) -> None:
    report, out = run["report"], run["dir"]
    d = EXPECTED["defects"]
    contacts = next(s for s in report["sources"] if s["stream"] == "contacts")
    unreadable = d["unreadable_contact_rows"]
    nameless = d["contacts_without_name_or_email"]["ids"]
    pairs = d["duplicate_emails_other_case"]["ids"]
    assert contacts["rejected_by_tap"] == unreadable["count"]
    assert contacts["rejected_by_mapper"] == len(nameless)
    assert contacts["merged"] == len(pairs)
    rejects = side_rows(out, "rejects.csv")
    tap_rejects = sorted(r["location"] for r in rejects if r["stage"] == "tap")
    assert tap_rejects == sorted(unreadable["lines"])  # file and line of every unreadable row
    assert all(r["reason"] for r in rejects)
    assert sorted(
        int(r["source_key"])
        for r in rejects
        if r["stage"] == "mapper" and r["source_stream"] == "contacts"
    ) == sorted(nameless)
    people = {p["Visual Practice ID"]: p for p in rows_of(out, "*-people-*.csv")}
    merges = {m["merged_source"].split()[1]: m for m in side_rows(out, "merges.csv")}
    for first, second in pairs:
        assert merges[str(second)]["survivor_id"] == people[str(first)]["Id"]
        assert str(second) not in people
    repairs = side_rows(out, "repairs.csv")
    assert {r["source_key"] for r in repairs if r["field"] == "emails.primaryEmail"} == {
        str(i) for i in d["invalid_emails"]["ids"]
    }
    assert {r["source_key"] for r in repairs if r["field"] == "companyId"} == {
        str(i) for i in d["contacts_missing_company"]["ids"]
    }
    # every readable contact of the VPL file, with its original creation date twice over
    with (EXPORT / "contacts.vpl").open(encoding="utf-8", newline="") as handle:
        source = list(csv.reader(handle))
    header = source[0]
    bad = set(unreadable["ids"]) | set(nameless) | {b for _, b in pairs}
    for cells in source[1:]:
        if len(cells) != len(header) or int(cells[0]) in bad:
            continue
        row = dict(zip(header, cells, strict=True))
        person = people[row["Patient ID"]]
        assert person["Name / Last Name"] == row["Surname"]
        assert person["Creation date"] == person["Original created at"] == iso(row["Date Created"])
    assert len(people) == contacts["written"]


def test_parent_company_cycle_is_broken_and_reported(run: dict) -> None:
    report, out = run["report"], run["dir"]
    (cycle,) = report["record_cycles"]
    assert sorted(int(r.split()[1]) for r in cycle["records"]) == sorted(
        EXPECTED["defects"]["company_parent_cycle"]["ids"]
    )
    repairs = side_rows(out, "repairs.csv")
    missing = {
        r["source_key"]
        for r in repairs
        if r["field"] == "parentCompanyId" and r["stage"] == "target"
    }
    assert {str(i) for i in EXPECTED["defects"]["company_missing_parent"]["ids"]} <= missing
    with (EXPORT / "companies.vpl").open(encoding="cp1252", newline="") as handle:
        companies = list(csv.DictReader(handle))
    firsts = {c["Visual Practice ID"]: c for c in rows_of(out, "*-companies-0*.csv")}
    assert len(firsts) == len(companies)
    assert firsts["7"]["Name"] == next(
        c["Company Name"] for c in companies if c["Company ID"] == "7"
    )
    assert "é" in firsts["7"]["Name"]  # cp1252 VPL read right
    # parents are set in a second pass, after every company exists
    ids = {c["Id"]: c["Visual Practice ID"] for c in firsts.values()}
    parent_of = {c["Company ID"]: c["Parent Company ID"] for c in companies}
    second = rows_of(out, "*-companies-parentCompany-*.csv")
    assert second
    for row in second:
        source = ids[row["Id"]]
        parent = row["Parent Company / Id"]
        assert parent_of[source] and ids[parent] == parent_of[source]


def test_stage_order_and_probability(run: dict) -> None:
    report, out = run["report"], run["dir"]
    stages = {s["Stage Name"]: s for s in read("pipeline_stages.csv")}
    deals = {d["Deal ID"]: d for d in read("deals.csv", delimiter=";")}
    option_of: dict[str, set[str]] = defaultdict(set)
    for row in rows_of(out, "*-opportunities-*.csv"):
        stage = deals[row["Visual Practice ID"]]["Pipeline Stage"]
        option_of[stage].add(row["Stage"])
        expected = stages[stage]["Probability"] if stage in stages else ""
        assert row["Stage probability"] == expected, row["Visual Practice ID"]
    # one option per source stage, all distinct
    assert all(len(v) == 1 for v in option_of.values())
    assert len({next(iter(v)) for v in option_of.values()}) == len(option_of)
    # the options the workspace lacks are added at positions that follow the pipeline's order,
    # and a stage the pipeline does not list comes after all of it
    (added,) = [o for o in report["provisioning"]["options"] if o["field"] == "stage"]
    position = {o["value"]: o["position"] for o in added["add"]}
    new_stages = [s for s in option_of if next(iter(option_of[s])) in position]
    unknown = EXPECTED["defects"]["deals_with_unknown_stage"]["stage"]
    assert unknown in new_stages
    ordered = sorted(new_stages, key=lambda s: int(stages[s]["Order"]) if s in stages else 10**6)
    positions = [position[next(iter(option_of[s]))] for s in ordered]
    assert positions == sorted(positions) and len(set(positions)) == len(positions)
    label = {o["value"]: o["label"] for o in added["add"]}
    assert label[next(iter(option_of[unknown]))] == unknown


def test_activities_become_typed_tasks_and_meeting_notes(run: dict) -> None:
    out = run["dir"]
    activities = {a["Activity ID"]: a for a in read("activities.csv", encoding="utf-8-sig")}
    tasks = rows_of(out, "*-tasks-*.csv")
    assert len(tasks) == len(activities) + EXPECTED["rows"]["tasks.csv"]
    by_activity = {t["Visual Practice ID"].removeprefix("activity-"): t for t in tasks}
    type_of: dict[str, set[str]] = defaultdict(set)
    for aid, activity in activities.items():
        task = by_activity[aid]
        kind = activity["Activity Type"].lower().replace("-", "")
        type_of[kind].add(task["Activity type"])
        assert task["Starts at"] == iso(activity["Start Time"])
        assert task["Ends at"] == (iso(activity["End Time"]) if activity["End Time"] else "")
    # calls, e-mails and meetings each have one type, whatever their spelling in the file
    assert all(len(v) == 1 for v in type_of.values())
    assert len({next(iter(v)) for v in type_of.values()}) == len(type_of)
    # a type the rules do not list becomes a new option, labelled as in the file
    (fax,) = EXPECTED["defects"]["activity_of_unknown_type"]["ids"]
    fax_kind = EXPECTED["defects"]["activity_of_unknown_type"]["type"]
    assert by_activity[fax]["Activity type"] not in {
        next(iter(v)) for k, v in type_of.items() if k != fax_kind.lower()
    }
    (field,) = [
        f
        for f in run["report"]["provisioning"]["fields"]
        if f["object"] == "task" and f["name"] == "activityType"
    ]
    labels = {o["value"]: o["label"] for o in field["options"]}
    assert labels[by_activity[fax]["Activity type"]] == fax_kind
    # every meeting with notes has a note linked to its task, carrying those notes
    meetings = {
        aid: a
        for aid, a in activities.items()
        if a["Activity Type"] == "Meeting" and a["Notes"].strip()
    }
    assert len(meetings) == EXPECTED["meetings_with_notes"]
    task_by_id = {t["Id"]: t for t in tasks}
    linked = [n for n in rows_of(out, "*-notes-*.csv") if n["Meeting / Id"]]
    assert len(linked) == len(meetings)
    for note in linked:
        aid = task_by_id[note["Meeting / Id"]]["Visual Practice ID"].removeprefix("activity-")
        assert note["Body / Markdown"] == meetings[aid]["Notes"].replace("\r\n", "\n")


def test_note_authors_and_owners_with_fallback(run: dict) -> None:
    report, out = run["report"], run["dir"]
    notes = {n["Note ID"]: n for n in read("notes.csv", encoding="cp1252")}
    written = {n["Visual Practice ID"]: n for n in rows_of(out, "*-notes-*.csv")}
    for nid, note in notes.items():
        assert written[nid]["Author e-mail"] == note["Author"].lower()
        assert written[nid]["Author"] == note["Author Name"]
        assert written[nid]["Creation date"] == iso(note["Date Created"])
    strangers = EXPECTED["defects"]["note_author_not_a_user"]
    assert sorted(n for n, w in written.items() if w["Author"] == "Former Staff") == sorted(
        strangers["ids"]
    )  # authors who are not users are kept all the same
    members = {m.lower() for m in MEMBERS}
    with (EXPORT / "companies.vpl").open(encoding="cp1252", newline="") as handle:
        companies = {c["Company ID"]: c for c in csv.DictReader(handle)}
    owners = (
        {c["Owner"] for c in companies.values()}
        | {d["Owner"] for d in read("deals.csv", delimiter=";")}
        | {a["Owner"] for a in read("activities.csv", encoding="utf-8-sig")}
    )
    assert set(report["owners"]["orphans"]) >= {o for o in owners if o.lower() not in members}
    assert not set(report["owners"]["orphans"]) & members
    for row in rows_of(out, "*-companies-0*.csv"):
        owner = companies[row["Visual Practice ID"]]["Owner"]
        expected = owner if owner.lower() in members else FALLBACK
        assert row["Account Owner / User Email"].lower() == expected.lower()


def test_attachments_workflows_custom_objects_and_order(run: dict) -> None:
    report, out = run["report"], run["dir"]
    assert report["attachments"]["total"] == EXPECTED["rows"]["attachments.csv"]
    manifest = side_rows(out, "attachments-manifest.csv")
    missing = sorted(m["source_key"] for m in manifest if m["exists"] == "False")
    assert missing == sorted(EXPECTED["defects"]["attachments_missing_file"]["ids"])
    flows = json.loads((EXPORT / "workflows.json").read_text(encoding="utf-8"))
    written = json.loads((out / "workflows.json").read_text(encoding="utf-8"))
    assert [w["name"] for w in written] == [w["name"] for w in flows]
    assert [w["actions"] for w in written] == [w["actions"] for w in flows]
    referrals = rows_of(out, "*-referrals-*.csv")
    assert len(referrals) == EXPECTED["rows"]["referrals.csv"]
    seen: set[str] = set()
    for path in sorted((out / "csv").glob("*.csv")):
        with path.open(encoding="utf-8", newline="") as handle:
            rows = list(csv.DictReader(handle))
        for row in rows:
            for column, value in row.items():
                if column.endswith(" / Id") and value:
                    assert value in seen, f"{path.name}: {column} {value} not in an earlier file"
        seen |= {r["Id"] for r in rows}


def test_a_later_run_reads_only_changed_rows(run: dict) -> None:
    export, output, suffix = run["export"], run["output"], run["suffix"]
    # change one company in the VPL file: a new name and a later modified date
    text = (export / "companies.vpl").read_bytes().decode("cp1252")
    lines = text.split("\r")
    cells = next(csv.reader([lines[2]]))
    cells[1], cells[-1] = "Renamed Clinic 2", "2030-01-01 00:00:00"
    lines[2] = ",".join(f'"{c}"' for c in cells)
    (export / "companies.vpl").write_bytes("\r".join(lines).encode("cp1252"))
    second = meltano_run(export, output, suffix)
    sources = {s["stream"]: s for s in second["report"]["sources"]}
    # the changed row, plus (Singer's at-least-once rule) the row at the old bookmark
    assert 1 <= sources["companies"]["read"] <= 2
    # unchanged contacts are skipped; the unreadable rows have no readable date, so every run
    # reports them again rather than losing them
    bad = EXPECTED["defects"]["unreadable_contact_rows"]["count"]
    assert sources["contacts"]["rejected"] == bad
    assert sources["contacts"]["read"] - bad <= 1
    companies = {c["Visual Practice ID"]: c for c in rows_of(second["dir"], "*-companies-0*.csv")}
    assert companies["2"]["Name"] == "Renamed Clinic 2"
    assert second["report"]["balanced"]


def test_api_mode_into_the_fake_twenty(tmp_path: Path) -> None:
    """The same export loaded over the REST API into the fake Twenty (tests/fakes/twenty.py):
    what the live workspace ends up holding, not just the CSV files."""
    twenty = FakeTwenty(members=tuple(MEMBERS))
    twenty.start()
    try:
        run = e2e_run.meltano_run(
            "tap-visualpractice",
            tmp_path / "out",
            f"api-{uuid.uuid4().hex}",
            {
                "TAP_VISUALPRACTICE_EXPORT_DIR": str(EXPORT),
                **e2e_run.api_env(twenty, tmp_path / "state", FALLBACK),
            },
        )
    finally:
        twenty.stop()
    assert twenty.violations == []
    report = run["report"]
    assert report["balanced"]
    objects = {o["object"]: o for o in report["objects"]}
    for name in ("company", "person", "opportunity", "task", "note", "noteTarget", "taskTarget"):
        assert len(twenty.live(name)) == objects[name]["written"], name
    # the stage options are in the pipeline's order (pipeline_stages.csv `Order`)
    stages = sorted(read("pipeline_stages.csv"), key=lambda s: int(s["Order"]))
    deals = {d["Deal ID"]: d["Pipeline Stage"] for d in read("deals.csv", delimiter=";")}
    option_of = {
        deals[o["visualPracticeId"]]: o["stage"]
        for o in twenty.live("opportunity")
        if o.get("visualPracticeId")
    }
    (stage_field,) = [f for f in twenty.objects["opportunity"]["fields"] if f["name"] == "stage"]
    position = {o["value"]: o["position"] for o in stage_field["options"]}
    positions = [position[option_of[s["Stage Name"]]] for s in stages]
    assert positions == sorted(positions), positions
    # a meeting's note points at the meeting's task
    tasks = {t["id"]: t for t in twenty.live("task")}
    linked = [n for n in twenty.live("note") if n.get("meetingId")]
    assert len(linked) == EXPECTED["meetings_with_notes"]
    meeting_ids = {
        a["Activity ID"]
        for a in read("activities.csv", encoding="utf-8-sig")
        if a["Activity Type"] == "Meeting" and a["Notes"].strip()
    }
    assert {
        tasks[n["meetingId"]]["visualPracticeId"].removeprefix("activity-") for n in linked
    } == meeting_ids
    # owners: members by e-mail, the others fall back
    member = {m["userEmail"].lower(): m["id"] for m in twenty.live("workspaceMember")}
    with (EXPORT / "companies.vpl").open(encoding="cp1252", newline="") as handle:
        owner_of = {c["Company ID"]: c["Owner"].lower() for c in csv.DictReader(handle)}
    for company in twenty.live("company"):
        if company.get("visualPracticeId"):
            owner = owner_of[company["visualPracticeId"]]
            assert company["accountOwnerId"] == member.get(owner, member[FALLBACK])
