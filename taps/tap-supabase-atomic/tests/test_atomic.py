"""tap-supabase-atomic against a real PostgreSQL with Atomic CRM's current and legacy schemas,
and a fake Supabase Storage on loopback. Expected values are the seeded rows of
tests/fakes/atomic_db.py, written from docs/sources.md §2, not from the tap."""

from __future__ import annotations

import io
import json
import subprocess
import sys
from collections import defaultdict
from collections.abc import Iterator
from contextlib import redirect_stdout
from pathlib import Path

import pytest
from fakes.atomic_db import AtomicDb
from fakes.supabase_storage import FakeStorage
from psycopg2.extensions import parse_dsn
from tap_supabase_atomic import enums
from tap_supabase_atomic.streams import amount
from tap_supabase_atomic.tap import TapSupabaseAtomic

pytestmark = pytest.mark.postgres
TAP = str(Path(sys.executable).parent / "tap-supabase-atomic")


@pytest.fixture(scope="module")
def atomic() -> Iterator[AtomicDb]:
    with AtomicDb() as db:
        yield db


class Run:
    """The messages of one in-process sync (a full sync: the SDK's test runner does dry runs)."""

    def __init__(self, config: dict, state: dict | None = None) -> None:
        out = io.TextIOWrapper(io.BytesIO(), encoding="utf-8")
        with redirect_stdout(out):
            TapSupabaseAtomic(
                config={"side_streams": True, **config}, state=state, parse_env_config=False
            ).sync_all()
        out.seek(0)
        self.raw_messages = [json.loads(line) for line in out if line.strip()]
        self.records: dict[str, list[dict]] = defaultdict(list)
        for m in self.raw_messages:
            if m["type"] == "RECORD":
                self.records[m["stream"]].append(m["record"])
        self.state_messages = [m for m in self.raw_messages if m["type"] == "STATE"]


sync = Run


def schemas(runner: Run) -> dict[str, dict]:
    return {m["stream"]: m["schema"] for m in runner.raw_messages if m["type"] == "SCHEMA"}


def by_id(runner: Run, stream: str) -> dict:
    return {r["id"]: r for r in runner.records[stream]}


@pytest.fixture(scope="module")
def current(atomic: AtomicDb) -> Run:
    return sync({"dsn": atomic.dsn})


@pytest.fixture(scope="module")
def legacy(atomic: AtomicDb) -> Run:
    return sync({"dsn": atomic.dsn, "schema": "legacy"})


def test_every_table_is_a_stream_with_every_row(current: Run, atomic: AtomicDb) -> None:
    for stream, table in [
        ("sales", "sales"), ("tags", "tags"), ("companies", "companies"),
        ("contacts", "contacts"), ("contact_notes", "contact_notes"), ("deals", "deals"),
        ("deal_notes", "deal_notes"), ("tasks", "tasks"),
    ]:  # fmt: skip
        (count,) = atomic.execute(f"SELECT count(*) FROM public.{table}")[0]  # noqa: S608
        assert len(current.records[stream]) == count, stream
    assert len(current.records["configuration"]) == 1
    # streams are synced parents first (the mapper's owner lookup needs sales first)
    order = [m["stream"] for m in current.raw_messages if m["type"] == "SCHEMA"]
    assert order.index("sales") < order.index("companies") < order.index("contacts")


def test_custom_columns_are_discovered_with_their_json_types(current: Run) -> None:
    props = schemas(current)["companies"]["properties"]
    assert props["industry_code"]["type"] == ["integer", "null"]
    assert props["is_partner"]["type"] == ["boolean", "null"]
    assert props["founded"] == {"type": ["string", "null"], "format": "date"}
    assert props["rating"]["type"] == ["number", "null"]
    assert props["keywords"]["type"] == ["array", "null"]
    assert props["keywords"]["items"]["type"] == ["string"]
    assert props["metadata"]["type"] == ["object", "null"]  # its values are objects
    assert props["tier"]["type"] == ["string", "null"]
    assert props["logo"]["type"] == ["object", "null"]
    assert props["sales_id"]["x-references"] == "sales"  # the SDK would drop this keyword
    contacts = schemas(current)["contacts"]["properties"]
    assert contacts["birthday"]["format"] == "date"
    assert contacts["socials"]["type"] == ["array", "null"]  # a jsonb column holding lists
    assert contacts["first_seen"]["format"] == "date-time"
    assert contacts["tags"]["items"]["type"] == ["integer"]
    assert schemas(current)["deals"]["properties"]["signed_at"]["format"] == "date-time"
    acme = by_id(current, "companies")[1]
    assert (acme["industry_code"], acme["is_partner"], acme["founded"], acme["rating"]) == (
        42, True, "1999-05-04", 4.5,
    )  # fmt: skip
    assert acme["keywords"] == ["rockets", "anvils"]
    assert acme["metadata"] == {"segment": "enterprise"}


