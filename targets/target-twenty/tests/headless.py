"""Opens a page in headless Chromium (Debian's ``chromium``) and reports what a reader would
get: the console's errors, the figures the page marks (data-json…), a screenshot and a PDF.

It speaks the DevTools protocol over ``--remote-debugging-pipe`` (JSON messages ended by NUL
on the browser's file descriptors 3 and 4), so no port is opened and no package is needed.
"""

from __future__ import annotations

import base64
import fcntl
import json
import os
import select
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
WIDTH = 1366  # a laptop screen
ANSWER_SECONDS = 120  # a browser that says nothing this long is stuck (not a measurement)

# Every element the page marks with where report.json holds its figure.
_MARKED = """JSON.stringify([...document.querySelectorAll(
  '[data-json], [data-json-sum], [data-json-count]')].map(e => ({
    text: e.textContent, json: e.dataset.json ?? null, sum: e.dataset.jsonSum ?? null,
    count: e.dataset.jsonCount ?? null})))"""


# Why a browser test skips.
MISSING = (
    f"no Chromium at {CHROMIUM}: install Debian's chromium (scripts/bootstrap does where apt-get "
    "is available) to render report.html in a browser"
)


def available() -> bool:
    return os.access(CHROMIUM, os.X_OK)


@dataclass
class Marked:
    """A figure the page shows, and where it says report.json holds it."""

    text: str
    json: str | None  # a JSON Pointer
    sum: str | None  # pointers (space-separated, * for every item) whose figures add up to it
    count: str | None  # a pointer to a list: the figure is its length


@dataclass
class Rendered:
    console: list[str]  # errors and warnings: the console's, failed loads, CSP refusals
    marked: list[Marked]
    height: int  # of the whole page, in CSS pixels
    screenshot: bytes  # PNG of the whole page at WIDTH
    pdf: bytes  # the page printed (its print CSS)


def _above_nine(fd: int) -> int:
    moved = fcntl.fcntl(fd, fcntl.F_DUPFD_CLOEXEC, 10)
    os.close(fd)
    return moved


class _Browser:
    def __init__(self) -> None:
        self.profile = tempfile.mkdtemp(prefix="headless-chromium-")
        to_browser, self._ours_w = os.pipe()
        self._ours_r, from_browser = os.pipe()
        # The browser's ends become its fds 3 and 4 by the shell's redirections (no preexec_fn,
        # which is unsafe where threads run, as a fake server's do); moved above 9 first, so
        # that neither is 3 or 4 itself and the redirections cannot overwrite one another.
        to_browser, from_browser = (_above_nine(fd) for fd in (to_browser, from_browser))
        self.process = subprocess.Popen(
            [
                "bash",
                "-c",
                f'exec "$0" "$@" 3<&{to_browser} 4>&{from_browser} '
                f"{to_browser}<&- {from_browser}>&-",
                CHROMIUM,
                "--headless",
                "--disable-gpu",
                "--no-sandbox",
                "--no-first-run",
                "--remote-debugging-pipe",
                f"--user-data-dir={self.profile}",
                "about:blank",
            ],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            pass_fds=(to_browser, from_browser),
        )
        os.close(to_browser)
        os.close(from_browser)
        self._buffer = b""
        self._next = 0
        self.events: list[dict[str, Any]] = []
        self.session: str | None = None

    def send(self, method: str, **params: Any) -> dict[str, Any]:
        self._next += 1
        message: dict[str, Any] = {"id": self._next, "method": method, "params": params}
        if self.session is not None:
            message["sessionId"] = self.session
        os.write(self._ours_w, json.dumps(message).encode() + b"\0")
        while True:
            answer = self._receive()
            if answer.get("id") == self._next:
                if "error" in answer:
                    raise RuntimeError(f"{method}: {answer['error']}")
                return answer["result"]
            self.events.append(answer)

    def until(self, event: str) -> None:
        while not any(e.get("method") == event for e in self.events):
            self.events.append(self._receive())

    def _receive(self) -> dict[str, Any]:
        while b"\0" not in self._buffer:
            ready, _, _ = select.select([self._ours_r], [], [], ANSWER_SECONDS)
            if not ready:
                raise RuntimeError(f"Chromium said nothing for {ANSWER_SECONDS} s")
            chunk = os.read(self._ours_r, 1 << 20)
            if not chunk:
                raise RuntimeError("Chromium closed its DevTools pipe")
            self._buffer += chunk
        message, self._buffer = self._buffer.split(b"\0", 1)
        return json.loads(message)

    def close(self) -> None:
        try:
            self.session = None
            if self.process.poll() is None:
                self.send("Browser.close")
                self.process.wait(timeout=30)
        finally:
            if self.process.poll() is None:
                self.process.kill()
                self.process.wait()
            os.close(self._ours_w)
            os.close(self._ours_r)
            shutil.rmtree(self.profile, ignore_errors=True)


