#!/usr/bin/env python3
"""Generate a synthetic Visual Practice export, deterministically, with known planted defects.

    python examples/visualpractice/generate.py --out examples/visualpractice/export

The same arguments give the same bytes on every run and machine: everything derives from the
seed and a fixed base date (2020-01-01); nothing reads the clock, the locale or the environment.
Only the standard library is used, and only ``random.Random.random()`` (stable across CPython 3
releases for a string seed).

Besides the export folder it writes ``expected.json`` beside it: the data rows of every file,
the pipeline stages in order and, for every planted defect, its count and the ids (or lines)
involved. README.md in this folder describes the files and the defects.
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import random
from datetime import datetime, timedelta
from pathlib import Path

BASE = datetime(2020, 1, 1)
LATEST = "2025-06-30 12:00:00"  # row 1 of every file with a modified date: the newest, no defect
CLINIC = "northbridgeclinic.ca"

COUNTS = {
    "users": 8,
    "companies": 120,
    "contacts": 400,
    "deals": 150,
    "activities": 300,
    "notes": 200,
    "tasks": 120,
    "referrals": 30,
    "attachments": 20,
}
# The pipeline, in its order (as Visual Practice users set it up), with win probabilities.
# The file lists them shuffled: the order is the `Order` column, not the row order.
STAGES = [
    ("S1", "Enquiry", 1, 10),
    ("S2", "Consultation Booked", 2, 25),
    ("S3", "Assessment", 3, 40),
    ("S4", "Treatment Plan Sent", 4, 60),
    ("S5", "Negotiation", 5, 75),
    ("S6", "Won", 6, 100),
    ("S7", "Lost", 7, 0),
]
STAGE_FILE_ORDER = [3, 0, 6, 1, 5, 2, 4]  # indexes into STAGES, as written
UNKNOWN_STAGE = "On Hold"  # used by some deals, absent from pipeline_stages.csv
FIRST = [
    "Ana",
    "James",
    "Olivia",
    "Liam",
    "Emma",
    "Noah",
    "Sophie",
    "Lucas",
    "Mia",
    "Ethan",
    "Chloe",
    "Mateo",
    "Grace",
    "Oliver",
    "Isla",
    "Hugo",
    "Amelia",
    "Leo",
    "Clara",
    "Daniel",
    "Laura",
    "Thomas",
    "Hannah",
    "Julia",
    "Max",
    "Elena",
    "Samuel",
    "Alice",
    "David",
    "Marie",
]
LAST = [
    "Tremblay",
    "Gagnon",
    "Roy",
    "Cote",
    "Bouchard",
    "Gauthier",
    "Morin",
    "Lavoie",
    "Fortin",
    "Gagne",
    "Ouellet",
    "Pelletier",
    "Belanger",
    "Levesque",
    "Bergeron",
    "Leblanc",
    "Paquette",
    "Girard",
    "Simard",
    "Boucher",
    "Caron",
    "Beaulieu",
    "Cloutier",
    "Dube",
    "Poirier",
    "Fournier",
    "Lapointe",
    "Leclerc",
    "Lefebvre",
    "Smith",
]
PRACTICE = [
    "Lakeshore",
    "Riverside",
    "Maple",
    "Cedar",
    "Harbour",
    "Summit",
    "Northgate",
    "Eastview",
    "Parkdale",
    "Bayview",
    "Kingsway",
    "Oakridge",
]
KIND = [
    "Family Clinic",
    "Physiotherapy",
    "Dental Care",
    "Eye Centre",
    "Medical Group",
    "Health Partners",
    "Pediatrics",
    "Sports Medicine",
]
SPECIALTY = ["Family Medicine", "Physiotherapy", "Dentistry", "Optometry", "Pediatrics"]
CITIES = ["Toronto", "Ottawa", "Hamilton", "London", "Kingston", "Sudbury", "Windsor"]
LANGUAGES = ["English", "French", "English", "English", "Portuguese"]


class Rng:
    def __init__(self, seed: int, name: str) -> None:
        self.random = random.Random(f"visualpractice:{seed}:{name}").random

    def below(self, n: int) -> int:
        return int(self.random() * n)

    def pick(self, seq):
        return seq[self.below(len(seq))]

    def chance(self, p: float) -> bool:
        return self.random() < p


def stamp(seconds: int) -> str:
    return (BASE + timedelta(seconds=seconds)).isoformat(sep=" ")


def created_updated(rng: Rng, index: int) -> tuple[str, str]:
    if index == 0:
        return stamp(0), LATEST
    created = rng.below(1500 * 86400)
    return stamp(created), stamp(created + rng.below(120 * 86400))


def write_csv(path: Path, header, rows, *, encoding="utf-8", delimiter=",", terminator="\n"):
    with path.open("w", encoding=encoding, newline="") as handle:
        writer = csv.writer(handle, delimiter=delimiter, lineterminator=terminator)
        writer.writerow(header)
        writer.writerows(rows)


def vpl_line(cells) -> str:
    """One VPL line: every cell in double quotes (quotes doubled), comma-separated, CR-ended."""
    return ",".join('"' + str(c).replace('"', '""') + '"' for c in cells) + "\r"


def generate(out: Path, seed: int) -> dict:
    out.mkdir(parents=True, exist_ok=True)
    (out / "files").mkdir(exist_ok=True)
    for old in list(out.iterdir()) + list((out / "files").iterdir()):
        if old.is_file():
            old.unlink()
    defects: dict[str, dict] = {}
    rows: dict[str, int] = {}

    def defect(key: str, ids: list, **extra) -> None:
        defects[key] = {"count": len(ids), "ids": ids, **extra}

    # ---- users.csv (utf-8, comma) ------------------------------------------------------------
    users = []
    for i in range(COUNTS["users"]):
        first, last = FIRST[i], LAST[i]
        users.append(
            [
                f"U{i + 1}",
                f"{first.lower()}.{last.lower()}@{CLINIC}",
                first,
                last,
                "Administrator" if i == 0 else "Provider",
                "no" if i == 7 else "yes",
            ]
        )
    write_csv(
        out / "users.csv", ["User ID", "Email", "First Name", "Last Name", "Role", "Active"], users
    )
    rows["users.csv"] = len(users)
    emails = [u[1] for u in users]
    former = f"former.staff@{CLINIC}"  # owns records but is not a user of the export

    # ---- companies.vpl (cp1252, VPL) ---------------------------------------------------------
    rng = Rng(seed, "companies")
    n_companies = COUNTS["companies"]
    cycle = [10, 11, 12]  # parent of 10 is 11, of 11 is 12, of 12 is 10
    missing_parent = [20, 21]
    header = [
        "Company ID",
        "Company Name",
        "Website",
        "Specialty",
        "Phone",
        "Address",
        "City",
        "Province",
        "Postal Code",
        "Country",
        "Employees",
        "Parent Company ID",
        "Owner",
        "Date Created",
        "Last Modified",
    ]
    lines = [vpl_line(header)]
    for i in range(n_companies):
        cid = i + 1
        name = f"{PRACTICE[i % len(PRACTICE)]} {KIND[(i // len(PRACTICE)) % len(KIND)]} {cid}"
        if cid == 7:
            name = "Clinique Médicale Saint-Jérôme"  # cp1252 accents, read right or not at all
        created, updated = created_updated(rng, i)
        parent = ""
        if cid in cycle:
            parent = str(cycle[(cycle.index(cid) + 1) % 3])
        elif cid in missing_parent:
            parent = str(9000 + cid)
        elif cid > 30 and rng.chance(0.15):
            parent = str(1 + rng.below(30))
        owner = former if cid % 25 == 0 else emails[i % len(emails)]
        slug = name.lower().replace(" ", "")
        lines.append(
            vpl_line(
                [
                    cid,
                    name,
                    f"www.{slug}.ca",
                    SPECIALTY[i % 5],
                    f"(416) 555-{1000 + cid:04d}",
                    f"{10 + cid} King Street",
                    CITIES[i % len(CITIES)],
                    "ON",
                    f"M5V {cid % 10}A{cid % 7}",
                    "Canada",
                    5 + rng.below(200),
                    parent,
                    owner,
                    created,
                    updated,
                ]
            )
        )
    (out / "companies.vpl").write_bytes("".join(lines).encode("cp1252"))
    rows["companies.vpl"] = n_companies
    defect("company_parent_cycle", cycle)
    defect(
        "company_missing_parent",
        missing_parent,
        items=[{"id": c, "parent_company_id": str(9000 + c)} for c in missing_parent],
    )
    defect(
        "owner_not_a_user",
        [c for c in range(1, n_companies + 1) if c % 25 == 0],
        email=former,
        file="companies.vpl",
    )

    # ---- contacts.vpl (utf-8, VPL) -----------------------------------------------------------
    rng = Rng(seed, "contacts")
    n_contacts = COUNTS["contacts"]
    nameless = [31, 77, 150, 222, 301]
    invalid_email = [40, 90, 140, 190]
    missing_company = [55, 155, 255]
    duplicate_pairs = [[60, 61], [160, 161]]  # the second repeats the first's e-mail, other case
    extra_cell = [100, 200]  # a row with one non-empty cell too many: a tap reject
    after_quote = [250]  # text after a closing quote: the row cannot be parsed
    header = [
        "Patient ID",
        "First Name",
        "Surname",
        "E-mail",
        "Phone",
        "Mobile",
        "Title",
        "Company ID",
        "Owner",
        "City",
        "Country",
        "Preferred Language",
        "Date Created",
        "Last Modified",
    ]
    lines = [vpl_line(header)]
    bad_lines = {}
    contact_email: dict[int, str] = {}
    for i in range(n_contacts):
        pid = i + 1
        first, last = FIRST[rng.below(len(FIRST))], LAST[rng.below(len(LAST))]
        email = f"{first.lower()}.{last.lower()}{pid}@example.ca"
        if pid in invalid_email:
            email = f"{first.lower()}.{last.lower()}{pid}.example.ca"
        for a, b in duplicate_pairs:
            if pid == b:
                email = contact_email[a].upper()
        if pid in nameless:
            first = last = email = ""
        contact_email[pid] = email
        company = str(9500 + pid) if pid in missing_company else str(1 + rng.below(n_companies))
        created, updated = created_updated(rng, i)
        cells = [
            pid,
            first,
            last,
            email,
            f"416-555-{2000 + pid:04d}",
            f"647-555-{3000 + pid:04d}" if rng.chance(0.5) else "",
            rng.pick(["Patient", "Office Manager", "Referring Physician", ""]),
            company,
            emails[pid % len(emails)],
            CITIES[pid % len(CITIES)],
            "Canada",
            LANGUAGES[pid % len(LANGUAGES)],
            created,
            updated,
        ]
        line = vpl_line(cells)
        if pid in extra_cell:
            line = line[:-1] + ',"stray value"\r'
        if pid in after_quote:
            line = line.replace(f'"{first}"', f'"{first}"x', 1)
        if pid in extra_cell or pid in after_quote:
            bad_lines[pid] = i + 2  # line 1 is the header
        lines.append(line)
    (out / "contacts.vpl").write_bytes("".join(lines).encode("utf-8"))
    rows["contacts.vpl"] = n_contacts
    defect("contacts_without_name_or_email", nameless)
    defect("invalid_emails", invalid_email)
    defect("contacts_missing_company", missing_company)
    defect("duplicate_emails_other_case", duplicate_pairs)
    defect(
        "unreadable_contact_rows",
        sorted(bad_lines),
        lines=[f"contacts.vpl:{bad_lines[p]}" for p in sorted(bad_lines)],
    )
    gone_contacts = set(nameless) | set(bad_lines)

    # ---- pipeline_stages.csv -----------------------------------------------------------------
    write_csv(
        out / "pipeline_stages.csv",
        ["Stage ID", "Stage Name", "Order", "Probability"],
        [STAGES[k] for k in STAGE_FILE_ORDER],
    )
    rows["pipeline_stages.csv"] = len(STAGES)

    # ---- deals.csv (utf-8, semicolon, day-first dates) ---------------------------------------
    rng = Rng(seed, "deals")
    unknown_stage = [15, 45, 95]
    deals = []
    for i in range(COUNTS["deals"]):
        did = i + 1
        stage = UNKNOWN_STAGE if did in unknown_stage else STAGES[rng.below(len(STAGES))][1]
        close = BASE + timedelta(days=rng.below(1800))
        created, updated = created_updated(rng, i)
        deals.append(
            [
                did,
                f"Care plan {did}",
                stage,
                500 + rng.below(200) * 50,
                "CAD",
                f"{close.day:02d}/{close.month:02d}/{close.year}",
                1 + rng.below(n_companies),
                1 + rng.below(n_contacts),
                emails[did % len(emails)],
                created,
                updated,
            ]
        )
    write_csv(
        out / "deals.csv",
        [
            "Deal ID",
            "Deal Name",
            "Pipeline Stage",
            "Value",
            "Currency",
            "Expected Close",
            "Company ID",
            "Contact ID",
            "Owner",
            "Date Created",
            "Last Modified",
        ],
        deals,
        delimiter=";",
    )
    rows["deals.csv"] = len(deals)
    defect("deals_with_unknown_stage", unknown_stage, stage=UNKNOWN_STAGE)

    # ---- activities.csv (utf-8 with BOM, CRLF, multi-line notes) -----------------------------
    rng = Rng(seed, "activities")
    activities = []
    kinds = ["Call", "Email", "Meeting", "call", "E-mail", "Meeting"]
    fax = [33]
    for i in range(COUNTS["activities"]):
        aid = f"A{i + 1}"
        kind = "Fax" if i + 1 in fax else kinds[i % len(kinds)]
        start = BASE + timedelta(days=rng.below(1800), hours=8 + rng.below(9))
        minutes = {"Meeting": 60, "call": 15, "Call": 15}.get(kind, 0)
        end = start + timedelta(minutes=minutes) if minutes else None
        notes = ""
        if kind == "Meeting" and rng.chance(0.7):
            notes = (
                f"Discussed treatment options.\nNext step: follow-up in {1 + rng.below(6)} weeks."
            )
        elif kind != "Meeting" and rng.chance(0.3):
            notes = "Left a message."
        created, updated = created_updated(rng, i)
        activities.append(
            [
                aid,
                kind,
                f"{kind.capitalize()} with patient {i + 1}",
                notes,
                start.isoformat(sep=" ", timespec="minutes"),
                end.isoformat(sep=" ", timespec="minutes") if end else "",
                "Completed" if rng.chance(0.6) else "Planned",
                emails[i % len(emails)],
                1 + rng.below(n_companies),
                1 + rng.below(n_contacts) if rng.chance(0.8) else "",
                1 + rng.below(COUNTS["deals"]) if rng.chance(0.3) else "",
                created,
                updated,
            ]
        )
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(
        [
            "Activity ID",
            "Activity Type",
            "Subject",
            "Notes",
            "Start Time",
            "End Time",
            "Status",
            "Owner",
            "Company ID",
            "Contact ID",
            "Deal ID",
            "Date Created",
            "Last Modified",
        ]
    )
    writer.writerows(activities)
    (out / "activities.csv").write_bytes(buffer.getvalue().encode("utf-8-sig"))
    rows["activities.csv"] = len(activities)
    defect("activity_of_unknown_type", [f"A{i}" for i in fax], type="Fax")

    # ---- notes.csv (cp1252, comma) -----------------------------------------------------------
    rng = Rng(seed, "notes")
    notes_rows = []
    for i in range(COUNTS["notes"]):
        author = users[i % len(users)]
        email, name = author[1], f"{author[2]} {author[3]}"
        if i % 40 == 39:
            email, name = former, "Former Staff"
        created, updated = created_updated(rng, i)
        notes_rows.append(
            [
                f"N{i + 1}",
                f"Note {i + 1}",
                f"Patient called about billing — €{i}",
                email,
                name,
                1 + rng.below(n_companies) if rng.chance(0.5) else "",
                1 + rng.below(n_contacts) if rng.chance(0.7) else "",
                1 + rng.below(COUNTS["deals"]) if rng.chance(0.2) else "",
                created,
                updated,
            ]
        )
    write_csv(
        out / "notes.csv",
        [
            "Note ID",
            "Subject",
            "Body",
            "Author",
            "Author Name",
            "Company ID",
            "Contact ID",
            "Deal ID",
            "Date Created",
            "Last Modified",
        ],
        notes_rows,
        encoding="cp1252",
    )
    rows["notes.csv"] = len(notes_rows)
    defect("note_author_not_a_user", [r[0] for r in notes_rows if r[3] == former], email=former)

    # ---- tasks.csv (utf-16, tab) -------------------------------------------------------------
    rng = Rng(seed, "tasks")
    tasks = []
    for i in range(COUNTS["tasks"]):
        due = BASE + timedelta(days=rng.below(1800))
        created, updated = created_updated(rng, i)
        tasks.append(
            [
                f"T{i + 1}",
                f"Follow up {i + 1}",
                "Check results",
                rng.pick(["Open", "In Progress", "Completed"]),
                due.date().isoformat(),
                emails[i % len(emails)],
                1 + rng.below(n_companies) if rng.chance(0.5) else "",
                1 + rng.below(n_contacts) if rng.chance(0.5) else "",
                created,
                updated,
            ]
        )
    write_csv(
        out / "tasks.csv",
        [
            "Task ID",
            "Subject",
            "Description",
            "Status",
            "Due Date",
            "Assigned To",
            "Company ID",
            "Contact ID",
            "Date Created",
            "Last Modified",
        ],
        tasks,
        encoding="utf-16",
        delimiter="\t",
    )
    rows["tasks.csv"] = len(tasks)

    # ---- referrals.csv: a custom object ------------------------------------------------------
    rng = Rng(seed, "referrals")
    referrals = [
        [
            f"R{i + 1}",
            f"Referral {i + 1}",
            1 + rng.below(n_contacts),
            rng.pick(["Walk-in", "Physician", "Website"]),
            (BASE + timedelta(days=rng.below(1800))).date().isoformat(),
        ]
        for i in range(COUNTS["referrals"])
    ]
    write_csv(
        out / "referrals.csv", ["id", "name", "contact_id", "source", "referred_on"], referrals
    )
    rows["referrals.csv"] = len(referrals)

    # ---- attachments.csv and files/ ----------------------------------------------------------
    missing_file = ["ATT-5", "ATT-13"]
    attachments = []
    for i in range(COUNTS["attachments"]):
        att = f"ATT-{i + 1}"
        name = f"{att}-consent-form.txt"
        parent = ["company", "contact", "deal"][i % 3]
        if att not in missing_file:
            (out / "files" / name).write_text(f"Consent form {att}\n", encoding="utf-8")
        attachments.append(
            [att, f"files/{name}", parent, 1 + i, name, "text/plain", stamp(i * 86400)]
        )
    write_csv(
        out / "attachments.csv",
        ["id", "file_path", "parent_object", "parent_id", "file_name", "mime_type", "uploaded_at"],
        attachments,
    )
    rows["attachments.csv"] = len(attachments)
    defect("attachments_missing_file", missing_file)

    # ---- workflows.json ----------------------------------------------------------------------
    workflows = [
        {
            "id": "WF-1",
            "name": "Book a consultation after an enquiry",
            "trigger": "deal.created",
            "conditions": [{"field": "stage", "operator": "equals", "value": "Enquiry"}],
            "actions": [{"type": "create_task", "title": "Call to book", "due_in_days": 1}],
            "active": True,
        },
        {
            "id": "WF-2",
            "name": "Remind the patient of a meeting",
            "trigger": "activity.created",
            "conditions": [{"field": "type", "operator": "equals", "value": "Meeting"}],
            "actions": [{"type": "send_email", "template": "reminder", "before_hours": 24}],
            "active": True,
        },
        {
            "id": "WF-3",
            "name": "Archive lost deals",
            "trigger": "deal.updated",
            "conditions": [{"field": "stage", "operator": "equals", "value": "Lost"}],
            "actions": [{"type": "update_field", "field": "archived", "value": True}],
            "active": False,
        },
    ]
    (out / "workflows.json").write_text(json.dumps(workflows, indent=2) + "\n", encoding="utf-8")
    rows["workflows.json"] = len(workflows)

    meetings_with_notes = [a[0] for a in activities if a[1] == "Meeting" and a[3]]
    return {
        "rows": rows,
        "total": sum(rows.values()),
        "pipeline_stages": [{"name": s[1], "order": s[2], "probability": s[3]} for s in STAGES],
        "meetings_with_notes": len(meetings_with_notes),
        "workspace_members": emails[:5],
        "defects": defects,
        "generator": {
            "command": "python examples/visualpractice/generate.py --out "
            "examples/visualpractice/export",
            "seed": seed,
            "unreachable_contacts": sorted(gone_contacts),
        },
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--expected", type=Path)
    args = parser.parse_args()
    expected = generate(args.out, args.seed)
    path = args.expected or (
        args.out.parent / "expected.json"
        if args.out.name == "export"
        else args.out.with_name(args.out.name + ".expected.json")
    )
    path.write_text(json.dumps(expected, indent=2) + "\n", encoding="utf-8")
    print(f"{args.out}: {expected['total']} records; {path}")


if __name__ == "__main__":
    main()
