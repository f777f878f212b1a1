"""The member provisioning list and the API cost figures every plugin shares."""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

from crm2twenty_common.members import Membership, member_list, user_active, write_invites
from crm2twenty_common.twenty.load import batches, default_rate, minutes


def test_member_list_merges_users_and_owner_links_case_insensitively(tmp_path: Path) -> None:
    users: list[dict[str, Any]] = [
        {"email": "Ann@X.com", "name": "Ann Lee", "active": True},
        {"email": "ben@x.com", "name": "Ben Old", "disabled": True},
        {"email": "", "name": "No Mail"},
    ]
    links = [("ann@x.com", 3), ("ANN@x.com", 1), ("ben@x.com", 2), ("zed@x.com", 5)]
    unknown = member_list(users, links, None)
    rows = {m.email: m for m in unknown.members}
    assert set(rows) == {"ann@x.com", "ben@x.com", "zed@x.com"}
    assert (rows["ann@x.com"].records_owned, rows["ann@x.com"].active) == (4, True)
    assert rows["ben@x.com"].active is False  # from `disabled`
    assert rows["zed@x.com"].source_user is False and rows["zed@x.com"].name is None
    assert {m.membership for m in unknown.members} == {Membership.UNKNOWN}
    assert "unknown" in unknown.summary() and "1 inactive in the source, owning 2" in (
        unknown.summary()
    )

    known = member_list(users, links, ["ANN@x.com"])
    assert [m.email for m in known.to_invite] == ["ben@x.com", "zed@x.com"]
    path = write_invites(known, tmp_path)
    with path.open(encoding="utf-8") as handle:
        rows_out = list(csv.DictReader(handle))
    # the active (or unknown) first, the inactive last
    assert [r["email"] for r in rows_out] == ["zed@x.com", "ben@x.com"]
    assert rows_out[1] == {
        "email": "ben@x.com",
        "first_name": "Ben",
        "last_name": "Old",
        "active_in_source": "no",
        "records_owned": "2",
    }
    assert known.invite_file == str(path)
    assert "1 are workspace members, 2 to invite" in known.summary()


def test_user_active_reads_active_else_disabled() -> None:
    assert user_active({"active": False}) is False
    assert user_active({"disabled": False}) is True
    assert user_active({"active": "yes"}) is None


def test_batches_and_minutes_at_the_rate_limit() -> None:
    assert [batches(n, 200) for n in (0, 1, 200, 201, 1995)] == [0, 1, 1, 2, 10]
    assert minutes(151, 100) == 1.5
    assert default_rate("https://api.twenty.com") == 50
    assert default_rate("http://127.0.0.1:3000") == 100
    assert default_rate(None) == 100
    assert default_rate("https://nottwenty.com") == 100
