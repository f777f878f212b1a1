"""report.md: the ``RunReport`` rendered for people, by the Jinja2 template in ``templates/``.

The template holds the wording and layout; the filters here hold the few formatting rules
that are clearer in Python (a workflow's JSON as prose, a file's name from its path).
"""

from __future__ import annotations

import json
from pathlib import PurePath
from typing import Any

import jinja2

from target_twenty.report.model import ObjectCount, ProblemExample, RunReport, counts_add_up

# Markdown, not HTML: nothing is escaped. trim/lstrip let a {% tag %} sit on its own line.
_ENV = jinja2.Environment(
    loader=jinja2.PackageLoader("target_twenty.report", "templates"),
    autoescape=False,  # noqa: S701 - the output is Markdown
    trim_blocks=True,
    lstrip_blocks=True,
    keep_trailing_newline=True,
    undefined=jinja2.StrictUndefined,
)


def _text(value: Any) -> str:
    """A workflow's trigger, conditions or actions (JSON or text) as one line of prose."""
    if value in (None, "", []):
        return "(none)"
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError:
            return value
    if isinstance(value, list):
        return "; ".join(_text(v) for v in value)
    if isinstance(value, dict):
        return ", ".join(f"{k}: {_text(v)}" for k, v in value.items())
    return str(value)


def _example(example: ProblemExample) -> str:
    """Where one problem is: ``contacts 457 (contacts.csv:458), value `x```."""
    who = " ".join(x for x in (example.source_stream, example.source_key) if x) or "a record"
    where = f" ({example.location})" if example.location else ""
    value = f", value `{example.value}`" if example.value not in (None, "") else ""
    return f"{who}{where}{value}"


_ENV.filters.update(
    example=_example,
    mark=lambda ok: "✓" if ok else "✗",
    basename=lambda path: PurePath(path).name,
    text=_text,
    code=lambda s: f"`{s}`",
    code_pair=lambda pair: f"`{pair[0]}.{pair[1]}`",
    counts=lambda counts: ", ".join(f"{k} ({v})" for k, v in counts.items()),
    option=lambda o: f'{o["value"]} ("{o["label"]}")',
)


def markdown(report: RunReport) -> str:
    return _ENV.get_template("report.md.j2").render(
        r=report,
        counts_add_up=counts_add_up(report),
        objects_in_order=_in_load_order(report),
        skipped=sum(o.skipped or 0 for o in report.objects),
        unchanged=sum(o.unchanged or 0 for o in report.objects),
    )


def _in_load_order(report: RunReport) -> list[tuple[int | str, ObjectCount]]:
    """Objects with their place in the load order (those outside it last, unnumbered)."""
    position = {name: i + 1 for i, name in enumerate(report.order)}
    rows = sorted(report.objects, key=lambda o: position.get(o.object, 999))
    return [(position.get(o.object, ""), o) for o in rows]
