"""End to end: one API-mode load of the Allegory sample into the fake Twenty
(tests/fakes/twenty.py) with the real `meltano run tap-allegory-csv mapper target-twenty` (no
--full-refresh, one state id: a state left by one run would limit the next), made once for this
module — a sample run, its report's rollback command, a dry run, then the full run — and what is
checked on it: that the sample and dry runs moved no bookmark (the full run reads and loads
every row), the rollback, the dry run's prediction, `meltano invoke target-twenty:verify`,
re-runs and deltas. Expected figures come from the export's own row counts
(examples/allegory/expected.json), not from the code under test.

(One load serves every test: each `meltano run` of the whole sample costs seconds of CPU. The
README's order puts the dry run first; here it comes after the rollback so that it predicts the
full run that follows it. A full run straight after a sample, which re-sends nothing the sample
wrote, is checked on the target alone: targets/target-twenty/tests/test_api_mode.py.) The tests
run in file order: verify puts back what it changes in the fake's store; the re-run test changes
the export and the records, so it comes last.
"""

from __future__ import annotations

import copy
import csv
import json
import math
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import e2e_run
import pytest
from api_pipeline import ApiPipeline
from fakes.twenty import FakeTwenty

EXPORT = e2e_run.ROOT / "examples/allegory/export"
EXPECTED = json.loads((e2e_run.ROOT / "examples/allegory/expected.json").read_text("utf-8"))
pytestmark = pytest.mark.e2e


@dataclass(frozen=True)
class Load:
    """The module's load and what each step of it left."""

    twenty: FakeTwenty
    pipeline: ApiPipeline
    export: Path  # a copy the re-run test changes
    sample: dict
    sampled: int  # live companies after the sample run
    rollback: str  # the command the sample's report gave, as run
    left_after_rollback: dict[str, int]  # live records per object once it ran
    dry: dict
    dry_writes: list[dict]  # the dry run's requests other than GET
    full: dict
    full_writes: list[dict]  # the full run's requests other than GET


def _writes(twenty: FakeTwenty, since: int) -> list[dict]:
    return [e for e in twenty.log[since:] if e["method"] != "GET"]


@pytest.fixture(scope="module")
def load(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Load]:
    base = tmp_path_factory.mktemp("api-load")
    export = base / "export"
    shutil.copytree(EXPORT, export)
    with FakeTwenty() as twenty:
        pipeline = ApiPipeline(twenty, base, export)
        sample = pipeline.run(TARGET_TWENTY_SAMPLE_SIZE="3")
        sampled = len(twenty.live("company"))
        assert sampled and twenty.live("person")
        rollback = sample["report"]["api"]["rollback"]
        pipeline.invoke(rollback)
        left = {name: len(twenty.live(name)) for name in ("company", "person")}
        logged = len(twenty.log)
        dry = pipeline.run(TARGET_TWENTY_DRY_RUN="true")
        dry_writes = _writes(twenty, logged)
        logged = len(twenty.log)
        full = pipeline.run()
        yield Load(
            twenty,
            pipeline,
            export,
            sample,
            sampled,
            rollback,
            left,
            dry,
            dry_writes,
            full,
            _writes(twenty, logged),
        )
        assert twenty.violations == []


def test_the_sample_and_dry_runs_move_no_bookmark_and_the_full_run_loads_everything(
    load: Load,
) -> None:
    assert load.dry_writes == []
    # the sample and dry runs read every row (no bookmark was there before them) …
    for earlier in (load.sample, load.dry):
        companies = next(s for s in earlier["report"]["sources"] if s["stream"] == "companies")
        assert companies["read"] == EXPECTED["rows"]["companies"]
        assert "no STATE emitted" in earlier["log"]
        assert not earlier["report"]["complete"]
    assert 0 < load.sampled < EXPECTED["rows"]["companies"]
    # … and so does the full run after them: they left the bookmarks where they were
    report = load.full["report"]
    assert report["balanced"] and report["complete"]
    assert report["scope"]["kind"] == "full"  # it carries the sample's records again
    sources = {s["stream"]: s for s in report["sources"]}
    for name, rows in EXPECTED["rows"].items():
        stream = e2e_run.allegory_stream(name)
        assert stream in sources, (stream, sorted(sources))
        assert sources[stream]["read"] == rows, stream
        assert not sources[stream].get("skipped"), stream
    for obj in report["objects"]:
        assert not obj.get("skipped"), obj
        if obj["object"] in ("company", "person", "opportunity", "note", "task", "matter"):
            assert len(load.twenty.live(obj["object"])) == obj["written"] > 0, obj
    links = next(o for o in report["objects"] if o["object"] == "matterPerson")
    # (after a sample that moved the bookmarks, 299 of 300 links were rejected as dangling)
    assert links["received"] == EXPECTED["rows"]["matters__contacts"]
    assert links["rejected"] < 10


