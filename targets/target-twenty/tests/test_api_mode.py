"""API mode against the fake Twenty (tests/fakes/twenty.py), over real HTTP on loopback.

Every test ends by checking that each request target-twenty sent matches Twenty's own OpenAPI
documents (the fixture's teardown).
"""

from __future__ import annotations

import copy
import io
import json
import os
import sqlite3
import subprocess
import sys
from contextlib import redirect_stdout
from pathlib import Path
from typing import Any

import pytest
import requests
from fakes.twenty import TEST_API_KEY, FakeTwenty
from singer_sdk.exceptions import ConfigValidationError
from target_twenty.api.loader import _pair_by_unique
from target_twenty.audit import Action, Audit
from target_twenty.registry import WorkspaceMismatch
from target_twenty.rollback import rollback
from target_twenty.target import TargetTwenty
from target_twenty.workspace import Workspace
from twenty_builders import (
    COMPANY,
    OPPORTUNITY,
    PERSON,
    Run,
    prop,
    record,
    rid,
    schema,
    singer_input,
)

KEY = {"Authorization": f"Bearer {TEST_API_KEY}"}
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


# The fakes here do not limit requests unless a test says so: pace at 10,000 a second, so the
# tests spend no time waiting for tokens (the pacer's own tests and the limited fakes below
# cover pacing).
UNPACED = 600_000
# Retries after a 503, a dropped answer or a 429 without Retry-After back off from 10 ms, not 1 s:
# the tests count retries, not the seconds between them.
BACKOFF = 0.01


