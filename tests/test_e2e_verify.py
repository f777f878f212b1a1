"""End to end: `verify` after a full API load of the Allegory sample into the fake Twenty.

The README's sequence — dry run, full run, then `meltano invoke target-twenty:verify` — with the
real `meltano run tap-allegory-csv mapper target-twenty`. Verify must find every field equal after
the load, cost what the dry run said, and, once values are changed in the fake's store behind
the target's back (as a user editing records in Twenty would), report each difference.
"""

from __future__ import annotations

import csv
import math
import uuid
from pathlib import Path

import e2e_run
import pytest
from fakes.twenty import FakeTwenty

EXPORT = e2e_run.ROOT / "examples/allegory/export"
pytestmark = pytest.mark.e2e


def _verify(output: Path, env: dict, *args: str, fails: bool = False) -> str:
    done = e2e_run.meltano(["invoke", "target-twenty:verify", *args], output, env, fails=fails)
    return done.stdout


def _record_read(entry: dict) -> bool:
    return entry["method"] == "GET" and not entry["path"].startswith("/rest/metadata")


def _email(person: dict) -> str:
    return (person.get("emails") or {}).get("primaryEmail") or ""


def _rows(path: Path) -> list[dict]:
    with path.open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def test_verify_after_a_full_load_finds_every_field_equal_then_each_change(
    tmp_path: Path,
) -> None:
    twenty = FakeTwenty()
    twenty.start()
    try:
        output = tmp_path / "out"
        env = {
            "TAP_ALLEGORY_CSV_EXPORT_DIR": str(EXPORT),
            **e2e_run.api_env(twenty, tmp_path / "state"),
        }
        suffix = f"verify-{uuid.uuid4().hex}"
        plan = e2e_run.meltano_run(
            "tap-allegory-csv", output, suffix, {**env, "TARGET_TWENTY_DRY_RUN": "true"}
        )["report"]["dry_run"]
        full = e2e_run.meltano_run("tap-allegory-csv", output, suffix, env)
        report, run_dir = full["report"], full["dir"]
        assert report["balanced"] and report["complete"]
        written = {o["object"]: o["written"] for o in report["objects"] if o.get("written")}
        assert sum(written.values()) > 6000

        # every record the run wrote, every field sent: all equal
        before = len(twenty.log)
        out = _verify(output, env)
        reads = len([e for e in twenty.log[before:] if _record_read(e)])
        records = sum(written.values())
        assert f"{records} records, " in out and ": all equal" in out, out
        rows = _rows(run_dir / "verify.csv")
        assert {r["verdict"] for r in rows} == {"equal"}
        assert {(r["object"], r["id"]) for r in rows} == {
            (obj, rid) for obj in written for rid in twenty.records[obj]
        }
        fields = int(out.split(" records, ")[1].split(" fields")[0])
        assert fields == len(rows) > 5 * records
        assert (run_dir / "verify.html").is_file()
        # the source value is there for the records the mapper kept it for
        assert any(r["source_value"] not in ("", "(not kept)") for r in rows)
        # what the dry run said verify would cost: one read per 200 records of each object
        per_object = {o["object"]: o["verify_reads"] for o in plan["objects"]}
        assert per_object == {obj: math.ceil(n / 200) for obj, n in written.items()}
        assert reads == plan["verify_requests"] == sum(per_object.values())

        # behind the target's back: three values edited, one record destroyed, one trashed
        people = twenty.records["person"]
        job, mail, gone, trashed, upper = sorted(
            rid for rid, p in people.items() if p.get("jobTitle") and _email(p)
        )[:5]
        people[job]["jobTitle"] = "Edited in Twenty"
        people[mail]["emails"] = {**people[mail]["emails"], "primaryEmail": "someone@else.test"}
        company = sorted(twenty.records["company"])[0]
        twenty.records["company"][company]["name"] = "Renamed Ltd"
        del people[gone]
        people[trashed]["deletedAt"] = "2026-12-06T00:00:00.000Z"
        # a spelling Twenty may answer with is the same value: not a difference
        people[upper]["emails"] = {
            **people[upper]["emails"],
            "primaryEmail": _email(people[upper]).upper(),
        }

        out = _verify(output, env, "--object", "person", "--object", "companies", fails=True)
        assert "person.jobTitle 1" in out and "person.emails.primaryEmail 1" in out, out
        assert "company.name 1" in out and "3 differ" in out, out
        assert "1 record missing" in out and "1 record in the trash" in out, out
        rows = _rows(run_dir / "verify.csv")
        assert {r["object"] for r in rows} == {"person", "company"}
        bad = {(r["id"], r["field"], r["verdict"]) for r in rows if r["verdict"] != "equal"}
        assert {b for b in bad if b[2] == "different"} == {
            (job, "jobTitle", "different"),
            (mail, "emails.primaryEmail", "different"),
            (company, "name", "different"),
        }
        assert {b[0] for b in bad if b[2] == "missing"} == {gone}
        assert {b[0] for b in bad if b[2] == "in the trash"} == {trashed}
        edited = next(r for r in rows if r["id"] == job and r["field"] == "jobTitle")
        assert edited["stored_value"] == "Edited in Twenty" and edited["sent_value"] != ""
        page = (run_dir / "verify.html").read_text(encoding="utf-8")
        assert "Renamed Ltd" in page and "someone@else.test" in page
    finally:
        twenty.stop()
    assert twenty.violations == []
