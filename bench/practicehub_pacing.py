"""tap-practicehub at PracticeHub's pace: 30,000 records across streams against the fake
PracticeHub (tests/fakes/practicehub.py) answering 429 to any request within 1 s of the
previous one — the real limit, not a test-sized one.

Runs the tap's console script (its default `min_interval_seconds`, 1.05 s, unless
--tap-interval) and prints: wall time, requests, 429s, records per stream, the most requests
that arrived in any 1-s window and the smallest gap between two arrivals (both from the
fake's arrival log), and what one request per record would have taken. Goal: ≤ 6 minutes and
never two requests within one second. Figures only: nothing here asserts.

    .venv/bin/python bench/practicehub_pacing.py                    # 30,000 records (~6 min)
    .venv/bin/python bench/practicehub_pacing.py --records 3000     # a quick look
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

from fakes.practicehub import API_KEY, APP_DETAILS, FakePracticeHub  # noqa: E402

TAP = str(Path(sys.executable).parent / "tap-practicehub")
# How 30,000 records split across the streams (a mid-sized clinic's history).
SHARE = {
    "patients": 0.27,
    "appointments": 0.40,
    "invoices": 0.10,
    "payments": 0.10,
    "patient_logs": 0.10,
    "files": 0.02,
    "patient_packages": 0.01,
}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--records", type=int, default=30_000)
    ap.add_argument("--server-interval", type=float, default=1.0, help="the fake's limit (s)")
    ap.add_argument("--tap-interval", type=float, help="min_interval_seconds (default: tap's)")
    args = ap.parse_args()
    counts = {k: max(1, round(args.records * v)) for k, v in SHARE.items()}
    with FakePracticeHub(counts, min_interval=args.server_interval) as fake:
        config = {"api_url": fake.url, "api_key": API_KEY, "app_details": APP_DETAILS}
        if args.tap_interval is not None:
            config["min_interval_seconds"] = args.tap_interval
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / "config.json"
            path.write_text(json.dumps(config))
            started = time.monotonic()
            done = subprocess.run(
                [TAP, "--config", str(path)], capture_output=True, text=True, check=False
            )
            wall = time.monotonic() - started
        streams: Counter[str] = Counter()
        for line in done.stdout.splitlines():
            if line.startswith('{"type":"RECORD"') or line.startswith('{"type": "RECORD"'):
                streams[json.loads(line)["stream"]] += 1
        total = sum(n for s, n in streams.items() if not s.startswith("_"))
        statuses = Counter(e["status"] for e in fake.log)
        rows_served = sum(len(fake.served(s)) for s in fake.data)
        print(f"exit code                     {done.returncode}")
        print(
            f"records emitted               {total:,} ({rows_served:,} rows served, repeats "
            f"included; {sum(len(v) for v in fake.data.values()):,} distinct)"
        )
        for name, n in sorted(streams.items()):
            print(f"  {name:<28}{n:,}")
        print(f"wall time                     {wall:,.1f} s ({wall / 60:.2f} min; goal ≤ 6 min)")
        print(f"API requests                  {len(fake.log):,} (by status: {dict(statuses)})")
        # the floor: each list's pages, repeats included (they take room on pages too)
        needed = sum(max(1, -(-len(fake.served(s)) // 100)) for s in fake.data)
        floor = needed * args.server_interval
        print(
            f"pages the data needs          {needed:,} (so ≥ {floor:,.0f} s; "
            f"requests beyond them: {len(fake.log) - needed:,})"
        )
        print(f"max requests in any 1-s window {fake.max_in_window(1.0)} (goal: 1)")
        print(f"smallest gap between requests {fake.min_gap():.3f} s")
        naive = total * args.server_interval
        print(
            f"one request per record        ≈ {naive / 3600:.1f} h at {args.server_interval} s each"
        )
        if done.returncode:
            print(done.stderr[-2000:])


if __name__ == "__main__":
    main()
