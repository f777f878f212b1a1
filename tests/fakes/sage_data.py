"""A Sage CRM dataset for the fake Sage server: tables, metadata and planted defects.

Table names, column prefixes, key columns, audit columns (``<prefix>_createddate``,
``_updateddate``, ``_deleted``), the e-mail and phone link tables (entity 5 = company, 13 =
person), ``Custom_Captions`` (capt_family, capt_code, capt_us) and custom entities registered with
a prefix follow docs/sources.md §1.3. Values are generated deterministically from a seed.

``DEFECTS`` lists what is planted, with ids, so tests can derive what a migration must do.
"""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass, field
from typing import Any

BASE = dt.datetime(2018, 1, 1, 8, 0, 0)


@dataclass
class Entity:
    name: str  # the table / web-service entity name
    prefix: str  # column prefix, without the underscore
    idfield: str
    fields: dict[str, str]  # column → Sage entry type
    lookups: dict[str, str] = field(default_factory=dict)  # column → entity it points at
    rows: list[dict[str, Any]] = field(default_factory=list)
    custom: bool = False


def _audit(prefix: str) -> dict[str, str]:
    return {
        f"{prefix}_createddate": "Date & Time",
        f"{prefix}_updateddate": "Date & Time",
        f"{prefix}_deleted": "Integer",
    }


