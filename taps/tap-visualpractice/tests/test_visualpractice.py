"""The Visual Practice layout on the committed fixture export: VPL files, names, order, rejects."""

from __future__ import annotations

import io
import json
import shutil
from contextlib import redirect_stdout
from pathlib import Path

import pytest
from crm2twenty_common.exports import BadRowError, ExportError
from crm2twenty_common.exports.dialect import sniff_delimiter
from tap_visualpractice.tap import TapVisualPractice

EXPORT = Path(__file__).parent / "fixture_export"


def sync(config: dict) -> dict[str, list]:
    tap = TapVisualPractice(config={"side_streams": True, **config})
    buffer = io.StringIO()
    with redirect_stdout(buffer):
        tap.sync_all()
    found: dict[str, list] = {"_order": []}
    for line in buffer.getvalue().splitlines():
        message = json.loads(line)
        if message["type"] == "SCHEMA":
            found["_order"].append(message["stream"])
            found[f"schema:{message['stream']}"] = [message["schema"]]
        if message["type"] == "RECORD":
            found.setdefault(message["stream"], []).append(message["record"])
    return found


@pytest.fixture(scope="module")
def out() -> dict[str, list]:
    return sync({"export_dir": str(EXPORT), "on_bad_row": "reject"})


def test_lookup_streams_first_then_name_order_and_rejects_last(out) -> None:
    assert out["_order"] == [
        "users",
        "pipeline_stages",
        "activities",
        "attachments",
        "companies",
        "contacts",
        "deals",
        "notes",
        "referrals",
        "tasks",
        "workflows",
        "_notices",
        "_rejects",
    ]


def test_vpl_files_are_quote_and_comma_text_with_cr_line_ends(out) -> None:
    companies = {c["id"]: c for c in out["companies"]}
    assert companies[1]["name"] == "Clinique Médicale Saint-Jérôme"  # cp1252
    assert companies[2]["name"] == "Smith, Jones & Co"  # a comma inside quotes
    assert companies[3]["name"] == 'The "Best" Clinic'  # doubled quotes
    assert companies[2]["parent_company_id"] == 1
    assert companies[2]["state"] == "ON"  # "Province"
    assert companies[1]["created_at"] == "2021-03-04T10:00:00+00:00"
    contacts = {c["id"]: c for c in out["contacts"]}
    assert contacts[1]["notes"] == "Prefers mornings; speaks French, English"
    assert contacts[3]["notes"] == "Line one\nline two"
    # line numbers count the line break inside a cell: the header is line 1
    assert [c["_sdc_source_lineno"] for c in out["contacts"]] == [2, 4]
    assert out["companies"][0]["_sdc_source_file"] == "companies.vpl"


def test_vpl_is_never_sniffed(tmp_path: Path) -> None:
    # One column whose cells hold semicolons: sniffing would call it semicolon-separated.
    (tmp_path / "referrals.vpl").write_bytes(b'"id"\r"R1;a"\r"R2;b"\r')
    assert sniff_delimiter(tmp_path / "referrals.vpl", "utf-8") == ";"
    tap = TapVisualPractice(config={"export_dir": str(tmp_path)})
    (role,) = tap.classify_files()
    assert tap.open_file(role).delimiter == ","
    # … unless the `delimiter` setting forces one for every file
    forced = TapVisualPractice(config={"export_dir": str(tmp_path), "delimiter": "tab"})
    assert forced.open_file(role).delimiter == "\t"


def test_headers_become_the_canonical_columns_of_the_readme(out) -> None:
    stages = sorted(out["pipeline_stages"], key=lambda s: s["order"])
    assert [(s["name"], s["probability"]) for s in stages] == [
        ("Enquiry", 10),
        ("Assessment", 40),
        ("Won", 100),
    ]
    meeting, call = out["activities"]
    assert (meeting["type"], meeting["subject"]) == ("Meeting", "Consultation")
    assert meeting["notes"] == "Discussed options.\r\nBook again."
    assert (meeting["start_at"], meeting["end_at"]) == (
        "2024-01-10T09:00:00+00:00",
        "2024-01-10T10:00:00+00:00",
    )
    assert call["deal_id"] is None and call["contact_id"] == 3
    deal = out["deals"][0]
    assert (deal["stage"], deal["close_date"], deal["owner_email"]) == (
        "Assessment",
        "2024-01-31",
        "ana@clinic.test",
    )
    note = out["notes"][0]
    assert (note["author_email"], note["author_name"]) == ("ana@clinic.test", "Ana Admin")
    assert note["body"] == "Paid €40 at the desk"
    assert out["tasks"][0]["assignee_email"] == "bob@clinic.test"  # UTF-16, tab
    assert out["users"][1]["active"] is False
    assert out["referrals"][0]["contact_id"] == 1  # a custom object keeps its columns
    assert out["workflows"][0]["actions"] == [{"type": "create_task", "title": "Call"}]
    files = {a["id"]: a["file_exists"] for a in out["attachments"]}
    assert files == {"ATT-1": True, "ATT-2": False}


def test_bad_rows_are_rejected_with_file_line_and_reason(out) -> None:
    assert [(r["location"], r["reason"]) for r in out["_rejects"]] == [
        ("contacts.vpl:3", "empty key column id"),
        ("contacts.vpl:6", "row has 10 cells but the header has 9"),
    ]
    assert out["_rejects"][1]["raw"].endswith('"stray"')


def test_bad_rows_fail_the_run_by_default_naming_file_and_line() -> None:
    tap = TapVisualPractice(config={"export_dir": str(EXPORT), "side_streams": True})
    with (
        redirect_stdout(io.StringIO()),
        pytest.raises(BadRowError, match=r"contacts\.vpl:3: empty key"),
    ):
        tap.sync_all()


def test_column_map_renames_a_vpl_header(tmp_path: Path) -> None:
    export = tmp_path / "export"
    export.mkdir()
    shutil.copy(EXPORT / "companies.vpl", export / "Accounts.VPL")
    out = sync({"export_dir": str(export), "column_map": {"companies": {"Specialty": "specialty"}}})
    assert out["companies"][0]["specialty"] == "Family Medicine"
    assert "industry" not in out["companies"][0]


def test_a_missing_key_column_names_the_setting_to_use(tmp_path: Path) -> None:
    (tmp_path / "deals.vpl").write_bytes(b'"Ref","Deal Name"\r"1","x"\r')
    with pytest.raises(ExportError, match=r"deals\.vpl: no id column.*column_map"):
        TapVisualPractice(config={"export_dir": str(tmp_path)}).discover_streams()
