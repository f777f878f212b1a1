"""API-mode throughput against Twenty's rate limit: the Allegory sample's lifecycle, and losses
under faults.

Default: the Allegory sample (examples/allegory/export) through the real
`meltano run tap-allegory-csv mapper target-twenty` in API mode into the fake Twenty
(tests/fakes/twenty.py) enforcing Twenty v2.21's limiter: a token bucket of 100 tokens per 60 s,
refilled in whole tokens rounded down on every request (docs/twenty-contract.md §2.10, §2.13),
drained by a previous process just before the load starts. On one workspace and state folder:

  load      the first run (batch_size 200, requests_per_minute 100: the defaults)
  re-run    the same command again, export unchanged, with --full-refresh (every source record
            is read and offered to the target again: what it sends is what it judged changed)
  rollback  `target-twenty-rollback` of the re-run, then of the load (newest first)

``--window S`` keeps 100 tokens but refills them over S seconds (and tells the target
100 × 60 / S requests a minute) for a shorter bench; every figure is normalised to the real
ceiling: 100 requests/min, 100 × 200 = 20,000 records/min. Prints ratio lines first, details
after, and writes bench/results/twenty_api_throughput.json. Figures only: nothing asserts.

``--synthetic N`` runs instead the earlier scenarios: N generated records at 600 requests/min
and 100 ms latency, batch 200 and 10, and 30 % of requests answered 429 or 503 (records lost).

    .venv/bin/python bench/twenty_api_throughput.py                 # load + re-run: 3-4 min
    .venv/bin/python bench/twenty_api_throughput.py --phase-timeout 240   # cap each rollback
    .venv/bin/python bench/twenty_api_throughput.py --window 20     # a quicker look
    .venv/bin/python bench/twenty_api_throughput.py --synthetic 5000
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT / "tests"), str(ROOT / "targets/target-twenty/tests")]

from e2e_run import project_dir  # noqa: E402
from fakes.twenty import FakeTwenty, rate_limited  # noqa: E402
from twenty_builders import COMPANY, OPPORTUNITY, PERSON, record, rid  # noqa: E402

BIN = Path(sys.executable).parent
LIMIT, WINDOW, LATENCY = 600, 60.0, 0.1  # the synthetic scenarios
TOKENS, BATCH = 100, 200  # Twenty v2.21's defaults (docs/twenty-contract.md §2.5, §2.10)
CEILING_REQUESTS, CEILING_RECORDS = TOKENS, TOKENS * BATCH  # a minute, at the real window
EXPORT = ROOT / "examples/allegory/export"
WRITES = ("POST", "PATCH", "DELETE")


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


def synthetic(name: str, total: int, batch: int, fault_rate: float, work: Path) -> dict:
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


def synthetic_all(records: int, work: Path) -> list[dict]:
    rows = [
        synthetic("batch-200", records, 200, 0.0, work),
        synthetic("batch-10", records, 10, 0.0, work),
        synthetic("faults-30%", records, 200, 0.3, work),
    ]
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
    return rows


# ---- the Allegory lifecycle on the bucket-enforcing fake --------------------------------------


def phase(name: str, log: list[dict], window: float, seconds: float) -> dict:
    """The figures of one phase, from the requests the fake saw during it."""
    limited = [e for e in log if rate_limited(e["path"])]
    arrivals = sorted(e["time"] for e in limited)
    served = [e for e in limited if e.get("status", 500) < 400]
    writes = [e for e in served if e["method"] in WRITES]
    times = [e["time"] for e in writes]  # arrivals (the log is in order of answers)
    span = max(times) - min(times) if writes else 0.0
    slot = window / TOKENS  # one request's share of the refill
    records = sum(e.get("records", 1) for e in writes)
    scale = 60.0 / window  # to the real window
    return {
        "phase": name,
        "seconds": seconds,
        "requests": len(log),
        "limited_requests": len(limited),
        "writes": len(writes),
        "reads": len(served) - len(writes),
        "records_written": records,
        "largest_batch": max((e.get("records", 1) for e in writes), default=0),
        "429": sum(1 for e in log if e.get("status") == 429),
        "write_seconds": span,
        # the write phase as the real window would see it: (span + one slot) per minute
        "write_requests_per_min": len(writes) / (span + slot) * 60 / scale if writes else 0.0,
        "write_records_per_min": records / (span + slot) * 60 / scale if writes else 0.0,
        "limited_requests_per_min": (
            len(limited) / (arrivals[-1] - arrivals[0] + slot) * 60 / scale if limited else 0.0
        ),
    }


def allegory(window: float, phase_timeout: float, work: Path) -> dict:
    members = [row["email"] for row in csv.DictReader((EXPORT / "users.csv").open())]
    rpm = round(TOKENS * 60 / window)
    state, output = work / "state", work / "output"
    with FakeTwenty(
        rate_limit=TOKENS, window=window, members=("admin@acme.test", *members)
    ) as fake:
        env = {
            k: v for k, v in os.environ.items() if not k.startswith(("MELTANO_", "TAP_", "TARGET_"))
        }
        env |= {
            "TAP_ALLEGORY_CSV_EXPORT_DIR": str(EXPORT),
            "TARGET_TWENTY_MODE": "api",
            "TARGET_TWENTY_API_URL": fake.url,
            "TARGET_TWENTY_API_KEY": fake.api_key,
            "TARGET_TWENTY_REQUESTS_PER_MINUTE": str(rpm),
            "TARGET_TWENTY_FALLBACK_OWNER_EMAIL": "admin@acme.test",
            "TARGET_TWENTY_STATE_DIR": str(state),
            "TARGET_TWENTY_OUTPUT_DIR": str(output),
        }
        suffix = f"bench-{uuid.uuid4().hex[:8]}"
        phases, runs = [], []

        def timed(name: str, command: list[str]) -> bool:
            """Run one phase; False when it ran out of time (then it is stopped)."""
            first = len(fake.log)
            started = time.monotonic()
            with subprocess.Popen(
                command,
                cwd=project_dir(),
                env=env,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.PIPE,
                text=True,
                start_new_session=True,
            ) as proc:
                try:
                    _, err = proc.communicate(timeout=phase_timeout)
                    finished = True
                except subprocess.TimeoutExpired:
                    os.killpg(proc.pid, signal.SIGTERM)
                    _, err = proc.communicate()
                    finished = False
            if finished and proc.returncode != 0:
                raise SystemExit(f"{name} failed:\n{err[-3000:]}")
            figures = phase(name, fake.log[first:], window, time.monotonic() - started)
            figures["finished"] = finished
            phases.append(figures)
            print(
                f"  {name}: {figures['seconds']:.0f} s, {figures['writes']} writes, "
                f"{figures['429']} × 429{'' if finished else ', stopped (out of time)'}",
                file=sys.stderr,
            )
            return finished

        # a previous process has just spent the bucket
        for _ in range(TOKENS):
            fake.handle("GET", "/rest/companies", {"Authorization": f"Bearer {fake.api_key}"}, b"")
        del fake.log[:]
        meltano = [str(BIN / "meltano"), "run", "--state-id-suffix", suffix]
        pipeline = ["tap-allegory-csv", "mapper", "target-twenty"]
        for name, extra in (("load", []), ("re-run", ["--full-refresh"])):
            if not timed(name, meltano + extra + pipeline):
                raise SystemExit(f"{name} did not finish in {phase_timeout:.0f} s")
            latest = output / (output / "LATEST").read_text().strip()
            runs.append(json.loads((latest / "report.json").read_text())["run_id"])
        config = work / "rollback.json"
        config.write_text(
            json.dumps(
                {
                    "api_url": fake.url,
                    "api_key": fake.api_key,
                    "state_dir": str(state),
                    "output_dir": str(output),
                    "requests_per_minute": rpm,
                }
            )
        )
        for name, run in (("rollback re-run", runs[1]), ("rollback load", runs[0])):
            rollback = [str(BIN / "target-twenty-rollback"), "--config", str(config)]
            if not timed(name, [*rollback, "--run", run]):
                break  # a later run not rolled back: the earlier one cannot be
        left = {o: len(fake.live(o)) for o in ("company", "person", "opportunity", "note")}
        return {
            "window": window,
            "requests_per_minute": rpm,
            "phases": phases,
            "left_after_rollback": left,
            "violations": len(fake.violations),
        }


def print_allegory(result: dict) -> None:
    by = {p["phase"]: p for p in result["phases"]}
    load, rerun = by["load"], by["re-run"]

    def pct(a: float, b: float) -> str:
        return f"{100 * a / b:.0f} %" if b else "n/a"

    print(
        f"load, write phase: {load['write_records_per_min']:,.0f} records/min = "
        f"{pct(load['write_records_per_min'], CEILING_RECORDS)} of the ceiling "
        f"({CEILING_RECORDS:,}/min); {load['write_requests_per_min']:.1f} requests/min = "
        f"{pct(load['write_requests_per_min'], CEILING_REQUESTS)} of {CEILING_REQUESTS}/min; "
        f"largest batch {load['largest_batch']}; 429s: "
        + ", ".join(f"{p['phase']} {p['429']}" for p in result["phases"])
    )
    print(
        f"re-run: {rerun['writes']} write requests = {pct(rerun['writes'], load['writes'])} of "
        f"the load's {load['writes']} ({rerun['limited_requests']} vs {load['limited_requests']} "
        "limited requests in all)"
    )
    for name, run in (("rollback re-run", rerun), ("rollback load", load)):
        undo = by.get(name)
        if undo is None:
            print(f"{name}: not run (the later run's rollback did not finish)")
            continue
        print(
            f"{name}: {undo['writes']} write requests = {pct(undo['writes'], run['writes'])} of "
            f"the run's {run['writes']}"
            + ("" if undo["finished"] else f" when stopped after {undo['seconds']:.0f} s")
        )
    print()
    print(
        f"fake Twenty: {TOKENS} tokens per {result['window']:.0f} s (figures normalised to 60 s), "
        f"target at {result['requests_per_minute']} requests/min; records left after both "
        f"rollbacks: {result['left_after_rollback']}; OpenAPI violations: {result['violations']}"
    )
    cols = (
        f"{'phase':<16} {'seconds':>8} {'requests':>8} {'limited':>7} {'writes':>6} {'reads':>5} "
        f"{'records':>7} {'batch':>5} {'429':>4} {'write s':>8} {'wr req/min':>10} "
        f"{'rec/min':>8}"
    )
    print(cols)
    for p in result["phases"]:
        print(
            f"{p['phase']:<16} {p['seconds']:>8.1f} {p['requests']:>8} {p['limited_requests']:>7} "
            f"{p['writes']:>6} {p['reads']:>5} {p['records_written']:>7} {p['largest_batch']:>5} "
            f"{p['429']:>4} {p['write_seconds']:>8.1f} {p['write_requests_per_min']:>10.1f} "
            f"{p['write_records_per_min']:>8.0f}"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--window", type=float, default=60.0, help="the fake's bucket refills in")
    parser.add_argument(
        "--phase-timeout", type=float, default=600.0, help="stop a phase after this many seconds"
    )
    parser.add_argument(
        "--synthetic", type=int, metavar="N", help="the generated-records scenarios"
    )
    args = parser.parse_args()
    out = ROOT / "bench" / "results"
    out.mkdir(exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        if args.synthetic:
            rows = synthetic_all(args.synthetic, Path(tmp))
            (out / "twenty_api_synthetic.json").write_text(json.dumps(rows, indent=2))
            return
        result = allegory(args.window, args.phase_timeout, Path(tmp))
    print_allegory(result)
    (out / "twenty_api_throughput.json").write_text(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