def entities() -> dict[str, Entity]:
    def ent(name: str, prefix: str, idfield: str, fields: dict[str, str], **kw: Any) -> Entity:
        return Entity(name, prefix, idfield, {idfield: "Integer", **fields, **_audit(prefix)}, **kw)

    return {
        e.name.lower(): e
        for e in [
            ent(
                "Company",
                "comp",
                "comp_companyid",
                {
                    "comp_name": "Text",
                    "comp_type": "Selection",
                    "comp_website": "WWW URL",
                    "comp_sector": "Selection",
                    "comp_employees": "Selection",
                    "comp_revenue": "Currency",
                    "comp_primaryuserid": "User Select",
                    "comp_primarypersonid": "Search Select Advanced",
                    "comp_primaryaddressid": "Integer",
                },
                lookups={"comp_primarypersonid": "Person"},
            ),
            ent(
                "Person",
                "pers",
                "pers_personid",
                {
                    "pers_salutation": "Selection",
                    "pers_firstname": "Text",
                    "pers_lastname": "Text",
                    "pers_title": "Text",
                    "pers_companyid": "Search Select Advanced",
                    "pers_primaryuserid": "User Select",
                    "pers_primaryaddressid": "Integer",
                },
                lookups={"pers_companyid": "Company"},
            ),
            ent(
                "Address",
                "addr",
                "addr_addressid",
                {
                    "addr_address1": "Text",
                    "addr_address2": "Text",
                    "addr_city": "Text",
                    "addr_state": "Text",
                    "addr_postcode": "Text",
                    "addr_country": "Selection",
                },
            ),
            ent(
                "Address_Link",
                "adli",
                "adli_addresslinkid",
                {
                    "adli_addressid": "Integer",
                    "adli_companyid": "Integer",
                    "adli_personid": "Integer",
                    "adli_type": "Selection",
                },
            ),
            ent(
                "Email",
                "emai",
                "emai_emailid",
                {"emai_emailaddress": "Email Address", "emai_type": "Selection"},
            ),
            ent(
                "EmailLink",
                "elink",
                "elink_linkid",
                {
                    "elink_emailid": "Integer",
                    "elink_entityid": "Integer",
                    "elink_recordid": "Integer",
                    "elink_type": "Selection",
                },
            ),
            ent(
                "Phone",
                "phon",
                "phon_phoneid",
                {
                    "phon_countrycode": "Text",
                    "phon_areacode": "Text",
                    "phon_number": "Text",
                    "phon_type": "Selection",
                },
            ),
            ent(
                "PhoneLink",
                "plink",
                "plink_linkid",
                {
                    "plink_phoneid": "Integer",
                    "plink_entityid": "Integer",
                    "plink_recordid": "Integer",
                    "plink_type": "Selection",
                },
            ),
            ent(
                "Lead",
                "lead",
                "lead_leadid",
                {
                    "lead_companyname": "Text",
                    "lead_companywebsite": "WWW URL",
                    "lead_personfirstname": "Text",
                    "lead_personlastname": "Text",
                    "lead_personemail": "Email Address",
                    "lead_personphonenumber": "Text",
                    "lead_description": "Text",
                    "lead_details": "Multiline Text",
                    "lead_stage": "Selection",
                    "lead_status": "Selection",
                    "lead_source": "Selection",
                    "lead_rating": "Selection",
                    "lead_assigneduserid": "User Select",
                },
            ),
            ent(
                "Opportunity",
                "oppo",
                "oppo_opportunityid",
                {
                    "oppo_description": "Text",
                    "oppo_type": "Selection",
                    "oppo_stage": "Selection",
                    "oppo_status": "Selection",
                    "oppo_forecast": "Currency",
                    "oppo_certainty": "Integer",
                    "oppo_targetclose": "Date & Time",
                    "oppo_primarycompanyid": "Search Select Advanced",
                    "oppo_primarypersonid": "Search Select Advanced",
                    "oppo_assigneduserid": "User Select",
                },
                lookups={"oppo_primarycompanyid": "Company", "oppo_primarypersonid": "Person"},
            ),
            ent(
                "Cases",
                "case",
                "case_caseid",
                {
                    "case_description": "Text",
                    "case_problemnote": "Multiline Text",
                    "case_solutionnote": "Multiline Text",
                    "case_severity": "Selection",
                    "case_status": "Selection",
                    "case_opened": "Date & Time",
                    "case_closed": "Date & Time",
                    "case_primarycompanyid": "Search Select Advanced",
                    "case_primarypersonid": "Search Select Advanced",
                    "case_assigneduserid": "User Select",
                },
                lookups={"case_primarycompanyid": "Company", "case_primarypersonid": "Person"},
            ),
            ent(
                "Communication",
                "comm",
                "comm_communicationid",
                {
                    "comm_type": "Selection",
                    "comm_action": "Selection",
                    "comm_subject": "Text",
                    "comm_note": "Multiline Text",
                    "comm_datetime": "Date & Time",
                    "comm_todatetime": "Date & Time",
                    "comm_status": "Selection",
                    "comm_opportunityid": "Search Select Advanced",
                    "comm_caseid": "Search Select Advanced",
                },
                lookups={"comm_opportunityid": "Opportunity", "comm_caseid": "Cases"},
            ),
            ent(
                "Comm_Link",
                "cmli",
                "cmli_commlinkid",
                {
                    "cmli_comm_communicationid": "Integer",
                    "cmli_comm_personid": "Integer",
                    "cmli_comm_companyid": "Integer",
                    "cmli_comm_userid": "User Select",
                },
            ),
            ent(
                "Notes",
                "note",
                "note_noteid",
                {
                    "note_note": "Multiline Text",
                    "note_foreigntableid": "Integer",
                    "note_foreignid": "Integer",
                },
            ),
            ent(
                "Library",
                "libr",
                "libr_libraryid",
                {
                    "libr_filename": "Text",
                    "libr_filepath": "Text",
                    "libr_note": "Text",
                    "libr_type": "Selection",
                    "libr_companyid": "Integer",
                    "libr_personid": "Integer",
                    "libr_opportunityid": "Integer",
                    "libr_caseid": "Integer",
                },
            ),
            ent(
                "Users",
                "user",
                "user_userid",
                {
                    "user_logon": "Text",
                    "user_firstname": "Text",
                    "user_lastname": "Text",
                    "user_emailaddress": "Email Address",
                    "user_disabled": "Checkbox",
                },
            ),
            ent(
                "Custom_Captions",
                "capt",
                "capt_captionid",
                {"capt_family": "Text", "capt_code": "Text", "capt_us": "Text"},
            ),
            ent(
                "Project",
                "proj",
                "proj_projectid",
                {
                    "proj_name": "Text",
                    "proj_status": "Selection",
                    "proj_budget": "Currency",
                    "proj_startdate": "Date Only",
                    "proj_companyid": "Search Select Advanced",
                    "proj_personid": "Search Select Advanced",
                },
                lookups={"proj_companyid": "Company", "proj_personid": "Person"},
                custom=True,
            ),
            # Exposed to web services only where an admin allowed it (FakeSage(hidden=…) hides it).
            ent(
                "WorkflowRule",
                "wkrl",
                "wkrl_ruleid",
                {
                    "wkrl_caption": "Text",
                    "wkrl_table": "Text",
                    "wkrl_ruletype": "Selection",
                    "wkrl_conditions": "Multiline Text",
                    "wkrl_actions": "Multiline Text",
                    "wkrl_enabled": "Checkbox",
                },
            ),
        ]
    }


