"""The mapping runtime over small rules and records: ids, references, rejects, repairs, intent."""

from __future__ import annotations

import uuid

import pytest
from crm2twenty_mapper import rules as rules_mod
from crm2twenty_mapper.ids import IdFactory
from crm2twenty_mapper.runtime import Runtime
from crm2twenty_mapper.side_streams import REJECTS, REPAIRS
from singer_sdk.singerlib import Message, RecordMessage, SchemaMessage, StateMessage

S = {"type": ["string", "null"]}
INT = {"type": ["integer", "null"]}


def engine(streams: dict, **top) -> Runtime:
    data = {"source": "demo", "source_id_field": {"name": "demoId"}, "streams": streams, **top}
    return Runtime(rules_mod.parse(data, "test-rules.yml"), "ns-test")


def feed(
    eng: Runtime, stream: str, props: dict, records: list[dict], keys=("id",)
) -> list[Message]:
    out = list(eng.on_schema(stream, {"type": "object", "properties": props}, list(keys)))
    for rec in records:
        out.extend(eng.on_record(stream, rec))
    return out


def records(out: list[Message], stream: str) -> list[dict]:
    return [m.record for m in out if isinstance(m, RecordMessage) and m.stream == stream]


def schemas(out: list[Message], stream: str) -> list[dict]:
    return [m.schema for m in out if isinstance(m, SchemaMessage) and m.stream == stream]


COMPANIES = {
    "id": INT,
    "name": S,
    "website": S,
    "owner": S,
    "parent_id": INT,
    "tier": S,
    "_sdc_source_file": S,
    "_sdc_source_lineno": INT,
}


def company_rules() -> dict:
    return {
        "companies": [
            {
                "object": "company",
                "key": "id",
                "fields": {
                    "name": {"from": "name", "transforms": ["trim"], "required": True},
                    "domainName": {"from": "website", "transforms": ["url"]},
                    "accountOwnerId": {"owner": "owner"},
                    "parentCompanyId": {"ref": "company", "from": "parent_id"},
                },
            }
        ]
    }


def test_ids_are_deterministic_and_references_use_the_same_formula() -> None:
    out = feed(
        engine(company_rules()),
        "companies",
        COMPANIES,
        [
            {"id": 1, "name": "Acme", "website": "acme.com"},
            {"id": 2, "name": "Sub", "parent_id": 1},
        ],
    )
    acme, sub = records(out, "company")
    expected = IdFactory("ns-test", "demo").record_id("company", "1")
    assert acme["id"] == expected
    assert sub["parentCompanyId"] == expected
    uuid.UUID(acme["id"])  # a real UUID, version 5
    assert uuid.UUID(acme["id"]).version == 5
    again = records(
        feed(engine(company_rules()), "companies", COMPANIES, [{"id": 1, "name": "Acme renamed"}]),
        "company",
    )[0]
    assert again["id"] == expected  # a re-run upserts the same record
    other_ns = Runtime(rules_mod.parse({"source": "demo", "streams": company_rules()}, "x"), "ns2")
    assert (
        records(feed(other_ns, "companies", COMPANIES, [{"id": 1, "name": "A"}]), "company")[0][
            "id"
        ]
        != expected
    )


def test_composites_owner_source_id_and_provenance() -> None:
    out = feed(
        engine(company_rules()),
        "companies",
        COMPANIES,
        [
            {
                "id": 7,
                "name": "  Acme   Corp ",
                "website": "WWW.acme.com",
                "owner": "Bob@X.com",
                "_sdc_source_file": "companies.csv",
                "_sdc_source_lineno": 9,
            }
        ],
    )
    (rec,) = records(out, "company")
    assert rec["name"] == "Acme Corp"
    assert rec["domainName"] == {"primaryLinkUrl": "https://www.acme.com"}
    assert rec["accountOwnerId"] == "bob@x.com"
    assert rec["demoId"] == "7"
    assert rec["_crm2twenty"] == {
        "stream": "companies",
        "key": "7",
        "location": "companies.csv:9",
        "primary": True,
    }


def test_required_field_rejects_the_row_with_file_and_line() -> None:
    out = feed(
        engine(company_rules()),
        "companies",
        COMPANIES,
        [{"id": 3, "name": "  ", "_sdc_source_file": "companies.csv", "_sdc_source_lineno": 4}],
    )
    assert records(out, "company") == []
    (reject,) = records(out, REJECTS)
    assert reject["source_key"] == "3"
    assert reject["location"] == "companies.csv:4"
    assert "name is required" in reject["reason"]


