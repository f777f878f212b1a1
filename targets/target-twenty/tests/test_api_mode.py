"""API mode against the fake Twenty (tests/fakes/twenty.py), over real HTTP on loopback.

Every test ends by checking that each request target-twenty sent matches Twenty's own OpenAPI
documents (the fixture's teardown).
"""

from __future__ import annotations

import io
import json
from contextlib import redirect_stdout
from pathlib import Path
from typing import Any

import pytest
import requests
from fakes.twenty import FakeTwenty
from target_twenty.rollback import rollback
from target_twenty.target import TargetTwenty
from twenty_builders import COMPANY, OPPORTUNITY, PERSON, Run, prop, record, rid, schema

KEY = {"Authorization": "Bearer test-api-key"}
MATTER = schema(
    "matter",
    {
        "name": prop("TEXT"),
        "clientId": prop(
            "RELATION", target="person", match="id", label="Client", inverseLabel="Matters"
        ),
    },
    custom=True,
    namePlural="matters",
    labelSingular="Matter",
    labelPlural="Matters",
)


@pytest.fixture
def fake():
    server = FakeTwenty()
    server.start()
    yield server
    server.stop()
    assert server.violations == []


class ApiRunner:
    """Runs target-twenty in API mode against a fake Twenty; ``config`` is the rollback's."""

    def __init__(self, tmp_path: Path) -> None:
        self.output = tmp_path / "out"

    def __call__(self, server: FakeTwenty, messages: list[dict], **config: Any) -> Run:
        cfg = {
            "mode": "api",
            "api_url": server.url,
            "api_key": "test-api-key",
            "output_dir": str(self.output),
            "requests_per_minute": 6000,
            "progress_seconds": 60,
            **config,
        }
        target = TargetTwenty(config=cfg)
        buffer = io.StringIO()
        with redirect_stdout(buffer):
            target.listen(io.StringIO("".join(json.dumps(m) + "\n" for m in messages)))
        return Run(self.output, buffer.getvalue())

    def config(self, server: FakeTwenty, **extra: Any) -> dict[str, Any]:
        return {
            "api_url": server.url,
            "api_key": "test-api-key",
            "output_dir": str(self.output),
            **extra,
        }


@pytest.fixture
def api(tmp_path: Path) -> ApiRunner:
    return ApiRunner(tmp_path)


def base_input() -> list[dict]:
    return [
        COMPANY,
        PERSON,
        OPPORTUNITY,
        MATTER,
        record(
            "company",
            1,
            name="Acme",
            domainName={"primaryLinkUrl": "https://acme.com"},
            employees=12,
            accountOwnerId="BOB.OWNER@acme.test",
        ),
        record("company", 2, name="Acme UK", parentCompanyId=rid("company", 1)),
        record(
            "person",
            1,
            name={"firstName": "Ana", "lastName": "Ruiz"},
            emails={"primaryEmail": "ana@acme.com"},
            companyId=rid("company", 1),
        ),
        record(
            "opportunity",
            "d1",
            name="Deal",
            stage="NEGOTIATION",
            amount={"amountMicros": 5_000_000, "currencyCode": "EUR"},
            companyId=rid("company", 1),
            pointOfContactId=rid("person", 1),
        ),
        record("matter", "m1", name="M&A", clientId=rid("person", 1)),
        {"type": "STATE", "value": {"bookmarks": {"done": True}}},
    ]


def writes(server: FakeTwenty) -> list[dict]:
    return [e for e in server.log if e["method"] != "GET"]