class ApiRunner:
    """Runs target-twenty in API mode against a fake Twenty; ``config`` is the rollback's."""

    def __init__(self, tmp_path: Path) -> None:
        self.output = tmp_path / "out"

    def __call__(self, server: FakeTwenty, messages: list[dict], **config: Any) -> Run:
        cfg = {
            "mode": "api",
            "api_url": server.url,
            "api_key": server.api_key,
            "output_dir": str(self.output),
            "requests_per_minute": UNPACED,
            "backoff_seconds": BACKOFF,
            "progress_seconds": 60,
            **config,
        }
        target = TargetTwenty(config=cfg)
        buffer = io.StringIO()
        with redirect_stdout(buffer):
            target.listen(singer_input(messages))
        return Run(self.output, buffer.getvalue())

    def config(self, server: FakeTwenty, **extra: Any) -> dict[str, Any]:
        return {
            "api_url": server.url,
            "api_key": server.api_key,
            "output_dir": str(self.output),
            "requests_per_minute": UNPACED,
            "backoff_seconds": BACKOFF,
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
    second = api(fake, base_input(), rewrite_unchanged=True)
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
    # a re-run of everything is a FULL run, and says so
    assert second.report["scope"] == {"kind": "full", "earlier_records": 5, "carried_again": 5}
    head = (second.dir / "report.md").read_text(encoding="utf-8").split("\n## ")[0]
    assert "**FULL run** — a re-run: 5 of its records were written by earlier runs." in head
    assert head.endswith("**All counts add up.**\n")


def test_an_unchanged_rerun_sends_nothing_and_says_unchanged(fake, api) -> None:
    api(fake, base_input())
    logged = len(fake.log)
    rerun = api(fake, base_input())
    sent = fake.log[logged:]
    assert [e for e in sent if e["method"] != "GET"] == []
    # no pre-flight read of a unique value our own records hold, no read-back for the audit:
    # only the member list (owners) is read
    reads = [e["path"] for e in sent if "/metadata" not in e["path"]]
    assert reads == ["/rest/workspaceMembers"]
    counts = {o["object"]: (o["written"], o.get("unchanged")) for o in rerun.report["objects"]}
    assert counts == {
        "company": (0, 2),
        "person": (0, 1),
        "opportunity": (0, 1),
        "matter": (0, 1),
    }
    assert rerun.report["balanced"]
    assert rerun.report["sources"] and all(s.get("unchanged") for s in rerun.report["sources"])
    assert rerun.report["workspace_id"] == fake.workspace_id
    # report.md names the workspace and shows what was not sent again, per object
    md = (rerun.dir / "report.md").read_text(encoding="utf-8")
    assert f"workspace: `{fake.workspace_id}` at " in md
    assert "5 records were unchanged since Twenty confirmed them" in md
    assert "| 1 | company | 2 | 0 | 2 | 0 | 0 | ✓ |" in md


def _kinds(counts: dict) -> dict:
    return {k: counts[k] for k in ("reads", "writes", "metadata", "uploads")}


def test_dry_run_writes_nothing_and_predicts_every_request(fake, api) -> None:
    # slow enough that the ETA of its 18 requests is no 0.0 (a tenth of a minute); the dry run
    # paces its own reads at it, so not slower (it waited 3 s at 60 a minute)
    pace = 180
    plan = api(fake, base_input(), dry_run=True, batch_size=1, requests_per_minute=pace)
    assert writes(fake) == []
    assert fake.live("company") == []
    dry = plan.report["dry_run"]
    assert dry["eta_minutes"] == round(dry["requests"] / pace, 1) > 0
    assert all(o["skipped"] for o in plan.report["objects"]) and plan.report["balanced"]
    assert plan.report["scope"]["kind"] == "dry_run" and not plan.report["complete"]
    assert plan.stdout.strip() == ""  # no STATE: the taps' bookmarks stay
    head = (plan.dir / "report.md").read_text(encoding="utf-8").split("\n## ")[0]
    assert (
        f"**DRY RUN — nothing was written to Twenty.** A real run would send {dry['requests']} "
        in head
    )
    assert "All counts add up" not in head
    # the real run sends exactly that: provisioning, pre-flight and member reads included
    for batch_size in (1, 2):  # a first load, then a re-run (it reads the values it replaces)
        plan = api(fake, base_input(), dry_run=True, batch_size=batch_size)
        dry = plan.report["dry_run"]
        before = fake.counts["requests"]
        real = api(fake, base_input(), batch_size=batch_size)
        assert (
            fake.counts["requests"] - before
            == dry["requests"]
            == sum(_kinds(real.report["requests"]).values())
        )
        predicted = _kinds({**dry, "metadata": dry["metadata_requests"]})
        assert predicted == _kinds(real.report["requests"])
    assert dry["writes"] == 0  # the re-run: every record unchanged since Twenty confirmed it


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


def test_a_record_twenty_refuses_for_a_value_lands_without_it_kept_in_raw(
    fake, api, caplog
) -> None:
    """A phone our checks pass but Twenty refuses (country US with calling code +44,
    docs/twenty-contract.md §7): the record is sent again without it, the value kept verbatim
    in `phonesRaw` (created on the fly), so it and the deal that points at it land; the log
    says so once for the cause."""
    conflicting = {
        "primaryPhoneNumber": "7700900123",
        "primaryPhoneCountryCode": "US",
        "primaryPhoneCallingCode": "+44",
    }
    good = {**conflicting, "primaryPhoneCountryCode": "GB"}
    people = [
        record("person", i, name={"firstName": f"P{i}", "lastName": "G"}, phones=phones)
        for i, phones in enumerate([conflicting, good, conflicting, good])
    ]
    deal = record("opportunity", "d1", name="Deal", pointOfContactId=rid("person", 0))
    caplog.clear()
    run = api(fake, [PERSON, OPPORTUNITY, *people, deal])
    live = {p["id"]: p for p in fake.live("person")}
    assert len(live) == 4 and run.side("rejects.csv") == []
    refused = live[rid("person", 0)]
    assert refused["phonesRaw"] == "+44 7700900123"
    assert not (refused.get("phones") or {}).get("primaryPhoneNumber")
    assert live[rid("person", 1)]["phones"]["primaryPhoneCountryCode"] == "GB"
    assert "phonesRaw" not in live[rid("person", 1)] or not live[rid("person", 1)]["phonesRaw"]
    (opportunity,) = fake.live("opportunity")
    assert opportunity["pointOfContactId"] == rid("person", 0)
    field = next(f for f in fake.objects["person"]["fields"] if f["name"] == "phonesRaw")
    assert (field["type"], field["label"]) == ("TEXT", "Phones (as in source)")
    repairs = [r for r in run.side("repairs.csv") if r["field"] == "phones"]
    assert len(repairs) == 2
    assert all(
        r["reason"] == "Twenty refused it: Provided country code and calling code are "
        "conflicting; kept verbatim in phonesRaw"
        for r in repairs
    )
    lines = [r.getMessage() for r in caplog.records if "Twenty refused" in r.getMessage()]
    assert lines == [
        "Twenty refused 2 person record(s): phones: Provided country code and calling code "
        "are conflicting; each was written without the value, kept verbatim in phonesRaw "
        "(repairs.csv lists them)"
    ]
    assert run.report["balanced"]
    # a re-run sends nothing again: the body Twenty confirmed is the one remembered
    again = api(fake, [PERSON, OPPORTUNITY, *people, deal])
    assert again.report["api"]["created"] == {} and again.report["api"]["updated"] == {}


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


def test_a_batch_over_twentys_body_limit_is_halved_and_every_record_lands(fake, api) -> None:
    # two companies of 6 MB: together over the 10 MiB body limit (docs/twenty-contract.md §2.14)
    big = [record("company", i, name=f"C{i} " + "x" * 6_000_000) for i in range(2)]
    run = api(fake, [COMPANY, *big, record("company", 2, name="small")])
    assert sorted(len(c["name"]) for c in fake.live("company")) == [5, 6_000_003, 6_000_003]
    statuses = [e["status"] for e in fake.log if e["path"] == "/rest/batch/companies"]
    assert statuses.count(413) == 1  # the whole batch once, then its halves
    assert run.report["balanced"]
    assert run.counts("company")["written"] == 3


@pytest.mark.parametrize("headers", [False, True])
def test_rate_limited_requests_are_retried_and_nothing_is_lost(api, headers: bool) -> None:
    with FakeTwenty(rate_limit=4, window=1.0, retry_after_headers=headers) as fake:
        run = api(
            fake,
            [COMPANY] + [record("company", i, name=f"C{i}") for i in range(30)],
            batch_size=3,
            requests_per_minute=6000,
            # the default: the bucket's refill (a token every 0.25 s) sets this test's pace, and
            # backing off from 10 ms met 7 times the 429s, each a try of max_retries
            backoff_seconds=1,
        )
        assert fake.counts["429"] > 0
        assert len(fake.live("company")) == 30
        assert run.report["api"]["rate_limited"] == fake.counts["429"]
        sent = run.report["requests"]
        assert (
            sent["rate_limited"] == fake.counts["429"] and sent["retries"] >= sent["rate_limited"]
        )
        assert sent["waited_seconds"] > 0  # paused after each 429
        assert sum(_kinds(sent).values()) == fake.counts["requests"]
        assert sent["writes"] == sum(1 for e in fake.log if e["path"].startswith("/rest/batch/"))
        assert sent["metadata"] == sum(1 for e in fake.log if "/metadata/" in e["path"])
        md = (run.dir / "report.md").read_text(encoding="utf-8")
        assert f"{fake.counts['429']} answered 429" in md


def test_a_load_after_another_process_drained_the_bucket_is_never_refused(api) -> None:
    """Twenty's own limit (100 tokens per 60 s, a bucket: docs/twenty-contract.md §2.10), which
    a previous process has just emptied: the load starts cautiously and paces itself to the
    refill, so the server never answers 429.

    The load asks 80 a minute, not 100: the pacer's 15 ms margin covers a request that reaches
    Twenty late, but this fake counts a request when its handler thread gets a core, and on 2
    cores at a load of 15 that came up to 90 ms after the client sent it (a gap shorter than
    0.6 s at the fake, hence a 429). 80 a minute leaves 165 ms; a load that started with a full
    bucket, or did not pace, is still refused. The pace at the very ceiling is the pacer's own
    test against an independent bucket (lib/crm2twenty-common/tests/test_pacer.py)."""
    with FakeTwenty(rate_limit=100, window=60) as fake:
        for _ in range(100):
            requests.get(fake.url + "/rest/companies", headers=KEY, timeout=10)
        assert (
            requests.get(fake.url + "/rest/companies", headers=KEY, timeout=10).status_code == 429
        )
        before = fake.counts["429"]
        api(  # two batches, each paced to the refill (0.75 s apiece: kept few)
            fake,
            [COMPANY] + [record("company", i, name=f"C{i}") for i in range(4)],
            batch_size=2,
            requests_per_minute=80,
        )
        assert fake.counts["429"] == before
        assert len(fake.live("company")) == 4


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
    # the activities Twenty wrote for the destroyed opportunity and matter are gone too
    assert done["activities"] > 0 and fake.orphan_activities() == []
    again = api(fake, base_input())  # the registry forgot what was rolled back
    assert again.report["balanced"] and rid("company", 1) in fake.records["company"]


def test_a_changed_record_trashed_since_is_restored_and_audited_as_restored(fake, api) -> None:
    api(fake, base_input())
    uk = rid("company", 2)
    requests.delete(
        f"{fake.url}/rest/companies/{uk}", params={"soft_delete": "true"}, headers=KEY, timeout=10
    )
    delta = api(fake, [COMPANY, record("company", 2, name="Acme UK Ltd")])
    assert not fake.records["company"][uk]["deletedAt"]
    actions = [
        w.action.value
        for w in Audit(api.output / "state" / "audit.sqlite").writes(delta.report["run_id"])
        if w.id == uk
    ]
    assert actions == ["restored", "updated"]  # a rollback puts it back in the trash


def test_after_a_rollback_of_updates_the_same_delta_is_sent_again(fake, api) -> None:
    api(fake, base_input())
    renamed = [COMPANY, record("company", 2, name="Acme UK Ltd", parentCompanyId=rid("company", 1))]
    delta = api(fake, renamed)
    assert delta.report["api"]["updated"] == {"company": 1}
    rollback(api.config(fake), delta.report["run_id"])
    assert fake.records["company"][rid("company", 2)]["name"] == "Acme UK"
    again = api(fake, renamed)  # the registry no longer vouches for the rolled-back payload
    assert again.report["api"]["updated"] == {"company": 1}
    assert fake.records["company"][rid("company", 2)]["name"] == "Acme UK Ltd"


@pytest.mark.slow
def test_the_reports_rollback_command_undoes_the_run_as_written(fake, api) -> None:
    before = _comparable(fake.snapshot())
    run = api(fake, base_input())
    command = run.report["api"]["rollback"]
    assert fake.api_key not in command  # the key stays in the environment
    assert command in (run.dir / "report.md").read_text(encoding="utf-8")
    env = {
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}",
        "TARGET_TWENTY_API_KEY": fake.api_key,
    }
    done = subprocess.run(  # noqa: S602 - run by a shell, as the user would type it
        command, shell=True, env=env, capture_output=True, text=True, timeout=120, check=False
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["destroyed"] > 0
    after = _comparable(fake.snapshot())  # (the custom object stays: no --remove-metadata)
    assert {k: v for k, v in after["records"].items() if v} == {
        k: v for k, v in before["records"].items() if v
    }


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


def _people_and_companies() -> list[dict]:
    """10 people of companies 0 and 1 (each with its source e-mail kept), then 5 companies."""
    people = [
        record("person", i, emails={"primaryEmail": f"p{i}@x.com"}, companyId=rid("company", i % 2))
        for i in range(10)
    ]
    for person in people:
        person["record"]["_crm2twenty"]["src"] = {"emails.primaryEmail": "P@X.COM"}
    companies = [record("company", i, name=f"C{i}") for i in range(5)]
    return [COMPANY, PERSON, *people, *companies]


def test_a_sample_run_loads_a_few_with_their_parents_and_diffs_them(fake, api) -> None:
    run = api(fake, _people_and_companies(), sample_size=2)
    assert len(fake.live("person")) == 2
    assert {c["name"] for c in fake.live("company")} == {"C0", "C1"}
    sample = run.report["sample"]
    assert sample["mismatches"] == 0 and sample["records"] == 4
    diff = run.side("sample-diff.csv")
    email = next(r for r in diff if r["field"] == "emails.primaryEmail")
    assert email["source_value"] == "P@X.COM" and email["flag"] == ""
    assert email["twenty_value"] == email["sent_value"]
    assert sample["by_field"]["person.emails.primaryEmail"] == {"compared": 2, "mismatches": 0}
    assert run.counts("person")["skipped"] == 8 and run.report["balanced"]
    assert run.report["scope"]["kind"] == "sample" and not run.report["complete"]
    assert run.stdout.strip() == ""  # no STATE: the taps' bookmarks stay
    head = (run.dir / "report.md").read_text(encoding="utf-8").split("\n## ")[0]
    assert "**SAMPLE — not a complete migration: 4 records were loaded and read back; the " in head
    assert "the other 11 were skipped" in head and "All counts add up" not in head


def test_a_full_run_after_a_sample_sends_the_rest_not_the_sample_again(fake, api) -> None:
    # the README's order (tests/test_e2e_api_load.py runs it with `meltano run`): a sample run,
    # then the full run, which Meltano hands every record again (the sample moved no bookmark)
    messages = _people_and_companies()
    api(fake, messages, sample_size=2)
    assert {obj: len(fake.live(obj)) for obj in ("company", "person")} == {
        "company": 2,
        "person": 2,
    }
    logged = len(fake.log)
    full = api(fake, messages)
    sent = [e for e in fake.log[logged:] if e["method"] != "GET"]
    assert sent and all(e["path"] in ("/rest/batch/companies", "/rest/batch/people") for e in sent)
    for obj, written in (("company", 3), ("person", 8)):
        assert (full.counts(obj)["written"], full.counts(obj).get("unchanged")) == (written, 2)
        assert len(fake.live(obj)) == written + 2
    assert full.report["api"]["created"] == {"company": 3, "person": 8}
    assert full.report["scope"]["kind"] == "full" and full.report["complete"]
    assert full.report["balanced"]


def test_the_sample_diff_compares_composites_by_sub_field_and_owners_by_member(fake, api) -> None:
    run = api(fake, base_input(), sample_size=5)
    by_field = run.report["sample"]["by_field"]
    for field in (
        "company.accountOwnerId",
        "company.domainName.primaryLinkUrl",
        "opportunity.amount.amountMicros",
        "opportunity.amount.currencyCode",
        "person.emails.primaryEmail",
        "person.name.firstName",
    ):
        assert by_field[field] == {"compared": 1, "mismatches": 0}, field
    owner = next(r for r in run.side("sample-diff.csv") if r["field"] == "accountOwnerId")
    bob = next(m["id"] for m in fake.live("workspaceMember") if m["userEmail"].startswith("Bob"))
    assert owner["sent_value"] == owner["twenty_value"] == bob
    md = (run.dir / "report.md").read_text(encoding="utf-8")
    assert "| `opportunity.amount.amountMicros` | 1 | 0 |" in md


def test_a_value_twenty_stored_otherwise_is_a_mismatch_in_its_sub_field() -> None:
    from target_twenty.api.sample import _compared
    from target_twenty.owners import Owners
    from target_twenty.plan import FieldPlan

    amount = FieldPlan("amount", "amount", "CURRENCY", "Amount", existing=None, intent={})
    sent = {"amountMicros": 5_000_000, "currencyCode": "EUR"}
    got = {"amount": {"amountMicros": 5_000_000.0, "currencyCode": "USD"}}
    rows = list(_compared(amount, sent, got, Owners({}, None, by_value=False)))
    assert [(r[0], r[-1]) for r in rows] == [
        ("amount.amountMicros", True),
        ("amount.currencyCode", False),
    ]


def test_owner_matching_is_counted_over_every_record_in_a_dry_run(api) -> None:
    with FakeTwenty(members=("admin@acme.test",)) as fake:
        messages = [
            COMPANY,
            *[record("company", i, name=f"C{i}", accountOwnerId="bob@acme.test") for i in range(3)],
            record("company", 9, name="Own", accountOwnerId="ADMIN@acme.test"),
        ]
        plan = api(fake, messages, dry_run=True)
        matching = plan.report["owners"]["matching"]
        assert matching == {"links": 4, "matched": 1, "fallback": 0, "unowned": 3}
        assert plan.report["owners"]["orphans"] == ["bob@acme.test"]
        run = api(fake, messages, fallback_owner_email="admin@acme.test")
        matching = run.report["owners"]["matching"]
        assert matching == {"links": 4, "matched": 1, "fallback": 3, "unowned": 0}
        admin = fake.live("workspaceMember")[0]["id"]
        assert {c["accountOwnerId"] for c in fake.live("company")} == {admin}


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
    # its input leaves out records the first run wrote: a DELTA
    assert run.report["scope"] == {"kind": "delta", "earlier_records": 5, "carried_again": 1}
    head = (run.dir / "report.md").read_text(encoding="utf-8").split("\n## ")[0]
    assert (
        "**DELTA — this run's input holds what changed:** earlier runs of this migration " in head
    )
    assert "wrote 5 records, 4 of which this input does not carry" in head


def test_a_delta_sends_only_the_changed_records_whatever_their_stream(fake, api) -> None:
    first = [*base_input()[:-1], record("company", 3, name="Holding")]
    api(fake, first)
    logged = len(fake.log)
    delta = copy.deepcopy(first)  # the taps re-send every row of non-incremental streams
    for message in delta[4:]:
        rec = message["record"]
        if rec["id"] == rid("matter", "m1"):
            rec["name"] = "M&A (closed)"
        if rec["id"] == rid("person", 1):
            rec["name"] = {"firstName": "Ana", "lastName": "Ruiz-Soto"}
        if rec["id"] == rid("company", 2):
            rec["parentCompanyId"] = rid("company", 3)  # a deferred (second-pass) relation
    run = api(fake, delta)
    posted = [e["path"] for e in fake.log[logged:] if e["method"] != "GET"]
    assert sorted(posted) == [
        "/rest/batch/companies",  # company 2, first pass
        "/rest/batch/companies",  # and its new parent, second pass
        "/rest/batch/matters",
        "/rest/batch/people",
    ]
    assert fake.records["matter"][rid("matter", "m1")]["name"] == "M&A (closed)"
    assert fake.records["company"][rid("company", 2)]["parentCompanyId"] == rid("company", 3)
    assert run.report["api"]["updated"] == {"company": 1, "person": 1, "matter": 1}
    unchanged = {o["object"]: o.get("unchanged") for o in run.report["objects"]}
    assert unchanged == {"company": 2, "person": None, "opportunity": 1, "matter": None}
    audit = Audit(Path(api.output) / "state" / "audit.sqlite")
    priors = {w.id: w.prior for w in audit.writes(run.report["run_id"])}
    assert (priors[rid("matter", "m1")] or {})["name"] == "M&A"  # rollback puts the old name back
    # the next run finds the changed records confirmed: nothing to send
    logged = len(fake.log)
    api(fake, delta)
    assert [e for e in fake.log[logged:] if e["method"] != "GET"] == []


def test_a_dry_run_after_a_load_plans_only_what_changed(fake, api) -> None:
    api(fake, base_input())
    posted = len(writes(fake))
    changed = base_input()
    changed[4]["record"]["name"] = "Acme Group"  # company 1
    plan = api(fake, changed, dry_run=True)
    assert len(writes(fake)) == posted
    planned = {o["object"]: o["records"] for o in plan.report["dry_run"]["objects"]}
    assert planned == {"company": 1, "person": 0, "opportunity": 0, "matter": 0}
    assert plan.report["dry_run"]["writes"] == 1
    assert {o["object"]: o.get("unchanged") for o in plan.report["objects"]}["company"] == 1
    before = fake.counts["requests"]
    real = api(fake, changed)  # and the load sends what the plan said, reads included
    assert fake.counts["requests"] - before == plan.report["dry_run"]["requests"]
    assert real.report["api"]["updated"] == {"company": 1}


def test_csv_mode_writes_everything_and_vouches_for_nothing(fake, api, tmp_path) -> None:
    state = str(tmp_path / "shared-state")
    messages = [COMPANY, record("company", 1, name="Acme"), record("company", 2, name="B")]

    def csv_run() -> Run:
        out = tmp_path / "csv"
        with redirect_stdout(io.StringIO()):
            TargetTwenty(config={"output_dir": str(out), "state_dir": state}).listen(
                io.StringIO("".join(json.dumps(m) + "\n" for m in messages))
            )
        return Run(out, "")

    assert len(csv_run().csv("*companies*")) == 2
    loaded = api(fake, messages, state_dir=state)  # nothing confirms the CSV import: all sent
    assert loaded.report["api"]["created"] == {"company": 2}
    assert api(fake, messages, state_dir=state).report["api"]["updated"] == {}
    assert len(csv_run().csv("*companies*")) == 2  # CSV batches carry every record, every run


def test_state_of_another_workspace_is_refused_naming_both(fake, api) -> None:
    api(fake, base_input())
    with FakeTwenty(workspace_id="0f1e2d3c-4b5a-4978-8695-a4b3c2d1e0f9") as other:
        with pytest.raises(ConfigValidationError) as refused:
            api(other, base_input())
        # refused before any record was read or written (only the schema was read)
        assert [e["path"] for e in other.log] == ["/rest/metadata/objects"]
        text = str(refused.value)
        assert fake.workspace_id in text and other.workspace_id in text and "state_dir" in text
        assert other.api_key not in text
        # its own state directory works
        run = api(other, base_input(), state_dir=str(Path(api.output) / "state-other"))
        assert run.report["workspace_id"] == other.workspace_id


def test_a_key_that_names_no_workspace_is_refused_clearly(fake, api) -> None:
    with pytest.raises(ConfigValidationError, match="not a Twenty API key") as refused:
        api(fake, base_input(), api_key="not-a-jwt")
    assert "not-a-jwt" not in str(refused.value)


def test_the_audit_records_the_workspace_of_each_run(fake, api) -> None:
    run = api(fake, base_input())
    audit = Audit(Path(api.output) / "state" / "audit.sqlite")
    assert audit.workspace(run.report["run_id"]) == fake.workspace_id
    audit.check_workspace(run.report["run_id"], fake.workspace_id)
    with pytest.raises(WorkspaceMismatch, match=f"run {run.report['run_id']} belongs to"):
        audit.check_workspace(run.report["run_id"], "another-workspace")


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
        target.listen(singer_input(messages))
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


def _attachments(tmp_path: Path) -> tuple[dict, list[dict]]:
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
            _file={"path": str(tmp_path / "a.txt"), "relativePath": "a.txt", "exists": True},
        ),
        record(
            "attachment",
            2,
            name="gone.pdf",
            fileCategory="TEXT_DOCUMENT",
            targetCompanyId=rid("company", 1),
            _file={"path": None, "relativePath": "Company/8/gone.pdf", "exists": False},
        ),
    ]
    return attachment, files


