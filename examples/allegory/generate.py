#!/usr/bin/env python3
"""Generate a synthetic Allegory CRM export, deterministically, with known planted defects.

    python examples/allegory/generate.py --out examples/allegory/export       # the sample
    python examples/allegory/generate.py --out /tmp/big --total 1000000 --no-files  # a benchmark
    python examples/allegory/generate.py --out /tmp/half --scale 0.5                # half size

The same arguments give the same bytes on every run and machine: everything derives from the seed
and a fixed base date (2019-01-01); nothing reads the clock, the locale or the environment. Only
the standard library is used, and only ``random.Random.random()`` (Mersenne Twister seeded from a
string, stable across CPython 3 releases) — no Faker, whose data changes between versions.

Besides the export folder it writes ``expected.json`` beside it (``<folder>.expected.json`` when
the folder is not called ``export``): the row count of every file and, for every planted defect,
its count and the ids involved. See README.md in this folder for the defects.

Rows are streamed to disk; memory stays flat whatever ``--total`` is (only the planted defects,
a fixed few hundred ids, are held).
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import os
import random
import struct
import sys
import zipfile
import zlib
from concurrent.futures import ProcessPoolExecutor
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

BASE = datetime(2019, 1, 1)  # every date is an offset from here
CREATED_SPAN = 2000 * 86400  # created_at falls in 2019-01-01 .. 2024-06-23
UPDATED_SPAN = 300 * 86400  # updated_at at most 300 days later: before LATEST

# Rows per file in the bundled sample; --scale / --total scale all of them (workflows.json
# stays at 5).
BASE_COUNTS = {
    "companies": 500,
    "contacts": 2000,
    "deals": 800,
    "tasks": 1500,
    "notes": 1500,
    "users": 20,
    "matters": 120,
    "matters__contacts": 300,
    "attachments": 100,
}
WORKFLOWS = 5
# The fewest rows each file needs to hold its planted defects (used when --total is small).
MINIMUM = {
    "companies": 40,
    "contacts": 250,
    "deals": 40,
    "tasks": 60,
    "notes": 40,
    "users": 20,
    "matters": 10,
    "matters__contacts": 20,
    "attachments": 20,
}
# Ids are plain row numbers (1, 2, ...), as many CRMs export them, so the same id appears in
# several files; matters, attachments and workflows carry a prefix.
ID_PREFIX = {
    "companies": "",
    "contacts": "",
    "deals": "",
    "tasks": "",
    "notes": "",
    "users": "",
    "matters": "M",
    "attachments": "ATT-",
    "workflows": "WF-",
}
# The first row of every file with an updated_at column is its most recently updated one, and is
# free of defects (so a delta run's re-read of the bookmark row repairs nothing).
LATEST = "2025-06-30 12:00:00"
RESERVED = 12  # the first rows of each file carry no random defect

FIRM = "Harrowgate & Finch LLP"  # the Allegory customer: a law firm (hence "matters")
FIRM_DOMAIN = "harrowgatefinch.com"


def ident(stream: str, index: int) -> str:
    """The id of row ``index`` (0-based) of ``stream``: ``"1"``, ``"M1"``, ``"ATT-1"``."""
    return f"{ID_PREFIX[stream]}{index + 1}"


# ----------------------------------------------------------------------------------------------
# Randomness


class Rng:
    """A seeded stream of choices. Uses only ``random()``, whose sequence for a given seed has
    not changed across CPython 3 releases (``choice``/``sample`` internals have)."""

    def __init__(self, seed: int, name: str) -> None:
        self.random = random.Random(f"allegory:{seed}:{name}").random

    def below(self, n: int) -> int:
        return int(self.random() * n)

    def between(self, lo: int, hi: int) -> int:
        return lo + int(self.random() * (hi - lo + 1))

    def pick(self, seq):
        return seq[int(self.random() * len(seq))]

    def chance(self, p: float) -> bool:
        return self.random() < p

    def weighted(self, table):
        """``table`` is a list of (cumulative weight, value) ending at 1.0."""
        x = self.random()
        for edge, value in table:
            if x < edge:
                return value
        return table[-1][1]


def cumulative(pairs) -> list:
    total = sum(w for w, _ in pairs)
    acc, out = 0.0, []
    for w, v in pairs:
        acc += w / total
        out.append((acc, v))
    return out


def mix(x: int) -> int:
    """A fixed 32-bit integer hash: attributes that other files must agree on (a company's
    domain, a contact's e-mail) are pure functions of the row index, not of a random stream."""
    x &= 0xFFFFFFFF
    x = ((x >> 16) ^ x) * 0x45D9F3B & 0xFFFFFFFF
    x = ((x >> 16) ^ x) * 0x45D9F3B & 0xFFFFFFFF
    return (x >> 16) ^ x


def stamp(seconds: int) -> str:
    return (BASE + timedelta(seconds=seconds)).isoformat(sep=" ")


def day_first(seconds: int) -> tuple[str, int]:
    d = BASE + timedelta(seconds=seconds)
    return f"{d.day:02d}/{d.month:02d}/{d.year}", d.day


# ----------------------------------------------------------------------------------------------
# Vocabulary (ASCII only: every non-ASCII value in the export is a planted one)

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
    "Pablo",
    "Julia",
    "Max",
    "Elena",
    "Samuel",
    "Alice",
    "David",
    "Marie",
    "Felix",
    "Sara",
    "Louis",
    "Nina",
    "Adam",
    "Lea",
    "Carlos",
    "Emily",
    "Jonas",
    "Lucia",
    "Henry",
    "Paula",
    "Oscar",
    "Ruby",
    "Diego",
    "Anna",
    "Arthur",
    "Ella",
    "Marco",
    "Chiara",
    "Ben",
    "Ines",
    "Jack",
    "Camille",
    "Martin",
    "Freya",
    "Paul",
    "Maya",
    "Victor",
    "Rosa",
    "Simon",
    "Eva",
    "George",
]
LAST = [
    "Ruiz",
    "Smith",
    "Johnson",
    "Brown",
    "Taylor",
    "Wilson",
    "Davies",
    "Evans",
    "Thomas",
    "Martin",
    "Bernard",
    "Dubois",
    "Durand",
    "Leroy",
    "Moreau",
    "Laurent",
    "Simon",
    "Michel",
    "Garcia",
    "Lopez",
    "Martinez",
    "Sanchez",
    "Perez",
    "Gomez",
    "Fernandez",
    "Torres",
    "Schmidt",
    "Schneider",
    "Fischer",
    "Weber",
    "Meyer",
    "Wagner",
    "Becker",
    "Hoffmann",
    "Koch",
    "Richter",
    "Klein",
    "Wolf",
    "Walker",
    "Wright",
    "Robinson",
    "Thompson",
    "White",
    "Hughes",
    "Edwards",
    "Green",
    "Hall",
    "Wood",
    "Harris",
    "Clarke",
    "Jackson",
    "Lewis",
    "Morgan",
    "Bennett",
    "Carter",
    "Mitchell",
    "Turner",
    "Cooper",
    "Ward",
    "Morris",
    "King",
    "Baker",
    "Price",
    "Bell",
]
ADJ = [
    "Brightwater",
    "Northwind",
    "Bluepeak",
    "Silverline",
    "Redwood",
    "Ironbridge",
    "Clearview",
    "Goldcrest",
    "Greenfield",
    "Highgate",
    "Oakridge",
    "Stonebrook",
    "Westhaven",
    "Eastlake",
    "Summit",
    "Harbor",
    "Pinecrest",
    "Riverside",
    "Copperleaf",
    "Lighthouse",
    "Evergreen",
    "Blackstone",
    "Whitestone",
    "Crestview",
    "Fairmont",
    "Maple",
    "Cedar",
    "Granite",
    "Sterling",
    "Horizon",
    "Meridian",
    "Vanguard",
    "Pioneer",
    "Keystone",
    "Beacon",
    "Atlas",
    "Orion",
    "Polaris",
    "Zenith",
    "Apex",
    "Nimbus",
    "Quantum",
    "Vertex",
    "Sapphire",
    "Emerald",
    "Cobalt",
    "Falcon",
    "Kestrel",
    "Osprey",
    "Lantern",
]
NOUN = [
    "Analytics",
    "Logistics",
    "Systems",
    "Labs",
    "Partners",
    "Holdings",
    "Foods",
    "Energy",
    "Media",
    "Health",
    "Robotics",
    "Capital",
    "Software",
    "Materials",
    "Textiles",
    "Motors",
    "Pharma",
    "Networks",
    "Studios",
    "Consulting",
    "Freight",
    "Brewing",
    "Design",
    "Security",
    "Telecom",
    "Instruments",
    "Chemicals",
    "Aerospace",
    "Retail",
    "Ventures",
    "Insurance",
    "Properties",
    "Dynamics",
    "Solutions",
    "Technologies",
    "Biotech",
    "Marine",
    "Foundry",
    "Outfitters",
    "Publishing",
    "Apparel",
    "Optics",
    "Devices",
    "Data",
    "Clinics",
    "Farms",
    "Mobility",
    "Interiors",
]
INDUSTRIES = [
    "Software",
    "Financial Services",
    "Manufacturing",
    "Healthcare",
    "Retail",
    "Logistics",
    "Energy",
    "Real Estate",
    "Media",
    "Education",
    "Hospitality",
    "Professional Services",
]
COLOURS = ["Blue", "Green", "Red", "Purple", "Orange", "Yellow", "Black", "Teal", ""]
JOB_TITLES = [
    "CEO",
    "CFO",
    "General Counsel",
    "Head of Legal",
    "Operations Director",
    "Procurement Manager",
    "HR Director",
    "Finance Manager",
    "Founder",
    "CTO",
    "Office Manager",
    "Legal Counsel",
    "Managing Director",
    "Head of Compliance",
    "Company Secretary",
    "VP Sales",
    "Marketing Manager",
    "Account Manager",
]
USER_ROLES = [
    "Partner",
    "Partner",
    "Senior Associate",
    "Associate",
    "Associate",
    "Paralegal",
    "Business Development",
    "Practice Manager",
]
PRACTICE = [
    "Litigation",
    "Corporate / M&A",
    "Employment",
    "Intellectual Property",
    "Real Estate",
    "Tax",
    "Regulatory",
    "Commercial Contracts",
]
MATTER_KIND = {
    "Litigation": "Dispute",
    "Corporate / M&A": "Acquisition",
    "Employment": "Tribunal claim",
    "Intellectual Property": "Trademark portfolio",
    "Real Estate": "Office lease",
    "Tax": "VAT review",
    "Regulatory": "GDPR audit",
    "Commercial Contracts": "Supplier agreements",
}
DEAL_WHAT = [
    "Annual retainer",
    "Litigation support",
    "Contract review package",
    "M&A due diligence",
    "Employment advisory",
    "Trademark filing",
    "Lease renegotiation",
    "Compliance audit",
    "Fixed-fee onboarding",
    "Regulatory opinion",
]
STAGES = cumulative(
    [
        (20, "Lead"),
        (18, "Qualified"),
        (15, "Proposal"),
        (12, "Negotiation"),
        (15, "Closed Won"),
        (12, "Closed Lost"),
        (8, "On Hold"),
    ]
)
PROBABILITY = {
    "Lead": 10,
    "Qualified": 25,
    "Proposal": 50,
    "Negotiation": 70,
    "Closed Won": 100,
    "Closed Lost": 0,
    "On Hold": 20,
}
LEAD_SOURCES = ["Referral", "Referral", "Website", "Event", "Existing client", "Cold outreach", ""]
PRIORITIES = ["High", "Normal", "Normal", "Normal", "Low"]
VISIBILITY = ["Team", "Team", "Team", "Private"]
TASK_STATUS = cumulative([(45, "Open"), (20, "In Progress"), (35, "Completed")])
TASK_TITLES = [
    "Follow up on proposal",
    "Call back about renewal",
    "Send engagement letter",
    "Prepare board pack",
    "Review draft contract",
    "Schedule kick-off meeting",
    "Chase unpaid invoice",
    "Update conflict check",
    "Book site visit",
    "Send fee estimate",
    "Collect KYC documents",
    "Circulate meeting minutes",
]
TASK_BODIES = [
    "",
    "",
    "Client asked for a short summary first.",
    "Check with finance before sending, then copy the partner.",
    "Use the new template.",
    "Two options to present: fixed fee or hourly.",
    "Waiting on their procurement team, chase again next week.",
    "Bring the signed NDA and the latest draft, both printed.",
]
NOTE_TITLES = [
    "Call summary",
    "Meeting notes",
    "Intro call",
    "Quarterly review",
    "",
    "",
    "Pricing discussion",
    "Kick-off",
    "Site visit",
]
NOTE_OPENERS = [
    "Spoke with the client about next steps.",
    "Good meeting, positive tone overall.",
    "Intro call went well.",
    "Reviewed the open items together.",
    "They are comparing us with two other firms.",
    "Short call, mostly logistics.",
]
NOTE_POINTS = [
    "- budget confirmed for this year",
    "- decision expected next month",
    "- wants a fixed-fee option",
    "- legal team is two people",
    "- send the revised draft by Friday",
    "- introduce our employment partner",
    "- concerns about response times",
    "- renewal due in Q3",
]
PERSONAL_DOMAINS = ["gmail.com", "outlook.com", "hotmail.co.uk", "orange.fr", "web.de"]
SECOND_DOMAINS = ["yahoo.com", "icloud.com", "proton.me"]  # never used for primaries

