"""tap-practicehub against a fake PracticeHub on loopback (tests/fakes/practicehub.py).

The tap runs as its own process (its console script), as Meltano runs it. The fake refuses with
429 any request closer than its ``min_interval`` to the previous one; tests shrink that interval
(and the tap's ``min_interval_seconds`` with it) so they run in seconds.
"""

from __future__ import annotations

import json
import signal
import subprocess
import sys
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from fakes.practicehub import API_KEY, APP_DETAILS, FakePracticeHub
from tap_practicehub.client import PracticeHubStream, same_request, with_params
from tap_practicehub.tap import TapPracticeHub

TAP = str(Path(sys.executable).parent / "tap-practicehub")
FAST = 0.05  # the fake's least interval in these tests
SMALL = {  # every list on one page, so a whole sync is a dozen requests
    "patients": 60,
    "appointments": 80,
    "invoices": 40,
    "payments": 30,
    "patient_packages": 12,
    "patient_logs": 50,
    "files": 8,
}


def config(fake: FakePracticeHub, **extra) -> dict:
    return {
        "api_url": fake.url,
        "api_key": API_KEY,
        "app_details": APP_DETAILS,
        "side_streams": True,  # as this project's meltano.yml sets it
        # the fake times arrivals, the pacer departures: the gap between the two is this
        # machine's scheduling delay, which on 2 cores at a load of 15 (CI's parallel lane) was
        # more than 30 ms; 150 ms covers it (a tap that does not pace still meets 429s: below)
        "min_interval_seconds": FAST + 0.15,
        # a 5xx, or a 429 the fake gives without Retry-After, backs off from 10 ms, not 1 s
        "backoff_seconds": 0.01,
        **extra,
    }


def run_tap(tmp: Path, cfg: dict, state: dict | None = None, check: bool = True) -> dict:
    (tmp / "config.json").write_text(json.dumps(cfg))
    args = [TAP, "--config", str(tmp / "config.json")]
    if state is not None:
        (tmp / "state.json").write_text(json.dumps(state))
        args += ["--state", str(tmp / "state.json")]
    done = subprocess.run(args, capture_output=True, text=True, timeout=300)
    if check:
        assert done.returncode == 0, done.stderr[-3000:]
    return parse(done.stdout) | {"stderr": done.stderr, "rc": done.returncode}


def parse(stdout: str) -> dict:
    messages = [json.loads(line) for line in stdout.splitlines() if line.startswith("{")]
    records: dict[str, list[dict]] = {}
    for m in messages:
        if m["type"] == "RECORD":
            records.setdefault(m["stream"], []).append(m["record"])
    states = [m["value"] for m in messages if m["type"] == "STATE"]
    schemas = {m["stream"]: m["schema"] for m in messages if m["type"] == "SCHEMA"}
    return {"records": records, "state": states[-1] if states else None, "schemas": schemas}


def notices(out: dict) -> list[str]:
    return [n["notice"] for n in out["records"].get("_notices", [])]


@pytest.fixture
def fake():
    with FakePracticeHub(SMALL, min_interval=FAST, retry_after=0.1) as f:
        yield f


@pytest.mark.slow  # runs the tap executable
def test_every_record_once_repeats_counted_and_no_request_too_soon(fake, tmp_path) -> None:
    with FakePracticeHub({"patients": 450}, min_interval=FAST, retry_after=0.1) as big:
        out = run_tap(tmp_path, config(big))
        assert big.requests(status=429) == []  # the pacer kept every request apart
        for stream, rows in big.data.items():
            got = [r["id"] for r in out["records"].get(stream, [])]
            assert sorted(got) == sorted(r["id"] for r in rows), stream
        pages = big.requests("patients")
        assert [p["query"].get("page", "1") for p in pages] == ["1", "2", "3", "4", "5"]
        assert all(p["query"]["page_size"] == "100" for p in pages)
        served = len(big.served("patients"))
        assert 400 < served <= 500  # so five pages, the last partly filled
        said = [n for n in notices(out) if n.startswith("/patients:")]
        assert said == [
            f"/patients: {big.repeats('patients')} rows were served again on later pages; "
            f"each record was passed once (450 distinct)."
        ]
        assert "x-references" in out["schemas"]["appointments"]["properties"]["patient_id"]
        when = out["records"]["appointments"][0]
        assert when["start"].endswith("+00:00") and "T" in when["start"]


@pytest.mark.slow  # runs the tap executable
def test_429_waits_and_asks_the_same_page_again(fake, tmp_path) -> None:
    # A tap configured faster than the server allows: every 429 pauses, nothing is lost.
    out = run_tap(tmp_path, config(fake, min_interval_seconds=0.0))
    assert fake.requests(status=429)
    assert sorted(r["id"] for r in out["records"]["patients"]) == list(range(1, 61))
    assert "429 Too Many Requests" in out["stderr"]