def test_invalid_values_are_repaired_and_listed_not_dropped_silently() -> None:
    out = feed(
        engine(company_rules()),
        "companies",
        COMPANIES,
        [
            {
                "id": 4,
                "name": "Acme",
                "website": "not a url",
                "owner": "bob@",
                "_sdc_source_file": "companies.csv",
                "_sdc_source_lineno": 5,
            }
        ],
    )
    (rec,) = records(out, "company")
    assert "domainName" not in rec and "accountOwnerId" not in rec
    # kept verbatim beside the field, in a TEXT field the SCHEMA sent before the record declares
    assert (rec["domainNameRaw"], rec["accountOwnerRaw"]) == ("not a url", "bob@")
    schema_before = [m for m in out if isinstance(m, SchemaMessage)][-1].schema
    raw = schema_before["properties"]["domainNameRaw"]["x-twenty"]
    assert raw == {"type": "TEXT", "label": "Domain Name (as in source)"}
    assert out.index(next(m for m in out if isinstance(m, RecordMessage))) > out.index(
        next(m for m in out if isinstance(m, SchemaMessage) and "domainNameRaw" in str(m.schema))
    )
    repairs = {r["field"]: r for r in records(out, REPAIRS)}
    assert repairs["domainName"]["value"] == '"not a url"'
    # where the value was, and whose it was
    assert repairs["domainName"]["location"] == "companies.csv:5"
    assert repairs["domainName"]["source_key"] == "4"
    assert "not a valid URL" in repairs["domainName"]["reason"]
    assert repairs["domainName"]["reason"].endswith("kept verbatim in domainNameRaw")
    assert "accountOwnerId" in repairs


def test_a_phone_twenty_would_refuse_is_kept_in_phones_raw_and_the_good_ones_land() -> None:
    rules = {
        "contacts": [
            {
                "object": "person",
                "key": "id",
                "fields": {
                    "phones": {"from_all": ["phone", "mobile", "country"], "transforms": ["phone"]},
                    "phones.additionalPhones": {
                        "from_all": ["phone", "mobile", "country"],
                        "transforms": ["more_phones"],
                    },
                    "emails.additionalEmails": {"from": "more", "transforms": ["emails"]},
                },
            }
        ]
    }
    props = {"id": INT, "phone": S, "mobile": S, "country": S, "more": S}
    out = feed(
        engine(rules, defaults={"phone_country": "US"}),
        "contacts",
        props,
        [
            {"id": 1, "phone": "07700 900123", "mobile": "+1 415 555 0101"},  # no country: US
            {"id": 2, "phone": "+44 7700 900123", "mobile": "n/a", "more": "a@b.example; nope"},
        ],
    )
    one, two = records(out, "person")
    assert one["phonesRaw"] == "07700 900123"  # not a US number: kept, not dropped
    assert one["phones"] == {
        "additionalPhones": [{"number": "4155550101", "countryCode": "US", "callingCode": "+1"}]
    }
    assert two["phones"]["primaryPhoneCountryCode"] == "GB"
    assert two["phonesRaw"] == "n/a" and two["emailsRaw"] == "nope"
    assert two["emails"] == {"additionalEmails": ["a@b.example"]}
    (schema,) = [s for s in schemas(out, "person") if "phonesRaw" in s["properties"]][-1:]
    assert schema["properties"]["phonesRaw"]["x-twenty"]["label"] == "Phones (as in source)"
    reasons = [r["reason"] for r in records(out, REPAIRS)]
    assert len(reasons) == 3 and all("kept verbatim in" in r for r in reasons)


def test_on_invalid_reject() -> None:
    rules = company_rules()
    rules["companies"][0]["fields"]["domainName"]["on_invalid"] = "reject"
    out = feed(engine(rules), "companies", COMPANIES, [{"id": 5, "name": "A", "website": "x y"}])
    assert records(out, "company") == []
    assert "domainName" in records(out, REJECTS)[0]["reason"]


def test_unmapped_columns_become_typed_custom_fields_in_the_intent() -> None:
    out = feed(
        engine(company_rules()), "companies", COMPANIES, [{"id": 1, "name": "A", "tier": "Gold"}]
    )
    (schema,) = schemas(out, "company")
    assert schema["x-twenty"]["object"] == "company"
    tier = schema["properties"]["tier"]["x-twenty"]
    assert tier["type"] == "TEXT" and tier["label"] == "Tier"
    assert schema["properties"]["parentCompanyId"]["x-twenty"]["target"] == "company"
    assert schema["properties"]["accountOwnerId"]["x-twenty"] == {
        "type": "RELATION",
        "label": "Account Owner",
        "target": "workspaceMember",
        "match": "userEmail",
    }
    assert records(out, "company")[0]["tier"] == "Gold"
    assert "_sdc_source_file" not in schema["properties"]