def render(page: Path) -> Rendered:
    """Open ``page`` (a local file) at a laptop's width and read it as a person would."""
    browser = _Browser()
    try:
        target = browser.send("Target.createTarget", url="about:blank")["targetId"]
        browser.session = browser.send("Target.attachToTarget", targetId=target, flatten=True)[
            "sessionId"
        ]
        for domain in ("Page", "Runtime", "Log"):
            browser.send(f"{domain}.enable")
        browser.send(
            "Emulation.setDeviceMetricsOverride",
            width=WIDTH,
            height=900,
            deviceScaleFactor=1,
            mobile=False,
        )
        browser.send("Page.navigate", url=page.resolve().as_uri())
        browser.until("Page.loadEventFired")
        marked = json.loads(
            browser.send("Runtime.evaluate", expression=_MARKED, returnByValue=True)["result"][
                "value"
            ]
        )
        height = browser.send(
            "Runtime.evaluate",
            expression="document.documentElement.scrollHeight",
            returnByValue=True,
        )["result"]["value"]
        shot = browser.send("Page.captureScreenshot", format="png", captureBeyondViewport=True)
        pdf = browser.send("Page.printToPDF", preferCSSPageSize=True, printBackground=True)
        console = [_problem(e) for e in browser.events if _problem(e)]
        return Rendered(
            console=console,
            marked=[Marked(**m) for m in marked],
            height=int(height),
            screenshot=base64.b64decode(shot["data"]),
            pdf=base64.b64decode(pdf["data"]),
        )
    finally:
        browser.close()


def _problem(event: dict[str, Any]) -> str:
    """An error or warning the page caused, as one line ('' for anything else)."""
    method, params = event.get("method"), event.get("params", {})
    if method == "Runtime.exceptionThrown":
        return f"exception: {params['exceptionDetails'].get('text')}"
    if method == "Runtime.consoleAPICalled" and params.get("type") in (
        "error",
        "warning",
        "assert",
    ):
        return f"console.{params['type']}: {params.get('args')}"
    if method == "Log.entryAdded" and params["entry"]["level"] in ("error", "warning"):
        entry = params["entry"]
        return f"{entry['source']} {entry['level']}: {entry['text']}"
    return ""


def _at(data: Any, pointer: str) -> list[Any]:
    """The values a JSON Pointer names in ``data``; a ``*`` step matches every item; a step
    that names nothing matches nothing."""
    nodes = [data]
    for raw in pointer.split("/")[1:]:
        step = raw.replace("~1", "/").replace("~0", "~")
        found: list[Any] = []
        for node in nodes:
            if step == "*":
                found += node if isinstance(node, list) else list(node.values())
            elif isinstance(node, list) and step.isdigit() and int(step) < len(node):
                found.append(node[int(step)])
            elif isinstance(node, dict) and step in node:
                found.append(node[step])
        nodes = found
    return nodes


def _shown(text: str, value: Any) -> bool:
    """Whether ``text`` (as the page writes figures: 1,234 or 1,234.5) shows ``value``."""
    figure = text.strip().replace(",", "")
    if "." in figure:
        return isinstance(value, int | float) and round(value, 1) == float(figure)
    return figure.lstrip("-").isdigit() and value == int(figure)


def figures_disagreeing(report: dict[str, Any], marked: list[Marked]) -> list[str]:
    """Every marked figure whose text is not what report.json holds where the mark says."""
    wrong = []
    for m in marked:
        if m.json is not None:
            values = _at(report, m.json)
            value: Any = values[0] if len(values) == 1 else f"{len(values)} values"
            where = m.json
        elif m.sum is not None:
            value = sum(v or 0 for p in m.sum.split() for v in _at(report, p))
            where = f"sum of {m.sum}"
        else:
            assert m.count is not None
            lists = _at(report, m.count)
            value = len(lists[0]) if len(lists) == 1 else f"{len(lists)} lists"
            where = f"count of {m.count}"
        if not _shown(m.text, value):
            wrong.append(f"{where}: the page shows {m.text!r}, report.json has {value!r}")
    return wrong
