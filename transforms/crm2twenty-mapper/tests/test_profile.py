"""The source profile on a hand-made input: the column figures over every record (not only the
inference sample), a value the tap's type does not fit, and the distinct count's cap."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from crm2twenty_mapper import profile, profiling
from crm2twenty_mapper.sampling import SAMPLE_ROWS

ROWS = SAMPLE_ROWS + 200


def _messages() -> list[dict]:
    schema = {
        "type": "SCHEMA",
        "stream": "widgets",
        "key_properties": ["id"],
        "schema": {
            "type": "object",
            "properties": {
                "id": {"type": "integer"},
                "name": {"type": "string"},
                "email": {"type": ["string", "null"]},
                "size": {"type": ["integer", "null"]},
            },
        },
    }
    out = [schema]
    for i in range(ROWS):
        # e-mails throughout the sample; after it, every 20th is not one
        email = f"w{i}@example.com" if i < SAMPLE_ROWS or i % 20 else f"w{i} at example"
        record = {"id": i, "name": f"Widget {i}", "email": email, "size": i % 7}
        if i % 2:
            record["email"] = None  # half filled
        if i == 5:
            record["size"] = "big"  # a plain Singer tap's value its schema does not fit
        out.append({"type": "RECORD", "stream": "widgets", "record": record})
    return out


def _profile(tmp_path: Path, *extra: str) -> dict:
    source = tmp_path / "in.singer"
    source.write_text("".join(json.dumps(m) + "\n" for m in _messages()), encoding="utf-8")
    code = profile.main(
        ["--rules", "allegory", "--input", str(source), "--out", str(tmp_path), *extra]
    )
    assert code == 0
    return json.loads((tmp_path / "allegory" / "profile.json").read_text(encoding="utf-8"))


def test_columns_are_measured_over_every_record(tmp_path: Path) -> None:
    p = _profile(tmp_path, "--requests-per-minute=50", "--batch-size=100")
    (widgets,) = p["streams"]
    assert widgets["records"] == ROWS and widgets["objects"] == ["widget"]
    cols = {c["column"]: c for c in widgets["columns"]}
    email = cols["email"]
    assert (email["inferred"], email["typed_by"]) == ("e-mail", "values")
    filled = ROWS // 2
    late_bad = [i for i in range(SAMPLE_ROWS, ROWS) if i % 2 == 0 and i % 20 == 0]
    assert email["filled"] == filled and email["fill_rate"] == round(filled / ROWS, 4)
    assert email["parses"] == filled - len(late_bad)
    assert email["not_parsing"] == [f"w{i} at example" for i in late_bad[:3]]
    size = cols["size"]
    assert (size["inferred"], size["typed_by"], size["not_parsing"]) == ("integer", "tap", ["big"])
    assert size["distinct"] == 8  # 0…6 and "big"
    cost = p["cost"]
    assert (cost["batch_size"], cost["requests_per_minute"]) == (100, 50)
    assert cost["rate_source"] == "--requests-per-minute"
    assert cost["objects"] == [
        {
            "object": "widget",
            "records": ROWS,
            "batches": 12,
            "uploads": 0,
            "requests": 12,
            "minutes": 0.2,
        }
    ]
    html = (tmp_path / "allegory" / "profile.html").read_text(encoding="utf-8")
    assert "w1000 at example" in html and "12 requests" in html


def test_the_distinct_count_stops_at_its_cap(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(profiling, "DISTINCT_CAP", 50)
    cols = {c["column"]: c for c in _profile(tmp_path)["streams"][0]["columns"]}
    assert (cols["name"]["distinct"], cols["name"]["distinct_capped"]) == (50, True)
    assert (cols["size"]["distinct"], cols["size"]["distinct_capped"]) == (8, False)


def test_the_rate_comes_from_the_targets_setting_or_its_default(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TARGET_TWENTY_API_URL", "https://api.twenty.com")
    monkeypatch.delenv("TARGET_TWENTY_REQUESTS_PER_MINUTE", raising=False)
    cost = _profile(tmp_path)["cost"]
    assert cost["requests_per_minute"] == 50
    monkeypatch.setenv("TARGET_TWENTY_REQUESTS_PER_MINUTE", "30")
    cost = _profile(tmp_path)["cost"]
    assert (cost["requests_per_minute"], cost["rate_source"]) == (
        30,
        "target-twenty's requests_per_minute",
    )
