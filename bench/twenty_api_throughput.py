"""API-mode throughput against the rate limit, and losses under faults.

Loads 20,000 records (companies, people, opportunities, with relations) through target-twenty
in API mode into the fake Twenty (tests/fakes/twenty.py) that allows 600 requests per minute and
answers each request after 100 ms. Prints, per scenario: wall time, requests, records/min
achieved against the ceiling (limit × batch size per minute) over the whole run and over the
writes alone (first record write to last), the busiest 60-second window the server saw, 429s and
retries, and the records lost (expected − found). Goals: ≥ 95 % of the
ceiling; 0 records lost when 30 % of requests are answered 429 or 503. Figures only.

    .venv/bin/python bench/twenty_api_throughput.py
    .venv/bin/python bench/twenty_api_throughput.py --records 5000   # a quick look
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT / "tests"), str(ROOT / "targets/target-twenty/tests")]

from fakes.twenty import FakeTwenty  # noqa: E402
from twenty_builders import COMPANY, OPPORTUNITY, PERSON, record, rid  # noqa: E402

BIN = Path(sys.executable).parent
LIMIT, WINDOW, LATENCY = 600, 60.0, 0.1


def messages(total: int) -> list[dict]:
    companies, people = total // 5, total // 2
    deals = total - companies - people
    out = [COMPANY, PERSON, OPPORTUNITY]
    out += [record("company", c, name=f"Company {c}") for c in range(companies)]
    out += [
        record(
            "person",
            p,
            emails={"primaryEmail": f"p{p}@example.org"},
            companyId=rid("company", p % companies),
        )
        for p in range(people)
    ]
    out += [
        record(
            "opportunity",
            d,
            name=f"Deal {d}",
            stage="MEETING",
            companyId=rid("company", d % companies),
        )
        for d in range(deals)
    ]
    return out


def busiest_window(times: list[float], window: float) -> int:
    times, best, j = sorted(times), 0, 0
    for i, t in enumerate(times):
        while times[j] <= t - window:
            j += 1
        best = max(best, i - j + 1)
    return best


def scenario(name: str, total: int, batch: int, fault_rate: float, work: Path) -> dict:
    source = work / "input.singer"
    source.write_text("".join(json.dumps(m) + "\n" for m in messages(total)))
    with FakeTwenty(
        rate_limit=LIMIT, window=WINDOW, latency=LATENCY, fault_rate=fault_rate
    ) as fake:
        config = work / f"{name}.json"
        config.write_text(
            json.dumps(
                {
                    "mode": "api",
                    "api_url": fake.url,
                    "api_key": fake.api_key,
                    "output_dir": str(work / name),
                    "requests_per_minute": LIMIT,
                    "batch_size": batch,
                    "progress_seconds": 30,
                }
            )
        )
        started = time.monotonic()
        subprocess.run(
            [str(BIN / "target-twenty"), "--config", str(config), "--input", str(source)],
            check=True,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        seconds = time.monotonic() - started
        found = sum(len(fake.live(o)) for o in ("company", "person", "opportunity"))
        served = [
            e["time"]
            for e in fake.log
            if e.get("status") not in (429,) and e["path"].startswith("/rest/batch/")
        ]
        report = json.loads(
            (work / name / (work / name / "LATEST").read_text().strip() / "report.json").read_text()
        )
        return {
            "scenario": name,
            "records": total,
            "batch": batch,
            "seconds": seconds,
            "requests": fake.counts["requests"],
            "writes": len(served),
            "rate": total / seconds * 60,
            # the load itself: from the first record write to the last (start-up, spooling,
            # checks and provisioning come before it and do not depend on the limit)
            "write_seconds": max(served) - min(served) if served else 0.0,
            "ceiling": LIMIT * batch,
            "busiest_window": busiest_window([e["time"] for e in fake.log], WINDOW),
            "429": fake.counts["429"],
            "faults": fake.counts["faults"],
            "retries": report["api"]["retries"],
            "lost": total - found,
            "violations": len(fake.violations),
        }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--records", type=int, default=20_000)
    args = parser.parse_args()
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        rows.append(scenario("batch-60", args.records, 60, 0.0, work))
        rows.append(scenario("batch-10", args.records, 10, 0.0, work))
        rows.append(scenario("faults-30%", args.records, 60, 0.3, work))
    print(f"limit {LIMIT} requests / {WINDOW:.0f} s, latency {LATENCY * 1000:.0f} ms per request")
    print(
        f"{'scenario':<11} {'records':>7} {'batch':>5} {'seconds':>8} {'requests':>8} "
        f"{'rec/min':>8} {'ceiling':>8} {'%':>5} {'writes s':>8} {'% writing':>9} "
        f"{'busiest 60s':>11} {'429':>4} {'faults':>6} "
        f"{'retries':>7} {'lost':>4}"
    )
    for r in rows:
        # records/min while writing: the whole load spread over (write span + one batch's slot)
        writing = r["records"] / (r["write_seconds"] + 60 / LIMIT) * 60
        print(
            f"{r['scenario']:<11} {r['records']:>7} {r['batch']:>5} {r['seconds']:>8.1f} "
            f"{r['requests']:>8} {r['rate']:>8.0f} {r['ceiling']:>8} "
            f"{100 * r['rate'] / r['ceiling']:>5.0f} {r['write_seconds']:>8.1f} "
            f"{100 * writing / r['ceiling']:>9.0f} {r['busiest_window']:>11} {r['429']:>4} "
            f"{r['faults']:>6} {r['retries']:>7} {r['lost']:>4}"
        )
    out = ROOT / "bench" / "results"
    out.mkdir(exist_ok=True)
    (out / "twenty_api_throughput.json").write_text(json.dumps(rows, indent=2))


if __name__ == "__main__":
    main()