def test_select_values_map_and_unknown_ones_become_new_options_with_a_new_schema() -> None:
    rules = {
        "deals": [
            {
                "object": "opportunity",
                "key": "id",
                "fields": {
                    "stage": {"from": "stage", "options": {"Closed Won": "CUSTOMER", "Lead": "NEW"}}
                },
            }
        ]
    }
    eng = engine(rules)
    out = feed(
        eng,
        "deals",
        {"id": S, "stage": S},
        [
            {"id": "a", "stage": "closed won"},
            {"id": "b", "stage": "Negotiation"},
            {"id": "c", "stage": "Negotiation"},
        ],
    )
    assert [r["stage"] for r in records(out, "opportunity")] == [
        "CUSTOMER",
        "NEGOTIATION",
        "NEGOTIATION",
    ]
    (first,) = schemas(out, "opportunity")  # the records use the option before it is declared
    assert [o["value"] for o in first["properties"]["stage"]["x-twenty"]["options"]] == [
        "CUSTOMER",
        "NEW",
    ]
    # ... and the grown SCHEMA goes out once, before the STATE that covers the records
    end = list(eng.on_state({"bookmarks": {}}))
    assert [type(m) for m in end] == [SchemaMessage, StateMessage]
    (second,) = schemas(end, "opportunity")
    added = second["properties"]["stage"]["x-twenty"]["options"][-1]
    assert added == {"value": "NEGOTIATION", "label": "Negotiation", "position": 2}
    assert second["properties"].keys() == first["properties"].keys()
    assert schemas(list(eng.on_state({})), "opportunity") == []  # nothing grew since
    assert schemas(list(eng.summary()), "opportunity") == []


def test_one_schema_per_output_stream_until_a_record_needs_a_field_it_lacks() -> None:
    rules = {
        "contacts": [
            {
                "object": "person",
                "key": "id",
                "fields": {
                    "emails.primaryEmail": "email",
                    "city": {"from": "city", "options": {}},
                },
            }
        ]
    }
    eng = engine(rules)
    props = {"id": INT, "email": S, "city": S}
    out = feed(
        eng,
        "contacts",
        props,
        [
            {"id": 1, "email": "a@b.example", "city": "Paris"},  # a new option: no new SCHEMA
            {"id": 2, "email": "a@b.example", "city": "Lyon"},
            {"id": 3, "email": "not an address", "city": "Paris"},  # emailsRaw: needed now
            {"id": 4, "email": "nor this", "city": "Nice"},
        ],
    )
    # a second SCHEMA of the same source stream adds nothing to send
    out += eng.on_schema("contacts", {"type": "object", "properties": props}, ["id"])
    first, second = schemas(out, "person")
    assert "emailsRaw" not in first["properties"] and "emailsRaw" in second["properties"]
    sent = [
        m.record["demoId"] if isinstance(m, RecordMessage) else "SCHEMA"
        for m in out
        if isinstance(m, RecordMessage | SchemaMessage) and m.stream == "person"
    ]
    # the second just before the first record that carries emailsRaw
    assert sent == ["SCHEMA", "1", "2", "SCHEMA", "3", "4"]
    assert [o["value"] for o in second["properties"]["city"]["x-twenty"]["options"]] == [
        "PARIS",
        "LYON",
    ]
    (last,) = schemas(list(eng.summary()), "person")  # NICE came after: sent once, at the end
    assert [o["value"] for o in last["properties"]["city"]["x-twenty"]["options"]] == [
        "PARIS",
        "LYON",
        "NICE",
    ]


def test_a_taps_notices_schema_passes_once() -> None:
    eng = engine(company_rules())
    notices = {"type": "object", "properties": {"notice": S}}
    out = [m for _ in range(3) for m in eng.on_schema("_notices", notices, [])]
    assert schemas(out, "_notices") == [notices]


def test_a_source_pick_list_declares_every_option_in_its_order_even_unused_ones() -> None:
    rules = {
        "deals": [
            {
                "object": "opportunity",
                "key": "id",
                "fields": {
                    "stage": {
                        "from_any": ["stage_label", "stage"],
                        "options": {"Opportunity": "NEW", "won": "CUSTOMER"},
                    },
                    "category": {"from": "category_label", "type": "SELECT"},
                },
            }
        ]
    }
    listed = ["Opportunity", "In Negotiation", "Won", "Lost", "Delayed"]
    props = {
        "id": S,
        "stage": S,
        "stage_label": {**S, "x-options": listed},
        "category_label": {**S, "x-options": ["Print project", "UI Design"]},
    }
    out = feed(engine(rules), "deals", props, [{"id": "a", "stage_label": "Lost"}])
    (schema,) = schemas(out, "opportunity")  # every option declared up front: no re-emission
    stage = schema["properties"]["stage"]["x-twenty"]["options"]
    assert [(o["value"], o["position"]) for o in stage] == [
        ("NEW", 0), ("IN_NEGOTIATION", 1), ("CUSTOMER", 2), ("LOST", 3), ("DELAYED", 4),
    ]  # fmt: skip
    assert stage[1]["label"] == "In Negotiation"
    category = schema["properties"]["category"]["x-twenty"]["options"]
    assert [(o["value"], o["label"]) for o in category] == [
        ("PRINT_PROJECT", "Print project"), ("UI_DESIGN", "UI Design"),
    ]  # fmt: skip
    assert records(out, "opportunity")[0]["stage"] == "LOST"