# Per country: weight, country name, currency, company TLD, legal suffixes, cities (city, state,
# postal prefix), streets, phone and mobile formatters.
COUNTRY: dict[str, dict[str, Any]] = {
    "US": dict(
        weight=40,
        name="United States",
        currency="USD",
        tld=".com",
        legal=["Inc.", "LLC", "Corp."],
        cities=[
            ("San Francisco", "CA", "941"),
            ("New York", "NY", "100"),
            ("Chicago", "IL", "606"),
            ("Austin", "TX", "787"),
            ("Boston", "MA", "021"),
            ("Seattle", "WA", "981"),
        ],
        streets=[
            "Market Street",
            "Main Street",
            "Broadway",
            "Oak Avenue",
            "Pine Street",
            "Congress Avenue",
        ],
    ),
    "GB": dict(
        weight=22,
        name="United Kingdom",
        currency="GBP",
        tld=".co.uk",
        legal=["Ltd", "Ltd", "plc", "LLP"],
        cities=[
            ("London", "England", "EC1A"),
            ("Manchester", "England", "M1"),
            ("Edinburgh", "Scotland", "EH1"),
            ("Bristol", "England", "BS1"),
        ],
        streets=["High Street", "Station Road", "Victoria Road", "Church Lane", "Kings Road"],
    ),
    "FR": dict(
        weight=14,
        name="France",
        currency="EUR",
        tld=".fr",
        legal=["SAS", "SARL", "SA"],
        cities=[
            ("Paris", "Ile-de-France", "750"),
            ("Lyon", "Auvergne-Rhone-Alpes", "6900"),
            ("Marseille", "Provence-Alpes-Cote d'Azur", "1300"),
            ("Bordeaux", "Nouvelle-Aquitaine", "3300"),
        ],
        streets=[
            "rue de Rivoli",
            "boulevard Haussmann",
            "avenue Victor Hugo",
            "rue de la Republique",
            "quai des Chartrons",
        ],
    ),
    "DE": dict(
        weight=14,
        name="Germany",
        currency="EUR",
        tld=".de",
        legal=["GmbH", "AG", "KG"],
        cities=[
            ("Berlin", "Berlin", "101"),
            ("Munich", "Bavaria", "803"),
            ("Hamburg", "Hamburg", "200"),
            ("Frankfurt", "Hesse", "603"),
        ],
        streets=[
            "Friedrichstrasse",
            "Hauptstrasse",
            "Bahnhofstrasse",
            "Schillerstrasse",
            "Goethestrasse",
        ],
    ),
    "ES": dict(
        weight=10,
        name="Spain",
        currency="EUR",
        tld=".es",
        legal=["S.L.", "S.A."],
        cities=[
            ("Madrid", "Madrid", "280"),
            ("Barcelona", "Catalonia", "080"),
            ("Valencia", "Valencia", "460"),
            ("Seville", "Andalusia", "410"),
        ],
        streets=[
            "Calle de Alcala",
            "Gran Via",
            "Paseo de Gracia",
            "Calle Mayor",
            "Avenida Diagonal",
        ],
    ),
    # Weight 0: only the planted company "Zoë & Søren ApS" is Danish.
    "DK": dict(
        weight=0,
        name="Denmark",
        currency="DKK",
        tld=".dk",
        legal=["ApS"],
        cities=[("Copenhagen", "Capital Region", "10")],
        streets=["Vesterbrogade"],
    ),
}
COUNTRY_KEYS = list(COUNTRY)
_COUNTRY_BY_PERCENT = [k for k in COUNTRY_KEYS for _ in range(COUNTRY[k]["weight"])]
assert len(_COUNTRY_BY_PERCENT) == 100