def test_a_load_provisions_first_then_writes_parents_first_with_original_dates(fake, api) -> None:
    run = api(fake, base_input())
    assert run.report["balanced"]
    fields = {f["name"] for f in fake.objects["company"]["fields"]}
    assert {"employees", "parentCompany"} <= fields  # v2.21 lacks employees: made custom
    assert "NEGOTIATION" in {
        o["value"]
        for f in fake.objects["opportunity"]["fields"]
        if f["name"] == "stage"
        for o in f["options"]
    }
    assert "matter" in fake.objects
    acme = fake.records["company"][rid("company", 1)]
    assert acme["employees"] == 12
    assert acme["createdBy"] == {"source": "IMPORT", "name": "crm2twenty migration"}
    bob = next(m for m in fake.live("workspaceMember") if m["userEmail"] == "Bob.Owner@acme.test")
    assert acme["accountOwnerId"] == bob["id"]  # owner matched by e-mail, case-insensitively
    assert fake.records["company"][rid("company", 2)]["parentCompanyId"] == acme["id"]
    assert fake.records["matter"][rid("matter", "m1")]["clientId"] == rid("person", 1)
    posted = [e["path"] for e in writes(fake) if e["path"].startswith("/rest/batch/")]
    assert (
        posted.index("/rest/batch/companies")
        < posted.index("/rest/batch/people")
        < posted.index("/rest/batch/opportunities")
    )
    assert json.loads(run.stdout.strip().splitlines()[-1]) == {"bookmarks": {"done": True}}


def test_a_second_run_provisions_nothing_and_duplicates_nothing(fake, api) -> None:
    api(fake, base_input())
    before = fake.snapshot()
    metadata_writes = len([e for e in writes(fake) if "/metadata/" in e["path"]])
    second = api(fake, base_input())
    assert len([e for e in writes(fake) if "/metadata/" in e["path"]]) == metadata_writes
    assert second.report["provisioning"] == {"objects": [], "fields": [], "options": []}
    after = fake.snapshot()
    assert before["fields"] == after["fields"]
    assert {k: len(v) for k, v in before["records"].items()} == {
        k: len(v) for k, v in after["records"].items()
    }
    assert second.report["api"]["updated"] == {
        "company": 2,
        "person": 1,
        "opportunity": 1,
        "matter": 1,
    }


def test_dry_run_writes_nothing_and_predicts_the_exact_requests(fake, api) -> None:
    plan = api(fake, base_input(), dry_run=True, batch_size=1)
    assert writes(fake) == []
    assert fake.live("company") == []
    predicted = plan.report["dry_run"]["requests"]
    assert plan.report["dry_run"]["eta_minutes"] == round(predicted / 6000, 1)
    assert all(o["skipped"] for o in plan.report["objects"]) and plan.report["balanced"]
    head = (plan.dir / "report.md").read_text(encoding="utf-8").split("\n## ")[0]
    assert f"**Dry run: nothing was written to Twenty.** A real run would send {predicted} " in head
    before = len(writes(fake))
    api(fake, base_input(), batch_size=1)
    assert len(writes(fake)) - before == predicted


def test_existing_unique_values_link_merge_or_reject(fake, api) -> None:
    existing = str(__import__("uuid").uuid4())
    requests.post(
        fake.url + "/rest/batch/people",
        json=[{"id": existing, "emails": {"primaryEmail": "ana@acme.com"}, "jobTitle": "CEO"}],
        headers=KEY,
        timeout=10,
    )
    run = api(fake, base_input(), on_duplicate="link")
    assert rid("person", 1) not in fake.records["person"]
    deal = fake.records["opportunity"][rid("opportunity", "d1")]
    assert deal["pointOfContactId"] == existing
    (match,) = run.report["preflight"]["matched"]
    assert match["existing_id"] == existing and match["decision"] == "link"
    assert run.counts("person")["merged"] == 1 and run.report["balanced"]
    # merges.csv names the survivor in the workspace, as for a duplicate within the run
    (merged,) = [m for m in run.side("merges.csv") if m["merged_id"] == rid("person", 1)]
    assert merged["survivor_id"] == existing
    assert merged["survivor_source"] == "(already in the workspace)"


def test_merge_writes_as_the_existing_record(fake, api) -> None:
    existing = str(__import__("uuid").uuid4())
    requests.post(
        fake.url + "/rest/batch/people",
        json=[{"id": existing, "emails": {"primaryEmail": "ana@acme.com"}, "jobTitle": "CEO"}],
        headers=KEY,
        timeout=10,
    )
    api(fake, base_input(), on_duplicate="merge")
    person = fake.records["person"][existing]
    assert (
        person["name"] == {"firstName": "Ana", "lastName": "Ruiz"} and person["jobTitle"] == "CEO"
    )
    assert fake.records["matter"][rid("matter", "m1")]["clientId"] == existing


