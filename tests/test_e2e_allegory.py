"""End to end: the real `meltano run tap-allegory-csv mapper target-twenty` on the bundled sample.

Expected figures are derived here from the export files themselves (read with Python's csv
module) and the generator's list of planted defects (examples/allegory/expected.json), not from
the code under test.
"""

from __future__ import annotations

import csv
import json
import shutil
import uuid
from pathlib import Path

import e2e_run
import headless
import pytest

ROOT = e2e_run.ROOT
EXPORT = ROOT / "examples/allegory/export"
EXPECTED = json.loads((ROOT / "examples/allegory/expected.json").read_text(encoding="utf-8"))
pytestmark = pytest.mark.e2e


def meltano_run(export: Path, output: Path, suffix: str, *extra: str) -> dict:
    return e2e_run.meltano_run(
        "tap-allegory-csv", output, suffix, {"TAP_ALLEGORY_CSV_EXPORT_DIR": str(export)}, *extra
    )


def read(name: str, **kw) -> list[dict]:
    with (EXPORT / name).open(encoding=kw.pop("encoding", "utf-8-sig"), newline="") as handle:
        return list(csv.DictReader(handle, **kw))


rows_of = e2e_run.csv_rows


@pytest.fixture(scope="module")
def first_run(tmp_path_factory: pytest.TempPathFactory) -> dict:
    """One run over a copy of the export (the later-run test changes that copy and runs again
    with the same state id and output folder)."""
    return e2e_run.rerunnable(tmp_path_factory, EXPORT, "allegory", meltano_run)


def test_every_source_record_is_accounted_for(first_run: dict) -> None:
    report = first_run["report"]
    assert report["balanced"]
    sources = {s["stream"]: s for s in report["sources"]}
    for name, rows in EXPECTED["rows"].items():
        stream = e2e_run.allegory_stream(name)
        s = sources[stream]
        assert s["read"] == rows, stream
        assert s["read"] == s["written"] + s["merged"] + s["rejected"] + s["ignored"], stream


def test_contacts_nameless_rejected_duplicates_merged_missing_companies_repaired(first_run) -> None:
    report, run = first_run["report"], first_run["dir"]
    d = EXPECTED["defects"]
    contacts = next(s for s in report["sources"] if s["stream"] == "contacts")
    nameless = d["contacts_without_name_or_email"]["ids"]
    pairs = d["duplicate_emails_other_case"]["ids"]
    assert contacts["rejected_by_mapper"] == len(nameless)
    assert contacts["merged"] == len(pairs)
    assert contacts["written"] == EXPECTED["rows"]["contacts"] - len(nameless) - len(pairs)
    with (run / "rejects.csv").open(encoding="utf-8", newline="") as handle:
        rejects = list(csv.DictReader(handle))
    assert (
        sorted(int(r["source_key"]) for r in rejects if r["source_stream"] == "contacts")
        == nameless
    )
    assert all(
        r["location"].startswith("contacts.csv:")
        for r in rejects
        if r["source_stream"] == "contacts"
    )
    with (run / "merges.csv").open(encoding="utf-8", newline="") as handle:
        merges = {m["merged_source"].split()[1]: m for m in csv.DictReader(handle)}
    people = {p["Allegory ID"]: p["Id"] for p in rows_of(run, "*-people-*.csv")}
    for first, second in pairs:
        assert merges[str(second)]["survivor_id"] == people[str(first)]
        assert str(second) not in people
    with (run / "repairs.csv").open(encoding="utf-8", newline="") as handle:
        repairs = list(csv.DictReader(handle))
    missing = {r["source_key"] for r in repairs if r["field"] == "companyId"}
    assert missing == {str(i) for i in d["contacts_missing_company"]["ids"]}
    invalid = {r["source_key"] for r in repairs if r["field"] == "emails.primaryEmail"}
    assert invalid == {str(i) for i in d["invalid_emails"]["ids"]}
    # every repair, the mapper's too, says where its value was: the source row's file:line
    contact_repairs = [r for r in repairs if r["source_stream"] == "contacts"]
    assert all(r["location"].startswith("contacts.csv:") for r in contact_repairs)
    kinds = {g["example"]["field"]: g["count"] for g in report["repairs"]["by_reason"]}
    assert kinds["emails.primaryEmail"] == len(d["invalid_emails"]["ids"])


def test_links_and_targets_to_rejected_or_missing_contacts_are_rejected(first_run) -> None:
    report = first_run["report"]
    gone = {str(i) for i in EXPECTED["defects"]["contacts_without_name_or_email"]["ids"]}
    gone |= {str(i) for i in EXPECTED["defects"]["links_to_missing_contacts"]["ids"]}
    links = read("matters__contacts.csv")
    objects = {o["object"]: o for o in report["objects"]}
    assert objects["matterPerson"]["rejected"] == sum(r["contact_id"] in gone for r in links)
    tasks = read("tasks.csv", encoding="cp1252", delimiter=";")
    notes = read("notes.csv")
    assert objects["taskTarget"]["rejected"] == sum(t["contact_id"] in gone for t in tasks)
    assert objects["noteTarget"]["rejected"] == sum(n["contact_id"] in gone for n in notes)