def test_attachments_are_uploaded_once_and_missing_files_are_listed(
    fake, api, tmp_path, caplog
) -> None:
    (tmp_path / "a.txt").write_text("hello")
    attachment, files = _attachments(tmp_path)
    run = api(fake, [COMPANY, attachment, record("company", 1, name="A"), *files])
    stored = {a["name"]: a for a in fake.live("attachment")}
    (url,) = fake.files.values()
    assert url["bytes"] == b"hello" and stored["a.txt"]["file"][0]["label"] == "a.txt"
    # a file the export lacks loses no attachment: it is written with its metadata, as in CSV
    # mode, and the manifest names the file
    assert not stored["gone.pdf"].get("file") and run.side("rejects.csv") == []
    manifest = {m["name"]: m for m in run.side("attachments-manifest.csv")}
    assert [m["status"] for m in manifest.values()] == ["written", "written"]
    assert manifest["gone.pdf"]["file"] == "Company/8/gone.pdf"
    assert manifest["gone.pdf"]["exists"] == "False" and "not found" in manifest["gone.pdf"]["note"]
    assert run.report["attachments"]["missing"] == 1 and run.report["balanced"]
    assert "1 attachments written without their file" in caplog.text
    api(fake, [COMPANY, attachment, record("company", 1, name="A"), *files[:1]])
    assert len(fake.files) == 1  # not uploaded twice
    # the file turns up (e.g. library_dir is set now): the attachment gets it, once
    (tmp_path / "gone.pdf").write_text("found")
    files[1]["record"]["_file"] = {
        "path": str(tmp_path / "gone.pdf"),
        "relativePath": "Company/8/gone.pdf",
        "exists": True,
    }
    for _ in range(2):
        api(fake, [COMPANY, attachment, record("company", 1, name="A"), *files])
    stored = {a["name"]: a for a in fake.live("attachment")}
    assert len(stored) == 2 and len(fake.files) == 2
    assert fake.files[stored["gone.pdf"]["file"][0]["fileId"]]["bytes"] == b"found"