def test_reject_names_the_record_that_holds_the_value(fake, api) -> None:
    existing = str(__import__("uuid").uuid4())
    requests.post(
        fake.url + "/rest/batch/people",
        json=[{"id": existing, "emails": {"primaryEmail": "ana@acme.com"}}],
        headers=KEY,
        timeout=10,
    )
    run = api(fake, base_input(), on_duplicate="reject")
    reasons = [r["reason"] for r in run.side("rejects.csv")]
    assert f"emails 'ana@acme.com' already belongs to person {existing} in the workspace" in reasons
    assert run.report["balanced"]


def test_a_match_in_the_trash_is_restored_and_listed(fake, api) -> None:
    trashed = str(__import__("uuid").uuid4())
    requests.post(
        fake.url + "/rest/batch/people",
        json=[{"id": trashed, "emails": {"primaryEmail": "ana@acme.com"}}],
        headers=KEY,
        timeout=10,
    )
    requests.delete(
        f"{fake.url}/rest/people/{trashed}", params={"soft_delete": "true"}, headers=KEY, timeout=10
    )
    run = api(fake, base_input())
    assert not fake.records["person"][trashed]["deletedAt"]
    assert run.report["preflight"]["restored"] == [{"object": "person", "id": trashed}]
    assert run.report["api"]["restored"] == [{"object": "person", "id": trashed}]


def test_a_refused_row_is_isolated_and_the_good_rows_land(fake, api) -> None:
    api(fake, [COMPANY, record("company", 1, name="Acme")])
    requests.delete(f"{fake.url}/rest/companies/{rid('company', 1)}", headers=KEY, timeout=10)
    people = [
        record(
            "person",
            i,
            emails={"primaryEmail": f"p{i}@x.com"},
            companyId=rid("company", 1) if i == 3 else None,
        )
        for i in range(8)
    ]
    run = api(fake, [PERSON, *people])
    assert len(fake.live("person")) == 7
    (reject,) = run.side("rejects.csv")
    assert reject["source_key"] == "3"
    assert "Twenty refused the record" in reject["reason"]
    assert "violates foreign key constraint" in reject["reason"]
    assert run.report["balanced"]


def test_the_batch_size_shrinks_to_twentys_cap(api) -> None:
    with FakeTwenty(batch_cap=7) as fake:
        run = api(
            fake, [COMPANY] + [record("company", i, name=f"C{i}") for i in range(20)], batch_size=60
        )
        assert len(fake.live("company")) == 20
        assert run.report["api"]["batch_size"] == 7
        refused = [
            e for e in fake.log if e["path"] == "/rest/batch/companies" and e["status"] == 400
        ]
        assert len(refused) == 1
        assert fake.violations == []


@pytest.mark.parametrize("headers", [False, True])
def test_rate_limited_requests_are_retried_and_nothing_is_lost(api, headers: bool) -> None:
    with FakeTwenty(rate_limit=4, window=1.0, retry_after_headers=headers) as fake:
        run = api(
            fake,
            [COMPANY] + [record("company", i, name=f"C{i}") for i in range(30)],
            batch_size=3,
            requests_per_minute=6000,
        )
        assert fake.counts["429"] > 0
        assert len(fake.live("company")) == 30
        assert run.report["api"]["rate_limited"] == fake.counts["429"]


def test_a_load_after_another_process_drained_the_bucket_is_never_refused(api) -> None:
    """Twenty's own limit (100 tokens per 60 s, a bucket: docs/twenty-contract.md §2.10), which
    a previous process has just emptied: the load starts cautiously and paces itself to the
    refill, so the server never answers 429."""
    with FakeTwenty(rate_limit=100, window=60) as fake:
        for _ in range(100):
            requests.get(fake.url + "/rest/companies", headers=KEY, timeout=10)
        assert (
            requests.get(fake.url + "/rest/companies", headers=KEY, timeout=10).status_code == 429
        )
        before = fake.counts["429"]
        api(
            fake,
            [COMPANY] + [record("company", i, name=f"C{i}") for i in range(8)],
            batch_size=2,
            requests_per_minute=100,
        )
        assert fake.counts["429"] == before
        assert len(fake.live("company")) == 8


