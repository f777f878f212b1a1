"""The report stage, last in the run: what became of every record, as report.json, report.md
and report.html.

``build_report(ReportContext, Spool, WriteOutcome) -> RunReport`` (builder) writes the files beside
the report (rejects, repairs, merges, attachments manifest, workflows) and counts every object
and source stream (counts); ``write_report(RunReport, run_dir)`` writes report.json (its JSON
Schema: report.schema.json here), report.md and report.html (render, from templates/report.md.j2
and templates/report.html.j2, both from one view of the report: view).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from target_twenty.report.builder import ReportContext, build_report
from target_twenty.report.model import Mode, RunKind, RunReport, RunScope
from target_twenty.report.render import html, markdown, prepare

SCHEMA_PATH = Path(__file__).with_name("report.schema.json")

__all__ = [
    "SCHEMA_PATH",
    "Mode",
    "ReportContext",
    "ReportFiles",
    "RunKind",
    "RunReport",
    "RunScope",
    "build_report",
    "html",
    "markdown",
    "prepare",
    "write_report",
]


@dataclass
class ReportFiles:
    json: Path
    markdown: Path
    html: Path


def write_report(report: RunReport, run_dir: Path) -> ReportFiles:
    out = ReportFiles(run_dir / "report.json", run_dir / "report.md", run_dir / "report.html")
    report.write_json(out.json)
    out.markdown.write_text(markdown(report), encoding="utf-8")
    out.html.write_text(html(report), encoding="utf-8")
    return out
