"""Killed at random points of a load, then run again: nothing lost, nothing duplicated.

The target runs as its own process (as under Meltano) and is killed with SIGKILL — no chance to
clean up — at seeded random points of an API-mode load into the fake Twenty (its n-th request,
then up to twice the fake's latency), so the kills land mid-load. A last run must leave exactly
the input in Twenty, once.

Then the other faults, each at a chosen moment (the fake's ``hook``): a key revoked mid-load,
an answer dropped after the server wrote the batch, a server failing past the retries, a kill
while a batch is in flight, and a rollback stopped by a revoked key or a kill. Each gives a
clear message and the same command, run again, finishes; nothing is undone twice.
"""

from __future__ import annotations

import json
import random
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import pytest
from fakes.twenty import FakeTwenty
from target_twenty.audit import Action, Audit
from target_twenty.rollback import main as rollback_main
from target_twenty.rollback import rollback
from target_twenty.write.api import LoadStopped
from test_api_mode import ApiRunner
from twenty_builders import COMPANY, OPPORTUNITY, PERSON, record, rid

BIN = Path(sys.executable).parent


def migration_input() -> list[dict]:
    companies = [
        record(
            "company",
            c,
            name=f"Company {c}",
            domainName={"primaryLinkUrl": f"https://c{c}.example"},
        )
        for c in range(60)
    ]
    people = [
        record(
            "person",
            p,
            emails={"primaryEmail": f"p{p}@example.org"},
            companyId=rid("company", p % 60),
        )
        for p in range(240)
    ]
    deals = [
        record(
            "opportunity",
            d,
            name=f"Deal {d}",
            stage="MEETING",
            companyId=rid("company", d % 60),
            pointOfContactId=rid("person", d),
        )
        for d in range(120)
    ]
    return [
        COMPANY,
        PERSON,
        OPPORTUNITY,
        *companies,
        *people,
        *deals,
        {"type": "STATE", "value": {"bookmarks": {"all": "done"}}},
    ]


def start(config: Path, source: Path) -> subprocess.Popen:
    return subprocess.Popen(
        [str(BIN / "target-twenty"), "--config", str(config), "--input", str(source)],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
    )


@pytest.mark.slow  # runs the target-twenty executable and kills it
def test_kill_minus_nine_anywhere_then_rerun_loses_and_duplicates_nothing(tmp_path: Path) -> None:
    rng = random.Random(20261122)
    source = tmp_path / "input.singer"
    source.write_text("".join(json.dumps(m) + "\n" for m in migration_input()))
    with FakeTwenty(latency=0.03) as fake:
        config = tmp_path / "config.json"
        config.write_text(
            json.dumps(
                {
                    "mode": "api",
                    "api_url": fake.url,
                    "api_key": fake.api_key,
                    "output_dir": str(tmp_path / "out"),
                    "batch_size": 10,
                    "requests_per_minute": 100000,
                    "max_concurrency": 2,
                }
            )
        )
        kills = 0
        for _ in range(4):
            # a seeded point of the load, counted in requests (metadata reads, then batches), not
            # in seconds: a fixed sleep missed the load when it ran fast and waited idle when slow
            reached = threading.Event()
            _arm_at(fake, rng.randint(1, 24), lambda method, path: True, reached.set)
            proc = start(config, source)
            while not reached.wait(0.05) and proc.poll() is None:
                pass
            time.sleep(rng.uniform(0.0, 0.06))  # before, during or after that request's write
            if proc.poll() is None:
                proc.send_signal(signal.SIGKILL)
                kills += 1
            out, _ = proc.communicate()  # waits, reads and closes the pipe
            assert out == b"" or proc.returncode == 0  # no state before the end
        fake.hook = None
        assert kills >= 2, "the runs finished before their kills: arm earlier requests"
        final = start(config, source)
        out, _ = final.communicate(timeout=300)
        assert final.returncode == 0
        assert json.loads(out.decode().strip().splitlines()[-1]) == {"bookmarks": {"all": "done"}}
        expected = {"company": 60, "person": 240, "opportunity": 120}
        for obj, count in expected.items():
            live = fake.live(obj)
            assert len(live) == count, obj
            assert {r["id"] for r in live} == {rid(obj, k) for k in range(count)}
        emails = [r["emails"]["primaryEmail"] for r in fake.live("person")]
        assert len(set(emails)) == len(emails) == 240
        assert all(
            r["pointOfContactId"] == rid("person", int(r["name"].split()[1]))
            for r in fake.live("opportunity")
        )
        assert fake.violations == []


