"""tap-sage-crm against the fake Sage CRM (tests/fakes/sage.py): real HTTP on loopback, real
zeep reading the WSDL, the tap run as its own process the way Meltano runs it.

Expected figures come from the fake's dataset (tests/fakes/sage_data.py), not from the tap.
"""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import zeep
from fakes.sage import FakeSage
from fakes.sage_data import DEFECTS
from tap_sage_crm import query
from tap_sage_crm.rest import SageRestStream
from tap_sage_crm.tap import TapSageCrm, custom_stream

TAP = str(Path(sys.executable).parent / "tap-sage-crm")
SCALE = 0.05  # ~600 rows: every defect is still planted (ids ≤ 33)
# The fake names no wait with its 503s: retries back off from 10 ms, not the default 0.5 s (the
# tests count the retries, not how long they waited)
BACKOFF = 0.01


@pytest.fixture
def sage():
    with FakeSage(batch_size=25, scale=SCALE) as fake:
        yield fake


def config(fake: FakeSage, tmp_path: Path, **extra) -> Path:
    path = tmp_path / "config.json"
    path.write_text(
        json.dumps(
            {
                "base_url": fake.url,
                "username": "admin",
                "password": "s3cret",
                "side_streams": True,  # as this project's meltano.yml sets it
                "max_retries": 3,
                "backoff_seconds": BACKOFF,
                "timeout": 10,
                **extra,
            }
        )
    )
    return path


def run_tap(cfg: Path, *, state: dict | None = None, check: bool = True) -> dict:
    args = [TAP, "--config", str(cfg)]
    if state is not None:
        state_file = cfg.with_name("state.json")
        state_file.write_text(json.dumps(state))
        args += ["--state", str(state_file)]
    done = subprocess.run(args, capture_output=True, text=True, timeout=300)
    if check:
        assert done.returncode == 0, done.stderr[-3000:]
    records: dict[str, list[dict]] = {}
    schemas: dict[str, dict] = {}
    last_state = None
    for line in done.stdout.splitlines():
        msg = json.loads(line)
        if msg["type"] == "RECORD":
            records.setdefault(msg["stream"], []).append(msg["record"])
        elif msg["type"] == "SCHEMA":
            schemas[msg["stream"]] = msg["schema"]
        elif msg["type"] == "STATE":
            last_state = msg["value"]
    return {
        "records": records,
        "schemas": schemas,
        "state": last_state,
        "returncode": done.returncode,
        "stderr": done.stderr,
    }


def live_rows(fake: FakeSage, entity: str) -> list[dict]:
    e = fake.entities[entity]
    return [r for r in e.rows if not r.get(f"{e.prefix}_deleted")]


def session_calls(fake: FakeSage) -> list[str]:
    return [name for name, _ in fake.calls]


# ---- queries ----------------------------------------------------------------------------


def test_values_become_literals_that_cannot_end_early():
    hostile = "x' or '1'='1"
    assert query.condition("comp_name", "eq", hostile, "sql") == "comp_name = 'x'' or ''1''=''1'"
    assert query.condition("comp_name", "eq", hostile, "sdata") == "comp_name eq 'x'' or ''1''=''1'"
    assert (
        query.condition("comp_updateddate", "ge", query.instant("2020-05-01T10:00:00Z"), "sdata")
        == "comp_updateddate ge @2020-05-01T10:00:00@"
    )
    with pytest.raises(query.UnsafeQuery, match="not a Sage column name"):
        query.column("comp_name = comp_name or 1")
    with pytest.raises(query.UnsafeQuery, match="ISO 8601"):
        query.instant("2020-01-01' or '1'='1")


@pytest.mark.parametrize("api", ["soap", "rest"])
@pytest.mark.slow  # runs the tap executable
def test_a_quote_in_a_filter_cannot_widen_the_query(sage, tmp_path, api):
    hostile = "x' or '1'='1"
    # The fake really is injectable: the same value pasted unescaped returns every company.
    client = zeep.Client(f"{sage.url}/crm/eware.dll/webservices/webservice.wsdl")
    result = client.service.logon(username="admin", password="s3cret")  # noqa: S106 - the fake's test user
    sid = getattr(result, "sessionid", result)
    header = {"SessionHeader": {"sessionId": sid}}
    pasted = client.service.queryrecord(
        fieldlist="comp_companyid",
        entityname="Company",
        queryString=f"comp_name = '{hostile}'",
        orderby="",
        _soapheaders=header,
    )
    client.service.logoff(sessionId=sid, _soapheaders=header)
    assert len(pasted.records) == min(sage.batch_size, len(sage.entities["company"].rows))

    named = sage.entities["company"].rows[3]["comp_name"]
    cfg = config(sage, tmp_path, api=api, filters={"companies": {"comp_name": [hostile, named]}})
    out = run_tap(cfg)
    assert [r["comp_name"] for r in out["records"]["companies"]] == [named]
    sent = [w for entity, w in sage.queries if entity == "Company"]
    assert any("x'' or ''1''=''1" in w for w in sent)


