"""CSV mode end to end (in-process): order, headers, checks, repairs, rejects, report."""

from __future__ import annotations

import json

from crm2twenty_common.twenty import INVENTORY_SCHEMA, InventoryItem
from twenty_builders import COMPANY, OPPORTUNITY, PERSON, prop, record, rid, schema

ACME = record(
    "company",
    1,
    name="Acme",
    domainName={"primaryLinkUrl": "https://acme.com"},
    employees=12,
    line=2,
)
BETA = record("company", 2, name="Beta", line=3)


def test_objects_are_written_parents_first_with_import_headers(run_target) -> None:
    run = run_target(
        [
            OPPORTUNITY,
            PERSON,
            COMPANY,  # schemas in the "wrong" order on purpose
            record(
                "opportunity",
                "d1",
                name="Deal",
                stage="NEW",
                amount={"amountMicros": 1_234_500_000, "currencyCode": "EUR"},
                companyId=rid("company", 1),
                pointOfContactId=rid("person", 10),
            ),
            record(
                "person",
                10,
                name={"firstName": "Ana", "lastName": "Ruiz"},
                emails={"primaryEmail": "ana@acme.com"},
                companyId=rid("company", 1),
                phones={
                    "primaryPhoneNumber": "2079460958",
                    "primaryPhoneCountryCode": "GB",
                    "primaryPhoneCallingCode": "+44",
                },
            ),
            ACME,
        ]
    )
    assert run.files() == ["01-companies-001.csv", "02-people-001.csv", "03-opportunities-001.csv"]
    (company,) = run.csv("01-*")
    assert company["Id"] == rid("company", 1)
    assert company["Domain Name / Link URL"] == "https://acme.com"
    assert company["Employees"] == "12"
    (person,) = run.csv("02-*")
    assert person["Name / First Name"] == "Ana"
    assert person["Emails / Primary Email"] == "ana@acme.com"
    assert person["Company / Id"] == company["Id"]
    assert person["Phones / Primary Phone Calling Code"] == "+44"  # not treated as a formula
    (deal,) = run.csv("03-*")
    assert deal["Amount / Amount"] == "1234.5"  # the import wants units, not micros
    assert deal["Amount / Currency"] == "EUR"
    assert deal["Point of Contact / Id"] == person["Id"]
    assert run.report["order"] == ["company", "person", "opportunity"]
    assert run.report["balanced"] is True
    assert run.stdout.strip() == ""  # no STATE came in, so none goes out


def test_state_is_emitted_only_after_the_files_are_written(run_target) -> None:
    run = run_target([COMPANY, ACME, {"type": "STATE", "value": {"bookmarks": {"x": 1}}}])
    assert json.loads(run.stdout.strip().splitlines()[-1]) == {"bookmarks": {"x": 1}}
    assert (run.dir / "report.json").exists()


def test_duplicate_emails_merge_into_the_first_and_references_follow(run_target) -> None:
    run = run_target(
        [
            PERSON,
            OPPORTUNITY,
            record("person", 1, emails={"primaryEmail": "Ana.Ruiz@x.com"}, line=2),
            record(
                "person",
                2,
                emails={"primaryEmail": "ana.ruiz@x.com"},
                line=9,
                name={"firstName": "Ana", "lastName": "Ruiz"},
            ),
            record("opportunity", "d", name="D", pointOfContactId=rid("person", 2)),
        ]
    )
    people = run.csv("*people*")
    assert [p["Id"] for p in people] == [rid("person", 1)]
    assert run.csv("*opportunities*")[0]["Point of Contact / Id"] == rid("person", 1)
    (merge,) = run.side("merges.csv")
    assert merge["merged_source"] == "src_person 2 (src_person.csv:9)"
    assert merge["survivor_id"] == rid("person", 1)
    assert run.counts("person") == {
        "object": "person",
        "received": 2,
        "written": 1,
        "merged": 1,
        "rejected": 0,
        "balanced": True,
    }


