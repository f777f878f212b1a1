"""The source profile, by its documented command on the bundled Allegory sample:

    meltano invoke tap-allegory-csv | meltano invoke crm2twenty-mapper:profile --rules allegory

No Twenty server. The figures it must find are the generator's own (examples/allegory/
expected.json) or counted here from the export's files.
"""

from __future__ import annotations

import csv
import json
import math
from pathlib import Path

import e2e_run
import pytest

pytestmark = pytest.mark.e2e

EXPORT = e2e_run.ROOT / "examples" / "allegory" / "export"
EXPECTED = json.loads((EXPORT.parent / "expected.json").read_text(encoding="utf-8"))
# the columns that name a record's owner or assignee, per file (rules/allegory.yml)
OWNER_COLUMNS = {
    "companies.csv": "owner_email",
    "contacts.csv": "owner_email",
    "deals.csv": "owner_email",
    "tasks.csv": "assignee_email",
}


def _profiles(base: Path, *runs: tuple[str, list[str]]) -> list[Path]:
    """The documented pipe, real `meltano invoke`s: the tap's output (kept in a file, in place of
    the pipe) profiled once per run (a folder name under ``base``, the profile's extra options),
    all in one Meltano process (tests/meltano_batch.py)."""
    tapped = base / "tap.singer"
    commands = [{"args": ["invoke", "tap-allegory-csv"], "stdout": str(tapped)}]
    for name, extra in runs:
        args = ["invoke", "crm2twenty-mapper:profile", "--rules=allegory", f"--out={base / name}"]
        commands.append(
            {"args": [*args, *extra], "stdin": str(tapped), "stdout": str(base / f"{name}.out")}
        )
    results, log = e2e_run.meltano_batch(e2e_run.project_dir(), commands)
    assert [r["exit"] for r in results] == [0] * len(commands), (results, log[-3000:])
    return [base / name / "allegory" for name, _ in runs]


def _rows(name: str) -> list[dict[str, str]]:
    facts = EXPECTED["files"][name]
    with (EXPORT / name).open(encoding=facts["encoding"], newline="") as handle:
        return list(csv.DictReader(handle, delimiter=facts["delimiter"]))


@pytest.fixture(scope="module")
def profiled(tmp_path_factory: pytest.TempPathFactory) -> dict:
    members = ["anna.bell@harrowgatefinch.com", "George.Brown@harrowgatefinch.com"]
    folder, seen = _profiles(
        tmp_path_factory.mktemp("profile"),
        ("plain", []),
        ("members", [f"--workspace-members={','.join(members)}"]),
    )
    return {
        "dir": folder,
        "profile": json.loads((folder / "profile.json").read_text(encoding="utf-8")),
        "html": (folder / "profile.html").read_text(encoding="utf-8"),
        "invites": _csv(folder / "members-to-invite.csv"),
        "seen": json.loads((seen / "profile.json").read_text(encoding="utf-8")),
        "seen_invites": _csv(seen / "members-to-invite.csv"),
    }