def test_a_note_title_is_the_first_line_and_the_body_keeps_all() -> None:
    rules = {
        "notes": [
            {
                "object": "note",
                "fields": {
                    "title": {"from": "text", "transforms": ["first_line"], "default": "Note"},
                    "bodyV2.markdown": {"from": "text", "transforms": ["markdown"]},
                },
            }
        ]
    }
    text = "\n  Call went well.  \r\nSend the deck."
    out = feed(engine(rules), "notes", {"id": S, "text": S}, [{"id": "1", "text": text}])
    (note,) = records(out, "note")
    assert note["title"] == "Call went well."
    assert note["bodyV2"]["markdown"] == "Call went well.  \nSend the deck."


def test_select_unmapped_reject() -> None:
    rules = {
        "deals": [
            {
                "object": "opportunity",
                "fields": {
                    "stage": {"from": "stage", "options": {"Won": "CUSTOMER"}, "unmapped": "reject"}
                },
            }
        ]
    }
    out = feed(engine(rules), "deals", {"id": S, "stage": S}, [{"id": "a", "stage": "Lost"}])
    assert "'Lost' has no option" in records(out, REJECTS)[0]["reason"]


def test_one_row_gives_a_note_and_its_targets_and_refs_keep_source_keys() -> None:
    rules = {
        "notes": [
            {"object": "note", "key": "id", "fields": {"title": "title"}},
            {
                "object": "noteTarget",
                "key": "{id}:company",
                "when": "company_id",
                "fields": {
                    "noteId": {"ref": "note", "from": "id"},
                    "targetCompanyId": {"ref": "company", "from": "company_id"},
                },
            },
            {
                "object": "noteTarget",
                "key": "{id}:contact",
                "when": "contact_id",
                "fields": {
                    "noteId": {"ref": "note", "from": "id"},
                    "targetPersonId": {"ref": "person", "from": "contact_id"},
                },
            },
        ]
    }
    out = feed(
        engine(rules),
        "notes",
        {"id": INT, "title": S, "company_id": INT, "contact_id": INT},
        [{"id": 1, "title": "Hi", "company_id": 9, "contact_id": None}],
    )
    (note,) = records(out, "note")
    (target,) = records(out, "noteTarget")
    assert target["noteId"] == note["id"]
    assert target["_crm2twenty"]["primary"] is False
    assert target["_crm2twenty"]["refs"] == {"noteId": "1", "targetCompanyId": "9"}
    assert "demoId" not in target  # only the primary output carries the source id


def test_require_any_rejects_with_the_rules_reason() -> None:
    rules = {
        "contacts": [
            {
                "object": "person",
                "require_any": ["name", "emails.primaryEmail"],
                "reject_reason": "no name, no e-mail",
                "fields": {
                    "name": {"from_all": ["first", "last", "full"], "transforms": ["person_name"]},
                    "emails.primaryEmail": {"from": "email"},
                },
            }
        ]
    }
    out = feed(
        engine(rules),
        "contacts",
        {"id": INT, "first": S, "last": S, "full": S, "email": S},
        [{"id": 1, "email": "broken@"}, {"id": 2, "full": "Ana Ruiz"}],
    )
    assert [r["reason"] for r in records(out, REJECTS)] == ["no name, no e-mail"]
    assert records(out, "person")[0]["name"] == {"firstName": "Ana", "lastName": "Ruiz"}


