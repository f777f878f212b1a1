"""report.html: one page beside report.md, from the same RunReport. It fetches nothing (no
script, no remote address, a Content-Security-Policy that allows none), opens with the same
status as report.md (failed, dry, sample, unconfirmed, partial runs say so first), and in
headless Chromium shows no console error and only figures that are report.json's.

The browser checks need Debian's ``chromium`` (scripts/bootstrap installs it where it can);
without it they skip, saying so. Screenshots are saved in each test's folder.
"""

from __future__ import annotations

import io
import re
from contextlib import redirect_stdout
from html import unescape
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import headless
import pytest
from crm2twenty_common.completion import RunStatus
from crm2twenty_common.twenty import INVENTORY_SCHEMA, InventoryItem
from fakes.twenty import FakeTwenty
from target_twenty.target import TargetTwenty
from twenty_builders import COMPANY, OPPORTUNITY, PERSON, Run, record, rid, says, singer_input

needs_chromium = pytest.mark.skipif(not headless.available(), reason=headless.MISSING)


SIDE = {"type": "object", "properties": {}}


def side(stream: str, **values: Any) -> dict:
    return {"type": "RECORD", "stream": stream, "record": values}


def messy() -> list[dict]:
    """Something of everything the page shows: repairs, a merged duplicate, rejects (the
    mapper's and the target's), a missing parent, an owner no member has (and the source's
    users: one inactive), a workflow, and what cannot move (one section listed, one by hand)."""
    return [
        COMPANY,
        PERSON,
        OPPORTUNITY,
        *(
            {"type": "SCHEMA", "stream": s, "schema": SIDE, "key_properties": []}
            for s in ("_rejects", "_workflow", "_owner")
        ),
        {
            "type": "SCHEMA",
            "stream": "_inventory",
            "schema": INVENTORY_SCHEMA,
            "key_properties": [],
        },
        record("company", 1, name="Acme", employees="12x", accountOwnerId="bob@acme.test"),
        record("company", 2, name="Acme UK", parentCompanyId=rid("company", 1)),
        record("person", 1, name={"firstName": "Ana"}, emails={"primaryEmail": "a@x.com"}),
        record("person", 2, name={"firstName": "Ann"}, emails={"primaryEmail": "A@X.com"}),
        record("person", 3, name={"firstName": "Bo"}, companyId=rid("company", 9)),
        record("opportunity", 1, name="Deal", stage="WON", companyId=rid("company", 1)),
        side(
            "_rejects",
            stage="mapper",
            source_stream="src_person",
            source_key="4",
            reason="person.name is required",
        ),
        side("_workflow", name="Welcome", trigger="contact created", actions=["send e-mail"]),
        side("_owner", id="1", email="Bob@acme.test", name="Bob Stone", active=True),
        side("_owner", id="2", email="old@acme.test", name="Ola Old", active=False),
        *(side("_inventory", **item.as_record()) for item in INVENTORY),
    ]


INVENTORY = [
    InventoryItem("tap-x", "Reports", "Open deals", {"entity": "Opportunity", "filter": "open"}),
    InventoryItem("tap-x", "Reminders", by_hand="Write down each `reminder` timing."),
]


def api_run(output: Path, server: FakeTwenty, messages: list[dict], **config: Any) -> Run:
    cfg = {
        "mode": "api",
        "api_url": server.url,
        "api_key": server.api_key,
        "output_dir": str(output),
        "progress_seconds": 60,
        **config,
    }
    buffer = io.StringIO()
    with redirect_stdout(buffer):
        TargetTwenty(config=cfg).listen(singer_input(messages))
    return Run(output, buffer.getvalue(), latest="LAST_RUN")


class _Page(HTMLParser):
    """What a page would load or run: scripts, and every address it names."""

    def __init__(self) -> None:
        super().__init__()
        self.scripts = 0
        self.addresses: list[str] = []
        self.policy = ""

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.scripts += tag == "script"
        named = dict(attrs)
        self.addresses += [
            v for k, v in attrs if k in ("src", "href", "srcset", "xlink:href") and v
        ]
        if named.get("http-equiv") == "Content-Security-Policy":
            self.policy = named.get("content") or ""


def _plain(text: str, *, html: bool = True) -> str:
    """Text as a reader sees it: tags (of a page) and Markdown marks gone, entities read. In
    Markdown, `<tap>` inside a code span is text, not a tag."""
    if html:
        text = unescape(re.sub(r"<[^>]+>", "", text))
    return re.sub(r"\s+", " ", text.replace("**", "")).strip()