def test_an_attachment_without_its_file_is_written_in_csv_mode_too(run_target, tmp_path) -> None:
    (tmp_path / "a.txt").write_text("hello")
    attachment, files = _attachments(tmp_path)
    run = run_target([COMPANY, attachment, record("company", 1, name="A"), *files])
    manifest = {m["name"]: m for m in run.side("attachments-manifest.csv")}
    assert [m["status"] for m in manifest.values()] == ["written", "written"]
    assert manifest["gone.pdf"]["file"] == "Company/8/gone.pdf"
    assert "not found" in manifest["gone.pdf"]["note"]
    assert run.report["attachments"]["missing"] == 1 and run.report["balanced"]


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


def _audit(api: ApiRunner) -> Audit:
    return Audit(api.output / "state" / "audit.sqlite")


def test_answers_are_paired_by_id_and_priors_are_the_same_records(fake, api, caplog) -> None:
    """Twenty answers with the updated records first (docs/twenty-contract.md §2.5): sent new,
    old, new, old, the answer is old, old, new, new."""
    api(fake, [COMPANY, record("company", 1, name="One"), record("company", 3, name="Three")])
    mixed = [
        COMPANY,
        record("company", 2, name="Two"),
        record("company", 1, name="One renamed"),
        record("company", 4, name="Four"),
        record("company", 3, name="Three renamed"),
    ]
    caplog.clear()
    run = api(fake, mixed)
    assert "matched" not in caplog.text
    assert run.report["api"]["created"] == {"company": 2}
    assert run.report["api"]["updated"] == {"company": 2}
    logged = {w.id: w for w in _audit(api).writes(run.report["run_id"])}
    assert {i: w.action for i, w in logged.items()} == {
        rid("company", 2): Action.CREATED,
        rid("company", 1): Action.UPDATED,
        rid("company", 4): Action.CREATED,
        rid("company", 3): Action.UPDATED,
    }
    assert (logged[rid("company", 1)].prior or {})["name"] == "One"
    assert (logged[rid("company", 3)].prior or {})["name"] == "Three"
    rollback(api.config(fake), run.report["run_id"])
    assert {r["id"]: r["name"] for r in fake.live("company")} == {
        rid("company", 1): "One",
        rid("company", 3): "Three",
    }