def phone(r: Rng, country: str, mobile: bool = False) -> str:
    """A phone number in the country's usual written forms (national and international)."""
    d = r.below
    if country == "US":
        area = r.pick(["415", "212", "312", "512", "617", "206"])
        if mobile or r.chance(0.7):
            return f"({area}) 555-{d(10000):04d}"
        return f"+1 {area} 555 {d(10000):04d}"
    if country == "GB":
        if mobile:
            return f"07700 900{d(1000):03d}"
        return f"+44 20 7946 0{d(1000):03d}" if r.chance(0.6) else f"020 7946 0{d(1000):03d}"
    if country == "FR":
        if mobile:
            return f"0{r.pick('67')} {d(100):02d} {d(100):02d} {d(100):02d} {d(100):02d}"
        if r.chance(0.6):
            return f"01 {d(100):02d} {d(100):02d} {d(100):02d} {d(100):02d}"
        return f"+33 1 {d(100):02d} {d(100):02d} {d(100):02d} {d(100):02d}"
    if country == "DE":
        if mobile:
            return f"+49 151 {d(10000):04d} {d(10000):04d}"
        return f"+49 30 {d(10000000):07d}" if r.chance(0.6) else f"030 {d(10000000):07d}"
    if country == "DK":
        return f"+45 {d(100):02d} {d(100):02d} {d(100):02d} {d(100):02d}"
    if mobile:
        return f"6{d(100):02d} {d(100):02d} {d(100):02d} {d(100):02d}"
    return f"+34 91{d(10)} {d(1000):03d} {d(1000):03d}"


# ----------------------------------------------------------------------------------------------
# Pure per-index attributes, shared by every file that needs them

_CO_COMBOS = len(ADJ) * len(NOUN)  # 2400 distinct base names before a numeral is added
_PERSON_COMBOS = len(FIRST) * len(LAST)  # 4096 distinct names before a numeral is added
_STEP = 7919  # a prime: i -> (i*STEP + c) % combos is a permutation