def status_of_html(page: str) -> list[str]:
    return [_plain(t) for t in re.findall(r'<div class="banner [a-z ]+">(.*?)</div>', page, re.S)]


def status_of_markdown(md: str) -> list[str]:
    """The paragraphs of report.md's head before and after its "Run `…`" line."""
    head = md.split("\n## ")[0].split("\n\n")[1:]
    return [
        _plain(p.replace("`", ""), html=False)
        for p in head
        if p.strip() and not p.startswith("Run `")
    ]


def _pages(run: Run) -> tuple[str, str]:
    return (
        (run.dir / "report.html").read_text(encoding="utf-8"),
        (run.dir / "report.md").read_text(encoding="utf-8"),
    )


def assert_self_contained_and_same_status(run: Run, first_words: str) -> None:
    page, md = _pages(run)
    parsed = _Page()
    parsed.feed(page)
    assert parsed.scripts == 0
    assert "default-src 'none'" in parsed.policy
    remote = [a for a in parsed.addresses if re.match(r"^([a-z][a-z0-9+.-]*:|//)", a, re.I)]
    assert remote == [], "the page names addresses outside its folder"
    assert not re.search(r"@import|url\(", page)
    status = status_of_html(page)
    assert status == status_of_markdown(md)
    assert status[0].startswith(first_words), status
    if not run.report["balanced"]:
        assert not any("All counts add up" in s for s in status)
    assert "[report.html](report.html)" in md


def test_a_complete_run_opens_with_its_kind_and_that_all_counts_add_up(run_target) -> None:
    run = run_target([COMPANY, record("company", 1, name="Acme")])
    assert_self_contained_and_same_status(run, "FULL run.")
    assert status_of_html(_pages(run)[0])[-1] == "All counts add up."


def test_a_failed_run_says_failed_first_and_never_that_it_balanced(run_target) -> None:
    run = run_target(
        [
            *says(RunStatus.STARTED),
            COMPANY,
            record("company", 1, name="Acme"),
            *says(RunStatus.FAILED, error="deals.csv:6: row has 15 cells"),
        ],
        tap_completed=False,
    )
    assert_self_contained_and_same_status(run, "FAILED — tap-test failed: deals.csv:6")
    page = _pages(run)[0]
    assert '<div class="banner failed">' in page
    assert status_of_html(page)[-1].startswith("The counts cannot add up")


def test_an_unconfirmed_run_says_so(run_target) -> None:
    run = run_target([COMPANY, record("company", 1, name="Acme")], tap_completed=False)
    assert run.report["status"]["outcome"] == "unconfirmed"
    assert_self_contained_and_same_status(run, "FULL run.")
    assert status_of_html(_pages(run)[0])[-1].startswith("The counts add up for what arrived, but")


def test_dry_sample_and_partial_api_runs_say_so_first(tmp_path: Path) -> None:
    with FakeTwenty() as server:
        many = [COMPANY] + [record("company", i, name=f"C{i}") for i in range(6)]
        dry = api_run(tmp_path / "dry", server, many, dry_run=True)
        assert_self_contained_and_same_status(dry, "DRY RUN — nothing was written to Twenty.")
        sample = api_run(tmp_path / "sample", server, many, sample_size=2)
        assert_self_contained_and_same_status(sample, "SAMPLE — not a complete migration:")
        assert "this run is not a finished migration" in status_of_html(_pages(sample)[0])[-1]


def _check_in_browser(run: Run, shot: Path) -> headless.Rendered:
    rendered = headless.render(run.dir / "report.html")
    shot.write_bytes(rendered.screenshot)
    print(f"report.html screenshot: {shot}")
    assert rendered.console == []
    assert headless.figures_disagreeing(run.report, rendered.marked) == []
    assert rendered.pdf.startswith(b"%PDF") and re.search(rb"/Type\s*/Page\b", rendered.pdf)
    return rendered


@needs_chromium
def test_the_harness_sees_what_a_page_fetches_and_a_figure_that_is_wrong(tmp_path: Path) -> None:
    """The browser checks can fail: a page that loads an image from elsewhere is caught by its
    console, and a figure that is not report.json's is named."""
    page = tmp_path / "report.html"
    page.write_text(
        '<!DOCTYPE html><html><head><meta http-equiv="Content-Security-Policy" '
        'content="default-src \'none\'"></head><body><img src="http://192.0.2.1/x.png">'
        '<span data-json="/rejects/count">3</span></body></html>',
        encoding="utf-8",
    )
    rendered = headless.render(page)
    assert any("192.0.2.1" in line for line in rendered.console)
    wrong = headless.figures_disagreeing({"rejects": {"count": 4}}, rendered.marked)
    assert wrong == ["/rejects/count: the page shows '3', report.json has 4"]


