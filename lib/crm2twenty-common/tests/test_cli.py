"""The plugins' entry point: an expected error is one ERROR line and exit status 1."""

from __future__ import annotations

import inspect
import logging
from importlib.metadata import distribution

import pytest
from crm2twenty_common.cli import DEBUG_ENV, reported, run
from crm2twenty_common.errors import UserError


class RemoteRefusal(Exception):
    pass


def _fail(exc: BaseException):
    def command() -> None:
        raise exc

    return command


def test_a_user_error_is_one_error_line_and_exit_1(
    caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(DEBUG_ENV, raising=False)
    with caplog.at_level(logging.ERROR), pytest.raises(SystemExit) as stopped:
        run(_fail(UserError("contacts.csv:\n  no id column")), name="tap-x")
    assert stopped.value.code == 1
    assert [(r.name, r.getMessage(), r.exc_info) for r in caplog.records] == [
        ("tap-x", "contacts.csv: no id column", None)
    ]


def test_a_plugins_own_expected_error_is_one_line_too(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.ERROR), pytest.raises(SystemExit):
        run(_fail(RemoteRefusal("Sage CRM refused logon")), RemoteRefusal, name="tap-y")
    assert [r.getMessage() for r in caplog.records] == ["Sage CRM refused logon"]


def test_an_error_the_plugin_already_closed_its_run_with_is_not_said_twice(
    caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(DEBUG_ENV, raising=False)
    with caplog.at_level(logging.ERROR), pytest.raises(SystemExit) as stopped:
        run(_fail(reported(RemoteRefusal("Twenty kept failing"))), RemoteRefusal, name="t")
    assert stopped.value.code == 1 and caplog.records == []


def test_a_defect_is_not_caught() -> None:
    with pytest.raises(KeyError):
        run(_fail(KeyError("bug")), RemoteRefusal, name="tap-z")


@pytest.mark.parametrize(
    ("value", "raises"), [("1", True), ("true", True), ("0", False), ("", False)]
)
def test_crm2twenty_debug_asks_for_the_traceback(
    monkeypatch: pytest.MonkeyPatch, value: str, raises: bool
) -> None:
    monkeypatch.setenv(DEBUG_ENV, value)
    with pytest.raises(UserError if raises else SystemExit):
        run(_fail(UserError("bad")), name="tap-x")


PLUGINS = (
    "tap-allegory-csv",
    "tap-sage-crm",
    "tap-supabase-atomic",
    "tap-practicehub",
    "tap-visualpractice",
    "crm2twenty-mapper",
    "target-twenty",
)


@pytest.mark.parametrize("plugin", PLUGINS)
def test_every_plugin_command_goes_through_the_one_line_entry_point(plugin: str) -> None:
    scripts = {e.name: e for e in distribution(plugin).entry_points if e.group == "console_scripts"}
    script = scripts[plugin]  # (the mapper also has crm2twenty-propose, an argparse command)
    main = script.load()
    # entry_point()'s function, or the target's commands, which call run() themselves
    if main.__qualname__ != "entry_point.<locals>.main":
        assert inspect.getsource(main).rstrip().endswith(f'name="{plugin}")')
        assert "run(" in inspect.getsource(main)
