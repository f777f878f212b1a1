"""End to end: the real `meltano run tap-supabase-atomic mapper target-twenty` on a real
PostgreSQL holding Atomic CRM's schema (tests/fakes/atomic_db.py), with the files in a fake
Supabase Storage; once in CSV mode and once into the fake Twenty.

Expected figures come from the seeded database (counted with SQL here) and the seed's planted
cases: a deal with three contacts and one naming a deleted contact, a tag array naming a deleted
tag, empty jsonb arrays, a contact without company, a Storage object that is missing.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from pathlib import Path

import e2e_run
import pytest
from fakes.atomic_db import AtomicDb
from fakes.supabase_storage import FakeStorage
from fakes.twenty import FakeTwenty

pytestmark = [pytest.mark.e2e, pytest.mark.postgres]
TABLES = ("sales", "tags", "companies", "contacts", "contact_notes", "deals", "deal_notes", "tasks")
FILES = {"attachments/logo-acme.png": b"\x89PNG acme", "attachments/0.42.pdf": b"%PDF deck"}
KEY = "sb_secret_e2e-k3y"

csv_rows, side = e2e_run.csv_rows, e2e_run.side_rows


@pytest.fixture(scope="module")
def atomic() -> Iterator[AtomicDb]:
    with AtomicDb() as db:
        yield db


def meltano_run(db: AtomicDb, output: Path, storage: FakeStorage, env: dict) -> dict:
    env = {
        "TAP_SUPABASE_ATOMIC_DSN": db.dsn,
        "TAP_SUPABASE_ATOMIC_STORAGE_URL": storage.url,
        "TAP_SUPABASE_ATOMIC_STORAGE_KEY": KEY,
        "TAP_SUPABASE_ATOMIC_DOWNLOAD_DIR": str(output / "files"),
        **env,
    }
    run = e2e_run.meltano_run("tap-supabase-atomic", output, f"e2e-{uuid.uuid4().hex}", env)
    assert KEY not in run["log"]  # the storage key is never logged
    return run


@pytest.fixture(scope="module")
def csv_run(atomic: AtomicDb, tmp_path_factory: pytest.TempPathFactory) -> dict:
    with FakeStorage(FILES, public=False, key=KEY) as storage:
        run = meltano_run(atomic, tmp_path_factory.mktemp("out"), storage, {})
    run["calls"] = storage.calls
    return run


def test_every_row_is_read_and_accounted_for(csv_run: dict, atomic: AtomicDb) -> None:
    report = csv_run["report"]
    assert report["balanced"]
    sources = {s["stream"]: s for s in report["sources"]}
    for table in TABLES:
        (count,) = atomic.execute(f"SELECT count(*) FROM public.{table}")[0]  # noqa: S608
        s = sources[table]
        assert s["read"] == count, table
        assert s["read"] == s["written"] + s["merged"] + s["rejected"] + s["ignored"], table
    assert sources["tags"]["ignored"] == sources["tags"]["read"]
    assert sources["configuration"]["ignored"] == 1
    # the report says where each pick-list came from, and what the tap dropped
    assert "Atomic CRM dealStages: configuration table." in report["notices"]
    assert "Atomic CRM taskTypes: Atomic CRM's defaults." in report["notices"]
    assert any("Tag id 3 no longer exists" in n for n in report["notices"])
    # the e-mail and phone types Twenty cannot hold are listed as dropped
    assert any(n.startswith("Atomic CRM e-mail types are dropped") for n in report["notices"])
    assert any(n.startswith("Atomic CRM phone types are dropped") for n in report["notices"])


def test_configuration_without_a_twenty_counterpart_is_inventoried(csv_run: dict) -> None:
    """The fake's configuration row stores a title and a light logo (docs/sources.md §2.7): both
    are listed from the table, the dark logo and the pipeline statuses as Atomic's defaults."""
    (section,) = csv_run["report"]["inventories"]
    assert section["section"] == "Atomic CRM configuration with no Twenty counterpart"
    items = {i["name"]: i["details"] for i in section["items"]}
    assert set(items) == {"title", "lightModeLogo", "darkModeLogo", "dealPipelineStatuses"}
    assert (items["title"]["value"], items["title"]["from"]) == (
        "Acme CRM",
        "the configuration table",
    )
    assert items["lightModeLogo"]["value"] == "https://acme.example/logo-light.svg"
    assert items["darkModeLogo"]["from"] == "Atomic CRM's default"
    assert items["dealPipelineStatuses"]["value"] == '["won"]'
    text = (csv_run["dir"] / "report.md").read_text()
    assert "- **title** — what: the app's title; value: Acme CRM" in text
    page = (csv_run["dir"] / "report.html").read_text()
    assert "<h2>Cannot move: Atomic CRM configuration with no Twenty counterpart</h2>" in page
    assert "<td><strong>title</strong></td>" in page