def test_merge_policy_fills_the_survivors_empty_fields(run_target) -> None:
    run = run_target(
        [
            PERSON,
            record("person", 1, emails={"primaryEmail": "a@x.com"}),
            record(
                "person",
                2,
                emails={"primaryEmail": "A@x.com"},
                name={"firstName": "Ana", "lastName": "R"},
            ),
        ],
        on_duplicate="merge",
    )
    (person,) = run.csv("*people*")
    assert person["Name / First Name"] == "Ana"


def test_reject_policy_rejects_duplicates_and_their_references_dangle(run_target) -> None:
    run = run_target(
        [
            PERSON,
            OPPORTUNITY,
            record("person", 1, emails={"primaryEmail": "a@x.com"}),
            record("person", 2, emails={"primaryEmail": "A@X.com"}),
            record(
                "opportunity",
                "d",
                name="D",
                pointOfContactId=rid("person", 2),
                refs={"pointOfContactId": "2"},
            ),
        ],
        on_duplicate="reject",
    )
    rejects = run.side("rejects.csv")
    assert (
        rejects[0]["source_key"] == "2"
        and "duplicate person emails 'a@x.com'" in rejects[0]["reason"]
    )
    assert run.csv("*opportunities*")[0]["Point of Contact / Id"] == ""
    (repair,) = run.side("repairs.csv")
    assert "pointOfContactId points at person '2', which was rejected" in repair["reason"]


def test_dangling_references_are_nulled_or_reject_by_setting(run_target) -> None:
    messages = [
        COMPANY,
        PERSON,
        record(
            "person",
            1,
            emails={"primaryEmail": "a@x.com"},
            line=5,
            companyId=rid("company", 999),
            refs={"companyId": "999"},
        ),
    ]
    run = run_target(messages)
    assert run.csv("*people*")[0]["Company / Id"] == ""
    (repair,) = run.side("repairs.csv")
    assert repair["reason"].startswith(
        "companyId points at company '999', which is not in this migration"
    )
    assert repair["location"] == "src_person.csv:5"
    run = run_target(messages, on_dangling_reference="reject")
    assert run.csv("*people*") == []
    assert run.counts("person")["rejected"] == 1 and run.report["balanced"]


def test_required_relations_reject_and_the_rejection_cascades(run_target) -> None:
    note = schema("note", {"title": prop("TEXT")})
    target = schema(
        "noteTarget",
        {
            "noteId": prop("RELATION", target="note", match="id", required=True),
            "targetCompanyId": prop("RELATION", target="company", match="id", required=True),
        },
    )
    run = run_target(
        [
            COMPANY,
            note,
            target,
            record("note", 1, title="kept"),
            record("noteTarget", "1:c", noteId=rid("note", 1), targetCompanyId=rid("company", 404)),
            record("noteTarget", "2:c", noteId=rid("note", 2), targetCompanyId=rid("company", 1)),
            ACME,
        ]
    )
    assert run.counts("noteTarget") == {
        "object": "noteTarget",
        "received": 2,
        "written": 0,
        "merged": 0,
        "rejected": 2,
        "balanced": True,
    }


def test_select_values_outside_the_options_are_repaired_or_rejected(run_target) -> None:
    messages = [
        OPPORTUNITY,
        record("opportunity", "a", name="A", stage="NEGOTIATION"),
        record("opportunity", "b", name="B", stage="LOST_FOREVER"),
    ]
    run = run_target(messages)
    stages = [o["Stage"] for o in run.csv("*opportunities*")]
    assert stages == ["NEGOTIATION", ""]
    assert "'LOST_FOREVER' is not an option" in run.side("repairs.csv")[0]["reason"]
    assert run.report["provisioning"]["options"] == [
        {
            "object": "opportunity",
            "field": "stage",
            "add": [{"value": "NEGOTIATION", "label": "Negotiation", "position": 0}],
        }
    ]
    run = run_target(messages, on_invalid_value="reject")
    assert [o["Name"] for o in run.csv("*opportunities*")] == ["A"]


