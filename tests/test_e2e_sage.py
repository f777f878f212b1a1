"""End to end: the real `meltano run tap-sage-crm mapper target-twenty` against a fake Sage CRM.

The fake (tests/fakes/sage.py) serves a few thousand records over real HTTP on loopback, with the
defects its dataset plants (``DEFECTS``): a person with no company, a lead sharing a person's
e-mail, an opportunity with a stage code no caption knows, a communication linked to a deleted
person. Expected figures are derived here from the fake's rows, not from the code under test.
The CSV run talks SOAP through zeep with workflow rules hidden from web services; the API run
talks REST and loads into the fake Twenty.
"""

from __future__ import annotations

import json
import re
import uuid
from pathlib import Path

import e2e_run
import pytest
from fakes.sage import FakeSage
from fakes.sage_data import DEFECTS
from fakes.twenty import FakeTwenty

SCALE = 0.5  # about 4,500 records with their link rows
pytestmark = pytest.mark.e2e

# stream → the fake's entity
ENTITIES = {
    "users": "users",
    "captions": "custom_captions",
    "companies": "company",
    "persons": "person",
    "addresses": "address",
    "address_links": "address_link",
    "emails": "email",
    "email_links": "emaillink",
    "phones": "phone",
    "phone_links": "phonelink",
    "leads": "lead",
    "opportunities": "opportunity",
    "cases": "cases",
    "communications": "communication",
    "comm_links": "comm_link",
    "notes": "notes",
    "libraries": "library",
    "projects": "project",
}


def live_rows(fake: FakeSage, entity: str) -> list[dict]:
    """Rows Sage has not deleted (the tap's default `deleted_records: skip`)."""
    e = fake.entities[entity]
    return [r for r in e.rows if not r.get(f"{e.prefix}_deleted")]


def meltano_run(output: Path, env: dict[str, str]) -> dict:
    env = {"TAP_SAGE_CRM_USERNAME": "admin", "TAP_SAGE_CRM_PASSWORD": "s3cret", **env}
    run = e2e_run.meltano_run("tap-sage-crm", output, f"e2e-{uuid.uuid4().hex}", env)
    assert "s3cret" not in run["log"]  # the password is never logged
    return run


csv_rows, side = e2e_run.csv_rows, e2e_run.side_rows


@pytest.fixture(scope="module")
def soap_csv(tmp_path_factory: pytest.TempPathFactory) -> dict:
    with FakeSage(scale=SCALE, batch_size=100, hidden=("workflowrule",)) as fake:
        run = meltano_run(tmp_path_factory.mktemp("out"), {"TAP_SAGE_CRM_BASE_URL": fake.url})
        run["fake"] = fake
        run["defects"] = json.loads(json.dumps(DEFECTS))
    return run


def test_every_sage_row_is_read_and_accounted_for(soap_csv: dict) -> None:
    report, fake = soap_csv["report"], soap_csv["fake"]
    assert report["balanced"]
    sources = {s["stream"]: s for s in report["sources"]}
    for stream, entity in ENTITIES.items():
        s = sources[stream]
        assert s["read"] == len(live_rows(fake, entity)), stream
        assert s["read"] == s["written"] + s["merged"] + s["rejected"] + s["ignored"], stream
    # the link tables are folded into companies and persons, and say so
    assert sources["email_links"]["ignored"] == sources["email_links"]["read"]
    assert "folded into" in sources["email_links"]["ignored_because"]
    # one web-service session at a time, every one logged off
    logons = [c for c in fake.calls if c[0] == "logon"]
    assert logons and len(logons) == len([c for c in fake.calls if c[0] == "logoff"])
    assert fake.sessions == {}


def test_people_companies_and_the_planted_defects(soap_csv: dict) -> None:
    run, fake, defects = soap_csv["dir"], soap_csv["fake"], soap_csv["defects"]
    people = {r["Sage CRM ID"]: r for r in csv_rows(run, "*-people-*.csv") if r["Sage CRM ID"]}
    companies = {r["Sage CRM ID"]: r for r in csv_rows(run, "*-companies-*.csv")}
    sage_people = {str(p["pers_personid"]): p for p in live_rows(fake, "person")}
    assert set(sage_people) <= set(people)
    # a person with no company is loaded, standalone
    assert people[str(defects["person_without_company"])]["Company / Id"] == ""
    # every other person points at the company Sage names
    for pid, person in sage_people.items():
        if person["pers_companyid"] is not None:
            assert people[pid]["Company / Id"] == companies[str(person["pers_companyid"])]["Id"]
    # the deleted person is not migrated; e-mails come from the link tables
    assert str(defects["deleted_person"]) not in people
    p4 = people["4"]
    assert (p4["Emails / Primary Email"], json.loads(p4["Emails / Additional Emails"])) == (
        "person4@mail.example",
        ["person4.alt@mail.example"],
    )
    # the lead sharing person 5's e-mail became person 5, not a second person
    shared = defects["lead_sharing_person_email"]
    merges = side(run, "merges.csv")
    assert any(
        re.fullmatch(rf"leads \S*\b{shared['lead']}", m["merged_source"])
        and m["survivor_source"] == f"persons {shared['person']}"
        for m in merges
    )
    emails = [r["Emails / Primary Email"] for r in csv_rows(run, "*-people-*.csv")]
    assert emails.count(f"person{shared['person']}@mail.example") == 1


