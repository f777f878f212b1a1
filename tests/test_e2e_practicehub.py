"""End to end: the real `meltano run tap-practicehub mapper target-twenty` (CSV mode) against a
fake PracticeHub on loopback (tests/fakes/practicehub.py) that refuses requests closer than
0.05 s apart and repeats records across pages.

Expected figures come from the fake's own data, not from the code under test.
"""

from __future__ import annotations

import json
import re
import subprocess
import uuid
from pathlib import Path

import e2e_run
import pytest
from fakes.practicehub import API_KEY, APP_DETAILS, FakePracticeHub

pytestmark = pytest.mark.e2e
rows_of = e2e_run.csv_rows
# ~18 requests (pages of 100).
COUNTS = {"patients": 260, "appointments": 300, "patient_logs": 150, "files": 12}


def meltano_run(fake: FakePracticeHub, output: Path, suffix: str, **extra: str) -> dict:
    members = [p["email"] for p in fake.data["practitioners"][:-1]]  # the last one left staff
    env = {
        "TAP_PRACTICEHUB_API_URL": fake.url,
        "TAP_PRACTICEHUB_API_KEY": API_KEY,
        "TAP_PRACTICEHUB_APP_DETAILS": APP_DETAILS,
        # meltano.yml's test environment sets min_interval_seconds to 0.3 s (the fake wants 0.05):
        # Meltano 4.4.1 cannot pass a `kind: decimal` setting given as an environment variable
        "MELTANO_ENVIRONMENT": "test",
        "TAP_PRACTICEHUB_EXTRA_FIELDS": json.dumps(
            {"patients": {"consent_given": "boolean", "consent_date": "date"}}
        ),
        "TARGET_TWENTY_WORKSPACE_MEMBERS": json.dumps(members),
        "TARGET_TWENTY_FALLBACK_OWNER_EMAIL": members[0],
        **extra,
    }
    return e2e_run.meltano_run("tap-practicehub", output, suffix, env)


@pytest.fixture(scope="module")
def fake():
    with FakePracticeHub(COUNTS, min_interval=0.05, retry_after=0.1) as f:
        yield f


@pytest.fixture(scope="module")
def run(fake, tmp_path_factory: pytest.TempPathFactory) -> dict:
    out = tmp_path_factory.mktemp("out")
    downloads = tmp_path_factory.mktemp("files")
    return meltano_run(
        fake, out, f"e2e-{uuid.uuid4().hex}", TAP_PRACTICEHUB_DOWNLOAD_DIR=str(downloads)
    )


def test_the_test_environment_paces_the_tap_for_the_fake(tmp_path: Path) -> None:
    """What Meltano passes the tap in the runs here: the fast pace, as a number."""
    done = e2e_run.meltano(
        ["invoke", "--dump=config", "tap-practicehub"], tmp_path, {"MELTANO_ENVIRONMENT": "test"}
    )
    assert json.loads(done.stdout)["min_interval_seconds"] == 0.3


def test_every_record_accounted_for_once_and_no_429(fake, run) -> None:
    report = run["report"]
    assert report["balanced"]
    assert fake.requests(status=429) == []
    sources = {s["stream"]: s for s in report["sources"]}
    for stream, rows in fake.data.items():
        s = sources[stream]
        assert s["read"] == len(rows), stream  # repeats across pages passed once
        assert s["read"] == s["written"] + s["merged"] + s["rejected"] + s["ignored"], stream
    text = json.dumps(report)
    assert f"{fake.repeats('appointments')} rows were served again" in text
    assert "standalone people" in text
    # reminders and messaging: not in the API (docs/sources.md §3.8), collected by hand
    (section,) = report["inventories"]
    assert section["section"] == "PracticeHub appointment reminders and messaging"
    assert section["items"] == [] and "documents no endpoint" in section["by_hand"][0]
    page = (run["dir"] / "report.html").read_text()
    assert "<h2>Cannot move: PracticeHub appointment reminders and messaging</h2>" in page