def company_core(j: int, plan: Plan) -> tuple[str, str | None, str, str]:
    """(name, domain or None, country code, short name) of company ``j``; unique by construction."""
    country = "US" if j < 3 else _COUNTRY_BY_PERCENT[mix(j * 2 + 1) % 100]
    special = plan.company_names.get(j)
    if special is not None:
        return special[0], None, special[1] or country, special[0]
    m, k = (j * _STEP + 11) % _CO_COMBOS, j // _CO_COMBOS
    adj, noun = ADJ[m % len(ADJ)], NOUN[m // len(ADJ)]
    short = f"{adj} {noun}" + (f" {k + 1}" if k else "")
    legal = COUNTRY[country]["legal"]
    name = f"{short} {legal[mix(j * 3 + 2) % len(legal)]}"
    domain = f"{adj}{noun}".lower() + (str(k + 1) if k else "") + COUNTRY[country]["tld"]
    return name, domain, country, short


def person_core(i: int, plan: Plan) -> tuple[str, str, str, int | None]:
    """(first name, last name, e-mail, company index or None) of contact ``i``. The e-mail's
    local part is first.last plus a numeral after the 4096th contact, so e-mails are unique."""
    m, k = (i * _STEP + 5) % _PERSON_COMBOS, i // _PERSON_COMBOS
    first, last = FIRST[m % len(FIRST)], LAST[m // len(FIRST)]
    local = f"{first}.{last}".lower() + (str(k + 1) if k else "")
    h = mix(i * 2 + 7)
    company = (h >> 8) % plan.counts["companies"] if h % 100 < 88 else None
    domain = company_core(company, plan)[1] if company is not None else None
    if domain is None:
        domain = PERSONAL_DOMAINS[(h >> 4) % len(PERSONAL_DOMAINS)]
    return first, last, f"{local}@{domain}", company


def user_core(u: int) -> tuple[str, str, str]:
    m, k = (u * _STEP + 17) % _PERSON_COMBOS, u // _PERSON_COMBOS
    first, last = FIRST[len(FIRST) - 1 - m % len(FIRST)], LAST[len(LAST) - 1 - m // len(FIRST)]
    return first, last, f"{first}.{last}".lower() + (str(k + 1) if k else "") + "@" + FIRM_DOMAIN


# ----------------------------------------------------------------------------------------------
# The plan: how many rows, and which rows carry which planted defect

# Formula-looking values (spreadsheet injection): a handful of each kind, between them starting
# with each of = + - @.
FORMULA_COMPANY_NAMES = ['=HYPERLINK("http://evil","x")', "@SUM(1+1)", "=1+2", "-2+3 Holdings"]
FORMULA_NOTE_BODIES = [
    "+cmd|' /C calc'!A0\nPasted from the old spreadsheet.",
    '=HYPERLINK("http://evil","Minutes")\nClick for the minutes.',
    "@SUM(A1:A9)\nTotals from the old spreadsheet.",
    "-call the client back\n-send the draft",
]
FORMULA_JOB_TITLES = ["-Sales", "=Director", "@Head of Legal", "+Partner"]
NON_ASCII_CONTACTS = [  # first, last, full_name, e-mail local part
    ("Zoë", "Hartmann", "", "zoe.hartmann"),
    ("Łukasz", "Wiśniewski", "", "lukasz.wisniewski"),
    ("", "", "José Ñúñez", "jose.nunez"),
    ("Søren", "Østergaard", "", "soren.ostergaard"),
    ("", "", "李伟", "li.wei"),
    ("Ǆemal", "Ǆeko", "", "dzemal.dzeko"),  # U+01C4: lower() and title() each change it
]
NON_ASCII_COMPANY = ("Zoë & Søren ApS", "DK")
EMOJI_NOTE = ("Kick-off call", "Kick-off went really well 🎉\nNext: send the engagement letter.")
INVALID_EMAILS = ["bob@", "no-at-sign.com", "sam.lee@@example.com", "mark hill@example.com"]
UNKNOWN_OWNERS = [
    "former.partner@harrowgatefinch.com",
    "j.morrison@harrowgatefinch.com",
    "temp.paralegal@harrowgatefinch.com",
    "sales@oldcrm-import.com",
]
CP1252_TASKS = [  # title, body: each has é, € or ’ (all three are in cp1252, not in latin-1's C1)
    ("Envoyer le devis révisé", "Le client attend le devis révisé avant vendredi."),
    ("Confirm €4,500 retainer", "Retainer agreed at €4,500 per month, invoiced quarterly."),
    ("Chase the client’s signed NDA", "They’ve had it since Monday."),
    ("Préparer la réunion", "Budget de 12 000 € à confirmer, voir l’offre jointe."),
]
OWNER_DEFECTS = {"companies": 3, "contacts": 3, "deals": 2, "tasks": 2, "notes": 2}
OWNER_COLUMN = {
    "companies": "owner_email",
    "contacts": "owner_email",
    "deals": "owner_email",
    "tasks": "assignee_email",
    "notes": "author_email",
}


class Plan:
    """Counts and planted-defect positions: a few hundred integers, whatever the size."""

    def __init__(
        self, seed: int, total: int | None, write_files: bool, factor: float = 1.0
    ) -> None:
        self.seed, self.total, self.write_files, self.factor = seed, total, write_files, factor
        self.counts = scale(total, factor)
        r = Rng(seed, "plan")
        c = self.counts

        def take(n: int, size: int, taken: set, limit: int | None = None) -> list[int]:
            hi = min(size, limit) if limit else size
            out: list[int] = []
            while len(out) < n:
                x = r.below(hi)
                if x >= RESERVED and x not in taken:
                    taken.add(x)
                    out.append(x)
            return out

        used: set = set()
        co = c["companies"]
        # Fixed positions, the same at any --total: 10 -> 11 -> 12 -> 10, 5 and 6, 7.
        self.cycle = [9, 10, 11]
        formula_co = [4, 5, 12, 13]
        nonascii_co = [6]
        self.company_names: dict[int, tuple[str, str | None]] = {
            j: (name, None) for j, name in zip(formula_co, FORMULA_COMPANY_NAMES, strict=True)
        }
        self.company_names[nonascii_co[0]] = NON_ASCII_COMPANY
        self.formula_companies = formula_co
        self.nonascii_company = nonascii_co[0]
        self.special_companies = set(formula_co) | set(nonascii_co)
        self.owner_rows = {"companies": take(6, co, used)}

        used = set()
        ct = c["contacts"]
        self.missing_company = sorted(take(25, ct, used))
        self.dup_pairs = []
        for _ in range(30):
            a, b = take(2, ct, used)
            self.dup_pairs.append((min(a, b), max(a, b)))
        self.dup_pairs.sort()
        self.no_name = sorted(take(5, ct, used))
        self.invalid_email = sorted(take(4, ct, used))
        self.nonascii_contacts = take(len(NON_ASCII_CONTACTS), ct, used)
        self.formula_contacts = take(len(FORMULA_JOB_TITLES), ct, used)
        self.owner_rows["contacts"] = take(6, ct, used)
        # Contacts that other files must not point at (so each defect shows up only where planted).
        self.unreferenced = (
            set(self.missing_company)
            | {b for _, b in self.dup_pairs}
            | set(self.no_name)
            | set(self.invalid_email)
            | set(self.nonascii_contacts)
            | set(self.formula_contacts)
        )

        self.owner_rows["deals"] = take(4, c["deals"], set())
        used = set()
        self.cp1252_tasks = sorted(take(len(CP1252_TASKS) * 3, c["tasks"], used, limit=80))
        self.owner_rows["tasks"] = take(4, c["tasks"], used)
        used = set()
        self.formula_notes = take(len(FORMULA_NOTE_BODIES), c["notes"], used)
        self.emoji_note = take(1, c["notes"], used)[0]
        self.owner_rows["notes"] = take(4, c["notes"], used)
        self.missing_files = sorted(take(3, c["attachments"], set()))
        self.missing_link_rows = sorted(take(2, c["matters__contacts"], set()))

        self.users = [user_core(u) for u in range(c["users"])]
        # Owner defects: the first half of each file's rows get an e-mail no user has, the
        # second half a user's e-mail in other case.
        self.owner_defect = {}
        n = 0
        for stream, rows in self.owner_rows.items():
            half = len(rows) // 2
            for k, row in enumerate(rows):
                if k < half:
                    value, user = UNKNOWN_OWNERS[n % len(UNKNOWN_OWNERS)], None
                else:
                    u = (n * 7) % len(self.users)
                    email = self.users[u][2]
                    local, domain = email.split("@")
                    value = (local.upper() if n % 2 else local.title()) + "@" + domain.title()
                    user = ident("users", u)
                self.owner_defect[(stream, row)] = (value, user)
                n += 1

    def clean_contact(self, r: Rng) -> int:
        while True:
            i = r.below(self.counts["contacts"])
            if i not in self.unreferenced:
                return i

    def plain_company(self, r: Rng) -> int:
        while True:
            j = r.below(self.counts["companies"])
            if j not in self.special_companies:
                return j

    def owner(self, r: Rng) -> str:
        # Inactive users (every tenth) own a few records too, as in any real export.
        return self.users[r.below(len(self.users))][2]


def scale(total: int | None, factor: float = 1.0) -> dict[str, int]:
    """Rows per file: ``--total`` (exact, contacts absorb the rounding) wins over ``--scale``."""
    if total is None:
        if factor == 1.0:
            return dict(BASE_COUNTS)
        return {k: max(MINIMUM[k], round(v * factor)) for k, v in BASE_COUNTS.items()}
    base_sum = sum(BASE_COUNTS.values())
    factor = max(total - WORKFLOWS, 0) / base_sum
    counts = {k: max(MINIMUM[k], round(v * factor)) for k, v in BASE_COUNTS.items()}
    # Land exactly on --total when the minimums allow it: contacts absorb the rounding.
    counts["contacts"] = max(
        MINIMUM["contacts"], counts["contacts"] + total - WORKFLOWS - sum(counts.values())
    )
    return counts


# ----------------------------------------------------------------------------------------------
# Writers: one per file, each with its own random stream, so files are independent (and can be
# written in parallel with identical bytes).


def opener(path: Path, encoding: str = "utf-8"):
    return path.open("w", encoding=encoding, newline="", buffering=1 << 20)


def created(r: Rng) -> int:
    return r.below(CREATED_SPAN)


def updated(r: Rng, t0: int, index: int, days: int) -> str:
    """updated_at: up to ``days`` after created_at; row 0 is the file's latest (LATEST)."""
    later = stamp(t0 + r.below(days * 86400))
    return LATEST if index == 0 else later


def write_companies(plan: Plan, out: Path) -> dict:
    r = Rng(plan.seed, "companies")
    n = plan.counts["companies"]
    cycle = plan.cycle
    cycle_parent = {cycle[0]: cycle[1], cycle[1]: cycle[2], cycle[2]: cycle[0]}
    valid_parents = []
    with opener(out / "companies.csv") as f:
        w = csv.writer(f)
        w.writerow(
            [
                "id",
                "Company Name",
                "website",
                "industry",
                "phone",
                "street",
                "city",
                "state",
                "postal_code",
                "country",
                "employees",
                "annual_revenue",
                "currency",
                "parent_company_id",
                "owner_email",
                "created_at",
                "updated_at",
                "Tier",
            ]
        )
        for j in range(n):
            name, domain, cc, _ = company_core(j, plan)
            c = COUNTRY[cc]
            city, state, postal = r.pick(c["cities"])
            if cc == "US":
                postal += f"{r.below(100):02d}"
                street = f"{r.between(1, 2999)} {r.pick(c['streets'])}"
            elif cc == "GB":
                letters = "ABDEFGHJLNPQRSTUWXYZ"
                postal += f" {r.between(1, 9)}{r.pick(letters)}{r.pick(letters)}"
                street = f"{r.between(1, 250)} {r.pick(c['streets'])}"
            elif cc == "FR":
                postal = (
                    postal + f"{r.between(1, 9)}"
                    if len(postal) == 4
                    else postal + f"{r.between(1, 20):02d}"
                )
                street = f"{r.between(1, 120)} {r.pick(c['streets'])}"
            elif cc == "DE":
                postal += f"{r.below(100):02d}"
                street = f"{r.pick(c['streets'])} {r.between(1, 180)}"
            else:
                postal += f"{r.below(100):02d}"
                street = f"{r.pick(c['streets'])} {r.between(1, 200)}"
            employees = r.pick([r.between(2, 50), r.between(50, 500), r.between(500, 20000)])
            revenue = employees * r.between(60, 250) * 1000 if r.chance(0.85) else ""
            if j in cycle_parent:
                parent = ident("companies", cycle_parent[j])
            elif j > 10 and r.chance(0.04):
                p = r.below(j)  # an earlier company: parent links never form a loop
                while p in cycle_parent:
                    p = r.below(j)
                parent = ident("companies", p)
                valid_parents.append(ident("companies", j))
            else:
                parent = ""
            owner = plan.owner_defect.get(("companies", j), (None,))[0] or plan.owner(r)
            t0 = created(r)
            w.writerow(
                [
                    ident("companies", j),
                    name,
                    ("https://www." + domain if r.chance(0.7) else domain) if domain else "",
                    r.pick(INDUSTRIES),
                    phone(r, cc),
                    street,
                    city,
                    state,
                    postal,
                    c["name"],
                    employees,
                    revenue,
                    c["currency"] if revenue != "" else "",
                    parent,
                    owner,
                    stamp(t0),
                    updated(r, t0, j, 300),
                    r.pick(["Gold", "Silver", "Bronze", ""]),
                ]
            )
    return {"rows": n, "valid_parent_links": len(valid_parents)}


def write_contacts(plan: Plan, out: Path) -> dict:
    r = Rng(plan.seed, "contacts")
    n, nco = plan.counts["contacts"], plan.counts["companies"]
    missing = {
        i: ident("companies", nco + 1000 + 7 * k) for k, i in enumerate(plan.missing_company)
    }
    survivor_of = {b: a for a, b in plan.dup_pairs}
    survivors = {a for a, _ in plan.dup_pairs}
    no_name, invalid = (
        set(plan.no_name),
        {i: e for i, e in zip(plan.invalid_email, INVALID_EMAILS, strict=True)},
    )
    nonascii = dict(zip(plan.nonascii_contacts, NON_ASCII_CONTACTS, strict=True))
    formula_titles = dict(zip(plan.formula_contacts, FORMULA_JOB_TITLES, strict=True))
    full_name_rows = 0
    with opener(out / "contacts.csv") as f:
        w = csv.writer(f)
        w.writerow(
            [
                "id",
                "First Name",
                "Last Name",
                "full_name",
                "E-mail",
                "email_2",
                "phone",
                "mobile",
                "job_title",
                "Company ID",
                "owner_email",
                "city",
                "country",
                "linkedin",
                "created_at",
                "updated_at",
                "Favourite Colour",
                "Newsletter Opt In",
            ]
        )
        for i in range(n):
            src = survivor_of.get(i, i)
            first, last, email, company = person_core(src, plan)
            full = ""
            if i in survivors:
                local, domain = email.split("@")
                email = ".".join(p.capitalize() for p in local.split(".")) + "@" + domain
            if i in nonascii:
                first, last, full, local = nonascii[i]
                email = local + "@" + email.split("@")[1]
            elif i in no_name:
                first = last = email = ""
            elif i in invalid:
                email = invalid[i]
            elif r.chance(0.03):  # some rows carry only a full name
                full, first, last = f"{first} {last}", "", ""
                full_name_rows += 1
            if i in missing:
                company_id = missing[i]
                cc = COUNTRY_KEYS[mix(i) % 5]
            elif company is not None:
                company_id = ident("companies", company)
                cc = company_core(company, plan)[2] if r.chance(0.9) else r.pick(COUNTRY_KEYS[:5])
                if i == 0:
                    cc = "US"
            else:
                company_id = ""
                cc = "US" if i == 0 else r.pick(COUNTRY_KEYS[:5])
            email_2 = ""
            if email and i not in invalid and i not in nonascii and r.chance(0.1):
                email_2 = email.split("@")[0].lower() + "@" + r.pick(SECOND_DOMAINS)
            title = (
                formula_titles[i]
                if i in formula_titles
                else (r.pick(JOB_TITLES) if r.chance(0.85) else "")
            )
            owner = plan.owner_defect.get(("contacts", i), (None,))[0] or plan.owner(r)
            linkedin = ""
            if first and i not in nonascii and r.chance(0.4):
                slug = f"{first.lower()}-{last.lower()}-{r.below(1 << 24):06x}"
                linkedin = f"https://www.linkedin.com/in/{slug}"
            t0 = created(r)
            w.writerow(
                [
                    ident("contacts", i),
                    first,
                    last,
                    full,
                    email,
                    email_2,
                    phone(r, cc) if r.chance(0.8) else "",
                    phone(r, cc, mobile=True) if r.chance(0.6) else "",
                    title,
                    company_id,
                    owner,
                    r.pick(COUNTRY[cc]["cities"])[0],
                    COUNTRY[cc]["name"],
                    linkedin,
                    stamp(t0),
                    updated(r, t0, i, 300),
                    r.pick(COLOURS),
                    "yes" if r.chance(0.35) else "no",
                ]
            )
    return {"rows": n, "full_name_only_rows": full_name_rows}


def write_deals(plan: Plan, out: Path) -> dict:
    r = Rng(plan.seed, "deals")
    n = plan.counts["deals"]
    stages: dict[str, int] = {}
    late_days, first_late = 0, None
    with opener(out / "deals.csv") as f:
        w = csv.writer(f)
        w.writerow(
            [
                "id",
                "Deal Name",
                "Pipeline Stage",
                "amount",
                "currency",
                "close_date",
                "probability",
                "company_id",
                "contact_id",
                "owner_email",
                "created_at",
                "updated_at",
                "Lead Source",  # unknown to the tap: becomes a custom field
            ]
        )
        for i in range(n):
            contact = plan.clean_contact(r)
            company = person_core(contact, plan)[3]
            if company is None or company in plan.special_companies:
                company = plan.plain_company(r)
            _, _, cc, short = company_core(company, plan)
            stage = r.weighted(STAGES)
            stages[stage] = stages.get(stage, 0) + 1
            t0 = created(r)
            close, day = day_first(t0 + r.between(14, 240) * 86400)
            if i < 1000 and day > 12:
                late_days += 1
                if first_late is None:
                    first_late = {"id": ident("deals", i), "close_date": close}
            amount = r.between(5, 400) * 500
            owner = plan.owner_defect.get(("deals", i), (None,))[0] or plan.owner(r)
            w.writerow(
                [
                    ident("deals", i),
                    f"{short} - {r.pick(DEAL_WHAT)}",
                    stage,
                    amount,
                    COUNTRY[cc]["currency"],
                    close,
                    PROBABILITY[stage],
                    ident("companies", company),
                    ident("contacts", contact) if r.chance(0.9) else "",
                    owner,
                    stamp(t0),
                    updated(r, t0, i, 200),
                    r.pick(LEAD_SOURCES),
                ]
            )
    return {
        "rows": n,
        "stages": dict(sorted(stages.items())),
        "day_gt_12_in_first_1000": late_days,
        "first_unambiguous": first_late,
    }


def targets(plan: Plan, r: Rng) -> tuple[str, str, str]:
    """company_id, contact_id, deal_id of a task or note: usually one, sometimes two, or none."""
    x = r.random()
    k = 0 if x < 0.04 else (2 if x < 0.14 else 1)
    which = [0, 1, 2]
    chosen: set[int] = set()
    while len(chosen) < k:
        chosen.add(which[r.below(3)])
    return (
        ident("companies", r.below(plan.counts["companies"])) if 0 in chosen else "",
        ident("contacts", plan.clean_contact(r)) if 1 in chosen else "",
        ident("deals", r.below(plan.counts["deals"])) if 2 in chosen else "",
    )


def write_tasks(plan: Plan, out: Path) -> dict:
    r = Rng(plan.seed, "tasks")
    n = plan.counts["tasks"]
    planted = {i: CP1252_TASKS[k % len(CP1252_TASKS)] for k, i in enumerate(plan.cp1252_tasks)}
    late_days, first_late, filled = 0, None, 0
    # The one Windows-Excel-style file: semicolons, cp1252.
    with opener(out / "tasks.csv", encoding="cp1252") as f:
        w = csv.writer(f, delimiter=";")
        w.writerow(
            [
                "id",
                "title",
                "body",
                "status",
                "due_date",
                "assignee_email",
                "company_id",
                "contact_id",
                "deal_id",
                "created_at",
                "updated_at",
                "Priority",  # unknown to the tap: becomes a custom field
            ]
        )
        for i in range(n):
            title, body = planted.get(i) or (r.pick(TASK_TITLES), r.pick(TASK_BODIES))
            t0 = created(r)
            due, day = day_first(t0 + r.between(1, 60) * 86400)
            if not r.chance(0.9):
                due = ""
            else:
                filled += 1
            if due and i < 1000 and day > 12:
                late_days += 1
                if first_late is None:
                    first_late = {"id": ident("tasks", i), "due_date": due}
            owner = plan.owner_defect.get(("tasks", i), (None,))[0] or plan.owner(r)
            company_id, contact_id, deal_id = targets(plan, r)
            w.writerow(
                [
                    ident("tasks", i),
                    title,
                    body,
                    r.weighted(TASK_STATUS),
                    due,
                    owner,
                    company_id,
                    contact_id,
                    deal_id,
                    stamp(t0),
                    updated(r, t0, i, 90),
                    r.pick(PRIORITIES),
                ]
            )
    return {
        "rows": n,
        "filled": filled,
        "day_gt_12_in_first_1000": late_days,
        "first_unambiguous": first_late,
    }


def write_notes(plan: Plan, out: Path) -> dict:
    r = Rng(plan.seed, "notes")
    n = plan.counts["notes"]
    formula_notes = dict(zip(plan.formula_notes, FORMULA_NOTE_BODIES, strict=True))
    multi = 0
    with opener(out / "notes.csv") as f:
        w = csv.writer(f)
        w.writerow(
            [
                "id",
                "title",
                "body",
                "author_email",
                "company_id",
                "contact_id",
                "deal_id",
                "created_at",
                "updated_at",
                "Visibility",  # unknown to the tap: becomes a custom field
            ]
        )
        for i in range(n):
            if i in formula_notes:
                title, body = "Imported from spreadsheet", formula_notes[i]
            elif i == plan.emoji_note:
                title, body = EMOJI_NOTE
            else:
                title = r.pick(NOTE_TITLES)
                lines = [r.pick(NOTE_OPENERS)]
                if r.chance(0.75):
                    lines.append("")
                    lines.extend(r.pick(NOTE_POINTS) for _ in range(r.between(1, 3)))
                body = "\n".join(lines)
            multi += "\n" in body
            owner = plan.owner_defect.get(("notes", i), (None,))[0] or plan.owner(r)
            company_id, contact_id, deal_id = targets(plan, r)
            t0 = created(r)
            w.writerow(
                [
                    ident("notes", i),
                    title,
                    body,
                    owner,
                    company_id,
                    contact_id,
                    deal_id,
                    stamp(t0),
                    updated(r, t0, i, 30),
                    r.pick(VISIBILITY),
                ]
            )
    return {"rows": n, "multi_line_bodies": multi}


def write_users(plan: Plan, out: Path) -> dict:
    with opener(out / "users.csv") as f:
        w = csv.writer(f)
        w.writerow(["id", "email", "first_name", "last_name", "role", "active"])
        for u, (first, last, email) in enumerate(plan.users):
            role = "Admin" if u == 0 else USER_ROLES[mix(u) % len(USER_ROLES)]
            w.writerow(
                [ident("users", u), email, first, last, role, "false" if u % 10 == 9 else "true"]
            )
    return {
        "rows": len(plan.users),
        "inactive": [ident("users", u) for u in range(len(plan.users)) if u % 10 == 9][:50],
    }


def write_matters(plan: Plan, out: Path) -> dict:
    r = Rng(plan.seed, "matters")
    n = plan.counts["matters"]
    with opener(out / "matters.csv") as f:
        w = csv.writer(f)
        w.writerow(
            [
                "id",
                "name",
                "matter_number",
                "practice_area",
                "opened_on",
                "status",
                "billable",
                "budget",
                "company_id",
            ]
        )
        for i in range(n):
            company = plan.plain_company(r)
            area = r.pick(PRACTICE)
            opened = BASE + timedelta(days=r.below(2000))
            w.writerow(
                [
                    ident("matters", i),
                    f"{company_core(company, plan)[3]} - {MATTER_KIND[area]}",
                    f"HF-{opened.year}-{i + 1:05d}",
                    area,
                    opened.date().isoformat(),
                    r.pick(["Open", "Open", "Closed", "On Hold", "Pending"]),
                    "yes" if r.chance(0.8) else "no",
                    r.between(4, 300) * 1000 if r.chance(0.9) else "",
                    ident("companies", company),
                ]
            )
    return {"rows": n}


def write_links(plan: Plan, out: Path) -> dict:
    r = Rng(plan.seed, "matters__contacts")
    n, m, nct = plan.counts["matters__contacts"], plan.counts["matters"], plan.counts["contacts"]
    missing = set(plan.missing_link_rows)
    bad_rows: list[dict[str, str]] = []
    row = 0
    with opener(out / "matters__contacts.csv") as f:
        w = csv.writer(f)
        w.writerow(["matter_id", "contact_id"])
        for j in range(m):
            k = (j + 1) * n // m - j * n // m  # spreads exactly n rows over the matters
            seen: set = set()
            for _ in range(k):
                if row in missing:
                    contact_id = ident("contacts", nct + 5000 + len(bad_rows))
                    bad_rows.append({"matter_id": ident("matters", j), "contact_id": contact_id})
                else:
                    c = plan.clean_contact(r)
                    while c in seen:
                        c = plan.clean_contact(r)
                    seen.add(c)
                    contact_id = ident("contacts", c)
                w.writerow([ident("matters", j), contact_id])
                row += 1
    return {"rows": row, "missing_contact_rows": bad_rows}


ATTACHMENT_KINDS = [  # file name stem, extension, mime type
    ("engagement-letter", "pdf", "application/pdf"),
    ("signed-nda", "pdf", "application/pdf"),
    ("meeting-notes", "txt", "text/plain"),
    ("fee-schedule", "csv", "text/csv"),
    ("logo", "png", "image/png"),
    (
        "draft-agreement",
        "docx",
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    ),
    ("intake-form", "json", "application/json"),
    ("call-summary", "md", "text/markdown"),
]


def _png(text: str) -> bytes:
    """An 8x8 one-colour PNG. Level-0 (stored) deflate, so the bytes don't depend on zlib's
    compressor version."""
    width = height = 8
    raw = b"".join(b"\x00" + b"\x1d\x4e\x89" * width for _ in range(height))

    def chunk(kind: bytes, data: bytes) -> bytes:
        crc = zlib.crc32(kind + data)
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", crc)

    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
        + chunk(b"tEXt", b"Comment\x00" + text.encode("latin-1"))
        + chunk(b"IDAT", zlib.compress(raw, 0))
        + chunk(b"IEND", b"")
    )


def _docx(text: str) -> bytes:
    """The smallest Word document Word opens: three stored parts with a fixed timestamp, so the
    zip bytes are the same on every run and Python version."""
    text = text.replace("&", "&amp;").replace("<", "&lt;")
    head = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    parts = {
        "[Content_Types].xml": head
        + '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
        '<Default Extension="rels" '
        'ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
        '<Default Extension="xml" ContentType="application/xml"/>'
        '<Override PartName="/word/document.xml" ContentType="application/'
        'vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"/></Types>',
        "_rels/.rels": head
        + '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
        '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
        'relationships/officeDocument" Target="word/document.xml"/></Relationships>',
        "word/document.xml": head
        + '<w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main">'
        f"<w:body><w:p><w:r><w:t>{text}</w:t></w:r></w:p></w:body></w:document>",
    }
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_STORED) as z:
        for name, body in parts.items():
            info = zipfile.ZipInfo(name, date_time=(2019, 1, 1, 0, 0, 0))
            info.external_attr = 0o644 << 16
            z.writestr(info, body)
    return buf.getvalue()


def attachment_bytes(ext: str, att_id: str, parent: str, when: str) -> bytes:
    text = f"{FIRM} - document {att_id} attached to {parent}, uploaded {when}."
    if ext == "pdf":  # a minimal valid one-page PDF, offsets computed
        stream = f"BT /F1 10 Tf 36 100 Td ({text}) Tj ET".encode()
        objs = [
            b"<< /Type /Catalog /Pages 2 0 R >>",
            b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
            b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 420 200] /Contents 4 0 R "
            b"/Resources << /Font << /F1 5 0 R >> >> >>",
            b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream",
            b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
        ]
        body, offsets = b"%PDF-1.4\n", []
        for k, obj in enumerate(objs, 1):
            offsets.append(len(body))
            body += b"%d 0 obj\n" % k + obj + b"\nendobj\n"
        xref = len(body)
        body += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objs) + 1)
        body += b"".join(b"%010d 00000 n \n" % o for o in offsets)
        return body + b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (
            len(objs) + 1,
            xref,
        )
    if ext == "csv":
        return (
            f"item,hours,rate\nInitial review,3,250\nDrafting,5,250\nCalls,2,250\n# {text}\n"
        ).encode()
    if ext == "png":
        return _png(text)
    if ext == "docx":
        return _docx(text)
    if ext == "json":
        return (
            json.dumps(
                {
                    "form": "client intake",
                    "attachment": att_id,
                    "parent": parent,
                    "uploaded_at": when,
                    "note": text,
                },
                indent=2,
            )
            + "\n"
        ).encode()
    if ext == "md":
        return (
            f"# Call summary\n\n{text}\n\n- agreed next steps\n- follow-up in two weeks\n".encode()
        )
    return f"{text}\nAgenda: introductions, scope, fees, timeline.\nActions: send draft.\n".encode()