def test_files_are_in_import_order_and_every_relation_points_back(first_run) -> None:
    run = first_run["dir"]
    seen: set[str] = set()
    for path in sorted((run / "csv").glob("*.csv")):
        with path.open(encoding="utf-8", newline="") as handle:
            rows = list(csv.DictReader(handle))
        assert 0 < len(rows) <= 10_000
        second_pass = path.stem.count("-") > 2
        for row in rows:
            for column, value in row.items():
                if column.endswith(" / Id") and value:
                    assert value in seen, f"{path.name}: {column} {value} not in an earlier file"
            if second_pass:
                assert row["Id"] in seen  # updates a record an earlier file created
        seen |= {r["Id"] for r in rows}
    order = first_run["report"]["order"]
    assert order.index("company") < order.index("person") < order.index("opportunity")
    assert order.index("matter") < order.index("matterPerson")


def test_cycle_stages_formulas_dates_and_names(first_run) -> None:
    report, run = first_run["report"], first_run["dir"]
    (cycle,) = report["record_cycles"]
    assert [r.split()[1] for r in cycle["records"]] == ["10", "11", "12"]
    companies = {c["Allegory ID"]: c for c in rows_of(run, "*-companies-0*.csv")}
    assert companies["5"]["Name"].startswith("'=HYPERLINK")
    assert companies["7"]["Name"] == "Zoë & Søren ApS"
    added = {o["value"] for f in report["provisioning"]["options"] for o in f["add"]}
    assert {"NEGOTIATION", "CLOSED_LOST", "ON_HOLD"} <= added
    deals = {d["id"]: d for d in read("deals.csv")}
    for row in rows_of(run, "*-opportunities-*.csv"):
        day, month, year = deals[row["Allegory ID"]]["close_date"].split("/")
        assert row["Close date"].startswith(f"{year}-{month}-{day}")  # read day-first
        assert row["Stage"] in {
            "NEW",
            "SCREENING",
            "MEETING",
            "PROPOSAL",
            "CUSTOMER",
            "NEGOTIATION",
            "CLOSED_LOST",
            "ON_HOLD",
        }
    assert any("€" in t["Title"] for t in rows_of(run, "*-tasks-*.csv"))  # cp1252 read right


def test_attachments_workflows_and_leftovers(first_run) -> None:
    report, run = first_run["report"], first_run["dir"]
    assert report["attachments"]["total"] == EXPECTED["rows"]["attachments"]
    with (run / "attachments-manifest.csv").open(encoding="utf-8", newline="") as handle:
        manifest = list(csv.DictReader(handle))
    missing = sorted(m["source_key"] for m in manifest if m["exists"] == "False")
    assert missing == sorted(EXPECTED["defects"]["attachments_missing_file"]["ids"])
    assert [w["name"] for w in report["workflows"]][:1] == ["Welcome a new client"]
    assert len(report["workflows"]) == EXPECTED["rows"]["workflows.json"]
    leftovers = (run / "api-leftovers.singer").read_text().splitlines()
    streams = {json.loads(x)["stream"] for x in leftovers}
    assert {"noteTarget", "taskTarget", "attachment", "company__owners"} <= streams


# report.html of the bundled sample as a browser shows it, kept where a note can point at it
SAMPLE_SCREENSHOT = ROOT / "output" / "report-html" / "allegory-report.png"


@pytest.mark.skipif(not headless.available(), reason=headless.MISSING)
def test_the_report_page_of_the_sample_in_a_browser(first_run: dict, tmp_path: Path) -> None:
    """The page of the sample's run, in headless Chromium: no console error, every figure it
    shows is report.json's, and everything the run had is on it."""
    report = first_run["report"]
    rendered = headless.render(first_run["dir"] / "report.html")
    for shot in (tmp_path / "report.png", SAMPLE_SCREENSHOT):
        shot.parent.mkdir(parents=True, exist_ok=True)
        shot.write_bytes(rendered.screenshot)
        print(f"report.html of the sample run, screenshot: {shot}")
    assert rendered.console == []
    assert headless.figures_disagreeing(report, rendered.marked) == []
    shown = {m.json for m in rendered.marked}
    assert {f"/sources/{i}/read" for i in range(len(report["sources"]))} <= shown
    assert {f"/objects/{i}/written" for i in range(len(report["objects"]))} <= shown
    assert {"/rejects/count", "/repairs/count", "/attachments/total"} <= shown