def test_a_record_twenty_matches_by_a_unique_value_is_audited_as_that_record(
    fake, api, caplog
) -> None:
    """Someone adds ana@acme.com between the pre-flight and the load: Twenty updates that
    record (keeping its id, §2.6); the audit names it, and rollback does not destroy it."""
    theirs = str(__import__("uuid").uuid4())

    def race(method: str, path: str) -> None:
        if method == "POST" and path.startswith("/rest/batch/people") and fake.hook:
            fake.hook = None
            with fake.lock:
                fake._create(
                    fake._by_plural("people"),
                    [{"id": theirs, "emails": {"primaryEmail": "ana@acme.com"}}],
                    {"upsert": "true"},
                    batch=True,
                )

    fake.hook = race
    people = [
        record("person", 1, emails={"primaryEmail": "Ana@Acme.com"}, jobTitle="CEO"),
        record("person", 2, emails={"primaryEmail": "bo@acme.com"}),
    ]
    run = api(fake, [PERSON, *people])
    logged = _audit(api).writes(run.report["run_id"])
    assert {(w.id, w.action) for w in logged} == {
        (theirs, Action.MATCHED),
        (rid("person", 2), Action.CREATED),
    }
    warnings = [r for r in caplog.records if "unique value" in r.getMessage()]
    assert len(warnings) == 1 and "1 records" in warnings[0].getMessage()
    rollback(api.config(fake), run.report["run_id"])
    assert [r["id"] for r in fake.live("person")] == [theirs]