def write_attachments(plan: Plan, out: Path) -> dict:
    r = Rng(plan.seed, "attachments")
    n = plan.counts["attachments"]
    missing = set(plan.missing_files)
    missing_items, written = [], 0
    if plan.write_files:
        (out / "files").mkdir(exist_ok=True)
    kinds = cumulative([(30, "company"), (30, "contact"), (20, "deal"), (20, "note")])
    with opener(out / "attachments.csv") as f:
        w = csv.writer(f)
        w.writerow(
            [
                "id",
                "file_path",
                "parent_object",
                "parent_id",
                "file_name",
                "mime_type",
                "uploaded_at",
            ]
        )
        for i in range(n):
            att_id = ident("attachments", i)
            stem, ext, mime = r.pick(ATTACHMENT_KINDS)
            parent_object = r.weighted(kinds)
            if parent_object == "company":
                parent = ident("companies", r.below(plan.counts["companies"]))
            elif parent_object == "contact":
                parent = ident("contacts", plan.clean_contact(r))
            elif parent_object == "deal":
                parent = ident("deals", r.below(plan.counts["deals"]))
            else:
                parent = ident("notes", r.below(plan.counts["notes"]))
            file_name = f"{stem}.{ext}"
            file_path = f"files/{att_id}-{file_name}"
            when = stamp(created(r))
            if i in missing:
                missing_items.append({"id": att_id, "file_path": file_path})
            elif plan.write_files:
                (out / file_path).write_bytes(attachment_bytes(ext, att_id, parent, when))
                written += 1
            w.writerow([att_id, file_path, parent_object, parent, file_name, mime, when])
    return {"rows": n, "files_written": written, "missing_files": missing_items}