@pytest.mark.slow  # runs the tap executable
def test_a_filter_on_a_column_name_that_is_not_one_is_refused(sage, tmp_path):
    out = run_tap(
        config(sage, tmp_path, filters={"companies": {"1=1 or comp_name": "x"}}), check=False
    )
    assert out["returncode"] != 0
    assert "is not a Sage column name" in out["stderr"]
    assert sage.sessions == {}  # logged off on the way out


# ---- SOAP session rules ------------------------------------------------------------------


@pytest.mark.slow  # runs the tap executable
def test_soap_sessions_are_logged_off_one_at_a_time_and_pages_follow_more(sage, tmp_path):
    sage.batch_size = 4
    out = run_tap(config(sage, tmp_path))
    names = [n for n in session_calls(sage) if n in ("logon", "logoff")]
    # one session to read the metadata (discovery), one for the sync; never two at once
    assert names == ["logon", "logoff", "logon", "logoff"]
    assert session_calls(sage)[-1] == "logoff" and sage.sessions == {}
    # batch size 4: results beyond it come through nextqueryrecord
    assert session_calls(sage).count("nextqueryrecord") > 100
    recs = out["records"]
    for stream, entity in [
        ("companies", "company"),
        ("persons", "person"),
        ("leads", "lead"),
        ("opportunities", "opportunity"),
        ("cases", "cases"),
        ("communications", "communication"),
        ("comm_links", "comm_link"),
        ("notes", "notes"),
        ("libraries", "library"),
        ("users", "users"),
        ("captions", "custom_captions"),
        ("projects", "project"),
    ]:
        assert len(recs[stream]) == len(live_rows(sage, entity)), stream
    # the deleted person is skipped by default
    assert DEFECTS["deleted_person"] not in {r["pers_personid"] for r in recs["persons"]}


@pytest.mark.slow  # runs the tap executable
def test_every_soap_call_after_logon_carries_its_session(sage, tmp_path):
    run_tap(config(sage, tmp_path))
    current = None
    for name, sid in sage.calls:
        if name == "logon":
            assert sid is None
            current = "?"
            continue
        assert sid and current in ("?", sid), name
        current = None if name == "logoff" else sid


@pytest.mark.slow  # runs the tap executable
def test_emails_and_phones_come_from_the_link_tables(sage, tmp_path):
    recs = run_tap(config(sage, tmp_path))["records"]
    person = next(r for r in recs["persons"] if r["pers_personid"] == 4)
    assert person["emails"] == ["person4@mail.example", "person4.alt@mail.example"]
    company = next(r for r in recs["companies"] if r["comp_companyid"] == 1)
    assert company["emails"] == ["info@client1.example"]
    assert company["phones"] and company["phones"][0].startswith("+44 20 7946 ")
    company3 = next(r for r in recs["companies"] if r["comp_companyid"] == 3)
    assert company3["phones"] is None  # every third company has no phone in the dataset


@pytest.mark.slow  # runs the tap executable
def test_schemas_come_from_metadata_with_lookups_as_references(sage, tmp_path):
    schemas = run_tap(config(sage, tmp_path))["schemas"]
    project = schemas["projects"]["properties"]  # a custom entity, found through metadata
    assert project["proj_budget"]["type"] == ["number", "null"]
    assert project["proj_startdate"]["format"] == "date"
    assert project["proj_companyid"]["x-references"] == "companies"
    assert schemas["persons"]["properties"]["pers_companyid"]["x-references"] == "companies"


@pytest.mark.slow  # runs the tap executable
def test_a_stale_session_error_says_how_to_clear_it(sage, tmp_path):
    client = zeep.Client(f"{sage.url}/crm/eware.dll/webservices/webservice.wsdl")
    client.service.logon(username="admin", password="s3cret")  # noqa: S106 - left open
    out = run_tap(config(sage, tmp_path), check=False)
    assert out["returncode"] != 0
    assert "Force web service logon" in out["stderr"]
    assert "s3cret" not in out["stderr"]

    sage.force_logon = True  # the admin's fix: the next logon clears the stale session
    assert run_tap(config(sage, tmp_path))["records"]["companies"]
    assert sage.sessions == {}


