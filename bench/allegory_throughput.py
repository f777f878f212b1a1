"""Throughput and memory of the Allegory CSV path, against the Meltano peer path and a floor.

For each size (records in total across the export's files) this script generates an Allegory
export with the bundled generator, then, on the same files:

  (a) ours:  tap-allegory-csv | crm2twenty-mapper | target-twenty (CSV mode)
  (b) peer:  tap-allegory-csv | meltano-map-transform (stream maps doing the renames)
             | target-csv (meltanolabs-target-csv), installed from PyPI into bench/.venv-peer
  (c) floor: Python's csv module reading every file and writing it back
  (d) each stage of (a) alone, on the same input: the tap writing to a file, the mapper
      reading that file and writing its output to a file, the target reading that output

It prints the ratio lines first (ours against the peer, records/s at each size; peak RSS
against the goals), then the details: wall and CPU (user+sys) seconds of every path and stage,
each stage's share of the stages' CPU, the peak RSS of every process (wait4's rusage). The
same figures go to bench/results/allegory-<UTC timestamp>.json, so two runs can be compared.
Goals (issue 13): ours ≥ 1.0x the peer's records/s; every process of ours ≤ 150 MB peak RSS
and within 1.1x between the smallest and the largest size. Figures only: nothing asserts, and
it is run by hand, never in CI (it needs a quiet machine to mean anything).

    .venv/bin/python bench/allegory_throughput.py                 # 100,000 and 1,000,000
    .venv/bin/python bench/allegory_throughput.py --sizes 20000   # a quick look
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
import venv
from dataclasses import asdict, dataclass
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


@dataclass
class Measure:
    """One path or stage: wall seconds, and per process CPU seconds and peak RSS (kB)."""

    seconds: float
    cpu: list[float]
    rss_kb: list[int]

    @property
    def cpu_total(self) -> float:
        return sum(self.cpu)


def pipeline(
    commands: list[list[str]], cwd: Path, source: Path | None = None, sink: Path | None = None
) -> Measure:
    """Run ``a | b | c`` (``a`` reading ``source``, ``c`` writing ``sink``, if given)."""
    procs: list[subprocess.Popen] = []
    start = time.perf_counter()
    stdin: IO[bytes] | None = source.open("rb") if source is not None else None
    for i, cmd in enumerate(commands):
        last = i == len(commands) - 1
        out: IO[bytes] | int | None = subprocess.PIPE
        if last:
            out = sink.open("wb") if sink is not None else subprocess.DEVNULL
        proc = subprocess.Popen(cmd, stdin=stdin, stdout=out, stderr=subprocess.DEVNULL, cwd=cwd)
        if stdin is not None:
            stdin.close()  # the child holds it now
        if last and sink is not None:
            out.close()  # type: ignore[union-attr]
        stdin = proc.stdout
        procs.append(proc)
    cpu, peaks = [], []
    for i, proc in enumerate(procs):
        _, status, usage = os.wait4(proc.pid, 0)
        proc.returncode = os.waitstatus_to_exitcode(status)
        if proc.returncode != 0:
            raise RuntimeError(f"{commands[i][0]} exited {proc.returncode}")
        cpu.append(usage.ru_utime + usage.ru_stime)
        peaks.append(usage.ru_maxrss)
    return Measure(time.perf_counter() - start, cpu, peaks)


def floor(export: Path, out: Path) -> Measure:
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


PATHS = ("ours", "peer", "floor")
STAGES = ("tap", "mapper", "target")


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
    alone_cfg = work / "target-alone.json"
    alone_cfg.write_text(json.dumps({"output_dir": str(work / "alone")}))
    peer_map_cfg = work / "maps.json"
    peer_map_cfg.write_text(json.dumps({"stream_maps": PEER_MAPS}))
    peer_target_cfg = work / "target-csv.json"
    (work / "peer").mkdir()
    peer_target_cfg.write_text(json.dumps({"output_path": str(work / "peer")}))
    tap = [str(BIN / "tap-allegory-csv"), "--config", str(tap_cfg)]
    mapper = [str(BIN / "crm2twenty-mapper"), "--config", str(mapper_cfg)]
    measures: dict[str, Measure] = {}
    measures["ours"] = pipeline(
        [tap, mapper, [str(BIN / "target-twenty"), "--config", str(target_cfg)]], work
    )
    measures["peer"] = pipeline(
        [
            tap,
            [str(peer_bin / "meltano-map-transform"), "--config", str(peer_map_cfg)],
            [str(peer_bin / "target-csv"), "--config", str(peer_target_cfg)],
        ],
        work,
    )
    measures["floor"] = floor(export, work / "floor")
    tap_out, mapper_out = work / "tap.singer", work / "mapper.singer"
    measures["tap"] = pipeline([tap], work, sink=tap_out)
    measures["mapper"] = pipeline([mapper], work, source=tap_out, sink=mapper_out)
    measures["target"] = pipeline(
        [[str(BIN / "target-twenty"), "--config", str(alone_cfg)]], work, source=mapper_out
    )
    shutil.rmtree(work)
    return {"size": size, "records": records, **{k: asdict(m) for k, m in measures.items()}}


def _mb(kb: float) -> str:
    return f"{kb / 1024:.0f}"


def report(rows: list[dict]) -> list[str]:
    """The ratio lines first, then the details."""
    lines = []
    for r in rows:
        ours, peer = r["records"] / r["ours"]["seconds"], r["records"] / r["peer"]["seconds"]
        peak = max(r["ours"]["rss_kb"])
        lines.append(
            f"{r['records']:>9} records: ours/peer = {ours / peer:.2f}x records/s "
            f"(ours {ours:,.0f}/s, peer {peer:,.0f}/s; goal ≥ 1.0x); "
            f"ours peak RSS {_mb(peak)} MB (goal ≤ 150 MB)"
        )
    if len(rows) > 1:
        small, large = max(rows[0]["ours"]["rss_kb"]), max(rows[-1]["ours"]["rss_kb"])
        lines.append(
            f"peak RSS at {rows[-1]['records']} vs {rows[0]['records']} records: "
            f"{large / small:.2f}x (goal ≤ 1.1x)"
        )
    lines.append("")
    lines.append(
        f"{'records':>9} {'path/stage':>10} {'wall s':>8} {'CPU s':>8} {'records/s':>10} "
        f"{'CPU share':>9}  peak RSS MB (per process)"
    )
    for r in rows:
        stage_cpu = sum(sum(r[s]["cpu"]) for s in STAGES)
        for name in (*PATHS, *STAGES):
            m = r[name]
            cpu = sum(m["cpu"])
            share = f"{cpu / stage_cpu:.0%}" if name in STAGES and stage_cpu else ""
            lines.append(
                f"{r['records']:>9} {name:>10} {m['seconds']:>8.1f} {cpu:>8.1f} "
                f"{r['records'] / m['seconds']:>10.0f} {share:>9}  "
                + " / ".join(_mb(kb) for kb in m["rss_kb"])
            )
    lines.append("(stages: each alone on the same input, to and from files; CPU = user+sys)")
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[100_000, 1_000_000])
    parser.add_argument("--data", type=Path, default=ROOT / "bench" / "data")
    args = parser.parse_args()
    args.data.mkdir(parents=True, exist_ok=True)
    peer_bin = ensure_peer()
    started = time.gmtime()
    rows = [run_size(size, args.data, peer_bin) for size in args.sizes]
    print("\n".join(report(rows)))
    out = ROOT / "bench" / "results"
    out.mkdir(exist_ok=True)
    path = out / f"allegory-{time.strftime('%Y%m%dT%H%M%SZ', started)}.json"
    result = {
        "bench": "allegory_throughput",
        "started": time.strftime("%Y-%m-%dT%H:%M:%SZ", started),
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version()},
        "commit": _commit(),
        "sizes": rows,
    }
    path.write_text(json.dumps(result, indent=2), encoding="utf-8")
    print(f"\nresult: {path}")


def _commit() -> str | None:
    try:
        return subprocess.run(
            ["git", "-C", str(ROOT), "rev-parse", "HEAD"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return None


if __name__ == "__main__":
    main()