def test_contacts_lists_tags_and_empty_values(current: Run) -> None:
    contacts = by_id(current, "contacts")
    ana, ben, cy = contacts[1], contacts[2], contacts[3]
    assert ana["emails"] == ["ana@acme.example", "ana@home.example"]
    assert ana["phones"] == ["+1 415 555 0101", "+1 415 555 0199"]
    assert ana["tag_names"] == ["VIP", "Partner"]
    # the configuration row has no noteStatuses: Atomic's own defaults, labelled as Atomic shows
    assert ana["status_label"] == "Hot" and cy["status_label"] == "In Contract"
    # an avatar is a URL for Twenty's avatarUrl; Atomic's failed fetch ("ERROR") is none
    assert (ana["avatar_url"], cy["avatar_url"]) == ("https://gravatar.example/a.png", None)
    # empty jsonb arrays and a null company stay empty, not errors
    assert (ben["email_jsonb"], ben["emails"], ben["company_id"]) == ([], None, None)
    # tag 3 was deleted: dropped from the names, and the report says so
    assert ben["tags"] == [1, 3] and ben["tag_names"] == ["VIP"]
    notices = [r["notice"] for r in current.records["_notices"]]
    assert any("Tag id 3 no longer exists" in n and "contacts 2" in n for n in notices)
    assert cy["emails"] is None and cy["tag_names"] is None


def test_deals_keep_three_contacts_and_enumeration_labels(current: Run) -> None:
    deals = by_id(current, "deals")
    assert deals[1]["contact_ids"] == [1, 2, 4]
    assert deals[1]["expected_closing_date"] == "2024-09-30"
    # dealStages come from the configuration table (with its own labels)
    assert (deals[1]["stage_label"], deals[2]["stage_label"]) == ("Proposal sent", "On hold")
    assert deals[1]["currency"] == "EUR"  # the configuration's currency
    config = current.records["configuration"][0]
    assert config["enumeration_sources"]["dealStages"] == enums.FROM_TABLE
    assert config["enumeration_sources"]["taskTypes"] == enums.DEFAULTED
    assert [s["value"] for s in config["enumerations"]["dealStages"]] == [
        "opportunity", "proposal-sent", "on-hold", "won", "lost",
    ]  # fmt: skip
    # keys the configuration row lacks take Atomic's defaults, in Atomic's order, as it shows them
    assert [(t["value"], t["label"]) for t in config["enumerations"]["taskTypes"]] == [
        ("none", "None"), ("email", "Email"), ("demo", "Demo"), ("lunch", "Lunch"),
        ("meeting", "Meeting"), ("follow-up", "Follow-up"), ("thank-you", "Thank you"),
        ("ship", "Ship"), ("call", "Call"),
    ]  # fmt: skip
    # every configured stage, used or not, is listed to the mapper in Atomic's order
    props = schemas(current)["deals"]["properties"]
    assert props["stage_label"]["x-options"] == [
        "Opportunity", "Proposal sent", "On hold", "Won", "Lost",
    ]  # fmt: skip
    assert props["category_label"]["x-options"][:2] == ["Other", "Copywriting"]
    notices = [r["notice"] for r in current.records["_notices"]]
    assert "Atomic CRM dealStages: configuration table." in notices
    assert "Atomic CRM taskTypes: Atomic CRM's defaults." in notices
    # a value the pick-list lacks keeps its own value, and the report says which
    assert any(n.startswith("Atomic CRM taskTypes: 1 value(s)") and "sauna" in n for n in notices)
    assert (by_id(current, "tasks")[3]["type_label"]) == "sauna"
    # the e-mail and phone types Twenty cannot hold are listed as dropped
    assert "Atomic CRM e-mail types are dropped" in " ".join(notices)
    # (the seed's typed lists: Ana's Work+Home e-mails and phones, Dee's and Olivia's Work
    # e-mails, Olivia's Work+Home phones)
    assert any("e-mail types" in n and "3 Work, 1 Home" in n for n in notices)
    assert any("phone types" in n and "2 Work, 2 Home" in n for n in notices)
    # revenue is in the configuration's currency, as Atomic shows it
    assert by_id(current, "companies")[1]["currency"] == "EUR"
    tasks = by_id(current, "tasks")
    assert (tasks[1]["done"], tasks[2]["done"], tasks[2]["due_date"]) == (True, False, None)