@pytest.mark.slow  # runs the tap executable
def test_a_refused_query_names_entity_and_call_and_still_logs_off(sage, tmp_path):
    out = run_tap(
        config(sage, tmp_path, filters={"persons": {"pers_nosuchcolumn": "x"}}), check=False
    )
    assert out["returncode"] != 0
    assert "refused queryrecord on Person" in out["stderr"]
    assert "Invalid column name" in out["stderr"]
    assert session_calls(sage)[-1] == "logoff" and sage.sessions == {}


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM], ids=["ctrl-c", "terminate"])
@pytest.mark.slow  # runs the tap executable
def test_an_interrupted_run_logs_off(tmp_path, sig):
    with FakeSage(batch_size=2, scale=1.0) as fake:
        proc = subprocess.Popen(
            [TAP, "--config", str(config(fake, tmp_path))],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        deadline = time.monotonic() + 60
        while session_calls(fake).count("nextqueryrecord") < 20:
            assert time.monotonic() < deadline and proc.poll() is None
            time.sleep(0.05)
        proc.send_signal(sig)
        proc.communicate(timeout=60)
        # The signal may interrupt a call already sent: under load the fake's thread for it can
        # log it after the logoff, which it refuses (the session is gone). What matters: the
        # session was logged off, and nothing opened another after that.
        calls = session_calls(fake)
        assert "logoff" in calls
        last_logoff = len(calls) - 1 - calls[::-1].index("logoff")
        assert "logon" not in calls[last_logoff:]
        assert fake.sessions == {}


@pytest.mark.slow  # runs the tap executable
def test_transient_failures_are_retried(tmp_path):
    with FakeSage(scale=SCALE, transient_failures=3) as fake:
        out = run_tap(config(fake, tmp_path))
        assert len(out["records"]["companies"]) == len(live_rows(fake, "company"))
        assert fake.transient_failures == 0


@pytest.mark.slow  # runs the tap executable
def test_wrong_password_is_a_clear_error_without_the_secret(sage, tmp_path):
    cfg = tmp_path / "config.json"
    cfg.write_text(
        json.dumps(
            {"base_url": sage.url, "username": "admin", "password": "wrong-Pa55", "max_retries": 1}
        )
    )
    out = run_tap(cfg, check=False)
    assert out["returncode"] != 0
    assert "refused logon" in out["stderr"] and "invalid user name or password" in out["stderr"]
    assert "wrong-Pa55" not in out["stderr"]


# ---- REST ----------------------------------------------------------------------------------


@pytest.mark.slow  # runs the tap executable
def test_rest_reads_the_same_rows_with_paging(sage, tmp_path):
    soap = run_tap(config(sage, tmp_path))["records"]
    sage.calls.clear()
    rest = run_tap(config(sage, tmp_path, api="rest", page_size=10))["records"]
    assert set(rest) == set(soap)
    for stream in soap:
        assert sorted(json.dumps(r, sort_keys=True) for r in rest[stream]) == sorted(
            json.dumps(r, sort_keys=True) for r in soap[stream]
        ), stream
    person_pages = [c for c, _ in sage.calls if c == "GET person"]
    assert len(person_pages) >= len(sage.entities["person"].rows) // 10


# ---- incremental, deletes, workflows, library ------------------------------------------------


@pytest.mark.parametrize("api", ["soap", "rest"])
@pytest.mark.slow  # runs the tap executable
def test_incremental_reads_only_rows_updated_since_the_bookmark(sage, tmp_path, api):
    first = run_tap(config(sage, tmp_path, api=api))
    companies = sage.entities["company"].rows
    companies[10]["comp_updateddate"] = "2025-03-04 05:06:07"
    companies[11]["comp_name"] = "Renamed without touching the updated date"
    # a state an older version wrote: these streams were named `library` and `project`
    state = json.loads(json.dumps(first["state"]))
    state["bookmarks"]["library"] = state["bookmarks"].pop("libraries")
    state["bookmarks"]["project"] = state["bookmarks"].pop("projects")
    second = run_tap(config(sage, tmp_path, api=api), state=state)
    for renamed in ("libraries", "projects"):  # their bookmarks still apply
        assert len(second["records"].get(renamed, [])) < len(first["records"][renamed])
        assert renamed in second["state"]["bookmarks"]
    assert not {"library", "project"} & set(second["state"]["bookmarks"])
    got = second["records"].get("companies", [])
    ids = {r["comp_companyid"] for r in got}
    assert companies[10]["comp_companyid"] in ids
    assert companies[11]["comp_companyid"] not in ids
    assert len(got) <= 2  # the changed row (and at most the bookmark row again)
    bookmark = second["state"]["bookmarks"]["companies"]["replication_key_value"]
    assert bookmark.startswith("2025-03-04T05:06:07")
    # start_date works the same way on a first run
    fresh = run_tap(config(sage, tmp_path, api=api, start_date="2025-01-01T00:00:00Z"))
    assert [r["comp_companyid"] for r in fresh["records"]["companies"]] == [
        companies[10]["comp_companyid"]
    ]


def test_a_custom_entity_stream_is_plural_unless_a_stream_has_that_name() -> None:
    assert custom_stream("Project", {"companies"}) == "projects"
    assert custom_stream("Projects", {"companies"}) == "projects"
    assert custom_stream("Case", {"cases"}) == "case"  # `cases` is Sage's Cases entity


@pytest.mark.slow  # runs the tap executable
def test_deleted_rows_are_flagged_when_asked(sage, tmp_path):
    recs = run_tap(config(sage, tmp_path, deleted_records="flag"))["records"]
    deleted = [r for r in recs["persons"] if r["is_deleted"]]
    assert [r["pers_personid"] for r in deleted] == [DEFECTS["deleted_person"]]
    assert len(recs["persons"]) == len(sage.entities["person"].rows)


@pytest.mark.slow  # runs the tap executable
def test_unreadable_workflows_become_a_notice(tmp_path):
    with FakeSage(scale=SCALE, hidden=("workflowrule",)) as fake:
        recs = run_tap(config(fake, tmp_path))["records"]
    assert "workflows" not in recs
    assert any("Workflow rules are not readable" in n["notice"] for n in recs["_notices"])


@pytest.mark.slow  # runs the tap executable
def test_readable_workflows_are_emitted(sage, tmp_path):
    recs = run_tap(config(sage, tmp_path))["records"]
    assert sorted(w["wkrl_caption"] for w in recs["workflows"]) == sorted(
        r["wkrl_caption"] for r in sage.entities["workflowrule"].rows
    )
    assert not any("Workflow" in n["notice"] for n in recs.get("_notices", []))


@pytest.mark.slow  # runs the tap executable
def test_library_files_are_found_in_the_library_folder(sage, tmp_path):
    first = sage.entities["library"].rows[0]
    folder = tmp_path / "library" / first["libr_filepath"]
    folder.mkdir(parents=True)
    (folder / first["libr_filename"]).write_text("contents")
    recs = run_tap(config(sage, tmp_path, library_dir=str(tmp_path / "library")))["records"]
    by_id = {r["libr_libraryid"]: r for r in recs["libraries"]}
    found = by_id[first["libr_libraryid"]]
    assert found["file_exists"] is True
    assert Path(found["absolute_path"]).read_text() == "contents"
    second = sage.entities["library"].rows[1]
    missing = by_id[second["libr_libraryid"]]
    assert missing["file_exists"] is False
    # the file is named even when it is not found (not only its folder)
    assert missing["relative_path"] == f"{second['libr_filepath']}/{second['libr_filename']}"


def test_a_library_path_names_the_file_and_stays_inside_the_folder():
    from tap_sage_crm.streams import library_path

    row = {"libr_filepath": "Company\\8", "libr_filename": "offer.pdf"}
    assert library_path(row) == "Company/8/offer.pdf"
    assert library_path({"libr_filepath": "../../etc", "libr_filename": "../passwd"}) == (
        "etc/passwd"
    )
    assert library_path({"libr_filepath": "Company/8", "libr_filename": ".."}) is None
    assert library_path({"libr_filepath": "Company/8", "libr_filename": None}) is None


def test_secrets_are_marked_secret():
    from tap_sage_crm.tap import TapSageCrm

    props = TapSageCrm.config_jsonschema["properties"]
    assert props["password"].get("secret") is True and props["username"].get("secret") is True


def test_rest_pages_are_retried_under_the_soap_sides_policy():
    """503s mid-sync: the REST stream's pages are retried by the SDK's backoff hooks with the
    tap's one RetryPolicy — the object the SOAP session retries with too."""
    with FakeSage(scale=SCALE) as fake:
        tap = TapSageCrm(
            config={
                "base_url": fake.url,
                "username": "admin",
                "password": "s3cret",
                "api": "rest",
                "page_size": 10,
                "backoff_seconds": BACKOFF,
            }
        )
        stream = tap.streams["companies"]
        assert isinstance(stream, SageRestStream) and stream.retry_policy is tap.retry_policy
        assert tap.retry_policy.base == BACKOFF  # the setting, not the 0.5 s default
        soap = TapSageCrm(config={"base_url": fake.url, "username": "admin", "password": "s3cret"})
        assert soap.client.policy is soap.retry_policy  # SOAP: the same policy type, per run
        fake.transient_failures = 2  # the next two GETs answer 503
        rows = list(stream.get_records(None))
        assert fake.transient_failures == 0
        assert len(rows) == len(live_rows(fake, "company"))