def test_invalid_values_arriving_are_repaired_with_the_original_kept(run_target) -> None:
    run = run_target(
        [
            PERSON,
            record(
                "person",
                1,
                emails={"primaryEmail": "bob@"},
                name={"firstName": "Bob", "lastName": "B"},
            ),
        ]
    )
    (person,) = run.csv("*people*")
    assert person["Emails / Primary Email"] == ""
    # kept verbatim in the record, in a TEXT field provisioned like any custom field
    assert person["Emails (as in source)"] == "bob@"
    assert {
        "object": "person",
        "name": "emailsRaw",
        "type": "TEXT",
        "label": "Emails (as in source)",
    } in run.report["provisioning"]["fields"]
    (repair,) = run.side("repairs.csv")
    assert repair["field"] == "emails" and "bob@" in repair["value"]
    assert repair["reason"].endswith("kept verbatim in emailsRaw")


def test_a_plain_streams_value_that_is_not_its_declared_type_is_kept_verbatim(
    run_target,
) -> None:
    """Any Singer tap: a value that is not its declared type lands in `<field>Raw` instead of
    being emptied (it is listed as a repair too)."""
    plain = {
        "type": "SCHEMA",
        "stream": "widgets",
        "key_properties": ["sku"],
        "schema": {
            "type": "object",
            "properties": {"sku": {"type": "string"}, "weight_kg": {"type": "number"}},
        },
    }
    rows = [
        {"type": "RECORD", "stream": "widgets", "record": {"sku": "W-1", "weight_kg": "heavy"}},
        {"type": "RECORD", "stream": "widgets", "record": {"sku": "W-2", "weight_kg": 2}},
    ]
    run = run_target([plain, *rows])
    heavy, two = run.csv("*widgets*")
    assert (heavy["Weight Kg"], heavy["Weight Kg (as in source)"]) == ("", "heavy")
    assert (two["Weight Kg"], two["Weight Kg (as in source)"]) == ("2", "")
    fields = {f["name"]: f for f in run.report["provisioning"]["fields"]}
    assert fields["weightKgRaw"]["type"] == "TEXT"
    (repair,) = run.side("repairs.csv")
    assert repair["reason"].endswith("kept verbatim in weightKgRaw")


def test_parent_company_cycle_is_broken_and_reported_and_links_wait_for_pass_two(
    run_target,
) -> None:
    run = run_target(
        [
            COMPANY,
            record("company", "A", name="A", parentCompanyId=rid("company", "C")),
            record("company", "B", name="B", parentCompanyId=rid("company", "A")),
            record("company", "C", name="C", parentCompanyId=rid("company", "B")),
            record("company", "D", name="D", parentCompanyId=rid("company", "A")),
        ]
    )
    first = run.csv("01-companies-001.csv")
    assert "Parent Company / Id" not in first[0]  # first pass: no self-reference
    links = {r["Id"]: r["Parent Company / Id"] for r in run.csv("02-companies-parentCompany-*")}
    assert links == {
        rid("company", "A"): rid("company", "C"),
        rid("company", "B"): rid("company", "A"),
        rid("company", "D"): rid("company", "A"),
    }  # C → B was dropped
    (cycle,) = run.report["record_cycles"]
    assert cycle["dropped_from"] == "src_company C"
    assert run.report["deferred"] == [["company", "parentCompanyId"]]


def test_files_are_split_at_csv_max_rows(run_target) -> None:
    run = run_target(
        [COMPANY] + [record("company", i, name=f"C{i}") for i in range(25)], csv_max_rows=10
    )
    assert run.files() == ["01-companies-001.csv", "01-companies-002.csv", "01-companies-003.csv"]
    assert [len(run.csv(f)) for f in run.files()] == [10, 10, 5]


