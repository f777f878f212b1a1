"""A messy Allegory-style export of a layout no other test uses, and what a run must make of it.

Headers as a user's CRM writes them ("Company ID", "E-mail", "Parent Type"/"Parent ID",
"Related To Type"/"Related To ID", "Client Company ID"); files in UTF-8 with a byte-order mark,
cp1252 with ``;`` and UTF-16 with tabs; keys in three styles (numbers, ``P-0007``, ``ENG-03``),
so that numeric keys of different streams overlap as they do in real exports. Planted:

- notes whose parent is a company, a contact, a deal or an engagement (a custom object), named
  as "Company", "contact", "Deal", "Engagement"; one note's parent does not exist (an orphan);
- tasks whose related record is named in the same way under "Related To Type"/"Related To ID";
- engagements (a stream the built-in rules do not name) with a "Client Company ID";
- contacts with a "Referred By ID" of which only some values are contacts (weak evidence: it
  must be listed for review, not turned into a relation);
- phones with no country code beside a country column.

:func:`write` writes the folder and returns the figures a run must show, derived here from the
generated rows, not from the code under test. Deterministic: ``random.Random`` with a fixed seed.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from pathlib import Path

COMPANIES, CONTACTS, DEALS, ENGAGEMENTS, NOTES, TASKS = 30, 80, 40, 12, 120, 90
REFERRED_SHARE = 0.7  # of the "Referred By ID" values, the share that are contacts' keys


@dataclass
class Expected:
    """What the run must show, from the rows as generated."""

    rows: dict[str, int] = field(default_factory=dict)
    # each company's phone country (from the country column beside it: no calling code)
    phone_countries: dict[str, str] = field(default_factory=dict)
    note_targets: dict[str, int] = field(default_factory=dict)  # target object → count
    task_targets: dict[str, int] = field(default_factory=dict)
    orphan_note: str = ""
    engagement_clients: dict[str, str] = field(default_factory=dict)  # engagement → company
    referred_share: float = 0.0


def _write(path: Path, header: list[str], rows: list[list[str]], encoding: str, sep: str) -> None:
    lines = [sep.join(header)] + [sep.join(_cell(c, sep) for c in row) for row in rows]
    path.write_text("\r\n".join(lines) + "\r\n", encoding=encoding)


def _cell(value: str, sep: str) -> str:
    if sep in value or '"' in value or "\n" in value:
        return '"' + value.replace('"', '""') + '"'
    return value


def write(folder: Path, seed: str = "messy-1") -> Expected:
    rng = random.Random(seed)
    folder.mkdir(parents=True, exist_ok=True)
    exp = Expected()
    pick = rng.choice

    companies = [str(100 + i) for i in range(1, COMPANIES + 1)]
    countries = ["United Kingdom", "France", "Germany", "United States"]
    phones = {
        "United Kingdom": "020 7946 {:04d}",
        "France": "01 42 68 {:02d} 00",
        "Germany": "030 901820{:02d}",
        "United States": "(212) 555-{:04d}",
    }
    rows = []
    codes = {"United Kingdom": "GB", "France": "FR", "Germany": "DE", "United States": "US"}
    for i, key in enumerate(companies):
        country = countries[i % 4]
        exp.phone_countries[key] = codes[country]
        rows.append(
            [
                key,
                f"Société {pick(['Alpha', 'Bêta', 'Gamma', 'Delta'])} {i}",
                f"www.company{i}.example",
                phones[country].format(i % 100),
                country,
                f"2021-{1 + i % 12:02d}-{1 + i % 27:02d}",
            ]
        )
    _write(
        folder / "companies.csv",
        ["Company ID", "Company Name", "Web Site", "Main Phone", "Country", "Created"],
        rows,
        "utf-8-sig",
        ",",
    )
    exp.rows["companies"] = len(rows)

    contacts = [f"P-{i:04d}" for i in range(1, CONTACTS + 1)]
    referred = 0
    referred_total = 0
    rows = []
    for i, key in enumerate(contacts):
        ref = ""
        if i % 2 == 0:
            referred_total += 1
            if rng.random() < REFERRED_SHARE:
                ref = pick(contacts)
                referred += 1
            else:
                ref = pick(["web form", "trade fair", "REF-9", "partner"])
        rows.append(
            [
                key,
                pick(["Zoë", "José", "Anaïs", "Sam", "Li"]),
                pick(["Müller", "Dupré", "Smith", "O'Neil"]),
                f"person{i}@mail{i % 7}.example",
                pick(companies),
                f"07700 900{i:03d}",
                pick(countries),
                ref,
            ]
        )
    exp.referred_share = referred / referred_total
    _write(
        folder / "contacts.csv",
        [
            "Contact ID",
            "First Name",
            "Last Name",
            "E-mail",
            "Company ID",
            "Phone",
            "Country",
            "Referred By ID",
        ],
        rows,
        "cp1252",
        ";",
    )
    exp.rows["contacts"] = len(rows)

    deals = [str(5000 + i) for i in range(1, DEALS + 1)]
    rows = [
        [
            key,
            f"Deal {key}",
            pick(["Proposal", "Won", "Lead"]),
            str(1000 * (i + 1)),
            pick(companies),
        ]
        for i, key in enumerate(deals)
    ]
    _write(
        folder / "deals.csv",
        ["Deal ID", "Deal Name", "Pipeline Stage", "Deal Value", "Company ID"],
        rows,
        "utf-16",
        "\t",
    )
    exp.rows["deals"] = len(rows)

    engagements = [f"ENG-{i:02d}" for i in range(1, ENGAGEMENTS + 1)]
    rows = []
    for i, key in enumerate(engagements):
        client = pick(companies)
        exp.engagement_clients[key] = client
        rows.append([key, f"Engagement {i}", client, pick(["Audit", "Tax", "Advisory"])])
    _write(
        folder / "engagements.csv",
        ["Engagement ID", "Engagement Name", "Client Company ID", "Service Line"],
        rows,
        "utf-16",
        "\t",
    )
    exp.rows["engagements"] = len(rows)

    parents = {
        "company": (["Company", "company", "Companies"], companies),
        "person": (["Contact", "contact"], contacts),
        "opportunity": (["Deal"], deals),
        "engagement": (["Engagement"], engagements),
    }
    rows = []
    for i in range(1, NOTES + 1):
        obj = pick(sorted(parents))
        spellings, keys = parents[obj]
        parent = pick(keys)
        if i == NOTES // 2:  # the orphan: its parent was never exported
            parent, obj = "9999", "company"
            spellings = ["Company"]
            exp.orphan_note = str(i)
        else:
            exp.note_targets[obj] = exp.note_targets.get(obj, 0) + 1
        rows.append([str(i), f"Note {i}", f"Body of note {i}", pick(spellings), parent])
    _write(
        folder / "notes.csv",
        ["Note ID", "Subject", "Note", "Parent Type", "Parent ID"],
        rows,
        "utf-8-sig",
        ",",
    )
    exp.rows["notes"] = len(rows)

    rows = []
    for i in range(1, TASKS + 1):
        obj = pick(sorted(parents))
        spellings, keys = parents[obj]
        exp.task_targets[obj] = exp.task_targets.get(obj, 0) + 1
        rows.append(
            [
                str(i),
                f"Call back {i}",
                pick(["Open", "Done"]),
                f"{1 + i % 28:02d}/{1 + i % 12:02d}/2024",
                pick(spellings),
                pick(keys),
            ]
        )
    _write(
        folder / "tasks.csv",
        ["Task ID", "Subject", "Status", "Due", "Related To Type", "Related To ID"],
        rows,
        "cp1252",
        ";",
    )
    exp.rows["tasks"] = len(rows)
    return exp