def test_unknown_streams_become_custom_objects_and_link_files_junctions() -> None:
    eng = engine({"contacts": [{"object": "person", "fields": {"jobTitle": "title"}}]})
    out = feed(eng, "contacts", {"id": INT, "title": S}, [{"id": 4, "title": "CEO"}])
    out += feed(
        eng,
        "matters",
        {"id": INT, "name": S, "contact_id": INT, "budget": {"type": "number"}},
        [{"id": 3, "name": "M&A", "contact_id": 4, "budget": 10.5}],
    )
    out += feed(
        eng,
        "matter_contacts",  # a link by its schema: both key columns reference a stream
        {
            "matters_id": {**INT, "x-references": "matters"},
            "contacts_id": {**INT, "x-references": "contacts"},
        },
        [{"matters_id": 3, "contacts_id": 4}],
        keys=("matters_id", "contacts_id"),
    )
    (matter_schema,) = schemas(out, "matter")
    assert matter_schema["x-twenty"]["custom"] is True
    assert matter_schema["x-twenty"]["namePlural"] == "matters"
    assert matter_schema["properties"]["contactId"]["x-twenty"]["target"] == "person"
    assert matter_schema["properties"]["budget"]["x-twenty"]["type"] == "NUMBER"
    (person,) = records(out, "person")
    (matter,) = records(out, "matter")
    assert matter["contactId"] == person["id"] and matter["name"] == "M&A"
    (link,) = records(out, "matterPerson")
    assert link["matterId"] == matter["id"] and link["personId"] == person["id"]
    (link_schema,) = schemas(out, "matterPerson")
    assert link_schema["x-twenty"]["namePlural"] == "matterPeople"
    assert link_schema["properties"]["personId"]["x-twenty"]["required"] is True


def test_unmapped_streams_ignore_and_reject_policies() -> None:
    out = feed(engine({}, unmapped_streams="ignore"), "misc", {"id": INT}, [{"id": 1}])
    assert [m for m in out if isinstance(m, RecordMessage)] == []
    eng = engine({}, unmapped_streams="reject")
    out = feed(eng, "misc", {"id": INT}, [{"id": 1}])
    assert "not named in the rules" in records(out, REJECTS)[0]["reason"]
    (summary,) = records(list(eng.summary()), "_summary")
    assert summary["read"] == 1 and summary["rejected"] == 1


def test_summary_counts_and_tap_rejects_pass_through() -> None:
    eng = engine(company_rules())
    feed(eng, "companies", COMPANIES, [{"id": 1, "name": "A"}, {"id": 2, "name": ""}])
    list(eng.on_schema(REJECTS, {"type": "object", "properties": {}}, []))
    passed = list(
        eng.on_record(
            REJECTS,
            {
                "stage": "tap",
                "source_stream": "companies",
                "reason": "bad row",
                "location": "companies.csv:5",
            },
        )
    )
    assert isinstance(passed[0], RecordMessage) and passed[0].record["stage"] == "tap"
    summary = {r["stream"]: r for r in records(list(eng.summary()), "_summary")}
    assert summary["companies"] == {
        "source": "demo",
        "rules": "test-rules.yml",
        "stream": "companies",
        "ignored_because": None,
        "read": 3,
        "mapped": 1,
        "rejected": 2,
        "ignored": 0,
    }


def test_currency_without_amount_is_not_emitted() -> None:
    rules = {
        "deals": [
            {
                "object": "opportunity",
                "fields": {
                    "amount.amountMicros": {"from": "amount", "transforms": ["micros"]},
                    "amount.currencyCode": {"from": "currency", "default": "USD"},
                },
            }
        ]
    }
    out = feed(
        engine(rules),
        "deals",
        {"id": S, "amount": S, "currency": S},
        [{"id": "a"}, {"id": "b", "amount": "12.5", "currency": "EUR"}],
    )
    a, b = records(out, "opportunity")
    assert "amount" not in a
    assert b["amount"] == {"amountMicros": 12_500_000, "currencyCode": "EUR"}


@pytest.mark.parametrize(
    ("broken", "message"),
    [
        (
            {
                "streams": {
                    "s": [
                        {"object": "person", "fields": {"x": {"from": "a", "transforms": ["emal"]}}}
                    ]
                }
            },
            "unknown transform 'emal'",
        ),
        ({"streams": {"s": [{"object": "person", "when": "a"}]}}, "cannot have `when`"),
        ({"streams": {"s": [{"object": "Person"}]}}, "streams.s.0.object"),
        (
            {
                "streams": {
                    "s": [
                        {
                            "object": "opportunity",
                            "fields": {"stage": {"from": "s", "options": {"Won": "won"}}},
                        }
                    ]
                }
            },
            "must match",
        ),
        (
            {"streams": {"s": [{"object": "person", "fields": {"x": {"from": "a", "const": 1}}}]}},
            "use only one of from, const",
        ),
    ],
)
def test_broken_rules_name_the_file_and_the_place(broken: dict, message: str) -> None:
    with pytest.raises(rules_mod.RulesError) as info:
        Runtime(rules_mod.parse({"source": "demo", **broken}, "my-rules.yml"), "ns").on_schema(
            "s", {"type": "object", "properties": {"s": S}}, ["id"]
        ).__next__()
    assert "my-rules.yml" in str(info.value)
    assert message in str(info.value)


