"""The Allegory layout on the committed fixture export: names, aliases, kinds and values."""

from __future__ import annotations

import io
import json
from contextlib import redirect_stdout
from pathlib import Path

import pytest
from tap_allegory_csv.tap import TapAllegoryCsv

EXPORT = Path(__file__).parent / "fixture_export"


@pytest.fixture(scope="module")
def out() -> dict[str, list[dict]]:
    tap = TapAllegoryCsv(
        config={"export_dir": str(EXPORT), "on_bad_row": "reject", "side_streams": True}
    )
    buffer = io.StringIO()
    with redirect_stdout(buffer):
        tap.sync_all()
    found: dict[str, list[dict]] = {"_order": []}
    for line in buffer.getvalue().splitlines():
        message = json.loads(line)
        if message["type"] == "SCHEMA":
            found["_order"].append(message["stream"])
            found[f"schema:{message['stream']}"] = [message]
        if message["type"] == "RECORD":
            found.setdefault(message["stream"], []).append(message["record"])
    return found


def test_streams_one_per_file_and_rejects_last(out) -> None:
    assert out["_order"] == [
        "attachments",
        "companies",
        "contacts",
        "deals",
        "matters",
        "notes",
        "tasks",
        "users",
        "workflows",
        "matter_contacts",  # a link after the streams it joins
        "_notices",
        "_rejects",
    ]


def test_headers_become_the_canonical_columns_of_the_readme(out) -> None:
    assert out["companies"][0]["name"] == "Acme Corp"  # "Company Name"
    assert out["companies"][0]["tier"] == "Gold"  # unknown column kept
    assert out["contacts"][0]["email"] == "ana@acme.test"  # "E-mail"
    assert out["contacts"][0]["company_id"] == 1  # "Company ID"
    assert out["deals"][0]["stage"] == "Closed Won"  # "Pipeline Stage"
    note = out["notes"][0]
    assert (note["id"], note["title"], note["author_email"]) == ("N1", "Kick-off", "bob@acme.test")
    assert out["users"][0] == {
        "id": 1,
        "email": "bob@acme.test",
        "first_name": "Bob",
        "last_name": "Stone",
        "role": "Admin",
        "active": True,
        "_sdc_source_file": "users.csv",
        "_sdc_source_lineno": 2,
    }


def test_files_of_every_shape_are_read(out) -> None:
    assert [d["close_date"] for d in out["deals"]] == ["2024-12-31", "2025-02-01"]  # day-first
    assert out["tasks"][0]["title"] == "Appeler le client €"  # cp1252, semicolons
    assert out["tasks"][1]["title"] == "Relance’s"
    assert out["contacts"][1]["last_name"] == "Smith\r\nJr"  # quoted CRLF inside a cell
    assert out["contacts"][2]["_sdc_source_lineno"] == 5  # the row after it
    assert out["contacts"][0]["zip"] == "01234"  # leading zero kept
    assert out["companies"][2]["name"] == "Zoë & Søren"
    assert out["notes"][0]["body"] == "Met the board.\nNext: send the NDA."
    assert out["notes"][1]["updated_at"] == "2024-05-03T09:30:00+00:00"  # "Modified Date", UTC


def test_attachments_manifest_links_workflows_and_custom_objects(out) -> None:
    a1, a2 = out["attachments"]
    assert (a1["file_exists"], a1["file_size"]) == (True, 16)
    assert a1["absolute_path"] == str((EXPORT / "files" / "contract.txt").resolve())
    assert (a2["file_exists"], a2["file_size"]) == (False, None)
    assert [(r["matters_id"], r["contacts_id"]) for r in out["matter_contacts"]] == [
        ("M1", 10),
        ("M1", 11),
        ("M2", 12),
    ]
    assert out["schema:matter_contacts"][0]["key_properties"] == ["matters_id", "contacts_id"]
    assert [(m["id"], m["billable"], m["budget"]) for m in out["matters"]] == [
        ("M1", True, 10000),
        ("M2", False, 2500.75),
    ]
    (workflow,) = out["workflows"]
    assert workflow["actions"] == ["send welcome e-mail", {"task": "call within 2 days"}]


def test_the_users_row_without_an_id_is_rejected_with_its_location(out) -> None:
    (reject,) = out["_rejects"]
    assert reject == {
        "stage": "tap",
        "source_stream": "users",
        "source_key": None,
        "object": None,
        "reason": "empty key column id",
        "location": "users.csv:4",
        "raw": ",ghost@acme.test,Ghost,,Sales,true",
    }


def test_incremental_streams_are_those_with_a_modified_column(out) -> None:
    keys = {
        name.split(":", 1)[1]: schema[0].get("bookmark_properties")
        for name, schema in out.items()
        if name.startswith("schema:")
    }
    assert {s for s, b in keys.items() if b} == {"companies", "notes"}
    assert keys["notes"] == ["updated_at"]
