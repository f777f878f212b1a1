"""The progress line: what a person following a long run reads every ``progress_seconds``."""

from __future__ import annotations

import logging
import re

from target_twenty.progress import Progress, _duration


class Gauge:
    """The three figures the API client gives the line (target_twenty.api.progress)."""

    def __init__(self, made: int, window: int, limit: int | None) -> None:
        self.made, self.window, self.limit = made, window, limit

    def requests_made(self) -> int:
        return self.made

    def requests_in_window(self) -> int:
        return self.window

    def requests_limit(self) -> int | None:
        return self.limit


LOG = logging.getLogger("test-progress")


def test_while_writing_each_object_shows_done_of_total_with_requests_and_eta() -> None:
    progress = Progress("writing", 10, LOG, Gauge(made=12, window=9, limit=50))
    progress.expect({"company": 500, "person": 2000, "note": 0, "task": 300})
    progress.add("company", 500)
    progress.add("person", 100)
    progress.skip("task", 100)  # unchanged since the last run: not sent, not counted
    line = progress.line()
    head, each, tail = line.split(" — ")
    assert head == "writing: 600/2700 records"
    assert each == "company 500/500, person 100/2000, task 0/200"  # no empty object
    assert re.fullmatch(
        r"\d+ records/min, 12 requests \(9 of 50 in the last minute\), ETA .+", tail
    )


def test_the_eta_counts_at_the_rate_limit_when_the_limit_is_the_pace() -> None:
    # 600 records in 12 requests = 50 a request; 50 requests a minute → 2500 a minute at most:
    # 2100 left take at least 50 s, whatever the elapsed time says
    progress = Progress("writing", 10, LOG, Gauge(made=12, window=9, limit=50))
    progress.expect({"person": 2700})
    progress.add("person", 600)
    progress.started -= 3600  # an hour: the measured rate alone would say 35 min
    assert progress.line().endswith("ETA 50 s")


def test_while_reading_the_totals_are_unknown_and_no_eta_is_claimed() -> None:
    progress = Progress("reading", 10, LOG)
    progress.add("patients", 3)
    progress.add("appointments")
    line = progress.line()
    assert line.startswith("reading: 4 records received — patients 3, appointments 1 — ")
    assert "ETA" not in line and "requests" not in line


def test_durations_read_as_a_person_says_them() -> None:
    assert [_duration(s) for s in (4.6, 65, 3 * 3600 + 125)] == ["5 s", "1 min 05 s", "3 h 02 min"]


def test_a_stage_shorter_than_the_interval_logs_nothing(caplog) -> None:
    progress = Progress("writing", 3600, LOG)
    progress.expect({"company": 1})
    with caplog.at_level(logging.INFO, logger="test-progress"), progress.running():
        progress.add("company")
    assert caplog.records == []