def test_a_later_run_picks_up_only_changed_rows(first_run: dict) -> None:
    export, output, suffix = first_run["export"], first_run["output"], first_run["suffix"]
    lines = (export / "companies.csv").read_text(encoding="utf-8").splitlines(keepends=True)
    changed = lines[2].split(",")
    changed[1] = "Renamed Company 2"
    changed[16] = "2030-01-01 00:00:00"  # updated_at
    lines[2] = ",".join(changed)
    (export / "companies.csv").write_text("".join(lines), encoding="utf-8")
    with (export / "contacts.csv").open("a", encoding="utf-8", newline="") as handle:
        csv.writer(handle, lineterminator="\r\n").writerow(
            [
                99999,
                "New",
                "Person",
                "",
                "new.person@example.org",
                "",
                "",
                "",
                "CEO",
                3,
                "",
                "",
                "",
                "",
                "2030-01-01 00:00:00",
                "2030-01-01 00:00:00",
                "",
                "no",
            ]
        )
    # matters__contacts is re-sent whole (full table): a link to a contact the first run merged
    # into its duplicate must follow the merge again (the registry remembers it)
    survivor, merged = EXPECTED["defects"]["duplicate_emails_other_case"]["ids"][0]
    with (export / "matters__contacts.csv").open("a", encoding="utf-8", newline="") as handle:
        csv.writer(handle, lineterminator="\r\n").writerow(["M1", merged])
    second = meltano_run(export, output, suffix)
    sources = {s["stream"]: s for s in second["report"]["sources"]}
    # The changed row, plus (Singer's at-least-once rule) the row at the old bookmark.
    assert 1 <= sources["companies"]["read"] <= 2 and sources["companies"]["rejected"] == 0
    assert 1 <= sources["contacts"]["read"] <= 2
    first_companies = {
        c["Allegory ID"]: c["Id"] for c in rows_of(first_run["dir"], "*-companies-0*.csv")
    }
    companies = {c["Allegory ID"]: c for c in rows_of(second["dir"], "*-companies-0*.csv")}
    assert companies["2"]["Name"] == "Renamed Company 2"
    assert companies["2"]["Id"] == first_companies["2"]  # the same record, updated in place
    people = {p["Allegory ID"]: p for p in rows_of(second["dir"], "*-people-*.csv")}
    assert people["99999"]["Company / Id"] == first_companies["3"]  # resolved via the first run
    assert second["report"]["balanced"] and second["report"]["repairs"]["count"] == 0
    first_people = {p["Allegory ID"]: p["Id"] for p in rows_of(first_run["dir"], "*-people-*.csv")}
    links = {m["Allegory ID"]: m for m in rows_of(second["dir"], "*-matterPeople-*.csv")}
    assert links[f"M1:{merged}"]["Person / Id"] == first_people[str(survivor)]


def test_a_run_whose_tap_failed_says_failed_and_writes_nothing(tmp_path: Path) -> None:
    """`on_bad_row: fail` and a ragged row in deals.csv: the tap fails half-way. The report
    says FAILED with the tap's error, is not balanced, no CSV batch is written and LATEST does
    not name the run; contacts.csv, cut to its header, is still listed (0 rows)."""
    export = tmp_path / "export"
    shutil.copytree(EXPORT, export)
    header = (export / "contacts.csv").read_text(encoding="utf-8-sig").splitlines()[0]
    (export / "contacts.csv").write_text(header + "\r\n", encoding="utf-8")
    deals = (export / "deals.csv").read_text(encoding="utf-8").splitlines()
    deals[5] += ",extra,cells"  # line 6
    (export / "deals.csv").write_text("\n".join(deals) + "\n", encoding="utf-8")
    output = tmp_path / "out"
    env = {"TAP_ALLEGORY_CSV_EXPORT_DIR": str(export), "TAP_ALLEGORY_CSV_ON_BAD_ROW": "fail"}
    failed = e2e_run.meltano_run(
        "tap-allegory-csv", output, f"e2e-{uuid.uuid4().hex}", env, fails=True
    )
    report, status = failed["report"], failed["report"]["status"]
    assert status["outcome"] == "failed" and report["balanced"] is False
    assert status["summary"].startswith("tap-allegory-csv failed: deals.csv:6: ")
    assert status["held_back"] > 0 and not (failed["dir"] / "csv").exists()
    assert not (output / "LATEST").exists()
    md = (failed["dir"] / "report.md").read_text(encoding="utf-8")
    assert md.split("\n")[2].startswith("**FAILED — tap-allegory-csv failed: deals.csv:6: ")
    assert "All counts add up" not in md
    contacts = next(s for s in report["sources"] if s["stream"] == "contacts")
    assert contacts["read"] == 0