@pytest.mark.slow  # runs the tap executable
def test_429_without_retry_after_backs_off(tmp_path) -> None:
    with FakePracticeHub(SMALL, min_interval=FAST, retry_after=None) as f:
        out = run_tap(tmp_path, config(f, min_interval_seconds=0.0))
        assert f.requests(status=429)
        assert len(out["records"]["appointments"]) == 80


@pytest.mark.slow  # runs the tap executable
def test_5xx_and_timeouts_are_retried(fake, tmp_path) -> None:
    fake.fail_next = [503, 500]
    fake.stall_next = 1.5
    out = run_tap(tmp_path, config(fake, timeout=0.5))
    assert [e["status"] for e in fake.log[:2]] == [503, 500]
    assert len(out["records"]["practitioners"]) == 6
    assert "failed in transit" in out["stderr"]


@pytest.mark.slow  # runs the tap executable
def test_refused_key_names_the_endpoint_and_never_shows_the_key(fake, tmp_path) -> None:
    out = run_tap(tmp_path, config(fake, api_key="wrong-secret-123"), check=False)
    assert out["rc"] != 0
    assert "PracticeHub refused GET /practitioners (401)" in out["stderr"]
    assert "wrong-secret-123" not in out["stderr"]
    bad = run_tap(tmp_path, config(fake, app_details="crm2twenty"), check=False)
    assert bad["rc"] != 0 and "appname=contact@email" in bad["stderr"]
    assert fake.requests(status=400) == []  # refused before asking


@pytest.mark.slow  # runs the tap executable
def test_a_row_without_id_is_a_clear_error(fake, tmp_path) -> None:
    fake.data["payment_methods"].append({"name": "Voucher"})
    out = run_tap(tmp_path, config(fake), check=False)
    assert out["rc"] != 0
    assert "GET /payment_methods: a row without an id" in out["stderr"]


def touch(fake: FakePracticeHub, stream: str, ids: list[int], when: str) -> None:
    for row in fake.data[stream]:
        if row["id"] in ids:
            row["updated"] = when


@pytest.mark.slow  # runs the tap executable
def test_incremental_asks_updated_gte_the_bookmark(fake, tmp_path) -> None:
    first = run_tap(tmp_path, config(fake))
    bookmark = first["state"]["bookmarks"]["patients"]["replication_key_value"]
    touch(fake, "patients", [3, 7], "2030-01-01 00:00:00")
    fake.log.clear()
    second = run_tap(tmp_path, config(fake), first["state"])
    (ask,) = fake.requests("patients")
    assert ask["query"]["updated"] == "gte:" + bookmark[:19].replace("T", " ")
    ids = {r["id"] for r in second["records"]["patients"]}
    # the two changed rows, plus (Singer's at-least-once rule) the rows at the old bookmark
    assert {3, 7} <= ids and len(ids) <= 4
    assert not any("ignored" in n for n in notices(second))
    assert "updated" not in fake.requests("practitioners")[0]["query"]  # full table


@pytest.mark.slow  # runs the tap executable
def test_an_ignored_filter_is_detected_and_said(tmp_path) -> None:
    with FakePracticeHub(SMALL, min_interval=FAST, retry_after=0.1, honour_filters=False) as f:
        first = run_tap(tmp_path, config(f))
        touch(f, "patients", [5], "2030-01-01 00:00:00")
        second = run_tap(tmp_path, config(f), first["state"])
        ids = {r["id"] for r in second["records"]["patients"]}
        assert 5 in ids and len(ids) <= 3  # older rows dropped, not passed on as changes
        said = [n for n in notices(second) if n.startswith("/patients:") and "ignored" in n]
        assert len(said) == 1 and "updated=gte:" in said[0]


@pytest.mark.slow  # runs the tap executable
def test_killed_run_resumes_at_the_next_page(tmp_path) -> None:
    # the other lists on one page each: both runs read them whole, at the pacer's 0.2 s a page
    with FakePracticeHub({**SMALL, "patients": 1000}, min_interval=FAST, retry_after=0.1) as f:
        (tmp_path / "config.json").write_text(json.dumps(config(f)))
        tap = subprocess.Popen(
            [TAP, "--config", str(tmp_path / "config.json")],
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
        )
        assert tap.stdout is not None
        lines, last_state = [], None
        for line in tap.stdout:
            lines.append(line)
            message = json.loads(line)
            if message["type"] == "STATE":
                last_state = message["value"]
                progress = last_state["bookmarks"].get("patients", {}).get("progress")
                if progress and progress["pages"] == 4:
                    tap.send_signal(signal.SIGKILL)  # no goodbye: what a crash leaves
                    break
        tap.wait()
        tap.stdout.close()
        assert tap.returncode == -signal.SIGKILL
        killed = parse("".join(lines))
        first_ids = {r["id"] for r in killed["records"]["patients"]}
        assert last_state is not None
        f.log.clear()
        resumed = run_tap(tmp_path, config(f), last_state)
        pages = [int(e["query"].get("page", 1)) for e in f.requests("patients")]
        assert pages[0] == 5 and pages == list(range(5, 12))
        second_ids = {r["id"] for r in resumed["records"]["patients"]}
        assert first_ids | second_ids == set(range(1, 1001))
        assert len(first_ids & second_ids) <= 5  # only repeats straddling the cut
        started = last_state["bookmarks"]["patients"]["progress"]["started"]
        final = resumed["state"]["bookmarks"]["patients"]
        assert "progress" not in final
        assert final["replication_key_value"] <= started