def test_stages_translate_and_an_unknown_code_becomes_a_new_option(soap_csv: dict) -> None:
    run, report, defects = soap_csv["dir"], soap_csv["report"], soap_csv["defects"]
    opps = {r["Sage CRM ID"]: r for r in csv_rows(run, "*-opportunities-*.csv")}
    unknown = defects["unknown_stage"]
    assert opps[str(unknown["opportunity"])]["Stage"] == unknown["code"].upper()
    added = [o for o in report["provisioning"]["options"] if o["field"] == "stage"]
    assert [a["value"] for o in added for a in o["add"]] == [unknown["code"].upper()]
    # every other stage is one of Twenty's own options
    standard = {"NEW", "SCREENING", "MEETING", "PROPOSAL", "CUSTOMER"}
    assert {r["Stage"] for r in opps.values()} - standard == {unknown["code"].upper()}


def test_links_to_the_deleted_person_are_rejected_and_the_rest_become_targets(
    soap_csv: dict,
) -> None:
    run, report, fake, defects = (soap_csv[k] for k in ("dir", "report", "fake", "defects"))
    dead = defects["deleted_person"]
    links = live_rows(fake, "comm_link")
    to_dead = [r for r in links if r["cmli_comm_personid"] == dead]
    assert any(
        r["cmli_comm_communicationid"] == defects["comm_linked_to_deleted_person"] for r in to_dead
    )
    sources = {s["stream"]: s for s in report["sources"]}
    assert sources["comm_links"]["rejected"] == len(to_dead)
    rejected = [r for r in side(run, "rejects.csv") if r["source_stream"] == "comm_links"]
    assert len(rejected) == len(to_dead)
    assert all(f"person '{dead}'" in r["reason"] for r in rejected)
    # targets wait in the leftovers for API mode: one per live comm link and one per note
    kinds = {"noteTarget": 0, "taskTarget": 0}
    with (run / "api-leftovers.singer").open(encoding="utf-8") as handle:
        for line in handle:
            msg = json.loads(line)
            if msg["type"] == "RECORD" and msg["stream"] in kinds:
                kinds[msg["stream"]] += 1
    comm_targets = len(links) - len(to_dead)
    assert kinds["noteTarget"] + kinds["taskTarget"] >= comm_targets + len(live_rows(fake, "notes"))


def test_workflows_unreadable_through_web_services_are_reported(soap_csv: dict) -> None:
    report = soap_csv["report"]
    assert any("Workflow" in n for n in report["notices"])
    assert "Workflow rules are not readable" in (soap_csv["dir"] / "report.md").read_text()


def test_the_member_list_marks_the_disabled_user_inactive(soap_csv: dict) -> None:
    members = {m["email"]: m for m in soap_csv["report"]["owners"]["members"]["members"]}
    disabled = {
        str(r["user_emailaddress"]).lower()
        for r in live_rows(soap_csv["fake"], "users")
        if r.get("user_disabled") == "Y"
    }
    assert disabled and {e for e, m in members.items() if m["active"] is False} == disabled
    assert all(
        m["active"] is True for e, m in members.items() if m["source_user"] and e not in disabled
    )
    assert (soap_csv["dir"] / "members-to-invite.csv").is_file()
    page = (soap_csv["dir"] / "report.html").read_text()  # flagged there too, row by row
    assert page.count('<tr class="inactive">') == len(disabled)
    assert '<a href="members-to-invite.csv">' in page


def test_reports_and_security_profiles_are_inventoried_as_by_hand(soap_csv: dict) -> None:
    """Sage documents neither as a web-service entity (docs/sources.md §1.5): the report has a
    section each saying what to collect, and lists nothing it did not read."""
    sections = {s["section"]: s for s in soap_csv["report"]["inventories"]}
    assert set(sections) == {
        "Sage CRM reports",
        "Sage CRM security profiles and role assignments",
    }
    assert all(not s["items"] and len(s["by_hand"]) == 1 for s in sections.values())
    assert "custom_reportfields" in sections["Sage CRM reports"]["by_hand"][0]
    text = (soap_csv["dir"] / "report.md").read_text()
    assert "## Cannot move: Sage CRM reports" in text
    assert "## Cannot move: Sage CRM security profiles and role assignments" in text
    page = (soap_csv["dir"] / "report.html").read_text()
    assert "<h2>Cannot move: Sage CRM reports</h2>" in page
    assert "<h2>Cannot move: Sage CRM security profiles and role assignments</h2>" in page