def test_formula_looking_cells_are_neutralised_but_numbers_are_not(run_target) -> None:
    run = run_target(
        [
            COMPANY,
            record("company", 1, name='=HYPERLINK("http://evil","x")'),
            record("company", 2, name="-Sales"),
            record("company", 3, name="@SUM(1)"),
            record("company", 4, name="Fine", employees=-5),
        ]
    )
    names = [c["Name"] for c in run.csv("*")]
    assert names == ['\'=HYPERLINK("http://evil","x")', "'-Sales", "'@SUM(1)", "Fine"]
    assert run.csv("*")[3]["Employees"] == "-5"
    assert run.report["outputs"]["neutralised"] == 3


def test_targets_and_owners_go_to_the_api_leftovers_without_a_member_list(run_target) -> None:
    note_target = schema(
        "noteTarget",
        {
            "noteId": prop("RELATION", target="note", match="id"),
            "targetCompanyId": prop("RELATION", target="company", match="id"),
        },
    )
    run = run_target(
        [
            COMPANY,
            schema("note", {"title": prop("TEXT")}),
            note_target,
            ACME,
            record("company", 2, name="Owned", accountOwnerId="bob@x.com"),
            record("note", 1, title="n"),
            record("noteTarget", "1:c", noteId=rid("note", 1), targetCompanyId=rid("company", 1)),
        ]
    )
    assert "Account Owner / User Email" not in run.csv("*companies*")[0]
    lines = [json.loads(x) for x in (run.dir / "api-leftovers.singer").read_text().splitlines()]
    kinds = [(m["type"], m["stream"]) for m in lines]
    assert ("RECORD", "noteTarget") in kinds and ("RECORD", "company__owners") in kinds
    owner = next(m for m in lines if m["type"] == "RECORD" and m["stream"] == "company__owners")
    assert owner["record"] == {"id": rid("company", 2), "accountOwnerId": "bob@x.com"}
    partial = next(m for m in lines if m["type"] == "SCHEMA" and m["stream"] == "company__owners")
    assert partial["schema"]["x-twenty"]["partial"] is True
    assert run.counts("noteTarget")["written"] == 1 and run.report["balanced"]


def test_owners_match_members_case_insensitively_with_a_fallback(run_target) -> None:
    run = run_target(
        [
            COMPANY,
            record("company", 1, name="A", accountOwnerId="BOB@x.com"),
            record("company", 2, name="B", accountOwnerId="gone@x.com"),
        ],
        workspace_members=["Bob@X.com", "admin@x.com"],
        fallback_owner_email="admin@x.com",
    )
    owners = [c["Account Owner / User Email"] for c in run.csv("*companies*")]
    assert owners == ["Bob@X.com", "admin@x.com"]
    assert run.report["owners"]["orphans"] == ["gone@x.com"]


def _owner(user_id: int, email: str, name: str, active: bool) -> dict:
    return {
        "type": "RECORD",
        "stream": "_owner",
        "record": {"id": str(user_id), "email": email, "name": name, "active": active},
    }


def test_the_member_list_names_owners_members_and_the_inactive(run_target) -> None:
    side = {"type": "object", "properties": {}}
    messages = [
        COMPANY,
        {"type": "SCHEMA", "stream": "_owner", "schema": side, "key_properties": []},
        _owner(1, "Bob@x.com", "Bob Stone", True),
        _owner(2, "old@x.com", "Ola Old", False),
        _owner(3, "idle@x.com", "Ida Idle", True),
        record("company", 1, name="A", accountOwnerId="BOB@x.com"),
        record("company", 2, name="B", accountOwnerId="old@x.com"),
        record("company", 3, name="C", accountOwnerId="old@x.com"),
        record("company", 4, name="D", accountOwnerId="gone@x.com"),
    ]
    unseen = run_target(messages)
    members = unseen.report["owners"]["members"]
    assert members["workspace_seen"] is False
    rows = {m["email"]: m for m in members["members"]}
    assert {e: (m["name"], m["active"], m["records_owned"]) for e, m in rows.items()} == {
        "bob@x.com": ("Bob Stone", True, 1),
        "old@x.com": ("Ola Old", False, 2),
        "idle@x.com": ("Ida Idle", True, 0),
        "gone@x.com": (None, None, 1),
    }
    assert {m["membership"] for m in rows.values()} == {"unknown"}
    assert rows["gone@x.com"]["source_user"] is False
    text = (unseen.dir / "report.md").read_text()
    assert "whether they are workspace members is unknown" in text
    assert "1 inactive in the source, owning 2 records" in text
    assert "`members-to-invite.csv`" in text

    seen = run_target(messages, workspace_members=["bob@X.com"])
    members = seen.report["owners"]["members"]
    assert members["workspace_seen"] is True
    states = {m["email"]: m["membership"] for m in members["members"]}
    assert states == {
        "bob@x.com": "member",
        "old@x.com": "to invite",
        "idle@x.com": "to invite",
        "gone@x.com": "to invite",
    }
    invite = (seen.dir / "members-to-invite.csv").read_text().splitlines()
    # active first, then the inactive ones; never the members
    assert invite == [
        "email,first_name,last_name,active_in_source,records_owned",
        "gone@x.com,,,,1",
        "idle@x.com,Ida,Idle,yes,0",
        "old@x.com,Ola,Old,no,2",
    ]
    assert members["invite_file"] == str(seen.dir / "members-to-invite.csv")