def write_workflows(plan: Plan, out: Path) -> dict:
    admin = plan.users[0][2]
    flows = [
        {
            "id": "WF-1",
            "name": "Welcome a new client",
            "trigger": "contact.created",
            "conditions": [{"field": "Company ID", "operator": "is_not_empty"}],
            "actions": [
                {"type": "send_email", "to": "{{contact.email}}", "template": "welcome"},
                {
                    "type": "create_task",
                    "title": "Intro call",
                    "due_in_days": 2,
                    "assignee": "{{contact.owner_email}}",
                },
            ],
            "active": True,
        },
        {
            "id": "WF-2",
            "name": "Assign new leads round-robin",
            "trigger": "deal.created",
            "conditions": [{"field": "Pipeline Stage", "operator": "equals", "value": "Lead"}],
            "actions": [
                {
                    "type": "assign_owner",
                    "strategy": "round_robin",
                    "pool": [u[2] for u in plan.users[1:4]],
                },
                {"type": "create_task", "title": "Qualify lead", "due_in_days": 2},
            ],
            "active": True,
        },
        {
            "id": "WF-3",
            "name": "Won deal: open a matter",
            "trigger": "deal.stage_changed",
            "conditions": [
                {"field": "Pipeline Stage", "operator": "equals", "value": "Closed Won"}
            ],
            "actions": [
                {
                    "type": "create_record",
                    "object": "matters",
                    "values": {"status": "Open", "company_id": "{{deal.company_id}}"},
                },
                {"type": "send_email", "to": admin, "template": "new-matter"},
            ],
            "active": True,
        },
        {
            "id": "WF-4",
            "name": "Overdue task reminder",
            "trigger": "schedule.daily",
            "conditions": [
                {"field": "status", "operator": "not_equals", "value": "Completed"},
                {"field": "due_date", "operator": "before", "value": "today"},
            ],
            "actions": [
                {"type": "send_email", "to": "{{task.assignee_email}}", "template": "task-overdue"}
            ],
            "active": True,
        },
        {
            "id": "WF-5",
            "name": "Tag key accounts",
            "trigger": "company.updated",
            "conditions": [
                {"field": "annual_revenue", "operator": "greater_than", "value": 10000000}
            ],
            "actions": [{"type": "update_field", "field": "Tier", "value": "Gold"}],
            "active": False,
        },
    ]
    (out / "workflows.json").write_text(
        json.dumps(flows, indent=2, ensure_ascii=False) + "\n", encoding="utf-8", newline="\n"
    )
    return {"rows": len(flows)}