@pytest.mark.slow  # runs the tap executable
def test_files_downloaded_without_the_key_and_packages_find_their_patient(fake, tmp_path) -> None:
    out = run_tap(tmp_path, config(fake, download_dir=str(tmp_path / "files")))
    files = out["records"]["files"]
    assert len(fake.downloads) == 8 and all(r["file_exists"] for r in files)
    for r in files:
        assert Path(r["local_path"]).read_bytes() == fake.file_content(r["id"])
    packages = {p["id"]: p for p in out["records"]["patient_packages"]}
    for row in fake.data["patient_packages"]:
        assert packages[row["id"]]["patient_id"] == row["subscribed_patients"][0]["patient_id"]


@pytest.mark.slow  # runs the tap executable
def test_extra_streams_and_fields(fake, tmp_path) -> None:
    fake.data["locations"] = [{"id": 1, "name": "Main clinic", "created": "2024-01-02 09:00:00"}]
    out = run_tap(
        tmp_path,
        config(
            fake,
            extra_streams={"locations": "locations"},
            extra_fields={"patients": {"consent_given": "boolean", "consent_date": "date"}},
            filters={"practitioners": {"active": "eq:1"}},
        ),
    )
    (location,) = out["records"]["locations"]
    assert location["record"]["name"] == "Main clinic"
    assert location["created"] == "2024-01-02T09:00:00+00:00"
    props = out["schemas"]["patients"]["properties"]
    assert props["consent_date"]["format"] == "date"
    consent = Counter(r["consent_given"] for r in out["records"]["patients"])
    assert consent[True] and consent[False]
    assert {r["id"] for r in out["records"]["practitioners"]} == {1, 2, 3, 4, 6}


def test_one_pacer_per_tap_run_shared_by_its_streams_across_threads(fake) -> None:
    """Three streams of one tap read at once from three threads: the fake, which 429s any
    request sooner than 0.05 s after the previous, refuses none, because every stream's every
    try waits for the tap's one pacer. A second tap has its own (no module global)."""
    tap, other = TapPracticeHub(config=config(fake)), TapPracticeHub(config=config(fake))
    streams = [tap.streams[name] for name in ("patients", "appointments", "patient_logs")]
    assert all(isinstance(s, PracticeHubStream) for s in streams)
    assert all(s.session.pacer is tap.session.pacer for s in streams)  # type: ignore[attr-defined]
    assert other.session.pacer is not tap.session.pacer
    with ThreadPoolExecutor(3) as pool:
        read = list(pool.map(lambda s: [r["id"] for r in s.get_records(None)], streams))
    assert [sorted(ids) for ids in read] == [
        sorted(r["id"] for r in fake.data[s.name]) for s in streams
    ]
    assert fake.requests(status=429) == [] and len(fake.log) == 3 == tap.session.pacer.requests


@pytest.mark.slow  # runs the tap executable
def test_no_request_that_returns_nothing_new(tmp_path) -> None:
    """Issue 13: a stream costs the pages its rows need and not one request more — no probe,
    no empty page after the last, no page asked twice, no page of repeats only. PracticeHub
    serves some rows twice (docs/sources.md §3.5), and those take room on the pages too, so
    the pages needed are ceil(rows served / 100). An empty list still costs its one page."""
    counts = {"patients": 450, "appointments": 301, "invoices": 100, "payments": 0}
    with FakePracticeHub(counts, min_interval=FAST, retry_after=0.1) as f:
        out = run_tap(tmp_path, config(f))
        for stream in f.data:
            asked = f.requests(stream)
            needed = max(1, -(-len(f.served(stream)) // 100))
            assert len(asked) == needed, (stream, len(asked), needed)
            pages = [int(e["query"].get("page", 1)) for e in asked]
            assert pages == list(range(1, needed + 1)), stream
            assert len(out["records"].get(stream, [])) == len(f.data[stream]), stream
        assert f.requests(status=429) == [] and len(f.log) == sum(
            max(1, -(-len(f.served(s)) // 100)) for s in f.data
        )


def test_a_next_link_to_the_page_just_read_is_recognised_whatever_the_order() -> None:
    """links.next with our parameters added must not be taken for a new page when it names
    the page just asked, its parameters in another order (a loop, which stops the run)."""
    asked = "http://h/api/patients?page_size=100&updated=gte%3A2024-01-01+00%3A00%3A00&page=3"
    following = with_params("http://h/api/patients?page=3", {"page_size": 100})
    following = with_params(following, {"updated": "gte:2024-01-01 00:00:00"})
    assert same_request(following, asked)
    assert not same_request(with_params("http://h/api/patients?page=4", {}), asked)
