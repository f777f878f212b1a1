"""Throughput and memory of the Allegory CSV path, against the Meltano peer path and a floor.

For each size (records in total across the export's files) this script generates an Allegory
export with the bundled generator, then times, on the same files:

  (a) ours:  tap-allegory-csv | crm2twenty-mapper | target-twenty (CSV mode)
  (b) peer:  tap-allegory-csv | meltano-map-transform (stream maps doing the renames)
             | target-csv (meltanolabs-target-csv), installed from PyPI into bench/.venv-peer
  (c) floor: Python's csv module reading every file and writing it back
  (d) mapper: crm2twenty-mapper alone, reading the tap's output from a file (what the mapper
      itself costs, without the tap and the target sharing the CPU)

and prints records/s (source records over wall time) and the peak RSS of each process of the
pipeline (from wait4's rusage), plus the largest of them. Goals it reports against: (a) at least
0.5x (b)'s records/s; peak RSS of (a) at most 500 MB and within 1.2x between the smallest and
the largest size. Figures only: nothing here asserts.

    .venv/bin/python bench/allegory_throughput.py                 # 100,000 and 1,000,000
    .venv/bin/python bench/allegory_throughput.py --sizes 20000   # a quick look
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import venv
from pathlib import Path
from typing import IO

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
PEER_VENV = ROOT / "bench" / ".venv-peer"
PEER_PACKAGES = ["meltano-map-transform==0.12.3", "meltanolabs-target-csv==0.5.0"]

# The peer path's renames, as stream maps: what a user without our mapper would write.
PEER_MAPS = {
    "companies": {
        "__alias__": "company",
        "domainName": "website",
        "website": "__NULL__",
        "annualRevenue": "annual_revenue",
        "annual_revenue": "__NULL__",
        "createdAt": "created_at",
        "created_at": "__NULL__",
    },
    "contacts": {
        "__alias__": "person",
        "firstName": "first_name",
        "first_name": "__NULL__",
        "lastName": "last_name",
        "last_name": "__NULL__",
        "primaryEmail": "email",
        "email": "__NULL__",
        "jobTitle": "job_title",
        "job_title": "__NULL__",
        "companyId": "company_id",
        "company_id": "__NULL__",
    },
    "deals": {
        "__alias__": "opportunity",
        "closeDate": "close_date",
        "close_date": "__NULL__",
        "companyId": "company_id",
        "company_id": "__NULL__",
    },
    "tasks": {"__alias__": "task", "dueAt": "due_date", "due_date": "__NULL__"},
    "notes": {"__alias__": "note", "bodyV2": "body", "body": "__NULL__"},
}


def generate(size: int, data_dir: Path) -> Path:
    export = data_dir / f"allegory-{size}"
    if not (export / "companies.csv").exists():
        subprocess.run(
            [
                sys.executable,
                str(ROOT / "examples/allegory/generate.py"),
                "--out",
                str(export),
                "--total",
                str(size),
                "--no-files",
            ],
            check=True,
        )
    return export


def count_rows(export: Path) -> int:
    """Source records: the generator's own count (note bodies span several lines, so counting
    lines would overstate it)."""
    summary = export.parent / f"{export.name}.expected.json"
    return json.loads(summary.read_text(encoding="utf-8"))["total"]


def ensure_peer() -> Path:
    python = PEER_VENV / "bin" / "python"
    if not python.exists():
        venv.create(PEER_VENV, with_pip=True)
        subprocess.run([str(python), "-m", "pip", "install", "-q", *PEER_PACKAGES], check=True)
    return PEER_VENV / "bin"


def pipeline(
    commands: list[list[str]], cwd: Path, source: Path | None = None
) -> tuple[float, list[int]]:
    """Run ``a | b | c`` (``a`` reading ``source`` if given); wall seconds and each process's
    peak RSS in kB (Linux ru_maxrss)."""
    procs: list[subprocess.Popen] = []
    start = time.perf_counter()
    stdin: IO[bytes] | None = source.open("rb") if source is not None else None
    for i, cmd in enumerate(commands):
        last = i == len(commands) - 1
        proc = subprocess.Popen(
            cmd,
            stdin=stdin,
            stdout=subprocess.DEVNULL if last else subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            cwd=cwd,
        )
        if stdin is not None:
            stdin.close()  # the child holds it now
        stdin = proc.stdout
        procs.append(proc)
    peaks = []
    for proc in procs:
        _, status, usage = os.wait4(proc.pid, 0)
        proc.returncode = os.waitstatus_to_exitcode(status)
        if proc.returncode != 0:
            raise RuntimeError(f"{commands[procs.index(proc)][0]} exited {proc.returncode}")
        peaks.append(usage.ru_maxrss)
    return time.perf_counter() - start, peaks


def floor(export: Path, out: Path) -> tuple[float, list[int]]:
    script = (
        "import csv,sys,pathlib\n"
        "src,dst=pathlib.Path(sys.argv[1]),pathlib.Path(sys.argv[2]);dst.mkdir(exist_ok=True)\n"
        "for p in sorted(src.glob('*.csv')):\n"
        "    raw=p.read_bytes()\n"
        "    try: raw.decode('utf-8'); enc='utf-8-sig'\n"
        "    except UnicodeDecodeError: enc='cp1252'\n"
        "    with p.open(encoding=enc,newline='') as f, (dst/p.name).open('w',newline='') as g:\n"
        "        d=csv.Sniffer().sniff(f.read(65536),',;\\t');f.seek(0)\n"
        "        w=csv.writer(g)\n"
        "        for row in csv.reader(f,d): w.writerow(row)\n"
    )
    return pipeline([[sys.executable, "-c", script, str(export), str(out)]], out.parent)


def run_size(size: int, data_dir: Path, peer_bin: Path) -> dict:
    export = generate(size, data_dir)
    records = count_rows(export)
    work = Path(tempfile.mkdtemp(prefix=f"bench-{size}-", dir=data_dir))
    tap_cfg = work / "tap.json"
    tap_cfg.write_text(json.dumps({"export_dir": str(export), "on_bad_row": "reject"}))
    mapper_cfg = work / "mapper.json"
    mapper_cfg.write_text(json.dumps({"rules": "allegory"}))
    target_cfg = work / "target.json"
    target_cfg.write_text(json.dumps({"output_dir": str(work / "ours")}))
    peer_map_cfg = work / "maps.json"
    peer_map_cfg.write_text(json.dumps({"stream_maps": PEER_MAPS}))
    peer_target_cfg = work / "target-csv.json"
    (work / "peer").mkdir()
    peer_target_cfg.write_text(json.dumps({"output_path": str(work / "peer")}))
    tap = [str(BIN / "tap-allegory-csv"), "--config", str(tap_cfg)]
    results: dict[str, object] = {"size": size, "records": records}
    t, rss = pipeline(
        [
            tap,
            [str(BIN / "crm2twenty-mapper"), "--config", str(mapper_cfg)],
            [str(BIN / "target-twenty"), "--config", str(target_cfg)],
        ],
        work,
    )
    results["ours"] = {"seconds": t, "rss_kb": rss}
    t, rss = pipeline(
        [
            tap,
            [str(peer_bin / "meltano-map-transform"), "--config", str(peer_map_cfg)],
            [str(peer_bin / "target-csv"), "--config", str(peer_target_cfg)],
        ],
        work,
    )
    results["peer"] = {"seconds": t, "rss_kb": rss}
    t, rss = floor(export, work / "floor")
    results["floor"] = {"seconds": t, "rss_kb": rss}
    tap_out = work / "tap.singer"
    with tap_out.open("wb") as out:
        subprocess.run(tap, stdout=out, stderr=subprocess.DEVNULL, cwd=work, check=True)
    mapper = [str(BIN / "crm2twenty-mapper"), "--config", str(mapper_cfg)]
    t, rss = pipeline([mapper], work, source=tap_out)
    results["mapper"] = {"seconds": t, "rss_kb": rss}
    shutil.rmtree(work)
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[100_000, 1_000_000])
    parser.add_argument("--data", type=Path, default=ROOT / "bench" / "data")
    args = parser.parse_args()
    args.data.mkdir(parents=True, exist_ok=True)
    peer_bin = ensure_peer()
    rows = [run_size(size, args.data, peer_bin) for size in args.sizes]
    print(
        f"{'size':>9} {'path':>6} {'seconds':>8} {'records/s':>10} "
        f"{'peak RSS MB (per process)':>30}"
    )
    for r in rows:
        for path in ("ours", "peer", "floor", "mapper"):
            m = r[path]
            rate = r["records"] / m["seconds"]
            per = " / ".join(f"{kb / 1024:.0f}" for kb in m["rss_kb"])
            print(f"{r['records']:>9} {path:>6} {m['seconds']:>8.1f} {rate:>10.0f} {per:>30}")
        ratio = r["peer"]["seconds"] / r["ours"]["seconds"]
        print(
            f"{'':>9} ours/peer records/s = {ratio:.2f}x (goal ≥ 0.5x); "
            f"ours peak RSS = {max(r['ours']['rss_kb']) / 1024:.0f} MB (goal ≤ 500 MB)"
        )
    if len(rows) > 1:
        small, large = max(rows[0]["ours"]["rss_kb"]), max(rows[-1]["ours"]["rss_kb"])
        print(
            f"peak RSS {rows[-1]['records']} vs {rows[0]['records']}: {large / small:.2f}x "
            "(goal ≤ 1.2x)"
        )
    out = ROOT / "bench" / "results"
    out.mkdir(exist_ok=True)
    (out / "allegory_throughput.json").write_text(json.dumps(rows, indent=2))


if __name__ == "__main__":
    main()