WRITERS = {  # largest first, so a parallel run finishes evenly
    "contacts.csv": write_contacts,
    "tasks.csv": write_tasks,
    "notes.csv": write_notes,
    "deals.csv": write_deals,
    "companies.csv": write_companies,
    "matters__contacts.csv": write_links,
    "matters.csv": write_matters,
    "attachments.csv": write_attachments,
    "users.csv": write_users,
    "workflows.json": write_workflows,
}


def _run(args: tuple) -> tuple[str, dict]:
    name, seed, total, write_files, factor, out = args
    plan = Plan(seed, total, write_files, factor)
    return name, WRITERS[name](plan, Path(out))


# ----------------------------------------------------------------------------------------------
# expected.json


def expected(plan: Plan, stats: dict, command: str) -> dict:
    """The machine-readable answer key. Every defect has ``count`` == ``len(ids)``; ids are
    integers for the numbered objects (companies, contacts), strings otherwise; defects that
    span several files use ``"<file>:<id>"``. ``items`` add the detail, ``expected`` the outcome."""
    c = plan.counts
    names = [
        "users.csv",
        "companies.csv",
        "contacts.csv",
        "deals.csv",
        "tasks.csv",
        "notes.csv",
        "matters.csv",
        "matters__contacts.csv",
        "attachments.csv",
        "workflows.json",
    ]
    rows = {n.removesuffix(".csv"): stats[n]["rows"] for n in names}
    files = {}
    for name in names:
        files[name] = {
            "rows": stats[name]["rows"],
            "encoding": "cp1252" if name == "tasks.csv" else "utf-8",
            "delimiter": ";" if name == "tasks.csv" else ("," if name.endswith("csv") else None),
        }
    files["contacts.csv"]["full_name_only_rows"] = stats["contacts.csv"]["full_name_only_rows"]
    files["notes.csv"]["multi_line_bodies"] = stats["notes.csv"]["multi_line_bodies"]
    files["attachments.csv"]["files_written"] = stats["attachments.csv"]["files_written"]
    files["users.csv"]["inactive"] = [int(u) for u in stats["users.csv"]["inactive"]]
    num = int
    nco = c["companies"]

    pairs, pair_items = [], []
    for a, b in plan.dup_pairs:
        low = person_core(a, plan)[2]
        local, domain = low.split("@")
        pairs.append([num(ident("contacts", a)), num(ident("contacts", b))])
        pair_items.append(
            {
                "survivor": pairs[-1][0],
                "duplicate": pairs[-1][1],
                "survivor_email": ".".join(p.capitalize() for p in local.split(".")) + "@" + domain,
                "duplicate_email": low,
            }
        )
    cyc = [num(ident("companies", j)) for j in plan.cycle]
    owners: dict[str, list[dict[str, Any]]] = {"unknown": [], "case": []}
    for (stream, row), (value, user) in sorted(plan.owner_defect.items()):
        item: dict[str, Any] = {
            "file": f"{stream}.csv",
            "id": ident(stream, row),
            "column": OWNER_COLUMN[stream],
            "value": value,
        }
        if user:
            item["user_id"] = num(user)
            item["user_email"] = plan.users[int(user) - 1][2]
        owners["case" if user else "unknown"].append(item)
    nonascii = [
        {
            "file": "contacts.csv",
            "id": ident("contacts", i),
            "column": "full_name" if full else "First Name / Last Name",
            "value": full or f"{first} {last}",
        }
        for i, (first, last, full, _) in sorted(
            zip(plan.nonascii_contacts, NON_ASCII_CONTACTS, strict=True)
        )
    ]
    nonascii.insert(
        0,
        {
            "file": "companies.csv",
            "id": ident("companies", plan.nonascii_company),
            "column": "Company Name",
            "value": NON_ASCII_COMPANY[0],
        },
    )
    nonascii.append(
        {
            "file": "notes.csv",
            "id": ident("notes", plan.emoji_note),
            "column": "body",
            "value": EMOJI_NOTE[1],
        }
    )
    cp = []
    for k, i in enumerate(plan.cp1252_tasks):
        title, body = CP1252_TASKS[k % len(CP1252_TASKS)]
        cp.append(
            {
                "id": num(ident("tasks", i)),
                "title": title,
                "body": body,
                "chars": sorted({ch for ch in title + body if ord(ch) > 127}),
            }
        )
    missing_co = {
        i: ident("companies", nco + 1000 + 7 * k) for k, i in enumerate(plan.missing_company)
    }
    invalid = dict(zip(plan.invalid_email, INVALID_EMAILS, strict=True))
    links = stats["matters__contacts.csv"]["missing_contact_rows"]
    missing_files = stats["attachments.csv"]["missing_files"]
    deals, tasks = stats["deals.csv"], stats["tasks.csv"]

    def ref(item: dict) -> str:
        return f"{item['file']}:{item['id']}"

    defects = {
        "contacts_missing_company": {
            "number": 1,
            "file": "contacts.csv",
            "count": len(missing_co),
            "ids": [num(ident("contacts", i)) for i in missing_co],
            "items": [
                {"id": num(ident("contacts", i)), "company_id": v} for i, v in missing_co.items()
            ],
            "what": "Company ID points at no company",
            "expected": "contact written without a company; listed in repairs.csv (companyId)",
        },
        "duplicate_emails_other_case": {
            "number": 2,
            "file": "contacts.csv",
            "count": len(pairs),
            "ids": pairs,
            "items": pair_items,
            "what": "pairs [first, second] of contacts whose e-mails differ only by case",
            "expected": "second merged into the first; the survivor named in merges.csv",
        },
        "company_parent_cycle": {
            "number": 3,
            "file": "companies.csv",
            "count": len(cyc),
            "ids": cyc,
            "cycles": 1,
            "edges": [{"id": cyc[k], "parent_company_id": cyc[(k + 1) % 3]} for k in range(3)],
            "valid_parent_links": stats["companies.csv"]["valid_parent_links"],
            "what": f"parent_company_id forms {cyc[0]} -> {cyc[1]} -> {cyc[2]} -> {cyc[0]}",
            "expected": "cycle reported; one of its parent links dropped; valid parents kept",
        },
        "stages_twenty_lacks": {
            "number": 4,
            "file": "deals.csv",
            "column": "Pipeline Stage",
            "count": len(deals["stages"]),
            "ids": [s for _, s in STAGES],
            "rows_by_stage": deals["stages"],
            "what": "Allegory stages; Twenty's default stages are "
            "NEW, SCREENING, MEETING, PROPOSAL, CUSTOMER",
            "expected": "each mapped to a Twenty stage (rules) or added as a new option",
        },
        "day_first_dates": {
            "number": 5,
            "count": 2,
            "ids": ["deals.close_date", "tasks.due_date"],
            "items": [
                {
                    "file": "deals.csv",
                    "column": "close_date",
                    "format": "DD/MM/YYYY",
                    "rows": deals["rows"],
                    "day_gt_12_in_first_1000": deals["day_gt_12_in_first_1000"],
                    "first_unambiguous": deals["first_unambiguous"],
                },
                {
                    "file": "tasks.csv",
                    "column": "due_date",
                    "format": "DD/MM/YYYY",
                    "rows": tasks["rows"],
                    "filled": tasks["filled"],
                    "day_gt_12_in_first_1000": tasks["day_gt_12_in_first_1000"],
                    "first_unambiguous": tasks["first_unambiguous"],
                },
            ],
            "what": "every close_date and due_date is DD/MM/YYYY",
            "expected": "read day-first (13/02/2021 is 13 February); no date rejected",
        },
        "formula_company_names": {
            "number": 6,
            "file": "companies.csv",
            "column": "Company Name",
            "count": len(plan.formula_companies),
            "ids": [num(ident("companies", j)) for j in plan.formula_companies],
            "values": FORMULA_COMPANY_NAMES,
            "what": "names starting with =, @ or -",
            "expected": "kept, neutralised in CSV output (e.g. prefixed with ')",
        },
        "formula_job_title": {
            "number": 6,
            "file": "contacts.csv",
            "column": "job_title",
            "count": len(plan.formula_contacts),
            "ids": [num(ident("contacts", i)) for i in plan.formula_contacts],
            "values": FORMULA_JOB_TITLES,
            "what": "job titles starting with -, =, @ or +",
            "expected": "kept, neutralised in CSV output",
        },
        "formula_note_body": {
            "number": 6,
            "file": "notes.csv",
            "column": "body",
            "count": len(plan.formula_notes),
            "ids": [num(ident("notes", i)) for i in plan.formula_notes],
            "values": FORMULA_NOTE_BODIES,
            "what": "bodies starting with +, =, @ or -, e.g. +cmd|' /C calc'!A0",
            "expected": "kept, neutralised in CSV output",
            "not_counted": "phones in international form (+44 20 ...) also start with '+'",
        },
        "non_ascii_names": {
            "number": 7,
            "count": len(nonascii),
            "ids": [ref(x) for x in nonascii],
            "items": nonascii,
            "what": "the only non-ASCII values outside tasks.csv",
            "expected": "kept character for character (UTF-8 output)",
        },
        "cp1252_semicolon_file": {
            "number": 8,
            "file": "tasks.csv",
            "encoding": "cp1252",
            "delimiter": ";",
            "count": 1,
            "ids": ["tasks.csv"],
            "rows_with_cp1252_characters": cp,
            "what": "the one file that is cp1252 and ';'-delimited; é, € and ’ in the rows listed",
            "expected": "detected as cp1252 and ';'; é, € and ’ survive",
        },
        "contacts_without_name_or_email": {
            "number": 9,
            "file": "contacts.csv",
            "count": len(plan.no_name),
            "ids": [num(ident("contacts", i)) for i in plan.no_name],
            "what": "neither name nor e-mail",
            "expected": "rejected (rejects.csv)",
        },
        "attachments_missing_file": {
            "number": 10,
            "file": "attachments.csv",
            "count": len(missing_files),
            "ids": [x["id"] for x in missing_files],
            "items": missing_files,
            "what": "manifest rows whose file is not in files/"
            + ("" if plan.write_files else " (--no-files: no file is there at all)"),
            "expected": "listed in the attachments manifest as missing",
        },
        "links_to_missing_contacts": {
            "number": 10,
            "file": "matters__contacts.csv",
            "count": len(links),
            "ids": [num(x["contact_id"]) for x in links],
            "items": links,
            "what": "contact ids in matters__contacts that no contact has",
            "expected": "link row rejected",
        },
        "orphan_owners": {
            "number": 11,
            "count": len(owners["unknown"]),
            "ids": [ref(x) for x in owners["unknown"]],
            "items": owners["unknown"],
            "what": "owner/assignee/author e-mails that no user has",
            "expected": "record kept without an owner; reported",
        },
        "owners_in_other_case": {
            "number": 11,
            "count": len(owners["case"]),
            "ids": [ref(x) for x in owners["case"]],
            "items": owners["case"],
            "what": "a user's e-mail written in other case",
            "expected": "matched to that user (e-mails compared case-insensitively)",
        },
        "invalid_emails": {
            "number": 12,
            "file": "contacts.csv",
            "count": len(invalid),
            "ids": [num(ident("contacts", i)) for i in invalid],
            "items": [{"id": num(ident("contacts", i)), "email": v} for i, v in invalid.items()],
            "what": "e-mails that are not valid, names kept",
            "expected": "e-mail left empty, contact kept; "
            "listed in repairs.csv (emails.primaryEmail)",
        },
    }
    return {
        "rows": rows,
        "total": sum(rows.values()),
        "defects": defects,
        "files": files,
        "generator": {
            "command": command,
            "seed": plan.seed,
            "total": plan.total,
            "scale": plan.factor if plan.total is None else None,
            "files": plan.write_files,
            "base_date": BASE.date().isoformat(),
            "latest_updated_at": LATEST,
        },
    }