def test_builtin_rules_are_chosen_by_the_meltano_extractor() -> None:
    assert rules_mod.choose(None, "tap-allegory-csv", None) == "allegory"
    assert rules_mod.choose(None, None, "tap_allegory_csv") == "allegory"
    assert rules_mod.choose("./mine.yml", "tap-allegory-csv", None) == "./mine.yml"
    with pytest.raises(rules_mod.RulesError, match="No rules chosen"):
        rules_mod.choose(None, "tap-unknown", None)
    loaded = rules_mod.load("allegory")
    assert loaded.source == "allegory" and "contacts" in loaded.streams


def test_each_makes_one_record_per_list_element() -> None:
    rules = {
        "deals": [
            {"object": "opportunity", "key": "id", "fields": {"name": "name"}},
            {
                "object": "dealContact",
                "each": "contact_ids",
                "key": "{id}:{_item}",
                "fields": {
                    "dealId": {"ref": "opportunity", "from": "id", "required": True},
                    "personId": {"ref": "person", "from": "_item", "required": True},
                },
            },
        ]
    }
    eng = engine(rules)
    out = feed(
        eng,
        "deals",
        {"id": INT, "name": S, "contact_ids": {"type": ["array", "null"]}},
        [{"id": 1, "name": "D", "contact_ids": [7, 8, 9]}, {"id": 2, "name": "E"}],
    )
    links = records(out, "dealContact")
    assert [link["personId"] for link in links] == [
        IdFactory("ns-test", "demo").record_id("person", k) for k in ("7", "8", "9")
    ]
    assert {link["dealId"] for link in links} == {records(out, "opportunity")[0]["id"]}
    assert "contactIds" not in records(out, "opportunity")[0]  # consumed, not a custom field


def test_lookups_translate_codes_through_an_earlier_stream() -> None:
    rules = {
        "captions": [
            {
                "object": "_caption",
                "key": "{capt_family}:{capt_code}",
                "fields": {"text": "capt_us"},
            }
        ],
        "opportunities": [
            {
                "object": "opportunity",
                "fields": {
                    "stage": {
                        "from": "oppo_stage",
                        "transforms": [
                            {"lookup": {"table": "stages", "key": "oppo_stage:{value}"}}
                        ],
                        "options": {"Won": "CUSTOMER"},
                    }
                },
            }
        ],
    }
    eng = engine(
        rules,
        lookups={
            "stages": {"stream": "captions", "key": "{capt_family}:{capt_code}", "value": "capt_us"}
        },
    )
    feed(
        eng,
        "captions",
        {"capt_family": S, "capt_code": S, "capt_us": S},
        [
            {"capt_family": "oppo_stage", "capt_code": "Won", "capt_us": "Won"},
            {"capt_family": "oppo_stage", "capt_code": "Prop", "capt_us": "Proposal Sent"},
        ],
        keys=("capt_family", "capt_code"),
    )
    out = feed(
        eng,
        "opportunities",
        {"id": S, "oppo_stage": S},
        [
            {"id": "a", "oppo_stage": "Won"},
            {"id": "b", "oppo_stage": "Prop"},
            {"id": "c", "oppo_stage": "Unknown"},
        ],
    )
    assert [r["stage"] for r in records(out, "opportunity")] == [
        "CUSTOMER",
        "PROPOSAL_SENT",
        "UNKNOWN",
    ]


def test_when_can_ask_a_lookup_table_and_outputs_can_depend_on_options() -> None:
    data = {
        "source": "demo",
        "options": {"cases_as": "task"},
        "lookups": {"kind": {"stream": "comms", "key": "{id}", "value": "action"}},
        "streams": {
            "comms": [{"object": "note", "fields": {"title": "subject"}}],
            "links": [
                {"object": "_link", "key": "{id}", "fields": {"id": "id"}},
                {
                    "object": "noteTarget",
                    "key": "{id}:n",
                    "when": {"lookup": "kind", "key": "{comm_id}", "in": ["emailout", "note"]},
                    "fields": {"noteId": {"ref": "note", "from": "comm_id"}},
                },
                {
                    "object": "taskTarget",
                    "key": "{id}:t",
                    "when": {"lookup": "kind", "key": "{comm_id}", "in": ["phoneout"]},
                    "fields": {"taskId": {"ref": "task", "from": "comm_id"}},
                },
            ],
            "cases": [
                {"object": "task", "if_option": {"cases_as": "task"}, "fields": {"title": "t"}},
                {
                    "object": "supportCase",
                    "if_option": {"cases_as": "supportCase"},
                    "fields": {"name": "t"},
                },
            ],
        },
    }
    eng = Runtime(rules_mod.parse(data, "r.yml"), "ns")
    feed(
        eng,
        "comms",
        {"id": INT, "subject": S, "action": S},
        [
            {"id": 1, "subject": "a", "action": "EmailOut"},
            {"id": 2, "subject": "b", "action": "PhoneOut"},
        ],
    )
    out = feed(
        eng,
        "links",
        {"id": INT, "comm_id": INT},
        [{"id": 10, "comm_id": 1}, {"id": 11, "comm_id": 2}, {"id": 12, "comm_id": 3}],
    )
    assert len(records(out, "noteTarget")) == 1 and len(records(out, "taskTarget")) == 1
    assert [k for k in eng.rules.streams["cases"]] == [{"object": "task", "fields": {"title": "t"}}]
    other = rules_mod.parse(data, "r.yml", {"cases_as": "supportCase"})
    assert other.streams["cases"][0]["object"] == "supportCase"
    with pytest.raises(rules_mod.RulesError, match="no such rule option"):
        rules_mod.parse(data, "r.yml", {"casez": "x"})