def test_legacy_names_are_read_as_the_current_ones(current: Run, legacy: Run) -> None:
    old, new = schemas(legacy), schemas(current)
    for stream in ("companies", "contacts", "contact_notes", "deal_notes"):
        known = set(new[stream]["properties"]) - {
            "industry_code", "is_partner", "founded", "rating", "keywords", "metadata", "tier",
            "birthday", "loyalty_points", "socials",
        }  # fmt: skip
        assert known <= set(old[stream]["properties"]), stream
    assert "stateAbbr" not in old["companies"]["properties"]
    assert not {"email", "phone_1_number"} & set(old["contacts"]["properties"])
    oldco = by_id(legacy, "companies")[1]
    assert (oldco["state_abbr"], oldco["region"]) == ("TX", "South")
    olga = by_id(legacy, "contacts")[1]
    assert olga["email_jsonb"] == [{"email": "olga@oldco.example", "type": "Work"}]
    assert olga["emails"] == ["olga@oldco.example"]
    assert olga["phones"] == ["+1 512 555 0100", "+1 512 555 0199"]
    assert olga["acquisition"] == "inbound"
    assert by_id(legacy, "contacts")[2]["email_jsonb"] == []
    assert [n["text"] for n in legacy.records["contact_notes"]] == ["Legacy note"]
    assert [n["text"] for n in legacy.records["deal_notes"]] == ["Legacy deal note"]
    # no configuration table: every pick-list is Atomic's default, labelled as Atomic shows it
    config = legacy.records["configuration"][0]
    assert set(config["enumeration_sources"].values()) == {enums.DEFAULTED}
    assert by_id(legacy, "deals")[1]["stage_label"] == "In Negotiation"
    assert config["currency"] == "USD"


APP_TSX = """
import { CRM } from "@/atomic-crm/root/CRM";
// dealStages={[ 'commented out' ]}
const App = () => (
    <CRM
        companySectors={['Technology', 'Finance']}
        dealCategories={["Copywriting", "Design",]}
        dealStages={[
            { value: 'in-negociation', label: 'Negotiating' }, // trailing comments too
            { value: 'won', label: 'Won' },
        ]}
        noteStatuses={[{ value: 'cold', label: 'Cold', color: '#7dbde8' }]}
        taskTypes={['Call', 'meeting']}
    />
);
export default App;
"""


def test_enumerations_from_app_tsx_when_the_table_has_none(
    atomic: AtomicDb, tmp_path: Path
) -> None:
    app = tmp_path / "App.tsx"
    app.write_text(APP_TSX, encoding="utf-8")
    runner = sync({"dsn": atomic.dsn, "schema": "legacy", "enumerations_file": str(app)})
    config = runner.records["configuration"][0]
    assert set(config["enumeration_sources"].values()) == {"file App.tsx"}
    assert config["enumerations"]["dealStages"][0] == {
        "value": "in-negociation", "label": "Negotiating", "position": 0,
    }  # fmt: skip
    assert config["enumerations"]["noteStatuses"][0]["color"] == "#7dbde8"
    assert [c["value"] for c in config["enumerations"]["dealCategories"]] == [
        "Copywriting", "Design",
    ]  # fmt: skip
    assert by_id(runner, "deals")[1]["stage_label"] == "Negotiating"
    assert by_id(runner, "tasks")[1]["type_label"] == "meeting"  # not in the file: its value