def test_patients_are_people_owned_by_their_practitioner(fake, run) -> None:
    people = {p["PracticeHub ID"]: p for p in rows_of(run["dir"], "*-people-*.csv")}
    assert len(people) == COUNTS["patients"]
    emails = {p["id"]: p["email"] for p in fake.data["practitioners"]}
    members = [p["email"] for p in fake.data["practitioners"][:-1]]
    for row in fake.data["patients"][:40]:
        person = people[str(row["id"])]
        assert person["Name / First Name"] == row["first_name"]
        assert not person.get("Company / Id")  # standalone
        assert person["Emails / Primary Email"] == (row["email"] or "")
        assert person["Patient number"] == row["patient_number"]
        assert person["Consent Given"] == str(row["consent_given"]).lower()  # extra_fields
        owner = person["Owner / User Email"]
        practitioner = emails[row["practitioner_id"]]
        # the practitioner who left is not a member: the fallback owner takes the record
        assert owner == (practitioner if practitioner in members else members[0])
        for tag in row["tags"]:
            assert re.sub(r"[^A-Z0-9]+", "_", tag.upper()) in json.loads(person["Tags"])


def test_appointments_notes_and_documents_point_at_their_patient(fake, run) -> None:
    out = run["dir"]
    people = {p["PracticeHub ID"]: p["Id"] for p in rows_of(out, "*-people-*.csv")}
    appointments = rows_of(out, "*-appointments-*.csv")
    assert len(appointments) == COUNTS["appointments"]
    by_id = {a["PracticeHub ID"]: a for a in appointments}
    for row in fake.data["appointments"][:30]:
        got = by_id[str(row["id"])]
        assert got["Patient / Id"] == people[str(row["patient_id"])]
        assert (
            got["Status"]
            == {
                "processed": "PROCESSED",
                "cancelled": "CANCELLED",
                "missed": "MISSED",
                "pending": "PENDING",
            }[row["status"]]
        )
        assert got["Name"] == f"Type {row['appointment_type_id']}"
    # noteTargets and attachments wait in api-leftovers.singer in CSV mode (Twenty's import)
    leftovers = [json.loads(x) for x in (out / "api-leftovers.singer").read_text().splitlines()]
    targets = [m["record"] for m in leftovers if m.get("stream") == "noteTarget" and "record" in m]
    assert {t["targetPersonId"] for t in targets} <= set(people.values())
    assert len(targets) == COUNTS["patient_logs"]
    # treatment notes are HTML at PracticeHub: Twenty's body gets Markdown, not the tags
    bodies = [n["Body / Markdown"] for n in rows_of(out, "*-notes-*.csv")]
    assert len(bodies) == COUNTS["patient_logs"]
    assert all("<" not in b for b in bodies)
    assert any(b.startswith("Session ") and "**improving**" in b for b in bodies)
    documents = rows_of(out, "*-patientDocuments-*.csv")
    assert len(documents) == COUNTS["files"]
    with (out / "attachments-manifest.csv").open(encoding="utf-8") as handle:
        manifest = handle.read().splitlines()[1:]
    assert len(manifest) == COUNTS["files"] and all(",True," in m for m in manifest)


def test_rule_options_make_opportunities_and_practitioner_people(fake, tmp_path) -> None:
    """tap | mapper with the rules' options switched on (no Meltano needed to choose them)."""
    bin_dir = Path(e2e_run.MELTANO).parent
    tap_cfg = tmp_path / "tap.json"
    tap_cfg.write_text(
        json.dumps(
            {
                "api_url": fake.url,
                "api_key": API_KEY,
                "app_details": APP_DETAILS,
                "min_interval_seconds": 0.06,
            }
        )
    )
    map_cfg = tmp_path / "mapper.json"
    options = {
        "practitioner_people": "yes",
        "invoices_as": "opportunity",
        "packages_as": "opportunity",
    }
    map_cfg.write_text(json.dumps({"rules": "practicehub", "rule_options": options}))
    tap = subprocess.run(
        [str(bin_dir / "tap-practicehub"), "--config", str(tap_cfg)],
        capture_output=True,
        text=True,
        timeout=300,
        check=True,
    )
    mapped = subprocess.run(
        [str(bin_dir / "crm2twenty-mapper"), "--config", str(map_cfg)],
        input=tap.stdout,
        capture_output=True,
        text=True,
        timeout=300,
        check=True,
    )
    records: dict[str, list[dict]] = {}
    for line in mapped.stdout.splitlines():
        message = json.loads(line)
        if message["type"] == "RECORD":
            records.setdefault(message["stream"], []).append(message["record"])
    opportunities = records["opportunity"]
    assert len(opportunities) == len(fake.data["invoices"]) + len(fake.data["patient_packages"])
    assert "invoice" not in records and "patientPackage" not in records
    people = records["person"]
    assert len(people) == len(fake.data["patients"]) + len(fake.data["practitioners"])
    emails = {p["emails"]["primaryEmail"] for p in people if p.get("emails")}
    assert {p["email"] for p in fake.data["practitioners"]} <= emails