def test_pairing_by_unique_value_compares_as_twenty_does() -> None:
    person = Workspace.bundled().require("person")
    missing = [("ours", {"id": "ours", "emails": {"primaryEmail": " Ana@Acme.COM"}})]
    strays = [{"id": "theirs", "emails": {"primaryEmail": "ana@acme.com"}}]
    assert _pair_by_unique(person, missing, strays) == {"ours": "theirs"}
    assert _pair_by_unique(person, missing, [{"id": "x", "emails": {"primaryEmail": "b@c"}}]) == {}


def test_rollback_batches_its_requests_and_reports_progress(fake, api, caplog) -> None:
    companies = [record("company", i, name=f"C{i}") for i in range(250)]
    api(fake, [COMPANY, *companies], batch_size=200)
    changed = [record("company", i, name=f"C{i} renamed") for i in range(230)]
    before = len(fake.log)
    run = api(fake, [COMPANY, *changed, record("company", 999, name="New")], batch_size=200)
    loaded = [e for e in fake.log[before:] if e["method"] != "GET"]
    assert len(loaded) == 2  # 231 records in two batches
    # someone destroys a renamed company: putting its old name back must not make it anew
    gone = rid("company", 7)
    requests.delete(f"{fake.url}/rest/companies/{gone}", headers=KEY, timeout=10)
    before = len(fake.log)
    caplog.set_level("INFO", logger="target-twenty.rollback")
    done = rollback(api.config(fake, progress_seconds=0), run.report["run_id"])
    sent = [e for e in fake.log[before:] if "/metadata/" not in e["path"]]
    assert done["reverted"] == 229 and done["destroyed"] == 1 and done["missing"] == 1
    # one destroy, two batch upserts of the earlier values, one destroy of the record made anew
    assert sorted((e["method"], e["path"]) for e in sent) == [
        ("DELETE", "/rest/companies"),
        ("DELETE", "/rest/companies"),
        ("POST", "/rest/batch/companies"),
        ("POST", "/rest/batch/companies"),
    ]
    assert {r["name"] for r in fake.live("company")} == {f"C{i}" for i in range(250) if i != 7}
    assert gone not in fake.records["company"]
    assert "writes undone" in caplog.text