def test_people_keep_lists_tags_custom_columns_and_companies(csv_run: dict) -> None:
    run = csv_run["dir"]
    people = {p["Atomic CRM ID"]: p for p in csv_rows(run, "*-people-*.csv")}
    companies = {c["Atomic CRM ID"]: c for c in csv_rows(run, "*-companies-*.csv")}
    ana, ben = people["1"], people["2"]
    assert (ana["Emails / Primary Email"], ana["Emails / Additional Emails"]) == (
        "ana@acme.example", '["ana@home.example"]',
    )  # fmt: skip
    assert ana["Phones / Primary Phone Number"] == "4155550101"
    assert ana["Tags"] == '["VIP", "PARTNER"]'
    assert (ana["Gender"], ana["Status"], ana["Loyalty Points"]) == ("FEMALE", "HOT", "120")
    assert ana["Company / Id"] == companies["1"]["Id"]
    # empty jsonb lists and no company: loaded, empty; the deleted tag is gone
    assert (ben["Emails / Primary Email"], ben["Company / Id"], ben["Tags"]) == ("", "", '["VIP"]')
    # +44 is GB whatever the default (US); her national number is read in Globex's France
    olivia = people["5"]
    assert (
        olivia["Phones / Primary Phone Number"],
        olivia["Phones / Primary Phone Country Code"],
        olivia["Phones / Primary Phone Calling Code"],
    ) == ("7700900123", "GB", "+44")
    assert json.loads(olivia["Phones / Additional Phones"]) == [
        {"number": "142685300", "countryCode": "FR", "callingCode": "+33"}
    ]
    acme = companies["1"]
    assert (acme["Sector"], acme["Employees"], acme["Industry Code"]) == ("IT", "50", "42")
    assert acme["Address / Address 1"] == "1 Main St" and acme["Address / State"] == "CA"
    # revenue in the configuration's currency; the avatar URL in Twenty's avatar field
    revenue = (acme["Annual Revenue / Amount"], acme["Annual Revenue / Currency"])
    assert revenue == ("1500000", "EUR")
    assert ana["Avatar"] == "https://gravatar.example/a.png"


def test_deals_stages_contacts_and_junction(csv_run: dict) -> None:
    run, report = csv_run["dir"], csv_run["report"]
    people = {p["Atomic CRM ID"]: p["Id"] for p in csv_rows(run, "*-people-*.csv")}
    deals = {d["Atomic CRM ID"]: d for d in csv_rows(run, "*-opportunities-*.csv")}
    assert (deals["1"]["Stage"], deals["2"]["Stage"], deals["3"]["Stage"]) == (
        "PROPOSAL", "ON_HOLD", "CUSTOMER",
    )  # fmt: skip
    assert deals["1"]["Point of Contact / Id"] == people["1"]
    assert deals["1"]["Amount / Currency"] == "EUR"
    added = {
        a["value"]: a["label"]
        for o in report["provisioning"]["options"]
        if o["field"] == "stage"
        for a in o["add"]
    }
    # every configured stage Twenty lacks, used or not (no deal is Lost), labelled and ordered as
    # in Atomic's configuration
    assert list(added.items()) == [("ON_HOLD", "On hold"), ("LOST", "Lost")]
    # a list Twenty has no field for is created whole, in Atomic's order: the configuration has
    # no dealCategories, so Atomic's defaults (deals use two of them)
    fields = {
        f["name"]: f for f in report["provisioning"]["fields"] if f["object"] == "opportunity"
    }
    assert [o["label"] for o in fields["category"]["options"]] == [
        "Other", "Copywriting", "Print project", "UI Design", "Website design",
    ]  # fmt: skip
    links = csv_rows(run, "*-dealContacts-*.csv")
    deal1 = [x["Contact / Id"] for x in links if x["Deal / Id"] == deals["1"]["Id"]]
    assert deal1 == [people["1"], people["2"], people["4"]]
    # deal 3 names contact 99, which no longer exists: that one link is rejected, with reason
    objects = {o["object"]: o for o in report["objects"]}
    assert objects["dealContact"]["rejected"] == 1
    rejects = [r for r in side(run, "rejects.csv") if r["object"] == "dealContact"]
    assert len(rejects) == 1 and rejects[0]["source_key"] == "3:99"