def test_enumerations_from_json_and_an_empty_configuration_table(
    atomic: AtomicDb, tmp_path: Path
) -> None:
    path = tmp_path / "lists.json"
    path.write_text(json.dumps({"taskTypes": [{"value": "meeting", "label": "Meeting!"}]}))
    atomic.execute("CREATE TABLE legacy.configuration (id integer PRIMARY KEY, config jsonb)")
    try:  # a configuration table with no row (the schema files alone insert none) means `{}`
        runner = sync({"dsn": atomic.dsn, "schema": "legacy", "enumerations_file": str(path)})
    finally:
        atomic.execute("DROP TABLE legacy.configuration")
    config = runner.records["configuration"][0]
    assert config["config"] == {}
    assert config["enumeration_sources"]["taskTypes"] == "file lists.json"
    assert config["enumeration_sources"]["dealStages"] == enums.DEFAULTED
    assert by_id(runner, "tasks")[1]["type_label"] == "Meeting!"


def test_an_unreadable_enumerations_file_names_the_file(atomic: AtomicDb, tmp_path: Path) -> None:
    app = tmp_path / "App.tsx"
    app.write_text("<CRM dealStages={[ { value: 'a' label: 'b' } ]} />", encoding="utf-8")
    with pytest.raises(RuntimeError, match=r"enumerations_file: .*App\.tsx: the dealStages prop"):
        sync({"dsn": atomic.dsn, "schema": "legacy", "enumerations_file": str(app)})


def test_rls_that_would_hide_rows_fails_naming_the_table(atomic: AtomicDb) -> None:
    dsn = atomic.role(
        "GRANT USAGE ON SCHEMA public TO {role}",
        "GRANT SELECT ON ALL TABLES IN SCHEMA public TO {role}",
    )
    # the first table read (the configuration, whose pick-lists the schemas list) is named
    with pytest.raises(RuntimeError, match=r"table public\.configuration has row-level security"):
        sync({"dsn": dsn})


def test_a_table_without_select_fails_naming_it(atomic: AtomicDb) -> None:
    dsn = atomic.role(
        "GRANT USAGE ON SCHEMA legacy TO {role}",
        "GRANT SELECT ON ALL TABLES IN SCHEMA legacy TO {role}",
        "REVOKE SELECT ON legacy.contacts FROM {role}",
    )
    with pytest.raises(RuntimeError, match=r"cannot read table legacy\.contacts \(no SELECT"):
        sync({"dsn": dsn, "schema": "legacy"})


def test_a_database_without_atomic_tables_says_so(atomic: AtomicDb) -> None:
    with pytest.raises(RuntimeError, match=r"schema 'pg_catalog' has no Atomic CRM table"):
        sync({"dsn": atomic.dsn, "schema": "pg_catalog"})


def test_a_malformed_email_list_names_the_contact(atomic: AtomicDb) -> None:
    atomic.execute(
        "CREATE SCHEMA broken;"
        "CREATE TABLE broken.sales (id bigint PRIMARY KEY, email text);"
        "CREATE TABLE broken.companies (id bigint PRIMARY KEY, name text);"
        "CREATE TABLE broken.deals (id bigint PRIMARY KEY, name text, stage text);"
        "CREATE TABLE broken.contacts (id bigint PRIMARY KEY, email_jsonb jsonb);"
        """INSERT INTO broken.contacts VALUES (7, '"ana@acme.example"');"""
    )
    try:
        with pytest.raises(ValueError, match=r"contacts row 7: email list is not a JSON array"):
            sync({"dsn": atomic.dsn, "schema": "broken"})
    finally:
        atomic.execute("DROP SCHEMA broken CASCADE")


def test_deals_full_table_by_default_incremental_on_request(atomic: AtomicDb) -> None:
    full = sync({"dsn": atomic.dsn})
    assert not any(
        m["type"] == "STATE" and "deals" in json.dumps(m) and "replication_key" in json.dumps(m)
        for m in full.raw_messages
    )
    incremental = {"dsn": atomic.dsn, "deals_incremental": True, "start_date": "2024-04-05"}
    runner = sync(incremental)
    assert sorted(by_id(runner, "deals")) == [1, 3]  # updated on or after 2024-04-05
    bookmark = runner.state_messages[-1]["value"]["bookmarks"]["deals"]
    assert bookmark["replication_key"] == "updated_at"
    assert bookmark["replication_key_value"].startswith("2024-05-01")
    # the next run starts at the bookmark
    again = sync(incremental, state=runner.state_messages[-1]["value"])
    assert sorted(by_id(again, "deals")) == [3]