def test_the_reports_rollback_command_works_and_the_dry_run_predicts_every_request(
    load: Load,
) -> None:
    sample = load.sample
    assert load.rollback == (
        f"meltano invoke target-twenty:rollback --run {sample['report']['run_id']}"
    )
    assert load.rollback in (sample["dir"] / "report.md").read_text(encoding="utf-8")
    assert load.left_after_rollback == {"company": 0, "person": 0}
    # the full run after the dry run sends what the dry run said, kind by kind
    sent = load.full["report"]["requests"]
    plan = load.dry["report"]["dry_run"]
    predicted = {**plan, "metadata": plan["metadata_requests"]}
    for kind in ("reads", "writes", "metadata", "uploads"):
        assert sent[kind] == predicted[kind], kind


def _record_read(entry: dict) -> bool:
    return entry["method"] == "GET" and not entry["path"].startswith("/rest/metadata")


def _email(person: dict) -> str:
    return (person.get("emails") or {}).get("primaryEmail") or ""


def _rows(path: Path) -> list[dict]:
    with path.open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def test_verify_after_a_full_load_finds_every_field_equal_then_each_change(load: Load) -> None:
    twenty, plan = load.twenty, load.dry["report"]["dry_run"]
    report, run_dir = load.full["report"], load.full["dir"]
    assert report["balanced"] and report["complete"]
    written = {o["object"]: o["written"] for o in report["objects"] if o.get("written")}
    assert sum(written.values()) > 6000

    # every record the run wrote, every field sent: all equal
    before = len(twenty.log)
    out = load.pipeline.invoke("meltano invoke target-twenty:verify")
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

    # behind the target's back: three values edited, one record destroyed, one trashed (put
    # back afterwards: the re-run test needs the store as the load left it)
    kept = {name: copy.deepcopy(twenty.records[name]) for name in ("person", "company")}
    try:
        _differences_are_reported(twenty, run_dir, load.pipeline)
    finally:
        for name, records in kept.items():
            twenty.records[name].clear()
            twenty.records[name].update(records)


def _differences_are_reported(twenty: FakeTwenty, run_dir: Path, pipeline: ApiPipeline) -> None:
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

    out = pipeline.invoke(
        "meltano invoke target-twenty:verify --object person --object companies", fails=True
    )
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


def _change(export: Path, name: str, column: str, picks: dict[str, str]) -> None:
    """Set ``column`` of the rows whose ``id`` is in ``picks`` (a comma-separated export)."""
    path = export / name
    with path.open(encoding="utf-8-sig", newline="") as handle:
        reader = csv.DictReader(handle)
        fields, rows = reader.fieldnames or [], list(reader)
    for row in rows:
        if row["id"] in picks:
            row[column] = picks[row["id"]]
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fields, lineterminator="\r\n")
        writer.writeheader()
        writer.writerows(rows)


def test_api_reruns_and_deltas_cost_what_changed(load: Load) -> None:
    """A re-run of the unchanged sample (every row re-sent: full refresh) writes nothing; after
    10 rows change across incremental and re-sent streams (companies, contacts, deals; matters,
    attachments), those 10 records are written and nothing else."""
    twenty, first, first_writes = load.twenty, load.full, load.full_writes

    def run() -> tuple[dict, list[dict]]:
        logged = len(twenty.log)
        return load.pipeline.run("--full-refresh"), _writes(twenty, logged)

    assert first["report"]["balanced"]
    rerun, rerun_writes = run()
    assert len(rerun_writes) <= 0.05 * len(first_writes)
    assert rerun["report"]["balanced"] and not rerun["report"]["api"]["updated"]
    assert sum(o.get("unchanged") or 0 for o in rerun["report"]["objects"]) == sum(
        first["report"]["api"]["created"].values()
    )
    export = load.export
    _change(export, "companies.csv", "Company Name", {i: f"Renamed {i}" for i in "456"})
    _change(export, "contacts.csv", "job_title", {"40": "Partner", "41": "Partner"})
    _change(export, "deals.csv", "Deal Name", {"7": "Renamed deal 7"})
    _change(export, "matters.csv", "name", {"M3": "Renamed M3", "M4": "Renamed M4"})
    _change(export, "attachments.csv", "file_name", {"ATT-2": "renamed.md", "ATT-3": "r.md"})
    delta, delta_writes = run()
    updated = delta["report"]["api"]["updated"]
    assert updated == {"company": 3, "person": 2, "opportunity": 1, "matter": 2, "attachment": 2}
    assert not delta["report"]["api"]["created"]
    assert len(delta_writes) <= len(updated)  # one batch per object
    assert delta["report"]["balanced"]