def test_notes_tasks_and_their_targets(csv_run: dict) -> None:
    run = csv_run["dir"]
    tasks = {t["Atomic CRM ID"]: t for t in csv_rows(run, "*-tasks-*.csv")}
    assert (tasks["1"]["Status"], tasks["2"]["Status"]) == ("DONE", "TODO")
    assert tasks["3"]["Type"] == "SAUNA"
    notes = {n["Atomic CRM ID"]: n for n in csv_rows(run, "*-notes-*.csv")}
    assert set(notes) == {"contact_notes-1", "contact_notes-2", "deal_notes-1"}
    # a note's title is its first line; the body keeps every line
    first = notes["contact_notes-1"]
    assert first["Title"] == "Call went well."
    assert first["Body / Markdown"] == "Call went well.\nSend the deck."
    objects = {o["object"]: o for o in csv_run["report"]["objects"]}
    assert objects["noteTarget"]["received"] == 3 and objects["taskTarget"]["received"] == 3


def test_attachments_downloaded_or_listed(csv_run: dict) -> None:
    run = csv_run["dir"]
    manifest = {m["source_key"]: m for m in side(run, "attachments-manifest.csv")}
    assert manifest["companies:1:logo:0"]["exists"] == "True"
    assert manifest["contact_notes:1:attachments:0"]["exists"] == "True"
    # missing in the bucket, and only-external files: listed, with where they are
    assert manifest["deal_notes:1:attachments:0"]["exists"] == "False"
    assert (
        manifest["contact_notes:1:attachments:1"]["file"] == "https://elsewhere.example/spec.docx"
    )
    assert "contacts:1:avatar:0" not in manifest  # only a URL: the person's avatarUrl
    # the bucket is private: every download used the authenticated endpoint
    assert {c[0] for c in csv_run["calls"]} == {"authenticated"}


def test_into_the_fake_twenty(atomic: AtomicDb, tmp_path: Path) -> None:
    twenty = FakeTwenty(members=("alice@atomic.example", "admin@acme.test"))
    twenty.start()
    try:
        with FakeStorage(FILES, public=True) as storage:
            run = meltano_run(
                atomic,
                tmp_path / "out",
                storage,
                {
                    "TAP_SUPABASE_ATOMIC_STORAGE_ACCESS": "public",
                    **e2e_run.api_env(twenty, tmp_path / "state"),
                },
            )
    finally:
        twenty.stop()
    assert twenty.violations == []
    assert twenty.api_key not in run["log"]
    assert run["report"]["balanced"]
    people = {p["atomicCrmId"]: p for p in twenty.live("person") if p.get("atomicCrmId")}
    assert set(people) == {"1", "2", "3", "4", "5"}
    assert people["1"]["emails"]["primaryEmail"] == "ana@acme.example"
    # Olivia lands whole: the fake checks phones as Twenty does (docs/twenty-contract.md §7)
    assert people["5"]["phones"]["primaryPhoneCountryCode"] == "GB"
    objects = {o["object"]: o for o in run["report"]["objects"]}
    assert objects["person"]["rejected"] == 0 and objects["person"]["written"] == 5
    assert people["1"]["tags"] == ["VIP", "PARTNER"]
    assert people["1"]["avatarUrl"] == "https://gravatar.example/a.png"
    deals = {d["atomicCrmId"]: d for d in twenty.live("opportunity")}
    assert deals["2"]["stage"] == "ON_HOLD"
    links = [x for x in twenty.live("dealContact") if x["opportunityId"] == deals["1"]["id"]]
    assert {x["personId"] for x in links} == {people[k]["id"] for k in ("1", "2", "4")}
    # owners resolved by e-mail (Alice is a member; Bob is not, so the fallback owns his)
    companies = {c["atomicCrmId"]: c for c in twenty.live("company")}
    members = {m["userEmail"]: m["id"] for m in twenty.live("workspaceMember")}
    assert companies["1"]["accountOwnerId"] == members["alice@atomic.example"]
    # the two Storage files were uploaded to Twenty; the files not found (missing in the bucket,
    # or only an external link) are attachments without a file, as in CSV mode
    assert sorted(f["bytes"] for f in twenty.files.values()) == sorted(FILES.values())
    attachments = {a["name"]: a for a in twenty.live("attachment")}
    assert {n for n, a in attachments.items() if not a.get("file")} == {
        "quote.xlsx", "spec.docx", "globex.ico",
    }  # fmt: skip
    (stage,) = [f for f in twenty.objects["opportunity"]["fields"] if f["name"] == "stage"]
    assert [o["value"] for o in stage["options"]][-2:] == ["ON_HOLD", "LOST"]