# ---- faults mid-batch, and rollbacks interrupted -----------------------------------------


def _writes(fake: FakeTwenty, since: int = 0) -> list[dict]:
    return [e for e in fake.log[since:] if e["method"] != "GET" and "/metadata" not in e["path"]]


def _arm_at(fake: FakeTwenty, nth: int, when: Callable[[str, str], bool], act: Callable) -> None:
    """Call ``act`` as the ``nth`` request ``when`` selects arrives (before it is served)."""
    seen = [0]

    def hook(method: str, path: str) -> None:
        if when(method, path):
            seen[0] += 1
            if seen[0] == nth:
                act()

    fake.hook = hook


def _held_until(arrived: threading.Event, released: threading.Event) -> None:
    """A hook's act: the request is in flight (``arrived``) and is served only once the test
    says so (``released``) — a kill lands mid-request however fast or slow the machine is."""
    arrived.set()
    assert released.wait(120)


def _batch(method: str, path: str) -> bool:
    return method == "POST" and path.startswith("/rest/batch/")


def _loaded(fake: FakeTwenty) -> dict[str, int]:
    return {o: len(fake.live(o)) for o in ("company", "person", "opportunity")}


def _runs(tmp_path: Path) -> list:
    return Audit(tmp_path / "out" / "state" / "audit.sqlite").runs()


def _clean_after_rollbacks(fake: FakeTwenty, tmp_path: Path, api: ApiRunner) -> None:
    for info in reversed(_runs(tmp_path)):
        if not info.rolled_back:
            rollback(api.config(fake), info.run)
    assert _loaded(fake) == {"company": 0, "person": 0, "opportunity": 0}
    assert fake.orphan_activities() == []


def test_a_revoked_key_mid_load_stops_it_clearly_and_the_rerun_finishes(tmp_path: Path) -> None:
    api = ApiRunner(tmp_path)
    with FakeTwenty() as fake:
        key = fake.api_key
        _arm_at(fake, 2, _batch, lambda: setattr(fake, "api_key", "revoked"))
        with pytest.raises(LoadStopped, match=r"refused the API key \(401") as stopped:
            api(fake, migration_input(), batch_size=50)
        assert "run the same command again" in str(stopped.value)
        assert key not in str(stopped.value)
        fake.hook, fake.api_key = None, key
        run = api(fake, migration_input(), batch_size=50)
        assert run.report["balanced"]
        assert _loaded(fake) == {"company": 60, "person": 240, "opportunity": 120}
        _clean_after_rollbacks(fake, tmp_path, api)


def test_a_dropped_answer_is_retried_and_audited_as_what_it_did(tmp_path: Path) -> None:
    """The server writes the batch and the connection drops before the answer: the retry
    finds the records there, yet they are the ones this run created."""
    api = ApiRunner(tmp_path)
    with FakeTwenty() as fake:
        _arm_at(fake, 2, _batch, lambda: setattr(fake, "drop_writes", 1))
        run = api(fake, migration_input(), batch_size=50, max_retries=2)
        assert fake.counts["faults"] == 1
        assert run.report["api"]["created"] == {"company": 60, "person": 240, "opportunity": 120}
        logged = Audit(tmp_path / "out" / "state" / "audit.sqlite").writes(run.report["run_id"])
        assert {w.action for w in logged} == {Action.CREATED} and len(logged) == 420
        assert not any(w.pending for w in logged)
        _clean_after_rollbacks(fake, tmp_path, api)