def test_what_cannot_move_is_one_report_section_each(run_target) -> None:
    schema_ = {"type": "SCHEMA", "stream": "_inventory", "schema": INVENTORY_SCHEMA}
    items = [
        InventoryItem("tap-x", "Reports", "Open deals", {"entity": "Opportunity"}),
        InventoryItem("tap-x", "Reports", "Won deals", {"entity": "Opportunity", "filter": "won"}),
        InventoryItem("tap-x", "Reminders", by_hand="Write down the reminder timings."),
    ]
    run = run_target(
        [
            COMPANY,
            {**schema_, "key_properties": []},
            *({"type": "RECORD", "stream": "_inventory", "record": i.as_record()} for i in items),
        ]
    )
    sections = run.report["inventories"]
    assert [(s["section"], len(s["items"]), s["by_hand"]) for s in sections] == [
        ("Reports", 2, []),
        ("Reminders", 0, ["Write down the reminder timings."]),
    ]
    assert sections[0]["items"][1] == {
        "name": "Won deals",
        "details": {"entity": "Opportunity", "filter": "won"},
    }
    text = (run.dir / "report.md").read_text()
    assert "## Cannot move: Reports" in text and "## Cannot move: Reminders" in text
    assert "- **Won deals** — entity: Opportunity; filter: won" in text
    assert "Write down the reminder timings." in text


def test_the_same_source_key_twice_is_rejected_with_both_locations(run_target) -> None:
    run = run_target(
        [
            COMPANY,
            record("company", 1, name="A", line=2),
            record("company", 1, name="A again", line=7),
        ]
    )
    (reject,) = run.side("rejects.csv")
    assert reject["location"] == "src_company.csv:7"
    assert (
        "duplicate source key '1'" in reject["reason"] and "src_company.csv:2" in reject["reason"]
    )


def test_a_delta_run_resolves_references_and_duplicates_against_earlier_runs(run_target) -> None:
    first = run_target(
        [COMPANY, PERSON, ACME, record("person", 1, emails={"primaryEmail": "ana@acme.com"})]
    )
    assert first.report["balanced"]
    second = run_target(
        [
            PERSON,
            record(
                "person", 2, emails={"primaryEmail": "bob@acme.com"}, companyId=rid("company", 1)
            ),
            record("person", 3, emails={"primaryEmail": "ANA@acme.com"}),
        ]
    )
    people = second.csv("*people*")
    assert [p["Id"] for p in people] == [rid("person", 2)]
    assert people[0]["Company / Id"] == rid("company", 1)  # not dangling: loaded before
    (merge,) = second.side("merges.csv")
    assert merge["survivor_id"] == rid("person", 1)
    assert merge["survivor_source"] == "(loaded by an earlier run)"
    assert second.side("repairs.csv") == []