FILES = {
    "attachments/logo-acme.png": b"\x89PNG acme",
    "attachments/0.42.pdf": b"%PDF deck",
    # 0.77.xlsx is missing from the bucket
}


@pytest.mark.parametrize("public", [True, False])
def test_attachments_are_listed_and_downloaded(
    atomic: AtomicDb, tmp_path: Path, public: bool
) -> None:
    with FakeStorage(FILES, public=public, key="sb_secret_k3y") as storage:
        config = {
            "dsn": atomic.dsn,
            "download_dir": str(tmp_path),
            "storage_url": storage.url,
            **({} if public else {"storage_key": "sb_secret_k3y"}),
        }
        runner = sync(config)
    kinds = {c[0] for c in storage.calls}
    assert kinds == {"public" if public else "authenticated"}
    files = by_id(runner, "attachments")
    logo = files["companies:1:logo:0"]
    assert logo["file_exists"] and Path(logo["local_path"]).read_bytes() == b"\x89PNG acme"
    assert logo["local_path"] == str(tmp_path / "attachments" / "logo-acme.png")
    deck = files["contact_notes:1:attachments:0"]
    assert (deck["title"], deck["mime_type"], deck["file_size"]) == (
        "deck.pdf", "application/pdf", len(b"%PDF deck"),
    )  # fmt: skip
    missing = files["deal_notes:1:attachments:0"]
    assert not missing["file_exists"] and "HTTP 400" in missing["download_error"]
    # files known only by an external src are listed, never fetched
    external = files["contact_notes:1:attachments:1"]
    assert external["external"] and external["src"] == "https://elsewhere.example/spec.docx"
    assert not any("spec.docx" in c[1] for c in storage.calls)
    # an avatar that is only a URL is the contact's avatar_url (Twenty's avatarUrl), not a file
    assert "contacts:1:avatar:0" not in files
    assert by_id(runner, "contacts")[1]["avatar_url"] == "https://gravatar.example/a.png"
    # {"src": "ERROR"} is not a file: skipped and counted in the report
    assert not any(k.startswith("contacts:3:") for k in files)
    notices = [r["notice"] for r in runner.records["_notices"]]
    assert any("ERROR" in n for n in notices)
    assert any("deal_notes 1: 0.77.xlsx" in n for n in notices)


def test_secrets_are_never_logged(atomic: AtomicDb, tmp_path: Path) -> None:
    """The password is in the DSN (trust auth ignores it) and the storage key is a setting."""
    config = tmp_path / "config.json"
    dsn = atomic.dsn.replace("user=postgres", "user=postgres password=pw-S3CRET-1")
    config.write_text(
        json.dumps(
            {
                "dsn": dsn,
                "storage_key": "key-S3CRET-2",
                "storage_url": "http://127.0.0.1:9",
                "download_dir": str(tmp_path),
            }
        )
    )
    done = subprocess.run(
        [TAP, "--config", str(config)], capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr[-2000:]
    for secret in ("pw-S3CRET-1", "key-S3CRET-2"):
        assert secret not in done.stderr and secret not in done.stdout
    # a failed connection is a clear error, still without the password
    config.write_text(json.dumps({"host": "127.0.0.1", "port": 9, "password": "pw-S3CRET-3"}))
    done = subprocess.run(
        [TAP, "--config", str(config)], capture_output=True, text=True, timeout=120
    )
    assert done.returncode != 0
    assert "cannot connect to the Supabase PostgreSQL" in done.stderr
    assert "pw-S3CRET-3" not in done.stderr


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("$1,500,000", 1_500_000),
        ("2.5M", 2_500_000),
        ("750k €", 750_000),
        ("12", 12),
        ("unknown", None),
        ("", None),
        (None, None),
    ],
)
def test_free_text_revenue_as_a_number(text: str | None, expected: float | None) -> None:
    assert amount(text) == expected