def _csv(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def test_every_stream_is_counted_and_every_column_profiled(profiled: dict) -> None:
    p = profiled["profile"]
    streams = {s["stream"]: s for s in p["streams"]}
    rows = {e2e_run.allegory_stream(f): n for f, n in EXPECTED["rows"].items()}
    assert {s: streams[s]["records"] for s in rows} == rows
    assert p["records"] == EXPECTED["total"]
    contacts = {c["column"]: c for c in streams["contacts"]["columns"]}
    email = contacts["email"]
    # the values are e-mails (the mapping inference's kind), but for the export's bad ones
    invalid = {d["email"] for d in EXPECTED["defects"]["invalid_emails"]["items"]}
    assert email["inferred"] == "e-mail" and email["typed_by"] == "values"
    assert email["filled"] - email["parses"] == len(invalid)
    assert set(email["not_parsing"]) <= invalid
    filled = sum(1 for r in _rows("contacts.csv") if r["E-mail"].strip())  # the tap: `email`
    assert email["filled"] == filled
    assert email["fill_rate"] == round(filled / rows["contacts"], 4)
    # a column the tap typed keeps its type
    assert {c["column"]: c["inferred"] for c in streams["attachments"]["columns"]}[
        "file_exists"
    ] == "boolean"


def test_duplicates_refusals_and_rejects_are_found(profiled: dict) -> None:
    p = profiled["profile"]
    dups = {(d["object"], d["kind"]): d for d in p["duplicates"]}
    same_email = EXPECTED["defects"]["duplicate_emails_other_case"]
    emails = dups[("person", "e-mail")]
    assert emails["groups"] == same_email["count"]
    pairs = {tuple(sorted(g["records"])) for g in emails["examples"]}
    assert pairs <= {
        tuple(sorted((f"contacts {i['survivor']}", f"contacts {i['duplicate']}")))
        for i in same_email["items"]
    }
    streams = {s["stream"]: s for s in p["streams"]}
    refused = {r["field"]: r for r in streams["contacts"]["refusals"]}
    assert (
        refused["person.emails.primaryEmail"]["count"]
        == EXPECTED["defects"]["invalid_emails"]["count"]
    )
    rejected = EXPECTED["defects"]["contacts_without_name_or_email"]["count"]
    assert streams["contacts"]["rejected"] == rejected


def test_the_api_cost_is_priced_at_the_targets_batch_size_and_limit(profiled: dict) -> None:
    cost = profiled["profile"]["cost"]
    assert (cost["batch_size"], cost["requests_per_minute"]) == (200, 100)
    objects = {o["object"]: o for o in cost["objects"]}
    for o in objects.values():
        assert o["batches"] == math.ceil(o["records"] / 200)
        assert o["requests"] == o["batches"] + o["uploads"]
    assert objects["company"]["records"] == EXPECTED["rows"]["companies"]
    missing = EXPECTED["defects"]["attachments_missing_file"]["count"]
    assert objects["attachment"]["uploads"] == EXPECTED["rows"]["attachments"] - missing
    assert cost["requests"] == sum(o["requests"] for o in objects.values())
    assert cost["minutes"] == round(cost["requests"] / 100, 1)


def test_the_member_list_names_every_owner_and_the_inactive(profiled: dict) -> None:
    members = profiled["profile"]["members"]
    assert members["workspace_seen"] is False
    by_email = {m["email"]: m for m in members["members"]}
    owned: dict[str, int] = {}
    for name, column in OWNER_COLUMNS.items():
        for row in _rows(name):
            if name == "contacts.csv" and not any(
                row[c].strip() for c in ("First Name", "Last Name", "full_name", "E-mail")
            ):
                continue  # rejected (contacts_without_name_or_email): no record to own
            email = (row.get(column) or "").strip().lower()
            if email:
                owned[email] = owned.get(email, 0) + 1
    users = {r["id"]: r for r in _rows("users.csv")}
    # every owner e-mail of the records, and every source user, once
    assert set(by_email) == set(owned) | {u["email"].lower() for u in users.values()}
    for orphan in EXPECTED["defects"]["orphan_owners"]["items"]:
        assert by_email[orphan["value"].lower()]["source_user"] is False
    for ident in EXPECTED["files"]["users.csv"]["inactive"]:
        user = by_email[users[str(ident)]["email"].lower()]
        assert user["active"] is False
        assert user["records_owned"] == owned.get(user["email"], 0) > 0
    assert {m["membership"] for m in members["members"]} == {"unknown"}
    # the CSV to invite from: every e-mail (membership unknown), active users first
    invites = profiled["invites"]
    assert [r["email"] for r in invites] == sorted(
        by_email, key=lambda e: (by_email[e]["active"] is False, e)
    )
    assert "members-to-invite.csv" in profiled["html"]
    assert "unknown (the workspace was not read)" in profiled["html"]


def test_listed_workspace_members_are_not_invited(profiled: dict) -> None:
    members = {m["email"]: m for m in profiled["seen"]["members"]["members"]}
    assert profiled["seen"]["members"]["workspace_seen"] is True
    assert members["anna.bell@harrowgatefinch.com"]["membership"] == "member"
    assert members["george.brown@harrowgatefinch.com"]["membership"] == "member"
    invited = {r["email"] for r in profiled["seen_invites"]}
    assert invited == {e for e, m in members.items() if m["membership"] == "to invite"}
    assert len(invited) == len(members) - 2