def test_rollback_puts_the_workspace_back(fake, api) -> None:
    changed = str(__import__("uuid").uuid4())
    trashed = str(__import__("uuid").uuid4())
    requests.post(
        fake.url + "/rest/batch/people",
        json=[
            {"id": changed, "emails": {"primaryEmail": "ana@acme.com"}, "jobTitle": "CEO"},
            {"id": trashed, "emails": {"primaryEmail": "old@acme.com"}},
        ],
        headers=KEY,
        timeout=10,
    )
    requests.delete(
        f"{fake.url}/rest/people/{trashed}", params={"soft_delete": "true"}, headers=KEY, timeout=10
    )
    before = _comparable(fake.snapshot())
    messages = [*base_input(), record("person", 9, emails={"primaryEmail": "old@acme.com"})]
    run = api(fake, messages, on_duplicate="merge")
    assert fake.records["person"][changed]["name"]["firstName"] == "Ana"
    assert not fake.records["person"][trashed]["deletedAt"]
    done = rollback(api.config(fake), run.report["run_id"], remove_metadata=True)
    assert done["destroyed"] > 0 and done["reverted"] == 2 and done["metadata"] > 0
    assert _comparable(fake.snapshot()) == before
    again = api(fake, base_input())  # the registry forgot what was rolled back
    assert again.report["balanced"] and rid("company", 1) in fake.records["company"]


def _comparable(snapshot: dict) -> dict:
    """Equal workspaces: the same fields and records; ``updatedAt`` is the server's own, a
    record trashed again is in the trash (at a new time), a field set back to null equals one
    never set."""
    return {
        "fields": snapshot["fields"],
        "records": {
            obj: {
                rid_: {
                    k: (bool(v) if k == "deletedAt" else v)
                    for k, v in rec.items()
                    if k != "updatedAt" and v is not None
                }
                for rid_, rec in recs.items()
            }
            for obj, recs in snapshot["records"].items()
        },
    }


def test_a_sample_run_loads_a_few_with_their_parents_and_diffs_them(fake, api) -> None:
    people = [
        record("person", i, emails={"primaryEmail": f"p{i}@x.com"}, companyId=rid("company", i % 2))
        for i in range(10)
    ]
    companies = [record("company", i, name=f"C{i}") for i in range(5)]
    for person in people:
        person["record"]["_crm2twenty"]["src"] = {"emails.primaryEmail": "P@X.COM"}
    run = api(fake, [COMPANY, PERSON, *people, *companies], sample_size=2)
    assert len(fake.live("person")) == 2
    assert {c["name"] for c in fake.live("company")} == {"C0", "C1"}
    sample = run.report["sample"]
    assert sample["mismatches"] == 0 and sample["records"] == 4
    diff = run.side("sample-diff.csv")
    email = next(r for r in diff if r["field"] == "emails")
    assert email["twenty_value"] and email["flag"] == ""
    assert run.counts("person")["skipped"] == 8 and run.report["balanced"]
    head = (run.dir / "report.md").read_text(encoding="utf-8").split("\n## ")[0]
    assert "**Sample run: 4 records were loaded and read back; the other 11 wait" in head


def test_a_delta_run_updates_in_place_and_audits_prior_values(fake, api) -> None:
    api(fake, base_input())
    posted_before = len(writes(fake))
    delta = [
        COMPANY,
        record(
            "company", 1, name="Acme Renamed", domainName={"primaryLinkUrl": "https://acme.com"}
        ),
        record("company", 3, name="New Co"),
    ]
    run = api(fake, delta)
    assert fake.records["company"][rid("company", 1)]["name"] == "Acme Renamed"
    assert len(fake.live("company")) == 3
    assert len(writes(fake)) - posted_before == 1  # one batch
    assert run.report["api"]["created"] == {"company": 1}
    assert run.report["api"]["updated"] == {"company": 1}