def test_mapper_side_streams_feed_the_source_counts(run_target) -> None:
    side = {"type": "object", "properties": {}}
    run = run_target(
        [
            COMPANY,
            {"type": "SCHEMA", "stream": "_rejects", "schema": side, "key_properties": []},
            {"type": "SCHEMA", "stream": "_summary", "schema": side, "key_properties": []},
            record("company", 1, stream="companies", name="A"),
            record(
                "company", 2, stream="companies", name="A2", domainName={"primaryLinkUrl": "a.com"}
            ),
            record(
                "company",
                3,
                stream="companies",
                name="A3",
                domainName={"primaryLinkUrl": "https://www.A.com/"},
            ),
            {
                "type": "RECORD",
                "stream": "_rejects",
                "record": {
                    "stage": "mapper",
                    "source_stream": "companies",
                    "source_key": "4",
                    "reason": "company.name is required",
                },
            },
            {
                "type": "RECORD",
                "stream": "_rejects",
                "record": {
                    "stage": "tap",
                    "source_stream": "companies",
                    "reason": "ragged row",
                    "location": "companies.csv:9",
                },
            },
            {
                "type": "RECORD",
                "stream": "_summary",
                "record": {
                    "source": "demo",
                    "rules": "r",
                    "stream": "companies",
                    "read": 5,
                    "mapped": 3,
                    "rejected": 2,
                    "ignored": 0,
                },
            },
        ]
    )
    (src,) = run.report["sources"]
    assert src == {
        "stream": "companies",
        "read": 5,
        "rejected_by_tap": 1,
        "rejected_by_mapper": 1,
        "ignored": 0,
        "ignored_because": None,
        "written": 2,
        "merged": 1,
        "rejected_by_target": 0,
        "rejected": 2,
        "balanced": True,
    }
    assert len(run.side("rejects.csv")) == 2


def test_counts_that_do_not_add_up_are_flagged(run_target) -> None:
    side = {"type": "object", "properties": {}}
    run = run_target(
        [
            COMPANY,
            {"type": "SCHEMA", "stream": "_summary", "schema": side, "key_properties": []},
            record("company", 1, stream="companies", name="A"),
            {
                "type": "RECORD",
                "stream": "_summary",
                "record": {
                    "source": "d",
                    "rules": "r",
                    "stream": "companies",
                    "read": 2,
                    "mapped": 2,
                    "rejected": 0,
                    "ignored": 0,
                },
            },
        ]
    )
    (src,) = run.report["sources"]
    assert src["balanced"] is False and src["lost_in_transit"] == 1
    assert run.report["balanced"] is False
    assert "do not add up" in (run.dir / "report.md").read_text()


def test_a_plain_singer_stream_becomes_a_custom_object_with_stable_ids(run_target) -> None:
    plain = {
        "type": "SCHEMA",
        "stream": "widgets",
        "key_properties": ["sku"],
        "schema": {
            "type": "object",
            "properties": {
                "sku": {"type": "string"},
                "weight_kg": {"type": "number"},
                "made_on": {"type": "string", "format": "date"},
            },
        },
    }
    rows = [
        {
            "type": "RECORD",
            "stream": "widgets",
            "record": {"sku": "W-1", "weight_kg": 1.5, "made_on": "2024-02-03"},
        }
    ]
    first = run_target([plain, *rows])
    second = run_target([plain, *rows])
    assert first.csv("*widgets*")[0]["Id"] == second.csv("*widgets*")[0]["Id"]
    assert first.csv("*widgets*")[0]["Weight Kg"] == "1.5"
    fields = {f["name"]: f["type"] for f in first.report["provisioning"]["fields"]}
    assert fields == {"sku": "TEXT", "weightKg": "NUMBER", "madeOn": "DATE"}
    assert first.report["provisioning"]["objects"][0]["nameSingular"] == "widget"