def test_a_column_the_tap_marks_as_a_reference_becomes_a_relation() -> None:
    eng = engine(
        {"companies": [{"object": "company", "key": "comp_id", "fields": {}}]},
        unmapped_streams="custom_object",
    )
    feed(eng, "companies", {"comp_id": INT}, [{"comp_id": 5}], keys=("comp_id",))
    out = feed(
        eng,
        "projects",
        {
            "proj_projectid": INT,
            "proj_companyid": {"type": ["integer", "null"], "x-references": "companies"},
        },
        [{"proj_projectid": 1, "proj_companyid": 5}],
        keys=("proj_projectid",),
    )
    (project,) = records(out, "project")
    assert project["projCompanyId"] == IdFactory("ns-test", "demo").record_id("company", "5")


def test_first_and_rest_split_a_list_into_primary_and_additional() -> None:
    rules = {
        "persons": [
            {
                "object": "person",
                "fields": {
                    "emails.primaryEmail": {"from": "emails", "transforms": ["first"]},
                    "emails.additionalEmails": {"from": "emails", "transforms": ["rest"]},
                },
            }
        ]
    }
    out = feed(
        engine(rules),
        "persons",
        {"id": INT, "emails": {"type": "array"}},
        [{"id": 1, "emails": ["A@x.com", "b@x.com", "c@x.com"]}],
    )
    assert records(out, "person")[0]["emails"] == {
        "primaryEmail": "a@x.com",
        "additionalEmails": ["b@x.com", "c@x.com"],
    }


def test_tap_notices_pass_through_to_the_target() -> None:
    eng = engine({})
    out = list(eng.on_schema("_notices", {"type": "object", "properties": {}}, []))
    out += list(eng.on_record("_notices", {"source": "tap", "notice": "workflows unreadable"}))
    assert records(out, "_notices") == [{"source": "tap", "notice": "workflows unreadable"}]


def test_ignore_rows_counts_each_row_ignored_with_its_reason() -> None:
    eng = engine(
        {"persons": [{"object": "person", "fields": {"jobTitle": "title"}}]},
        ignore_rows=[{"when": {"is_deleted": True}, "reason": "deleted in the source"}],
    )
    props = {"id": INT, "title": S, "is_deleted": {"type": ["boolean", "null"]}}
    out = feed(
        eng,
        "persons",
        props,
        [
            {"id": 1, "title": "a", "is_deleted": True},
            {"id": 2, "title": "b", "is_deleted": False},
            {"id": 3, "title": "c"},
        ],
    )
    assert [r["jobTitle"] for r in records(out, "person")] == ["b", "c"]
    (summary,) = records(list(eng.summary()), "_summary")
    assert (summary["read"], summary["mapped"], summary["ignored"]) == (3, 2, 1)
    assert summary["ignored_because"] == "deleted in the source (1)"


def test_ignore_columns_are_never_kept_as_custom_fields() -> None:
    eng = engine(
        {"companies": [{"object": "company", "fields": {"name": "name"}}]},
        ignore_columns=["*_deleted", "secret"],
    )
    props = {"id": INT, "name": S, "comp_deleted": S, "secret": S, "comp_tier": S}
    out = feed(
        eng,
        "companies",
        props,
        [{"id": 1, "name": "A", "comp_deleted": "Y", "secret": "x", "comp_tier": "gold"}],
    )
    (rec,) = records(out, "company")
    assert rec["compTier"] == "gold"  # an unknown column is still kept
    assert not {"compDeleted", "secret"} & set(rec)
    assert not {"compDeleted", "secret"} & set(schemas(out, "company")[-1]["properties"])