def test_csv_leftovers_load_in_api_mode(fake, tmp_path, api) -> None:
    note = schema("note", {"title": prop("TEXT")})
    note_target = schema(
        "noteTarget",
        {
            "noteId": prop("RELATION", target="note", match="id", required=True),
            "targetCompanyId": prop("RELATION", target="company", match="id"),
        },
    )
    messages = [
        COMPANY,
        note,
        note_target,
        record("company", 1, name="Acme", accountOwnerId="admin@acme.test"),
        record("note", 1, title="n"),
        record("noteTarget", "1:c", noteId=rid("note", 1), targetCompanyId=rid("company", 1)),
    ]
    csv_out = tmp_path / "csv"
    target = TargetTwenty(config={"output_dir": str(csv_out)})
    with redirect_stdout(io.StringIO()):
        target.listen(io.StringIO("".join(json.dumps(m) + "\n" for m in messages)))
    csv_run = Run(csv_out, "")
    # the user imports the CSV files: the records exist in Twenty with our ids
    for row in csv_run.csv("*companies*"):
        requests.post(
            fake.url + "/rest/batch/companies",
            json=[{"id": row["Id"], "name": row["Name"]}],
            headers=KEY,
            timeout=10,
        )
    for row in csv_run.csv("*notes*"):
        requests.post(
            fake.url + "/rest/batch/notes",
            json=[{"id": row["Id"], "title": row["Title"]}],
            headers=KEY,
            timeout=10,
        )
    leftovers = [
        json.loads(x) for x in (csv_run.dir / "api-leftovers.singer").read_text().splitlines()
    ]
    run = api(fake, leftovers, state_dir=str(tmp_path / "other-state"))
    (target_row,) = fake.live("noteTarget")
    assert target_row["noteId"] == rid("note", 1) and target_row["targetCompanyId"] == rid(
        "company", 1
    )
    admin = next(m for m in fake.live("workspaceMember") if m["userEmail"] == "admin@acme.test")
    assert fake.records["company"][rid("company", 1)]["accountOwnerId"] == admin["id"]
    assert run.report["balanced"]


def test_attachments_are_uploaded_once_and_missing_files_are_listed(fake, api, tmp_path) -> None:
    (tmp_path / "a.txt").write_text("hello")
    attachment = schema(
        "attachment",
        {
            "name": prop("TEXT"),
            "fileCategory": prop("SELECT"),
            "targetCompanyId": prop("RELATION", target="company", match="id"),
        },
    )
    attachment["schema"]["properties"]["_file"] = {"type": "object", "x-twenty": {"internal": True}}
    files = [
        record(
            "attachment",
            1,
            name="a.txt",
            fileCategory="TEXT_DOCUMENT",
            targetCompanyId=rid("company", 1),
            _file={"path": str(tmp_path / "a.txt"), "exists": True},
        ),
        record(
            "attachment",
            2,
            name="gone.pdf",
            fileCategory="TEXT_DOCUMENT",
            targetCompanyId=rid("company", 1),
            _file={
                "path": str(tmp_path / "gone.pdf"),
                "relativePath": "files/gone.pdf",
                "exists": False,
            },
        ),
    ]
    run = api(fake, [COMPANY, attachment, record("company", 1, name="A"), *files])
    (stored,) = fake.live("attachment")
    url = next(iter(fake.files.values()))
    assert url["bytes"] == b"hello" and stored["file"][0]["label"] == "a.txt"
    assert "file missing in the export: files/gone.pdf" in run.side("rejects.csv")[0]["reason"]
    manifest = run.side("attachments-manifest.csv")
    assert [m["status"] for m in manifest] == ["written", "rejected"]
    api(fake, [COMPANY, attachment, record("company", 1, name="A"), *files[:1]])
    assert len(fake.files) == 1  # not uploaded twice


def test_attachments_on_an_older_server_use_the_legacy_upload(api, tmp_path) -> None:
    (tmp_path / "a.txt").write_text("hello")
    attachment = schema(
        "attachment",
        {"name": prop("TEXT"), "targetCompanyId": prop("RELATION", target="company", match="id")},
    )
    attachment["schema"]["properties"]["_file"] = {"type": "object", "x-twenty": {"internal": True}}
    with FakeTwenty(legacy_attachments=True) as fake:
        api(
            fake,
            [
                COMPANY,
                attachment,
                record("company", 1, name="A"),
                record(
                    "attachment",
                    1,
                    name="a.txt",
                    targetCompanyId=rid("company", 1),
                    _file={"path": str(tmp_path / "a.txt"), "exists": True},
                ),
            ],
        )
        (stored,) = fake.live("attachment")
        assert stored["fullPath"].endswith("/a.txt") and "file" not in stored
        assert next(iter(fake.files.values()))["bytes"] == b"hello"
        assert fake.violations == []