def test_a_server_failing_mid_load_stops_it_clearly_and_the_rerun_finishes(
    tmp_path: Path,
) -> None:
    api = ApiRunner(tmp_path)
    with FakeTwenty() as fake:
        _arm_at(fake, 3, _batch, lambda: setattr(fake, "fail_writes", 10))
        with pytest.raises(LoadStopped, match=r"Twenty kept failing .*503"):
            api(fake, migration_input(), batch_size=50, max_retries=1)
        # the stopped run's report says FAILED, why, and what Twenty confirmed before it
        out = tmp_path / "out"
        stopped = out / (out / "LAST_RUN").read_text().strip()
        report = json.loads((stopped / "report.json").read_text())
        assert report["status"]["outcome"] == "failed"
        assert report["status"]["failed_in"] == "target" and not report["balanced"]
        assert "Twenty kept failing" in report["status"]["summary"]
        confirmed = sum(o["written"] for o in report["objects"])
        assert confirmed == sum(_loaded(fake).values()) > 0  # what landed before the 503s
        assert f"Twenty confirmed {confirmed} records" in report["status"]["summary"]
        md = (stopped / "report.md").read_text(encoding="utf-8")
        assert md.split("\n")[2].startswith("**FAILED — target-twenty failed while writing")
        assert not (out / "LATEST").exists()  # no run ran to the end yet
        fake.hook, fake.fail_writes = None, 0
        api(fake, migration_input(), batch_size=50)
        assert _loaded(fake) == {"company": 60, "person": 240, "opportunity": 120}
        _clean_after_rollbacks(fake, tmp_path, api)


@pytest.mark.slow  # runs the target-twenty executable and kills it
def test_kill_minus_nine_mid_batch_leaves_nothing_rollback_cannot_undo(tmp_path: Path) -> None:
    """Killed while Twenty writes a batch it will never answer: the audit holds that batch
    as pending, and a rollback of the killed run undoes it with the rest."""
    source = tmp_path / "input.singer"
    source.write_text("".join(json.dumps(m) + "\n" for m in migration_input()))
    with FakeTwenty() as fake:
        config = tmp_path / "config.json"
        settings = {"mode": "api", "batch_size": 40, "max_concurrency": 1}
        config.write_text(json.dumps(ApiRunner(tmp_path).config(fake, **settings)))
        in_flight, killed = threading.Event(), threading.Event()
        _arm_at(fake, 4, _batch, lambda: _held_until(in_flight, killed))
        proc = start(config, source)
        assert in_flight.wait(120)
        proc.send_signal(signal.SIGKILL)
        proc.communicate()
        killed.set()  # the fourth batch is written now, its answer going nowhere
        deadline = time.monotonic() + 10
        while len([e for e in fake.log if e["path"].startswith("/rest/batch/")]) < 4:
            assert time.monotonic() < deadline
            time.sleep(0.05)
        landed = sum(_loaded(fake).values())
        assert landed == 60 + 80  # companies (40 + 20), then people: the fourth landed unanswered
        (killed,) = _runs(tmp_path)
        logged = Audit(tmp_path / "out" / "state" / "audit.sqlite").writes(killed.run)
        assert len([w for w in logged if w.pending]) == 40
        assert {w.id for w in logged} >= {r["id"] for o in _loaded(fake) for r in fake.live(o)}
        done = rollback(ApiRunner(tmp_path).config(fake), killed.run)
        assert done["destroyed"] == landed
        assert _loaded(fake) == {"company": 0, "person": 0, "opportunity": 0}