def library_files(fake: FakeSage) -> dict[str, str]:
    """Each live library row's key → its file inside Sage's library folder."""
    return {
        str(r["libr_libraryid"]): f"{r['libr_filepath']}/{r['libr_filename']}"
        for r in live_rows(fake, "library")
    }


def assert_library_listed_as_not_found(run: dict, fake: FakeSage) -> None:
    """Without `library_dir` (README of tap-sage-crm): every attachment is written with its
    metadata and its file listed as not found, by name — in CSV and API mode alike."""
    expected = library_files(fake)
    manifest = {m["source_key"]: m for m in side(run["dir"], "attachments-manifest.csv")}
    assert {k: m["file"] for k, m in manifest.items()} == expected
    assert {(m["status"], m["exists"]) for m in manifest.values()} == {("written", "False")}
    assert all("not found" in m["note"] for m in manifest.values())
    assert run["report"]["attachments"]["missing"] == len(expected)
    sources = {s["stream"]: s for s in run["report"]["sources"]}
    assert sources["libraries"]["written"] == len(expected)


def test_library_without_library_dir_is_listed_as_not_found(soap_csv: dict) -> None:
    assert_library_listed_as_not_found(soap_csv, soap_csv["fake"])


def test_rest_into_the_fake_twenty(tmp_path: Path) -> None:
    members = ("user1@sage-firm.example", "USER2@sage-firm.example", "admin@acme.test")
    with FakeSage(scale=0.2, batch_size=100) as sage:
        twenty = FakeTwenty(members=members)
        twenty.start()
        try:
            run = meltano_run(
                tmp_path / "out",
                {
                    "TAP_SAGE_CRM_BASE_URL": sage.url,
                    "TAP_SAGE_CRM_API": "rest",
                    **e2e_run.api_env(twenty, tmp_path / "state"),
                },
            )
        finally:
            twenty.stop()
        assert twenty.violations == []
        assert twenty.api_key not in run["log"]
        report = run["report"]
        assert report["balanced"]
        assert [c for c in sage.calls if c[0] == "logon"] == []  # REST: no SOAP session
        people = {p["sageCrmId"]: p for p in twenty.live("person") if p.get("sageCrmId")}
        leads = {k for k in people if k.startswith("lead-")}
        assert set(people) - leads == {str(p["pers_personid"]) for p in live_rows(sage, "person")}
        # every lead is a person, but the one sharing person 5's e-mail is person 5
        shared = DEFECTS["lead_sharing_person_email"]["lead"]
        assert leads == {f"lead-{r['lead_leadid']}" for r in live_rows(sage, "lead")} - {
            f"lead-{shared}"
        }
        companies = {c["sageCrmId"]: c for c in twenty.live("company") if c.get("sageCrmId")}
        for person in live_rows(sage, "person"):
            company = person["pers_companyid"]
            assert people[str(person["pers_personid"])].get("companyId") == (
                companies[str(company)]["id"] if company is not None else None
            )
            # the original creation time is kept
            assert (
                people[str(person["pers_personid"])]["createdAt"][:16]
                == (person["pers_createddate"].replace(" ", "T")[:16])
            )  # Sage: naive, UTC
        # owners: Sage user 1 and 2 are members (case aside); the others fall back
        member = {m["userEmail"].lower(): m["id"] for m in twenty.live("workspaceMember")}
        users = {u["user_userid"]: u["user_emailaddress"] for u in live_rows(sage, "users")}
        for c in live_rows(sage, "company"):
            email = users[c["comp_primaryuserid"]]
            expected = member.get(email.lower(), member["admin@acme.test"])
            assert companies[str(c["comp_companyid"])].get("accountOwnerId") == expected
        assert set(report["owners"]["orphans"]) == {
            e for e in users.values() if e.lower() not in member
        }
        # notes reach their company or person through noteTargets
        note_ids = {n["id"] for n in twenty.live("note")}
        targets = [t for t in twenty.live("noteTarget") if t["noteId"] in note_ids]
        assert targets and all(
            t.get("targetPersonId") or t.get("targetCompanyId") or t.get("targetOpportunityId")
            for t in targets
        )
        # the library's attachments are in Twenty, with their metadata, without their files
        assert_library_listed_as_not_found(run, sage)
        attachments = [a for a in twenty.live("attachment") if a.get("targetCompanyId")]
        assert sorted(a["name"] for a in attachments) == sorted(
            r["libr_filename"] for r in live_rows(sage, "library")
        )
        assert not any(a.get("file") for a in attachments) and not twenty.files
        # workflows readable over REST are kept for the rebuild
        workflows = json.loads((run["dir"] / "workflows.json").read_text())
        assert sorted(w["name"] for w in workflows) == sorted(
            r["wkrl_caption"] for r in live_rows(sage, "workflowrule")
        )
