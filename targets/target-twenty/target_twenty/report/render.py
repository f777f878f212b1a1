"""report.md and report.html: the ``RunReport`` rendered for people, each by its Jinja2 template
in ``templates/``, both from the same view (report.view: banners, totals, load order).

The templates hold the wording and layout; the filters here hold the few formatting rules
that are clearer in Python (a workflow's JSON as prose, a file's name from its path, the
Markdown marks of a banner as HTML).
"""

from __future__ import annotations

import json
import re
from pathlib import PurePath
from typing import Any

import jinja2
from markupsafe import Markup, escape

from target_twenty.report import chart
from target_twenty.report.model import ProblemExample, RunReport
from target_twenty.report.view import view


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


_BOLD = re.compile(r"\*\*(.+?)\*\*", re.DOTALL)
_CODE = re.compile(r"`([^`]+)`")


def _inline(text: str) -> Markup:
    """Markdown inline as HTML: the text escaped, then its ``**bold**`` and ```code``` marked."""
    html = _CODE.sub(r"<code>\1</code>", str(escape(text)))
    return Markup(_BOLD.sub(r"<strong>\1</strong>", html))  # noqa: S704 - escaped above


def _number(value: float | int | None) -> str:
    """A figure as the page shows it: thousands separated, a float to one decimal."""
    if value is None:
        return "–"
    if isinstance(value, float):
        return f"{value:,.1f}"
    return f"{value:,}"


def _pointer_key(key: str) -> str:
    """A key as one step of a JSON Pointer (RFC 6901: ``~`` and ``/`` escaped)."""
    return str(key).replace("~", "~0").replace("/", "~1")


_FILTERS: dict[str, Any] = {
    "example": _example,
    "mark": lambda ok: "✓" if ok else "✗",
    "basename": lambda path: PurePath(path).name,
    "text": _text,
    "counts": lambda counts: ", ".join(f"{k} ({v})" for k, v in counts.items()),
    "option": lambda o: f'{o["value"]} ("{o["label"]}")',
}


def _environment(autoescape: bool) -> jinja2.Environment:
    # trim/lstrip let a {% tag %} sit on its own line
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("target_twenty.report", "templates"),
        autoescape=autoescape,  # noqa: S701 - off for Markdown only (it is not HTML)
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        undefined=jinja2.StrictUndefined,
    )
    env.filters.update(_FILTERS)
    return env


# Markdown: nothing is escaped.
_MARKDOWN = _environment(autoescape=False)
_MARKDOWN.filters.update(
    code=lambda s: f"`{s}`",
    code_pair=lambda pair: f"`{pair[0]}.{pair[1]}`",
)
# HTML: every value escaped; a banner's or an example's Markdown marks become HTML.
_HTML = _environment(autoescape=True)
_HTML.filters.update(inline=_inline, n=_number, key=_pointer_key)


def _markdown_template() -> jinja2.Template:
    return _MARKDOWN.get_template("report.md.j2")


def _html_template() -> jinja2.Template:
    return _HTML.get_template("report.html.j2")


def prepare() -> None:
    """Compile both templates now (each environment keeps them): a run calls this while its
    input is still arriving, so that the compilation, a third of the report stage, is not left
    for after the end of input, when only this target works."""
    _markdown_template()
    _html_template()


def markdown(report: RunReport) -> str:
    return _markdown_template().render(r=report, v=view(report))


def html(report: RunReport) -> str:
    return _html_template().render(
        r=report,
        v=view(report),
        load=chart.load(report.load) if report.load is not None else None,
    )