FIRST = [
    "Ana",
    "Bob",
    "Carla",
    "David",
    "Eve",
    "Frank",
    "Gina",
    "Hugo",
    "Iris",
    "Jon",
    "Kate",
    "Lars",
    "Mona",
    "Nils",
    "Olga",
    "Paul",
    "Rita",
    "Sven",
    "Tina",
    "Uwe",
    "Zoë",
]
LAST = [
    "Ruiz",
    "Smith",
    "Meyer",
    "Dupont",
    "Rossi",
    "Novak",
    "Khan",
    "Brown",
    "Silva",
    "Lee",
    "Olsen",
    "García",
]
STAGES = [
    ("Lead", "Lead"),
    ("Qualified", "Qualified"),
    ("Proposal", "Proposal Submitted"),
    ("Negotiating", "Negotiating"),
    ("Closed", "Closed"),
]
DEFECTS: dict[str, Any] = {}


def _when(rng: random.Random) -> str:
    return (BASE + dt.timedelta(days=rng.randrange(2000), minutes=rng.randrange(1440))).strftime(
        "%Y-%m-%d %H:%M:%S"
    )


def build(seed: int = 11, scale: float = 1.0) -> dict[str, Entity]:
    """The dataset; ``DEFECTS`` is filled as a side effect."""
    rng = random.Random(seed)
    ents = entities()
    n = {
        k: max(5, round(v * scale))
        for k, v in {
            "company": 300,
            "person": 900,
            "lead": 200,
            "opportunity": 400,
            "cases": 200,
            "communication": 800,
            "notes": 300,
            "library": 60,
            "users": 15,
            "project": 50,
        }.items()
    }

    def add(entity: str, row: dict[str, Any]) -> dict[str, Any]:
        e = ents[entity]
        created = _when(rng)
        full: dict[str, Any] = {c: None for c in e.fields}
        full.update(
            {
                f"{e.prefix}_createddate": created,
                f"{e.prefix}_updateddate": created,
                f"{e.prefix}_deleted": None,
                **row,
            }
        )
        e.rows.append(full)
        return full

    for i in range(1, n["users"] + 1):
        add(
            "users",
            {
                "user_userid": i,
                "user_logon": f"user{i}",
                "user_firstname": FIRST[i % len(FIRST)],
                "user_lastname": LAST[i % len(LAST)],
                "user_emailaddress": f"user{i}@sage-firm.example",
                "user_disabled": "Y" if i == n["users"] else None,
            },
        )
    caption_id = 0
    for family, codes in (
        ("oppo_stage", STAGES),
        (
            "comp_type",
            [("Customer", "Customer"), ("Prospect", "Prospect"), ("Supplier", "Supplier")],
        ),
        ("case_severity", [("Low", "Low"), ("Medium", "Medium"), ("High", "High")]),
    ):
        for code, text in codes:
            caption_id += 1
            add(
                "custom_captions",
                {
                    "capt_captionid": caption_id,
                    "capt_family": family,
                    "capt_code": code,
                    "capt_us": text,
                },
            )
    email_id = link_id = phone_id = plink_id = 0

    def email(entity_id: int, record: int, address: str) -> None:
        nonlocal email_id, link_id
        email_id += 1
        link_id += 1
        add(
            "email",
            {"emai_emailid": email_id, "emai_emailaddress": address, "emai_type": "Business"},
        )
        add(
            "emaillink",
            {
                "elink_linkid": link_id,
                "elink_emailid": email_id,
                "elink_entityid": entity_id,
                "elink_recordid": record,
                "elink_type": "Business",
            },
        )

    def phone(entity_id: int, record: int) -> None:
        nonlocal phone_id, plink_id
        phone_id += 1
        plink_id += 1
        add(
            "phone",
            {
                "phon_phoneid": phone_id,
                "phon_countrycode": "44",
                "phon_areacode": "20",
                "phon_number": f"7946 {rng.randrange(10000):04d}",
                "phon_type": "Business",
            },
        )
        add(
            "phonelink",
            {
                "plink_linkid": plink_id,
                "plink_phoneid": phone_id,
                "plink_entityid": entity_id,
                "plink_recordid": record,
                "plink_type": "Business",
            },
        )

    for i in range(1, n["company"] + 1):
        add(
            "company",
            {
                "comp_companyid": i,
                "comp_name": f"Sage Client {i} Ltd",
                "comp_type": rng.choice(["Customer", "Prospect", "Supplier"]),
                "comp_website": f"www.client{i}.example",
                "comp_sector": rng.choice(["Finance", "Retail", "Legal"]),
                "comp_employees": rng.choice(["1-10", "11-50", "51-200"]),
                "comp_revenue": rng.randrange(10_000, 9_000_000),
                "comp_primaryuserid": rng.randrange(1, n["users"] + 1),
            },
        )
        email(5, i, f"info@client{i}.example")
        if i % 3:
            phone(5, i)
        add(
            "address",
            {
                "addr_addressid": i,
                "addr_address1": f"{i} High Street",
                "addr_city": "London",
                "addr_postcode": "EC1A 1BB",
                "addr_country": "United Kingdom",
            },
        )
        add(
            "address_link",
            {
                "adli_addresslinkid": i,
                "adli_addressid": i,
                "adli_companyid": i,
                "adli_type": "Business",
            },
        )
    no_company, deleted_person = 17, 33
    for i in range(1, n["person"] + 1):
        company = None if i == no_company else rng.randrange(1, n["company"] + 1)
        add(
            "person",
            {
                "pers_personid": i,
                "pers_firstname": rng.choice(FIRST),
                "pers_lastname": rng.choice(LAST),
                "pers_title": "Manager",
                "pers_companyid": company,
                "pers_primaryuserid": rng.randrange(1, n["users"] + 1),
                "pers_deleted": 1 if i == deleted_person else None,
            },
        )
        email(13, i, f"person{i}@mail.example")
        if i % 4 == 0:
            email(13, i, f"person{i}.alt@mail.example")
        if i % 2:
            phone(13, i)
    shared = 5  # a lead whose e-mail is person 5's
    for i in range(1, n["lead"] + 1):
        add(
            "lead",
            {
                "lead_leadid": i,
                "lead_companyname": f"Sage Client {i} Ltd" if i % 2 else f"New Prospect {i}",
                "lead_personfirstname": rng.choice(FIRST),
                "lead_personlastname": rng.choice(LAST),
                "lead_personemail": f"person{shared}@mail.example"
                if i == 1
                else f"lead{i}@prospect.example",
                "lead_stage": "NewLead",
                "lead_status": rng.choice(["In Progress", "Closed"]),
                "lead_source": rng.choice(["Web", "Referral", "Event"]),
                "lead_rating": rng.choice(["Hot", "Warm", "Cold"]),
                "lead_assigneduserid": rng.randrange(1, n["users"] + 1),
            },
        )
    unknown_stage = 7
    for i in range(1, n["opportunity"] + 1):
        add(
            "opportunity",
            {
                "oppo_opportunityid": i,
                "oppo_description": f"Deal {i}",
                "oppo_stage": "Won8" if i == unknown_stage else rng.choice(STAGES)[0],
                "oppo_status": rng.choice(["In Progress", "Won", "Lost"]),
                "oppo_forecast": rng.randrange(1000, 500_000),
                "oppo_certainty": rng.choice([10, 25, 50, 75, 90]),
                "oppo_targetclose": _when(rng),
                "oppo_primarycompanyid": rng.randrange(1, n["company"] + 1),
                "oppo_primarypersonid": rng.randrange(1, n["person"] + 1),
                "oppo_assigneduserid": rng.randrange(1, n["users"] + 1),
            },
        )
    for i in range(1, n["cases"] + 1):
        add(
            "cases",
            {
                "case_caseid": i,
                "case_description": f"Case {i}",
                "case_problemnote": "Printer on fire",
                "case_solutionnote": "Extinguished" if i % 2 else None,
                "case_severity": rng.choice(["Low", "Medium", "High"]),
                "case_status": rng.choice(["In Progress", "Closed"]),
                "case_opened": _when(rng),
                "case_primarycompanyid": rng.randrange(1, n["company"] + 1),
                "case_primarypersonid": rng.randrange(1, n["person"] + 1),
                "case_assigneduserid": rng.randrange(1, n["users"] + 1),
            },
        )
    cmli = 0
    for i in range(1, n["communication"] + 1):
        action = rng.choice(["PhoneOut", "PhoneIn", "EmailOut", "EmailIn", "Meeting", "Note"])
        start = _when(rng)
        add(
            "communication",
            {
                "comm_communicationid": i,
                "comm_type": "Task" if action.startswith("Phone") else "Appointment",
                "comm_action": action,
                "comm_subject": f"{action} {i}",
                "comm_note": f"Discussed item {i}",
                "comm_datetime": start,
                "comm_todatetime": start,
                "comm_status": "Complete",
                "comm_opportunityid": rng.randrange(1, n["opportunity"] + 1)
                if i % 5 == 0
                else None,
                "comm_caseid": rng.randrange(1, n["cases"] + 1) if i % 7 == 0 else None,
            },
        )
        person = deleted_person if i == 9 else rng.randrange(1, n["person"] + 1)
        cmli += 1
        add(
            "comm_link",
            {
                "cmli_commlinkid": cmli,
                "cmli_comm_communicationid": i,
                "cmli_comm_personid": person,
                "cmli_comm_userid": rng.randrange(1, n["users"] + 1),
            },
        )
        if i % 2:
            cmli += 1
            add(
                "comm_link",
                {
                    "cmli_commlinkid": cmli,
                    "cmli_comm_communicationid": i,
                    "cmli_comm_companyid": rng.randrange(1, n["company"] + 1),
                },
            )
    for i in range(1, n["notes"] + 1):
        table = rng.choice([5, 13])
        add(
            "notes",
            {
                "note_noteid": i,
                "note_note": f"A note {i}\nwith two lines",
                "note_foreigntableid": table,
                "note_foreignid": rng.randrange(
                    1, (n["company"] if table == 5 else n["person"]) + 1
                ),
            },
        )
    for i in range(1, n["library"] + 1):
        add(
            "library",
            {
                "libr_libraryid": i,
                "libr_filename": f"doc{i}.txt",
                "libr_filepath": f"Company/{i}",
                "libr_type": "Document",
                "libr_companyid": rng.randrange(1, n["company"] + 1),
            },
        )
    for i in range(1, n["project"] + 1):
        add(
            "project",
            {
                "proj_projectid": i,
                "proj_name": f"Project {i}",
                "proj_status": rng.choice(["Active", "Done"]),
                "proj_budget": rng.randrange(1000, 90000),
                "proj_startdate": _when(rng)[:10],
                "proj_companyid": rng.randrange(1, n["company"] + 1),
                "proj_personid": rng.randrange(1, n["person"] + 1),
            },
        )
    for i, (caption, rule_table, kind) in enumerate(
        [
            ("Open opportunity", "Opportunity", "Primary"),
            ("Escalate overdue case", "Cases", "Escalation"),
            ("Qualify lead", "Lead", "Transition"),
        ],
        start=1,
    ):
        add(
            "workflowrule",
            {
                "wkrl_ruleid": i,
                "wkrl_caption": caption,
                "wkrl_table": rule_table,
                "wkrl_ruletype": kind,
                "wkrl_enabled": "Y",
                "wkrl_conditions": "oppo_stage='Lead'" if i == 1 else None,
                "wkrl_actions": "Set column; Send e-mail",
            },
        )
    DEFECTS.clear()
    DEFECTS.update(
        {
            "person_without_company": no_company,
            "deleted_person": deleted_person,
            "comm_linked_to_deleted_person": 9,
            "lead_sharing_person_email": {"lead": 1, "person": shared},
            "unknown_stage": {"opportunity": unknown_stage, "code": "Won8"},
            "counts": {name: len(e.rows) for name, e in ents.items()},
        }
    )
    return ents