def test_an_audit_log_from_before_write_ahead_opens_and_rolls_back(fake, api) -> None:
    """An audit.sqlite of the earlier layout gains the new columns when opened."""
    api(fake, [COMPANY, record("company", 1, name="Old")])
    path = api.output / "state" / "audit.sqlite"
    path.unlink()
    db = sqlite3.connect(path)
    db.executescript(
        "CREATE TABLE runs(run TEXT PRIMARY KEY, migration TEXT, api_url TEXT, started TEXT,"
        " finished TEXT, rolled_back TEXT);"
        "CREATE TABLE writes(seq INTEGER PRIMARY KEY AUTOINCREMENT, run TEXT NOT NULL,"
        " object TEXT NOT NULL, plural TEXT NOT NULL, id TEXT NOT NULL, action TEXT NOT NULL,"
        " prior TEXT);"
        "CREATE TABLE metadata(seq INTEGER PRIMARY KEY AUTOINCREMENT, run TEXT NOT NULL,"
        " kind TEXT NOT NULL, id TEXT NOT NULL, object TEXT, name TEXT, prior TEXT);"
        "INSERT INTO runs VALUES ('old', 'm', 'u', '2026-01-01T00:00:00Z', NULL, NULL);"
    )
    db.execute(
        "INSERT INTO writes(run, object, plural, id, action, prior) VALUES (?,?,?,?,?,?)",
        ("old", "company", "companies", rid("company", 1), "updated", '{"name": "A"}'),
    )
    db.commit()
    db.close()
    (logged,) = _audit(api).writes("old")
    assert logged.action is Action.UPDATED and not logged.pending and logged.creator is None
    done = rollback(api.config(fake), "old")  # no creator recorded: read first, then put back
    assert done["reverted"] == 1 and fake.live("company")[0]["name"] == "A"


def test_metadata_a_killed_run_made_unconfirmed_is_found_by_name(fake, api) -> None:
    run = api(fake, [*base_input()[:4], record("matter", "m1", name="M&A")])
    audit = _audit(api)
    # as if killed between Twenty's answer and the confirmation: no ids recorded
    audit.db.execute("UPDATE metadata SET id='', pending=1 WHERE kind != 'options'")
    done = rollback(api.config(fake), run.report["run_id"], remove_metadata=True)
    assert done["metadata"] > 0 and "matter" not in fake.objects


def test_rollback_with_a_key_of_another_workspace_is_refused_before_any_request(fake, api) -> None:
    run = api(fake, base_input())
    with FakeTwenty(workspace_id="0f1e2d3c-4b5a-4978-8695-a4b3c2d1e0f9") as other:
        config = {**api.config(fake), "api_url": other.url, "api_key": other.api_key}
        with pytest.raises(SystemExit) as refused:
            rollback(config, run.report["run_id"])
        assert other.log == []  # nothing asked of the other workspace
    text = str(refused.value)
    assert fake.workspace_id in text and other.workspace_id in text
    assert fake.live("company")  # and nothing undone in the run's own workspace
