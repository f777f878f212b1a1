"""A pytest plugin for tests/test_collection.py: from start-up on, opening a socket's
connection, binding one (a server), starting a process or a thread raises, naming it."""

from __future__ import annotations

import socket
import subprocess
import threading
from typing import Any

import pytest


def _refuse(what: str) -> Any:
    def refuse(*args: Any, **kwargs: Any) -> None:
        raise RuntimeError(f"collecting the tests tried to {what}")

    return refuse


def pytest_configure(config: pytest.Config) -> None:
    socket.socket.connect = _refuse("connect a socket")  # type: ignore[method-assign]
    socket.socket.bind = _refuse("bind a socket (start a server)")  # type: ignore[method-assign]
    subprocess.Popen.__init__ = _refuse("start a process")  # type: ignore[method-assign]
    threading.Thread.start = _refuse("start a thread")  # type: ignore[method-assign]
