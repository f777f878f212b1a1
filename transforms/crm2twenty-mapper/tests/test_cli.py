"""The mapper as Meltano runs it: a real process reading Singer messages on stdin."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

MESSAGES = [
    {
        "type": "SCHEMA",
        "stream": "companies",
        "key_properties": ["id"],
        "schema": {
            "type": "object",
            "properties": {
                "id": {"type": "integer"},
                "name": {"type": "string"},
                "annual_revenue": {"type": ["number", "null"]},
            },
        },
    },
    {
        "type": "RECORD",
        "stream": "companies",
        "record": {"id": 1, "name": "Acme", "annual_revenue": 12.75},
    },
    {"type": "STATE", "value": {"bookmarks": {"companies": {"replication_key_value": "x"}}}},
    {"type": "RECORD", "stream": "companies", "record": {"id": 2, "name": ""}},
]


def run_mapper(tmp_path: Path, env_extra: dict[str, str], config: dict) -> list[dict]:
    source = tmp_path / "in.singer"
    source.write_text("".join(json.dumps(m) + "\n" for m in MESSAGES), encoding="utf-8")
    cfg = tmp_path / "config.json"
    cfg.write_text(json.dumps(config), encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if not k.startswith("MELTANO_")} | env_extra
    with source.open("rb") as stdin:
        done = subprocess.run(
            [sys.executable, "-m", "crm2twenty_mapper.mapper", "--config", str(cfg)],
            stdin=stdin,
            capture_output=True,
            env=env,
            check=True,
            timeout=60,
        )
    return [json.loads(line) for line in done.stdout.decode().splitlines()]


def test_rules_follow_the_extractor_meltano_names(tmp_path: Path) -> None:
    out = run_mapper(tmp_path, {"MELTANO_EXTRACTOR_NAME": "tap-allegory-csv"}, {})
    kinds = [(m["type"], m.get("stream")) for m in out]
    # state passes through after the records before it, the summary comes last, and then the
    # mapper says it completed (crm2twenty_common.completion), as it said it started
    assert kinds.index(("STATE", None)) > kinds.index(("RECORD", "company"))
    assert kinds[-3:] == [("RECORD", "_summary"), ("SCHEMA", "_notices"), ("RECORD", "_notices")]
    said = [m["record"]["status"] for m in out if m.get("stream") == "_notices" and "record" in m]
    assert said == ["started", "completed"]
    company = next(m["record"] for m in out if m["type"] == "RECORD" and m["stream"] == "company")
    assert company["annualRevenue"] == {"amountMicros": 12_750_000, "currencyCode": "USD"}
    assert company["allegoryId"] == "1"
    reject = next(m["record"] for m in out if m["type"] == "RECORD" and m["stream"] == "_rejects")
    assert reject["source_key"] == "2" and "name is required" in reject["reason"]


def test_without_rules_or_extractor_the_error_says_what_to_set(tmp_path: Path) -> None:
    try:
        run_mapper(tmp_path, {}, {})
    except subprocess.CalledProcessError as exc:
        assert b"set the mapper's `rules` setting" in exc.stderr
    else:
        raise AssertionError("the mapper ran without knowing which rules to use")


def test_a_rules_file_path_wins(tmp_path: Path) -> None:
    rules = tmp_path / "mine.yml"
    rules.write_text(
        "source: mine\nstreams:\n  companies:\n    - object: company\n      fields: {name: name}\n",
        encoding="utf-8",
    )
    out = run_mapper(
        tmp_path, {"MELTANO_EXTRACTOR_NAME": "tap-allegory-csv"}, {"rules": str(rules)}
    )
    names = [
        m["record"].get("name") for m in out if m["type"] == "RECORD" and m["stream"] == "company"
    ]
    assert names == [
        "Acme",
        None,
    ]  # these rules require nothing: both rows map, the empty name omitted
