"""End to end: the README's API-mode sequence — dry run, sample run, full run — with the real
`meltano run tap-allegory-csv mapper target-twenty` (no --full-refresh, one state id) into the
fake Twenty (tests/fakes/twenty.py).

A dry or sample run must not move the taps' bookmarks: otherwise the full run reads only the
rows at the bookmark and loads almost nothing. Expected figures come from the export's own
row counts (examples/allegory/expected.json), not from the code under test.

Every `meltano run` here uses the same state id: a state left by one run would limit the next.
The report's rollback command, the dry run's prediction, verify and re-runs are checked on
one load in tests/test_e2e_api_load.py.
"""

from __future__ import annotations

import json
from pathlib import Path

import e2e_run
import pytest
from api_pipeline import ApiPipeline
from fakes.twenty import FakeTwenty

ROOT = e2e_run.ROOT
EXPORT = ROOT / "examples/allegory/export"
EXPECTED = json.loads((ROOT / "examples/allegory/expected.json").read_text(encoding="utf-8"))
pytestmark = pytest.mark.e2e


@pytest.fixture
def twenty():
    server = FakeTwenty()
    server.start()
    yield server
    server.stop()
    assert server.violations == []


def test_dry_then_sample_then_full_loads_everything(twenty: FakeTwenty, tmp_path: Path) -> None:
    pipeline = ApiPipeline(twenty, tmp_path, EXPORT)
    dry = pipeline.run(TARGET_TWENTY_DRY_RUN="true")
    assert [e for e in twenty.log if e["method"] != "GET"] == []
    sample = pipeline.run(TARGET_TWENTY_SAMPLE_SIZE="3")
    sampled = len(twenty.live("company"))
    full = pipeline.run()
    # the dry and sample runs read every row (no bookmark was there before them) …
    for earlier in (dry, sample):
        companies = next(s for s in earlier["report"]["sources"] if s["stream"] == "companies")
        assert companies["read"] == EXPECTED["rows"]["companies"]
        assert "no STATE emitted" in earlier["log"]
        assert not earlier["report"]["complete"]
    assert 0 < sampled < EXPECTED["rows"]["companies"]
    # … and so does the full run after them: they left the bookmarks where they were
    report = full["report"]
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
            # what the sample loaded is unchanged since Twenty confirmed it: not sent again
            landed = obj["written"] + obj.get("unchanged", 0)
            assert len(twenty.live(obj["object"])) == landed and obj["written"] > 0, obj
    links = next(o for o in report["objects"] if o["object"] == "matterPerson")
    # (after a sample that moved the bookmarks, 299 of 300 links were rejected as dangling)
    assert links["received"] == EXPECTED["rows"]["matters__contacts"]
    assert links["rejected"] < 10
