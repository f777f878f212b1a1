"""Killed at random points of a load, then run again: nothing lost, nothing duplicated.

The target runs as its own process (as under Meltano) and is killed with SIGKILL — no chance to
clean up — at seeded random moments of an API-mode load into the fake Twenty, with latency so
the kills land mid-load. A last run must leave exactly the input in Twenty, once.
"""

from __future__ import annotations

import json
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

from fakes.twenty import FakeTwenty
from twenty_builders import COMPANY, OPPORTUNITY, PERSON, record, rid

BIN = Path(sys.executable).parent


def migration_input() -> list[dict]:
    companies = [
        record(
            "company",
            c,
            name=f"Company {c}",
            domainName={"primaryLinkUrl": f"https://c{c}.example"},
        )
        for c in range(60)
    ]
    people = [
        record(
            "person",
            p,
            emails={"primaryEmail": f"p{p}@example.org"},
            companyId=rid("company", p % 60),
        )
        for p in range(240)
    ]
    deals = [
        record(
            "opportunity",
            d,
            name=f"Deal {d}",
            stage="MEETING",
            companyId=rid("company", d % 60),
            pointOfContactId=rid("person", d),
        )
        for d in range(120)
    ]
    return [
        COMPANY,
        PERSON,
        OPPORTUNITY,
        *companies,
        *people,
        *deals,
        {"type": "STATE", "value": {"bookmarks": {"all": "done"}}},
    ]


def start(config: Path, source: Path) -> subprocess.Popen:
    return subprocess.Popen(
        [str(BIN / "target-twenty"), "--config", str(config), "--input", str(source)],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
    )


def test_kill_minus_nine_anywhere_then_rerun_loses_and_duplicates_nothing(tmp_path: Path) -> None:
    rng = random.Random(20261122)
    source = tmp_path / "input.singer"
    source.write_text("".join(json.dumps(m) + "\n" for m in migration_input()))
    with FakeTwenty(latency=0.03) as fake:
        config = tmp_path / "config.json"
        config.write_text(
            json.dumps(
                {
                    "mode": "api",
                    "api_url": fake.url,
                    "api_key": fake.api_key,
                    "output_dir": str(tmp_path / "out"),
                    "batch_size": 10,
                    "requests_per_minute": 100000,
                    "max_concurrency": 2,
                }
            )
        )
        kills = 0
        for _ in range(4):
            proc = start(config, source)
            time.sleep(rng.uniform(0.6, 2.5))
            if proc.poll() is None:
                proc.send_signal(signal.SIGKILL)
                kills += 1
            out, _ = proc.communicate()  # waits, reads and closes the pipe
            assert out == b"" or proc.returncode == 0  # no state before the end
        assert kills >= 2, "the load finished before the kills: raise the latency"
        final = start(config, source)
        out, _ = final.communicate(timeout=300)
        assert final.returncode == 0
        assert json.loads(out.decode().strip().splitlines()[-1]) == {"bookmarks": {"all": "done"}}
        expected = {"company": 60, "person": 240, "opportunity": 120}
        for obj, count in expected.items():
            live = fake.live(obj)
            assert len(live) == count, obj
            assert {r["id"] for r in live} == {rid(obj, k) for k in range(count)}
        emails = [r["emails"]["primaryEmail"] for r in fake.live("person")]
        assert len(set(emails)) == len(emails) == 240
        assert all(
            r["pointOfContactId"] == rid("person", int(r["name"].split()[1]))
            for r in fake.live("opportunity")
        )
        assert fake.violations == []