# ----------------------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--out", required=True, type=Path, help="export folder to (re)write")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument(
        "--scale", type=float, default=1.0, help="multiply every file's row count (default 1.0)"
    )
    parser.add_argument(
        "--total", type=int, help="scale every file so all records add up to N (overrides --scale)"
    )
    parser.add_argument(
        "--no-files",
        action="store_true",
        help="skip attachment files (attachments.csv is still written)",
    )
    parser.add_argument(
        "--expected",
        type=Path,
        help="where to write expected.json (default: beside the export folder)",
    )
    parser.add_argument(
        "--jobs",
        type=int,
        default=None,
        help="processes (default: 1 for the sample, all CPUs from 50,000 records)",
    )
    args = parser.parse_args(argv)

    out = args.out
    out.mkdir(parents=True, exist_ok=True)
    for stale in [
        "companies.csv",
        "contacts.csv",
        "deals.csv",
        "tasks.csv",
        "notes.csv",
        "users.csv",
        "matters.csv",
        "matters__contacts.csv",
        "attachments.csv",
        "workflows.json",
    ]:
        (out / stale).unlink(missing_ok=True)
    files_dir = out / "files"
    if files_dir.is_dir():  # the generator owns files/: empty it of old files
        for old in files_dir.iterdir():
            if old.is_file():
                old.unlink()

    if args.scale <= 0:
        parser.error("--scale must be positive")
    plan = Plan(args.seed, args.total, not args.no_files, args.scale)
    jobs = args.jobs or (1 if sum(plan.counts.values()) < 50_000 else (os.cpu_count() or 1))
    if jobs > 1:
        with ProcessPoolExecutor(max_workers=jobs) as pool:
            stats = dict(
                pool.map(
                    _run,
                    [
                        (name, args.seed, args.total, plan.write_files, args.scale, str(out))
                        for name in WRITERS
                    ],
                )
            )
    else:
        stats = {name: writer(plan, out) for name, writer in WRITERS.items()}

    parts = ["python examples/allegory/generate.py --out", out.as_posix()]
    if args.seed != 42:
        parts += ["--seed", str(args.seed)]
    if args.total is not None:
        parts += ["--total", str(args.total)]
    elif args.scale != 1.0:
        parts += ["--scale", repr(args.scale)]
    if args.no_files:
        parts.append("--no-files")
    report = expected(plan, stats, " ".join(parts))
    target = args.expected or (
        out.parent / ("expected.json" if out.name == "export" else f"{out.name}.expected.json")
    )
    target.write_text(
        json.dumps(report, indent=2, ensure_ascii=False) + "\n", encoding="utf-8", newline="\n"
    )
    print(f"wrote {report['total']:,} records to {out} ({target.name}: {target})", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