def test_host_settings_and_absent_optional_tables(atomic: AtomicDb) -> None:
    """Connection by host/port/database/user; a schema without tags, notes or tasks is read,
    and the report says which tables were missing."""
    atomic.execute(
        "CREATE SCHEMA minimal;"
        "CREATE TABLE minimal.sales (id bigint PRIMARY KEY, email text);"
        "CREATE TABLE minimal.companies (id bigint PRIMARY KEY, name text);"
        "CREATE TABLE minimal.deals (id bigint PRIMARY KEY, name text, stage text);"
        "CREATE TABLE minimal.contacts (id bigint PRIMARY KEY, first_name text, tags bigint[]);"
        "INSERT INTO minimal.contacts VALUES (1, 'Solo', '{5}');"
    )
    server = parse_dsn(atomic.dsn)
    config = {
        "host": server.get("host", "127.0.0.1"),
        "port": int(server.get("port", 5432)),
        "database": server["dbname"],
        "user": server.get("user", "postgres"),
        "schema": "minimal",
    }
    try:
        runner = sync(config)
    finally:
        atomic.execute("DROP SCHEMA minimal CASCADE")
    assert [c["first_name"] for c in runner.records["contacts"]] == ["Solo"]
    assert by_id(runner, "contacts")[1]["email_jsonb"] == []
    notices = [r["notice"] for r in runner.records["_notices"]]
    missing = 'Schema minimal has no table "contact_notes" or "contactNotes": contact_notes were'
    assert f"{missing} not read." in notices
    assert any('no table "tags"' in n for n in notices)
    assert any("Tag id 5 no longer exists" in n for n in notices)


def test_every_stream_reads_one_read_only_snapshot(atomic: AtomicDb) -> None:
    """A row written once the run has begun (here: after discovery) is read by no stream, and
    the run's connection cannot write."""
    tap = TapSupabaseAtomic(config={"dsn": atomic.dsn}, parse_env_config=False)
    atomic.execute("INSERT INTO public.tags (id, name, color) VALUES (99, 'Late', '#000')")
    out = io.TextIOWrapper(io.BytesIO(), encoding="utf-8")
    try:
        with redirect_stdout(out):
            tap.sync_all()
    finally:
        atomic.execute("DELETE FROM public.tags WHERE id = 99")
    out.seek(0)
    tags = [json.loads(line) for line in out if '"stream":"tags"' in line.replace(" ", "")]
    ids = {m["record"]["id"] for m in tags if m["type"] == "RECORD"}
    assert ids and 99 not in ids
    other = TapSupabaseAtomic(config={"dsn": atomic.dsn}, parse_env_config=False)
    with pytest.raises(Exception, match="read-only transaction"):
        other.source.conn.exec_driver_sql("CREATE TABLE public.written_by_the_tap (id int)")
    other.source.close()


def test_the_input_catalog_selects_streams_and_columns(atomic: AtomicDb) -> None:
    """Meltano's `select` arrives as the input catalog's metadata: a deselected stream emits
    nothing, a deselected column is left out of the rows."""
    catalog = TapSupabaseAtomic(config={"dsn": atomic.dsn}, parse_env_config=False).catalog_dict
    for entry in catalog["streams"]:
        for item in entry["metadata"]:
            if entry["tap_stream_id"] == "tags" and item["breadcrumb"] == []:
                item["metadata"]["selected"] = False
            if entry["tap_stream_id"] == "sales" and item["breadcrumb"] == ["properties", "email"]:
                item["metadata"]["selected"] = False
    out = io.TextIOWrapper(io.BytesIO(), encoding="utf-8")
    with redirect_stdout(out):
        TapSupabaseAtomic(
            config={"dsn": atomic.dsn}, catalog=catalog, parse_env_config=False
        ).sync_all()
    out.seek(0)
    records = [m for m in map(json.loads, out) if m["type"] == "RECORD"]
    assert not [m for m in records if m["stream"] == "tags"]
    sales = [m["record"] for m in records if m["stream"] == "sales"]
    assert sales and all("email" not in r and "first_name" in r for r in sales)