@needs_chromium
def test_a_csv_run_in_chromium_shows_report_json_figures_and_no_console_error(
    run_target, tmp_path: Path
) -> None:
    run = run_target(messy())
    report = run.report
    assert report["rejects"]["count"] and report["repairs"]["count"] and report["merges"]
    rendered = _check_in_browser(run, tmp_path / "report-csv.png")
    pointers = {m.json for m in rendered.marked}
    for i, _ in enumerate(run.report["objects"]):  # every object's flow is there, in figures
        assert {f"/objects/{i}/{k}" for k in ("received", "written", "rejected")} <= pointers
    assert "/rejects/top_reasons/0/1" in pointers and "/repairs/by_reason/0/count" in pointers
    # who to invite: every owner e-mail with the records it owns, the inactive one flagged
    members = report["owners"]["members"]["members"]
    assert {m["email"] for m in members} == {"bob@acme.test", "old@acme.test"}
    assert {f"/owners/members/members/{i}/records_owned" for i in range(2)} <= pointers
    page = (run.dir / "report.html").read_text(encoding="utf-8")
    (inactive,) = re.findall(r'<tr class="inactive">(.*?)</tr>', page, re.S)
    assert "old@acme.test" in inactive and "no (inactive)" in inactive
    assert '<a href="members-to-invite.csv">' in page
    # what cannot move: a section each, listed items counted, the by-hand text as it came
    assert [s["section"] for s in report["inventories"]] == ["Reports", "Reminders"]
    assert "/inventories/0/items" in {m.count for m in rendered.marked}
    assert "<h2>Cannot move: Reports</h2>" in page and "<h2>Cannot move: Reminders</h2>" in page
    assert "Write down each <code>reminder</code> timing." in page
    assert "<strong>Open deals</strong>" in page


@needs_chromium
def test_an_api_dry_run_shows_what_verify_will_cost(tmp_path: Path) -> None:
    """The dry-run plan names the requests ``verify`` will read back afterwards, per object."""
    people = [record("person", i, name={"firstName": f"P{i}"}) for i in range(3)]
    companies = [record("company", i, name=f"C{i}") for i in range(5)]
    with FakeTwenty() as server:
        run = api_run(
            tmp_path / "dry", server, [COMPANY, PERSON, *companies, *people], dry_run=True
        )
    plan = run.report["dry_run"]
    assert plan["verify_requests"] == 2  # one page of reads per object
    rendered = _check_in_browser(run, tmp_path / "report-dry.png")
    pointers = {m.json for m in rendered.marked}
    assert {"/dry_run/verify_requests", "/dry_run/verify_minutes"} <= pointers
    verified = [i for i, o in enumerate(plan["objects"]) if o["verify_reads"]]
    assert len(verified) == 2
    assert {f"/dry_run/objects/{i}/verify_reads" for i in verified} <= pointers
    page = (run.dir / "report.html").read_text(encoding="utf-8")
    assert "<code>meltano invoke target-twenty:verify</code>" in page


@needs_chromium
def test_an_api_run_draws_its_load_against_the_limit(tmp_path: Path) -> None:
    """Paced at 600 a minute (10 a second) against a server with that limit: the load over
    time counts every request the run sent, and the page draws it beside the limit."""
    companies = [record("company", i, name=f"C{i}", employees=i) for i in range(24)]
    with FakeTwenty(rate_limit=600, window=60) as server:
        run = api_run(
            tmp_path / "out", server, [COMPANY, *companies], requests_per_minute=600, batch_size=2
        )
        assert server.counts["429"] == 0
    load, sent = run.report["load"], run.report["requests"]
    assert (
        load["limit"] == 600 and load["limit_per_interval"] == 600 * load["interval_seconds"] / 60
    )
    counted = sent["reads"] + sent["writes"] + sent["metadata"] + sent["uploads"]
    assert sum(load["limited"]) + sum(load["other"]) == counted
    assert sum(load["limited"]) == sent["reads"] + sent["writes"]  # what Twenty's limit counts
    assert len(load["limited"]) == len(load["other"]) == len(load["refused"]) >= 2
    page = (run.dir / "report.html").read_text(encoding="utf-8")
    assert page.count('<rect class="limited"') == len(load["limited"])
    assert '<line class="limit"' in page
    rendered = _check_in_browser(run, tmp_path / "report-api.png")
    assert "/load/limit" in {m.json for m in rendered.marked}
