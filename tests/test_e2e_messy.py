"""End to end on an export no rule was written for (tests/messy_export.py), with no configuration:
`meltano run tap-allegory-csv mapper target-twenty` infers the note and task targets from
"Parent Type"/"Parent ID" and "Related To Type"/"Related To ID", the custom object's relation
from "Client Company ID", and lists the weak "Referred By ID" under Needs review; then the
proposal (`meltano invoke crm2twenty-mapper:propose`), set as the mapper's `rules`, reproduces
the same run. Expected figures come from the generator's own rows.
"""

from __future__ import annotations

import csv
import json
import os
import subprocess
import uuid
from pathlib import Path

import e2e_run
import messy_export
import pytest

pytestmark = pytest.mark.e2e


def _run(export: Path, output: Path, **env: str) -> dict:
    return e2e_run.meltano_run(
        "tap-allegory-csv",
        output,
        f"messy-{uuid.uuid4().hex}",
        {"TAP_ALLEGORY_CSV_EXPORT_DIR": str(export), **env},
    )


def _propose(export: Path, out: Path) -> list[str]:
    """The tap piped into `meltano invoke crm2twenty-mapper:propose` (the tap run directly:
    Meltano's own start-up is what a second `meltano invoke` would add)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MELTANO_", "TAP_"))}
    config = out.parent / "tap.json"
    config.write_text(json.dumps({"export_dir": str(export), "on_bad_row": "reject"}))
    cwd = e2e_run.project_dir()
    tap = subprocess.Popen(
        [str(Path(e2e_run.MELTANO).parent / "tap-allegory-csv"), "--config", str(config)],
        cwd=cwd,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
    )
    done = subprocess.run(
        [
            e2e_run.MELTANO,
            "invoke",
            "crm2twenty-mapper:propose",
            "--rules=allegory",
            f"--out={out}",
        ],
        cwd=cwd,
        env=env,
        stdin=tap.stdout,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert tap.stdout is not None
    tap.stdout.close()
    assert tap.wait(timeout=60) == 0
    assert done.returncode == 0, done.stderr[-3000:]
    return done.stdout.split()


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> dict:
    base = tmp_path_factory.mktemp("messy")
    export = base / "export"
    expected = messy_export.write(export)
    inferred = _run(export, base / "out-inferred")
    paths = _propose(export, base / "proposal")
    rules = next(p for p in paths if p.endswith("-rules.yml"))
    confirmed = _run(export, base / "out-confirmed", CRM2TWENTY_MAPPER_RULES=rules)
    return {
        "expected": expected,
        "inferred": inferred,
        "confirmed": confirmed,
        "paths": paths,
        "rules": rules,
    }


def _leftovers(run: dict) -> dict[str, list[dict]]:
    """The records a spreadsheet import cannot carry (noteTarget, taskTarget), by object."""
    out: dict[str, list[dict]] = {}
    for line in (run["dir"] / "api-leftovers.singer").read_text(encoding="utf-8").splitlines():
        message = json.loads(line)
        if message["type"] == "RECORD":
            out.setdefault(message["stream"], []).append(message["record"])
    return out


def _targets(records: list[dict]) -> dict[str, int]:
    """How many junction records point at each object (``targetCompanyId`` → company)."""
    counts: dict[str, int] = {}
    for record in records:
        for prop, value in record.items():
            if prop.startswith("target") and prop.endswith("Id") and value:
                obj = prop[6:7].lower() + prop[7:-2]
                counts[obj] = counts.get(obj, 0) + 1
    return counts


def test_note_and_task_targets_and_the_custom_objects_relation_are_inferred(runs) -> None:
    exp, run = runs["expected"], runs["inferred"]
    report = run["report"]
    assert report["balanced"]
    sources = {s["stream"]: s for s in report["sources"]}
    for stream, rows in exp.rows.items():
        assert sources[stream]["read"] == rows, stream
    leftovers = _leftovers(run)
    assert _targets(leftovers["noteTarget"]) == exp.note_targets
    assert _targets(leftovers["taskTarget"]) == exp.task_targets
    objects = {o["object"]: o for o in report["objects"]}
    # the orphan note's parent is no record of the export: its target is rejected, with why
    assert objects["noteTarget"]["rejected"] == 1
    orphan = [
        r for r in e2e_run.side_rows(run["dir"], "rejects.csv") if r["object"] == "noteTarget"
    ]
    assert len(orphan) == 1 and "'9999'" in orphan[0]["reason"]
    assert orphan[0]["location"] == f"notes.csv:{int(exp.orphan_note) + 1}"
    # engagements.csv → a custom object whose "Client Company ID" is a relation to company
    companies = {
        c["Allegory ID"]: c["Id"] for c in e2e_run.csv_rows(run["dir"], "*-companies-*.csv")
    }
    engagements = e2e_run.csv_rows(run["dir"], "*-engagements-*.csv")
    assert {e["Allegory ID"]: e["Client Company / Id"] for e in engagements} == {
        key: companies[client] for key, client in exp.engagement_clients.items()
    }


def test_weak_evidence_is_listed_under_needs_review_with_its_figure(runs) -> None:
    exp, run = runs["expected"], runs["inferred"]
    review = run["report"]["needs_review"]
    assert [(r["stream"], r["column"]) for r in review] == [("contacts", "referred_by_id")]
    figure = f"{exp.referred_share * 100:.1f} %"
    assert figure in review[0]["evidence"]
    report_md = (run["dir"] / "report.md").read_text(encoding="utf-8")
    assert "## Needs review" in report_md and figure in report_md
    # kept as text, not silently turned into a relation
    people = e2e_run.csv_rows(run["dir"], "*-people-*.csv")
    assert "Referred By Id" in people[0]


def test_the_proposal_reproduces_the_run(runs) -> None:
    inferred, confirmed = runs["inferred"], runs["confirmed"]
    sheet = next(Path(p) for p in runs["paths"] if p.endswith(".csv"))
    with sheet.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert any(r["Twenty field"] == "noteTarget.targetEngagementId" and r["sample 1"] for r in rows)
    assert "Needs review" not in (confirmed["dir"] / "report.md").read_text(encoding="utf-8")
    assert f"Mapping with {runs['rules']}" in confirmed["log"]
    for name in ("csv", "api-leftovers.singer", "rejects.csv", "repairs.csv"):
        first, second = inferred["dir"] / name, confirmed["dir"] / name
        if first.is_dir():
            files = sorted(p.name for p in first.iterdir())
            assert files == sorted(p.name for p in second.iterdir())
            for f in files:
                assert (first / f).read_bytes() == (second / f).read_bytes(), f
        else:
            assert first.read_bytes() == second.read_bytes(), name
    assert inferred["report"]["objects"] == confirmed["report"]["objects"]
    assert inferred["report"]["provisioning"] == confirmed["report"]["provisioning"]


def test_no_phone_is_lost_each_is_read_in_its_rows_country(runs) -> None:
    exp, run = runs["expected"], runs["inferred"]
    companies = e2e_run.csv_rows(run["dir"], "*-companies-*.csv")
    assert len(companies) == exp.rows["companies"]
    got = {c["Allegory ID"]: c["Phones / Primary Phone Country Code"] for c in companies}
    assert got == exp.phone_countries
    assert all(c["Phones / Primary Phone Number"] for c in companies)