def test_report_markdown_lists_files_in_import_order_and_workflows(run_target) -> None:
    side = {"type": "object", "properties": {}}
    run = run_target(
        [
            COMPANY,
            ACME,
            {"type": "SCHEMA", "stream": "_workflow", "schema": side, "key_properties": []},
            {
                "type": "RECORD",
                "stream": "_workflow",
                "record": {
                    "name": "Welcome",
                    "trigger": "contact created",
                    "conditions": ["country = FR"],
                    "actions": ["send e-mail", "add task"],
                    "active": True,
                },
            },
        ]
    )
    text = (run.dir / "report.md").read_text()
    assert "`01-companies-001.csv`" in text
    assert "### Welcome" in text and "send e-mail; add task" in text
    assert json.loads((run.dir / "workflows.json").read_text())[0]["name"] == "Welcome"


def test_source_notices_appear_in_the_report(run_target) -> None:
    side = {"type": "object", "properties": {}}
    run = run_target(
        [
            COMPANY,
            {"type": "SCHEMA", "stream": "_notices", "schema": side, "key_properties": []},
            {
                "type": "RECORD",
                "stream": "_notices",
                "record": {"source": "tap-sage-crm", "notice": "Workflow rules are not readable"},
            },
        ]
    )
    assert run.report["notices"] == ["Workflow rules are not readable"]
    assert "- Workflow rules are not readable" in (run.dir / "report.md").read_text()


def test_rows_of_different_origin_sharing_an_id_merge_into_one_record(run_target) -> None:
    # two Sage leads naming the same new company, and a company row the leads point at
    run = run_target(
        [
            COMPANY,
            record("company", 9, stream="companies", name="Nine", line=2),
            record("company", 9, stream="leads", primary=False, name="Nine", employees=5),
            record("company", 7, stream="leads", primary=False, name="Seven"),
            record("company", 7, stream="leads", primary=False, name="Seven"),
        ]
    )
    assert sorted(r["Name"] for r in run.csv("*companies*")) == ["Nine", "Seven"]
    assert run.side("rejects.csv") == []
    nine = next(r for r in run.csv("*companies*") if r["Name"] == "Nine")
    assert nine["Employees"] == "5"  # the merge keeps what only the later row knew
    assert run.report["balanced"]


def test_a_new_custom_object_gets_no_fields_twenty_creates_for_it(run_target) -> None:
    project = schema(
        "project",
        {
            "name": prop("TEXT", label="Name"),
            "createdAt": prop("DATE_TIME", label="Created"),
            "budget": prop("NUMBER", label="Budget"),
        },
        custom=True,
        namePlural="projects",
        labelSingular="Project",
        labelPlural="Projects",
    )
    run = run_target(
        [project, record("project", 1, name="Apollo", budget=3, createdAt="2024-01-02T03:04:05Z")]
    )
    fields = [f["name"] for f in run.report["provisioning"]["fields"]]
    assert fields == ["budget"]
    assert run.report["provisioning"]["objects"][0]["nameSingular"] == "project"
    (row,) = run.csv("*projects*")
    assert row["Name"] == "Apollo" and row["Created"].startswith("2024-01-02")


def test_rows_ignored_by_the_rules_are_listed_with_their_reason(run_target) -> None:
    side = {"type": "object", "properties": {}}
    run = run_target(
        [
            PERSON,
            {"type": "SCHEMA", "stream": "_summary", "schema": side, "key_properties": []},
            record("person", 1, stream="persons", name={"firstName": "A"}),
            {
                "type": "RECORD",
                "stream": "_summary",
                "record": {
                    "source": "demo",
                    "rules": "r",
                    "stream": "persons",
                    "read": 3,
                    "mapped": 1,
                    "rejected": 0,
                    "ignored": 2,
                    "ignored_because": "deleted in the source (2)",
                },
            },
        ]
    )
    (src,) = run.report["sources"]
    assert (src["read"], src["written"], src["ignored"], src["balanced"]) == (3, 1, 2, True)
    assert src["ignored_because"] == "deleted in the source (2)"
    text = (run.dir / "report.md").read_text()
    assert "Ignored on purpose" in text and "persons (2): deleted in the source (2)" in text