@pytest.mark.slow  # runs the target-twenty executable and kills it
def test_rollback_stopped_by_a_revoked_key_or_kill_minus_nine_resumes_and_undoes_once(
    tmp_path: Path,
) -> None:
    api = ApiRunner(tmp_path)
    with FakeTwenty() as fake:
        run = api(fake, migration_input(), batch_size=100)
        config = tmp_path / "rollback.json"
        config.write_text(json.dumps(api.config(fake)))
        command = [str(BIN / "target-twenty-rollback"), "--config", str(config)]
        since = len(fake.log)

        def deletes() -> list[dict]:
            return [e for e in _writes(fake, since) if e["status"] == 200]

        # a revoked key after the second request: a clear message, nothing more undone
        key = fake.api_key
        _arm_at(fake, 2, lambda m, p: m == "DELETE", lambda: setattr(fake, "api_key", "x"))
        first = subprocess.run(
            [*command, "--run", run.report["run_id"]], capture_output=True, text=True
        )
        assert first.returncode != 0
        assert "refused the API key (401" in first.stderr
        assert "run the same command again" in first.stderr
        fake.api_key = key
        assert len(deletes()) == 1
        # killed while a request is in flight
        in_flight, killed = threading.Event(), threading.Event()
        _arm_at(fake, 3, lambda m, p: m == "DELETE", lambda: _held_until(in_flight, killed))
        proc = subprocess.Popen([*command, "--run", run.report["run_id"]])
        assert in_flight.wait(60)
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        killed.set()
        fake.hook = None
        listed = subprocess.run([*command, "--list"], capture_output=True, text=True).stdout
        assert "partly (" in listed
        last = subprocess.run(
            [*command, "--run", run.report["run_id"]], capture_output=True, text=True
        )
        assert last.returncode == 0, last.stderr
        assert _loaded(fake) == {"company": 0, "person": 0, "opportunity": 0}
        assert fake.orphan_activities() == []
        # only the group the revoked key stopped and the one in flight when killed went twice
        # (their requests match nothing the second time); every finished group went once
        sent = Counter(e["path"] + e["query"]["filter"] for e in deletes())
        assert max(sent.values()) == 2 and len([n for n in sent.values() if n == 2]) <= 3
        # 200 ids a delete (docs/twenty-contract.md §2.11): 120 opportunities (and their
        # activities), 240 people in two, 60 companies
        assert len(sent) == 5
        again = subprocess.run(
            [*command, "--run", run.report["run_id"]], capture_output=True, text=True
        )
        assert again.returncode != 0 and "already rolled back" in again.stderr


def test_after_force_later_runs_whose_records_are_gone_are_listed_rolled_back(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    api = ApiRunner(tmp_path)
    with FakeTwenty() as fake:
        companies = [record("company", i, name=f"C{i}") for i in range(10)]
        first = api(fake, [COMPANY, *companies])
        renamed = [record("company", i, name=f"R{i}") for i in range(10)]
        api(fake, [COMPANY, *renamed])  # updates only: nothing left once the first is undone
        third = api(fake, [COMPANY, record("company", 0, name="X"), record("company", 10)])
        with pytest.raises(SystemExit, match="later runs wrote after this one"):
            rollback(api.config(fake), first.report["run_id"])
        rollback(api.config(fake), first.report["run_id"], force=True)
        assert [r["id"] for r in fake.live("company")] == [rid("company", 10)]
        runs = _runs(tmp_path)
        assert [bool(r.rolled_back) for r in runs] == [True, True, False]
        assert (runs[2].writes, runs[2].left) == (2, 1)
        config = tmp_path / "config.json"
        config.write_text(json.dumps(api.config(fake)))
        assert rollback_main(["--config", str(config), "--list"]) == 0
        listed = capsys.readouterr().out.splitlines()
        assert listed[3].split()[0] == third.report["run_id"]
        assert "partly (1 writes left)" in listed[3]
        rollback(api.config(fake), third.report["run_id"])
        assert fake.live("company") == []
