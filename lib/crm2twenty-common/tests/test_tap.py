"""The export tap end to end on small folders: records, bad rows, rejects, bookmarks, kinds."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pytest
from crm2twenty_common.exports import REJECTS_SCHEMA, BadRowError, ExportError
from singer_sdk.exceptions import ConfigValidationError

PEOPLE = "id,Full Name,zip,vip,updated_at\n1,Ana,01234,yes,2024-01-02\n2,Bob,02134,no,\n"


def test_records_are_typed_and_carry_their_file_and_line(write, sync) -> None:
    write("people.csv", PEOPLE)
    run = sync()
    assert run.records("people") == [
        {
            "id": 1,
            "name": "Ana",
            "zip": "01234",
            "vip": True,
            "updated_at": "2024-01-02",
            "_sdc_source_file": "people.csv",
            "_sdc_source_lineno": 2,
        },
        {
            "id": 2,
            "name": "Bob",
            "zip": "02134",
            "vip": False,
            "updated_at": None,
            "_sdc_source_file": "people.csv",
            "_sdc_source_lineno": 3,
        },
    ]
    schema = run.schema("people")
    assert schema["key_properties"] == ["id"]
    props = schema["schema"]["properties"]
    assert props["id"] == {"type": "integer"}  # a key column is never null
    assert props["updated_at"] == {"type": ["string", "null"], "format": "date"}
    assert props["_sdc_source_file"] == {"type": "string"}
    assert props["_sdc_source_lineno"] == {"type": "integer"}


def test_rejects_stream_is_always_in_the_catalog_and_synced_last(
    demo_tap, write, sync, tmp_path
) -> None:
    write("people.csv", PEOPLE)
    write("zebras.csv", "id\n1\n")
    catalog = demo_tap(config={"export_dir": str(tmp_path), "side_streams": True}).catalog_dict
    entries = {s["tap_stream_id"]: s for s in catalog["streams"]}
    assert set(entries) == {"people", "zebras", "_rejects", "_notices"}
    assert entries["_rejects"]["schema"] == REJECTS_SCHEMA
    assert entries["_rejects"]["key_properties"] == ["source_stream", "location"]
    assert sync(on_bad_row="reject").streams == ["people", "zebras", "_notices", "_rejects"]


def test_a_bad_row_fails_the_sync_naming_file_line_and_reason(write, sync) -> None:
    write("people.csv", "id,name\n1,Ana\n2,Bob,extra\n")
    with pytest.raises(
        BadRowError,
        match=r"^people.csv:3: row has 3 cells but the header has 2. "
        r"Set `on_bad_row` to `reject`",
    ):
        sync()


def test_rejected_rows_go_to_rejects_with_reason_location_and_text(write, sync) -> None:
    lines = [
        "id,name,age",
        "1,Ana,30",
        "2,Bob,31,",  # an empty surplus cell: fine
        "3,Cy,32,surplus",  # a surplus cell with data: bad
        ",NoKey,33",  # empty key: bad
        "4,Di",  # short: fine, age null
        *[f"{i},P{i},{i}" for i in range(5, 12)],
        "12,Late,forty",  # after the 5-row sample, not an integer: bad
        '13,"open quote,1',  # unterminated at the end: bad
    ]
    write("people.csv", "\n".join(lines) + "\n")
    run = sync(on_bad_row="reject", infer_sample_rows=5)
    kept = [p["id"] for p in run.records("people")]
    assert kept == [1, 2, 4, *range(5, 12)]
    rejects = {r["location"]: r for r in run.records("_rejects")}
    assert set(rejects) == {"people.csv:4", "people.csv:5", "people.csv:14", "people.csv:15"}
    assert rejects["people.csv:4"]["reason"] == "row has 4 cells but the header has 3"
    assert rejects["people.csv:4"]["raw"] == "3,Cy,32,surplus"
    assert rejects["people.csv:5"]["reason"] == "empty key column id"
    late = rejects["people.csv:14"]
    assert "column age: 'forty' is not integer" in late["reason"]
    assert "first 5 rows" in late["reason"] and "column_types" in late["reason"]
    assert (late["source_key"], late["raw"]) == ("12", "12,Late,forty")
    assert "cannot be parsed as CSV" in rejects["people.csv:15"]["reason"]
    assert all(
        (r["stage"], r["source_stream"], r["object"]) == ("tap", "people", None)
        for r in rejects.values()
    )
    assert len(lines) - 1 == len(kept) + len(rejects)  # every row accounted for


def test_a_value_after_the_sample_fails_by_default_naming_the_fix(write, sync) -> None:
    write("people.csv", "id,age\n1,30\n2,31\n3,n/a\n")
    with pytest.raises(
        BadRowError,
        match=r"people.csv:4: column age: 'n/a' is not integer.*"
        r"set `column_types` to override, e.g. "
        r'\{"people": \{"age": "string"\}\}',
    ):
        sync(infer_sample_rows=2)
    run = sync(infer_sample_rows=2, column_types={"people": {"age": "string"}})
    assert [p["age"] for p in run.records("people")] == ["30", "31", "n/a"]


def test_column_types_override_inference_by_emitted_or_header_name(write, sync) -> None:
    write("people.csv", "id,Post Code,score\n1,007,1\n2,42,0\n")
    run = sync(
        column_types={"people": {"id": "string", "Post Code": "integer", "score": "boolean"}}
    )
    assert [(p["id"], p["post_code"], p["score"]) for p in run.records("people")] == [
        ("1", 7, True),
        ("2", 42, False),
    ]


def test_a_missing_key_column_is_an_error_that_says_how_to_map_one(write, sync) -> None:
    write("people.csv", "ident,name\n1,Ana\n")
    with pytest.raises(
        ExportError,
        match=r"people.csv: no id column .*`column_map` setting, "
        r'e.g. \{"people": \{"<your header>": "id"\}\}',
    ):
        sync()
    run = sync(column_map={"people": {"ident": "id"}})
    assert run.records("people")[0]["id"] == 1


def test_day_first_dates_and_a_per_stream_date_format(write, sync) -> None:
    write("people.csv", "id,born\n1,03/04/2021\n2,05/06/2021\n")
    write("zebras.csv", "id,born\n1,31/01/2020\n2,01/02/2020\n")
    run = sync(date_formats={"people": "dayfirst"})
    assert [p["born"] for p in run.records("people")] == ["2021-04-03", "2021-06-05"]
    assert [z["born"] for z in run.records("zebras")] == ["2020-01-31", "2020-02-01"]


MODIFIED = (
    "id,name,Modified Date\n1,Old,2020-01-01 00:00:00\n2,New,2024-06-01 12:00:00\n"
    "3,Undated,\n4,Newest,2024-07-01 08:30:00\n"
)


def test_a_modified_column_makes_the_stream_incremental_and_unsorted(
    demo_tap, write, tmp_path
) -> None:
    write("people.csv", MODIFIED)
    write("zebras.csv", "id\n1\n")
    tap = demo_tap(config={"export_dir": str(tmp_path), "side_streams": True})
    people, zebras = tap.streams["people"], tap.streams["zebras"]
    assert people.replication_key == "updated_at"  # "Modified Date" is an alias
    assert people.replication_method == "INCREMENTAL" and people.is_sorted is False
    assert zebras.replication_key is None and zebras.replication_method == "FULL_TABLE"


def test_start_date_then_the_bookmark_skip_older_rows(write, sync) -> None:
    write("people.csv", MODIFIED)
    first = sync(start_date="2024-01-01T00:00:00Z")
    assert [p["id"] for p in first.records("people")] == [2, 3, 4]  # undated rows always come
    bookmark = first.state["bookmarks"]["people"]
    assert bookmark == {
        "replication_key": "updated_at",
        "replication_key_value": "2024-07-01T08:30:00+00:00",
    }
    again = sync(state=first.state)
    assert [p["id"] for p in again.records("people")] == [3, 4]  # the bookmark row is re-read
    full = sync()
    assert [p["id"] for p in full.records("people")] == [1, 2, 3, 4]


def test_link_files_are_keyed_by_both_ids_from_singular_or_plural_headers(write, sync) -> None:
    write("matters__contacts.csv", "Matter ID,contacts_id,role\nM1,10,lead\nM1,11,\n,12,x\n")
    run = sync(on_bad_row="reject")
    schema = run.schema("matter_contacts")  # no `__` in a stream name
    assert schema["key_properties"] == ["matters_id", "contacts_id"]
    # each side names the stream it references: what tells the mapper this is a link
    props = schema["schema"]["properties"]
    assert (props["matters_id"]["x-references"], props["contacts_id"]["x-references"]) == (
        "matters",
        "contacts",
    )
    assert [
        (r["matters_id"], r["contacts_id"], r["role"]) for r in run.records("matter_contacts")
    ] == [("M1", 10, "lead"), ("M1", 11, None)]
    (bad,) = run.records("_rejects")
    assert (bad["location"], bad["reason"]) == (
        "matters__contacts.csv:4",
        "empty key column matters_id",
    )


def test_a_link_bookmark_kept_under_its_old_name_still_applies(write, sync) -> None:
    links = (
        "matters_id,contacts_id,Modified Date\n"
        "M1,10,2024-01-01 00:00:00\nM1,11,2024-06-01 00:00:00\nM2,12,2024-07-01 00:00:00\n"
    )
    write("matters__contacts.csv", links)
    first = sync()
    bookmark = first.state["bookmarks"]["matter_contacts"]
    # a state an older version wrote: the link stream was named as its file
    again = sync(state={"bookmarks": {"matters__contacts": bookmark}})
    assert [r["contacts_id"] for r in again.records("matter_contacts")] == [12]
    assert "matters__contacts" not in again.state["bookmarks"]


def test_a_link_file_without_its_id_columns_is_an_error(write, sync) -> None:
    write("matters__contacts.csv", "a,b\n1,2\n")
    with pytest.raises(ExportError, match="no matters_id / contacts_id column"):
        sync()


def test_other_files_are_custom_objects_keyed_by_id(write, sync) -> None:
    write("Practice Areas.csv", "Practice Area ID,Label\n1,Tax\n2,Litigation\n")
    run = sync()
    assert run.schema("practice_areas")["key_properties"] == ["id"]
    assert [r["label"] for r in run.records("practice_areas")] == ["Tax", "Litigation"]


def test_the_attachments_manifest_checks_each_file(write, sync, tmp_path) -> None:
    write("files/a.txt", "hello")
    write(
        "attachments.csv",
        "\n".join(
            [
                "id,path,file_size",
                "A1,files/a.txt,999",
                "A2,files/missing.pdf,",
                "A3,../outside.txt,",
                f"A4,{tmp_path / 'files' / 'a.txt'},",
                "A5,/etc/passwd,",
                "A6,files\\a.txt,",
                "A7,,",
            ]
        )
        + "\n",
    )
    run = sync(on_bad_row="reject")
    rows = {r["id"]: r for r in run.records("attachments")}
    assert set(rows) == {"A1", "A2", "A4", "A6", "A7"}
    a1 = rows["A1"]
    assert (a1["file_exists"], a1["file_size"]) == (True, 5)
    assert a1["absolute_path"] == str(tmp_path.resolve() / "files" / "a.txt")
    assert a1["file_size_2"] == 999  # the file's own column is kept beside the computed one
    assert (rows["A2"]["file_exists"], rows["A2"]["file_size"]) == (False, None)
    assert rows["A4"]["file_exists"] and rows["A6"]["file_exists"]
    assert (rows["A7"]["file_exists"], rows["A7"]["absolute_path"]) == (False, None)
    reasons = {r["location"]: r["reason"] for r in run.records("_rejects")}
    assert reasons == {
        "attachments.csv:4": "file_path '../outside.txt' points outside the export folder",
        "attachments.csv:6": "file_path '/etc/passwd' points outside the export folder",
    }
    props = run.schema("attachments")["schema"]["properties"]
    assert props["file_exists"] == {"type": "boolean"}
    assert props["file_size"] == {"type": ["integer", "null"]}


def test_workflows_json_emits_conditions_and_actions_as_arrays(write, sync) -> None:
    write(
        "workflows.json",
        json.dumps(
            [
                {
                    "id": "W1",
                    "name": "Welcome",
                    "Event": "contact.created",
                    "active": True,
                    "conditions": [{"field": "country", "op": "=", "value": "FR"}],
                    "actions": ["send welcome e-mail", {"task": "call within 2 days"}],
                },
                {
                    "id": "W2",
                    "name": "Plain",
                    "conditions": "a = 1; b = 2",
                    "actions": None,
                    "active": False,
                },
            ],
            indent=1,
        ),
    )
    run = sync()
    w1, w2 = run.records("workflows")
    assert w1["trigger"] == "contact.created"
    assert w1["conditions"] == [{"field": "country", "op": "=", "value": "FR"}]
    assert w1["actions"] == ["send welcome e-mail", {"task": "call within 2 days"}]
    assert (w1["active"], w1["_sdc_source_lineno"]) == (True, 2)
    assert (w2["conditions"], w2["actions"], w2["active"]) == (["a = 1", "b = 2"], None, False)
    props = run.schema("workflows")["schema"]["properties"]
    assert props["conditions"] == {"type": ["array", "null"], "items": {}}


def test_workflows_csv_reads_json_cells_and_lists_the_same_way(write, sync) -> None:
    write("workflows.csv", 'id,conditions,actions\nW1,"[""x > 1""]",mail; call\n')
    (w1,) = sync().records("workflows")
    assert (w1["conditions"], w1["actions"]) == (["x > 1"], ["mail", "call"])


def test_two_files_for_one_stream_are_refused(write, sync) -> None:
    write("workflows.csv", "id\n1\n")
    write("workflows.json", "[]")
    with pytest.raises(ExportError, match=r"both workflows\.csv and workflows\.json"):
        sync()


def test_an_empty_file_is_skipped_with_a_warning(write, sync, caplog) -> None:
    write("people.csv", "")
    write("zebras.csv", "id\n1\n")
    with caplog.at_level(logging.WARNING):
        run = sync()
    assert "people.csv: empty" in caplog.text
    assert "people" not in run.streams and run.records("zebras") == [
        {"id": 1, "_sdc_source_file": "zebras.csv", "_sdc_source_lineno": 2}
    ]


def test_rejected_rows_are_logged_when_rejects_is_not_selected(
    demo_tap, write, tmp_path, caplog
) -> None:
    write("people.csv", "id,name\n1,Ana\n2,Bob,extra\n")
    tap = demo_tap(
        config={"export_dir": str(tmp_path), "side_streams": True, "on_bad_row": "reject"}
    )
    catalog = tap.catalog_dict
    for entry in catalog["streams"]:
        for md in entry["metadata"]:
            if md["breadcrumb"] == []:
                md["metadata"]["selected"] = entry["tap_stream_id"] != "_rejects"
    tap = demo_tap(
        config={"export_dir": str(tmp_path), "side_streams": True, "on_bad_row": "reject"},
        catalog=catalog,
    )
    with caplog.at_level(logging.WARNING):
        tap.sync_all()
    assert "bad row at people.csv:3 (row has 3 cells" in caplog.text
    assert "not selected" in caplog.text


def test_types_changed_in_the_input_catalog_are_honoured(demo_tap, write, tmp_path) -> None:
    write("people.csv", "id,code\n1,42\n2,43\n")
    catalog = demo_tap(config={"export_dir": str(tmp_path), "side_streams": True}).catalog_dict
    people = next(s for s in catalog["streams"] if s["tap_stream_id"] == "people")
    people["schema"]["properties"]["code"] = {"type": ["string", "null"]}
    tap = demo_tap(config={"export_dir": str(tmp_path), "side_streams": True}, catalog=catalog)
    records = list(tap.streams["people"].get_records(None))
    assert [r["code"] for r in records] == ["42", "43"]


@pytest.mark.parametrize(
    ("config", "message"),
    [
        ({"encoding": "klingon"}, "unknown encoding 'klingon'"),
        ({"date_format": "DD/MM"}, "date_format 'DD/MM'"),
        ({"delimiter": "#"}, "unknown delimiter"),
    ],
)
def test_bad_settings_fail_before_reading_with_a_clear_message(
    write, sync, config, message
) -> None:
    write("people.csv", PEOPLE)
    with pytest.raises(ExportError, match=message):
        sync(**config)


def test_the_config_schema_refuses_an_unknown_type_or_bad_row_mode(write, sync) -> None:
    write("people.csv", PEOPLE)
    for config in ({"column_types": {"people": {"id": "text"}}}, {"on_bad_row": "skip"}):
        with pytest.raises(ConfigValidationError) as failed:
            sync(**config)
        assert any("is not one of" in e for e in failed.value.errors)


def test_a_missing_export_dir_is_named(demo_tap, tmp_path: Path) -> None:
    with pytest.raises(ExportError, match="is not a folder"):
        demo_tap(config={"export_dir": str(tmp_path / "nope")}).run_discovery()


def test_a_repeated_header_and_an_empty_file_are_notices_for_the_report(write, sync) -> None:
    write("people.csv", "id,name,name\n1,Ana,Ann\n")
    write("zebras.csv", "")
    run = sync()
    assert [n["notice"] for n in run.records("_notices")] == [
        "people.csv: the header 'name' of column 3 repeats column 2's; it is read as name_2",
        "zebras.csv: empty (no header row), so no zebras stream",
    ]