def test_the_first_primary_alternative_whose_when_holds_takes_the_row() -> None:
    rules = {
        "leads": [
            {
                "object": "person",
                "key": "{person_id}",
                "when": "person_id",
                "fields": {"jobTitle": "title"},
            },
            {
                "object": "person",
                "key": "lead:{id}",
                "primary": True,
                "when": [{"status": ["open", "new"]}, "email"],
                "fields": {"jobTitle": "title"},
            },
        ]
    }
    eng = engine(rules)
    props = {"id": INT, "person_id": INT, "status": S, "email": S, "title": S}
    out = feed(
        eng,
        "leads",
        props,
        [
            {"id": 1, "person_id": 5, "status": "open", "email": "a@x.com", "title": "merged"},
            {"id": 2, "status": "New", "email": "b@x.com", "title": "new lead"},
            {"id": 3, "status": "open", "title": "no e-mail"},  # the list needs both conditions
        ],
    )
    ids = IdFactory("ns-test", "demo")
    people = records(out, "person")
    assert [(p["id"], p["jobTitle"]) for p in people] == [
        (ids.record_id("person", "5"), "merged"),
        (ids.record_id("person", "lead:2"), "new lead"),
    ]
    (reject,) = records(out, REJECTS)
    assert reject["reason"].startswith("the row matches none of the stream's primary outputs")
    (summary,) = records(list(eng.summary()), "_summary")
    assert (summary["read"], summary["mapped"], summary["rejected"]) == (3, 2, 1)


def test_columns_named_only_in_a_when_are_not_kept_as_custom_fields() -> None:
    rules = {
        "comms": [
            {"object": "note", "fields": {"title": "subject"}},
            {
                "object": "noteTarget",
                "key": "{id}:t",
                "when": [{"kind": "note"}, {"lookup": "t", "key": "{x}", "missing": True}],
                "fields": {"noteId": {"ref": "note", "from": "id"}},
            },
        ]
    }
    eng = engine(rules, lookups={"t": {"stream": "other", "key": "{id}", "value": "id"}})
    out = feed(
        eng,
        "comms",
        {"id": INT, "kind": S, "x": S, "subject": S, "extra": S},
        [
            {"id": 1, "kind": "Note", "x": "q", "subject": "s", "extra": "e"},
            {"id": 2, "kind": "Call", "x": "q", "subject": "s2"},
        ],
    )
    first, _ = records(out, "note")
    assert first["extra"] == "e" and "kind" not in first and "x" not in first
    (target,) = records(out, "noteTarget")  # only the row whose `when` list holds entirely
    assert target["noteId"] == first["id"]


def test_a_lookup_miss_can_render_a_template() -> None:
    rules = {
        "opps": [
            {
                "object": "opportunity",
                "fields": {
                    "stage": {
                        "from": "code",
                        "transforms": [{"lookup": {"table": "cap", "missing": "code {value}"}}],
                    }
                },
            }
        ]
    }
    eng = engine(rules, lookups={"cap": {"stream": "caps", "key": "{code}", "value": "label"}})
    feed(eng, "caps", {"code": S, "label": S}, [{"code": "W", "label": "Won"}], keys=("code",))
    out = feed(
        eng, "opps", {"id": INT, "code": S}, [{"id": 1, "code": "w"}, {"id": 2, "code": "Z"}]
    )
    assert [r["stage"] for r in records(out, "opportunity")] == ["Won", "code Z"]


def test_an_unnamed_stream_becomes_a_custom_object_with_its_label_and_creation_time() -> None:
    eng = engine({}, unmapped_streams="custom_object")
    props = {"proj_projectid": INT, "proj_code": S, "proj_name": S, "proj_createddate": S}
    out = feed(
        eng,
        "projects",
        props,
        [
            {
                "proj_projectid": 4,
                "proj_code": "P4",
                "proj_name": " Apollo ",
                "proj_createddate": "2024-03-01T10:00:00Z",
            }
        ],
        keys=("proj_projectid",),
    )
    (project,) = records(out, "project")
    assert project["name"] == "Apollo"
    assert project["createdAt"].startswith("2024-03-01T10:00:00")
    assert project["id"] == IdFactory("ns-test", "demo").record_id("project", "4")
    assert schemas(out, "project")[-1]["properties"]["name"]["x-twenty"]["type"] == "TEXT"


def test_record_ids_are_the_uuid5_of_namespace_source_object_and_key() -> None:
    from crm2twenty_mapper.ids import namespace_uuid

    ids = IdFactory("ns-test", "demo")
    for key in ("1", "lead:2", "Négociation", "中文", "1"):  # the last one from the memo
        expected = uuid.uuid5(namespace_uuid("ns-test"), f"demo:company:{key}")
        assert ids.record_id("company", key) == str(expected)
