"""``verify.csv`` (every value compared) and ``verify.html`` (the summary, counts by field, and
the values that are not equal) in the verified run's folder."""

from __future__ import annotations

import csv
import json
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from jinja2 import Environment, PackageLoader, select_autoescape

from target_twenty.verify.check import Checked, Verdict, VerifyResult

HEADER = [
    "object",
    "id",
    "source_stream",
    "source_key",
    "field",
    "source_value",
    "sent_value",
    "stored_value",
    "verdict",
]
SHOWN = 2000  # differences listed in the HTML page (the CSV has them all)


@dataclass(frozen=True)
class VerifyFiles:
    csv: Path
    html: Path


def write_files(
    run_dir: Path,
    stem: str,
    checks: Iterable[Checked],
    result: Callable[[], VerifyResult],
) -> VerifyFiles:
    """Stream ``checks`` into ``<stem>.csv``, then write ``<stem>.html`` from ``result()``
    (complete once the checks are consumed)."""
    run_dir.mkdir(parents=True, exist_ok=True)
    files = VerifyFiles(run_dir / f"{stem}.csv", run_dir / f"{stem}.html")
    shown: list[Checked] = []
    compared: Counter[str] = Counter()
    with files.csv.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(HEADER)
        for c in checks:
            compared[f"{c.object}.{c.field}"] += 1
            writer.writerow(
                [
                    c.object,
                    c.id,
                    c.source_stream,
                    c.source_key,
                    c.field,
                    text(c.source),
                    text(c.sent),
                    text(c.stored),
                    c.verdict.value,
                ]
            )
            if c.verdict is not Verdict.EQUAL and len(shown) < SHOWN:
                shown.append(c)
    done = result()
    page = _environment().get_template("verify.html.j2")
    files.html.write_text(
        page.render(
            r=done,
            by_field=[(k, n, done.differences.get(k, 0)) for k, n in sorted(compared.items())],
            shown=shown,
            limit=SHOWN,
            csv_name=files.csv.name,
            text=text,
        ),
        encoding="utf-8",
    )
    return files


def text(value: Any) -> str:
    """A value as one CSV cell: text as it is, anything else as JSON."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False, sort_keys=True, default=str)


def _environment() -> Environment:
    return Environment(
        loader=PackageLoader("target_twenty.verify", "templates"),
        autoescape=select_autoescape(["html", "j2"]),
        trim_blocks=True,
        lstrip_blocks=True,
    )
