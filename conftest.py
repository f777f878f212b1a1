"""How the suite is shared out among pytest-xdist workers (scripts/test: -n auto, and
pyproject.toml's --dist loadgroup --no-loadscope-reorder).

- Tests that use one set-up made once per module or class (a `meltano run`, a database, a
  built wheel, a tap's sync) go to one worker together: spread over two workers, each would
  make that set-up again.
- The costliest go first: the e2e pipelines (each a real `meltano run`, seconds of CPU), then
  the other slow ones (a plugin executable or the meltano CLI), then those needing PostgreSQL,
  then the rest, which fill in last so that no worker ends the lane alone on a long test.
  (A test module may name its own group, with the reason, as tests/test_hub_definitions.py.)
"""

from __future__ import annotations

import pytest

# the marks that say a test is costly, costliest first (pyproject.toml describes them)
COSTLY = ("e2e", "slow", "postgres")


def _shared_setup(item: pytest.Item) -> str | None:
    """The module or class whose once-made fixture this test uses, if any."""
    info = getattr(item, "_fixtureinfo", None)  # (pytest's own record of the test's fixtures)
    scopes = {
        defs[-1].scope
        for defs in (info.name2fixturedefs.values() if info else ())
        if defs and defs[-1].baseid  # ("": pytest's and plugins' own, e.g. tmp_path_factory)
    }
    if "class" in scopes and isinstance(item.parent, pytest.Class):
        return item.parent.nodeid
    if scopes & {"module", "package", "session"}:
        return item.nodeid.split("::")[0]
    return None


def _cost_rank(item: pytest.Item) -> tuple[int, bool]:
    """Costly marks first; within a rank, the groups (whose set-up the tests share) first."""
    rank = next((i for i, mark in enumerate(COSTLY) if item.get_closest_marker(mark)), len(COSTLY))
    return rank, item.get_closest_marker("xdist_group") is None


@pytest.hookimpl(tryfirst=True)  # before xdist reads the groups
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        group = _shared_setup(item)
        if group and not item.get_closest_marker("xdist_group"):
            item.add_marker(pytest.mark.xdist_group(group))
    items.sort(key=_cost_rank)  # (stable: otherwise in the collection's order)
