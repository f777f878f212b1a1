"""The order pytest-xdist shares the suite out in (scripts/test: one worker more than there are
cores; pyproject.toml: --dist loadscope --no-loadscope-reorder).

- loadscope: a module's tests (a class's, for a class) go to one worker together, so a set-up
  made once per module or class (a `meltano run`, a database, a built wheel, a tap's sync) is
  made once, not once per worker that gets one of its tests.
- The costliest go first: modules of e2e pipelines (each a real `meltano run`, seconds of
  CPU), then the other slow tests (a plugin executable or the meltano CLI), then those needing
  PostgreSQL, then the rest, which fill in last, so that no worker ends the lane alone on a long
  test started late.

(loadgroup and xdist_group marks would group finer, but pytest-xdist 3.8 renames the test ids
for them through an attribute pytest 9 no longer reads: the groups fall apart.)
"""

from __future__ import annotations

import pytest

# the marks that say a test is costly, costliest first (pyproject.toml describes them)
COSTLY = ("e2e", "slow", "postgres")


def _cost_rank(item: pytest.Item) -> int:
    return next((i for i, mark in enumerate(COSTLY) if item.get_closest_marker(mark)), len(COSTLY))


@pytest.hookimpl(trylast=True)  # after pytest's own regrouping by fixture
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    items.sort(key=_cost_rank)  # (stable: otherwise in the order collected)
