"""Inference from the data (proposal.py, references.py, patterns.py) and a run without confirmed
rules (deferred.py), on small hand-made streams: what becomes a relation, a note target, a typed
field, and what is only listed for review."""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

import yaml
from crm2twenty_mapper import rules as rules_mod
from crm2twenty_mapper.deferred import InferringRun
from crm2twenty_mapper.proposal import Proposer
from crm2twenty_mapper.propose import _Message, propose
from crm2twenty_mapper.sampling import Sampler
from singer_sdk.singerlib import Message, RecordMessage, StateMessage

DATA = {
    "source": "demo",
    "label": "Demo",
    "streams": {
        "companies": [{"object": "company", "key": "id", "fields": {"name": "name"}}],
        "notes": [{"object": "note", "key": "id", "fields": {"title": "title"}}],
    },
}


def _string(*extra: str) -> dict:
    return {"type": ["string", "null"], **({"format": extra[0]} if extra else {})}


STREAMS: dict[str, tuple[dict, list[dict]]] = {
    "companies": (
        {
            "id": {"type": "integer"},
            "name": _string(),
            "tier": _string(),
            "site": _string(),
            "linked_in": _string(),
        },
        [
            {
                "id": i,
                "name": f"Co {i}",
                "tier": ["Gold", "Silver"][i % 2],
                "site": f"co{i}.example",
                "linked_in": f"https://www.linkedin.com/company/co{i}",
            }
            for i in range(1, 21)
        ],
    ),
    # notes come before matters, as a tap sending files in alphabetical order would
    "notes": (
        {
            "id": {"type": "integer"},
            "title": _string(),
            "parent_type": _string(),
            "parent_id": _string(),
            "reference_no": {"type": ["integer", "null"]},
        },
        [
            {
                "id": i,
                "title": f"N{i}",
                "parent_type": ["Company", "Matter"][i % 2],
                "parent_id": str(1 + i % 10) if i % 2 == 0 else f"M{1 + i % 5}",
                "reference_no": 1 + i % 10,  # keys of companies and of nothing else by name
            }
            for i in range(1, 31)
        ],
    ),
    "matters": (
        {
            "id": _string(),
            "name": _string(),
            "client_company_id": {"type": ["integer", "null"]},
            "referrer_id": _string(),
            "fee": _string(),
            "due": _string(),
        },
        [
            {
                "id": f"M{i}",
                "name": f"Matter {i}",
                "client_company_id": i,
                "referrer_id": f"M{i}" if i < 4 else "walk-in",  # 3 of 5: weak
                "fee": f"1,{i}00.50",
                "due": f"{12 + i}/01/2024",
            }
            for i in range(1, 6)
        ],
    ),
}


def _messages() -> list[tuple[str, str, Any]]:
    out: list[tuple[str, str, Any]] = []
    for stream, (props, rows) in STREAMS.items():
        out.append(("SCHEMA", stream, {"properties": props}))
        out += [("RECORD", stream, row) for row in rows]
        out.append(("STATE", stream, {"bookmarks": {stream: len(rows)}}))
    return out


def _proposer() -> Proposer:
    rules = rules_mod.parse(DATA, "demo.yml")
    sampler = Sampler(rules)
    for kind, stream, body in _messages():
        if kind == "SCHEMA":
            sampler.on_schema(stream, body, ["id"])
        elif kind == "RECORD":
            sampler.on_record(stream, body)
    proposer = Proposer(DATA, "demo.yml", sampler.streams)
    for stream in sampler.streams:
        proposer.decide(stream)
    return proposer


def _decision(proposer: Proposer, stream: str, column: str) -> Any:
    return next(d for d in proposer.decisions if d.stream == stream and d.column == column)


def test_a_polymorphic_parent_becomes_note_targets_even_towards_a_later_stream() -> None:
    proposer = _proposer()
    outputs = proposer.data["streams"]["notes"]
    targets = {o["key"]: o for o in outputs if o["object"] == "noteTarget"}
    assert set(targets) == {"{id}:parent:company", "{id}:parent:matter"}
    matter = targets["{id}:parent:matter"]
    assert matter["fields"]["targetMatterId"] == {
        "ref": "matter",
        "from": "parent_id",
        "required": True,
    }
    assert matter["fields"]["noteId"] == {"ref": "note", "from": "id", "required": True}
    assert [v.lower() for v in matter["when"]["parent_type"]] == ["matter", "matters"]
    # the pair's own columns are kept as text, for the record
    assert proposer.data["streams"]["notes"][0]["fields"]["parentId"]["type"] == "TEXT"


def test_a_reference_needs_95_percent_and_a_name_that_says_which_stream() -> None:
    proposer = _proposer()
    matter = proposer.data["streams"]["matters"][0]["fields"]
    assert matter["clientCompanyId"]["ref"] == "company"
    assert "as Client Company" in matter["clientCompanyId"]["inverse_label"]
    weak = _decision(proposer, "matters", "referrer_id")
    assert weak.review and "60.0 %" in weak.evidence
    assert matter["referrerId"]["type"] == "TEXT"
    # 1..10 are keys of companies, but "reference_no" names no stream: only listed
    numbered = _decision(proposer, "notes", "reference_no")
    assert numbered.review and "referenceNo" in proposer.data["streams"]["notes"][0]["fields"]
    assert "ref" not in proposer.data["streams"]["notes"][0]["fields"]["referenceNo"]


def test_value_patterns_type_new_custom_fields() -> None:
    proposer = _proposer()
    company = proposer.data["streams"]["companies"][0]["fields"]
    assert company["tier"]["type"] == "SELECT"
    assert company["tier"]["options"] == {"Gold": "GOLD", "Silver": "SILVER"}
    assert company["site.primaryLinkUrl"]["transforms"] == ["url"]
    # named like Twenty's own company.linkedinLink ("Linkedin"): that field, not a new one
    assert company["linkedinLink.primaryLinkUrl"] == {"from": "linked_in", "transforms": ["url"]}
    matter = proposer.data["streams"]["matters"][0]["fields"]
    assert matter["fee"]["type"] == "NUMBER"
    assert matter["due"]["transforms"] == [{"date": {"dayfirst": True}}]


def test_a_run_without_confirmed_rules_holds_what_it_must_and_matches_the_proposal() -> None:
    run = InferringRun(DATA, "demo.yml", None, "ns")
    out: list[Message] = []
    for kind, stream, body in _messages():
        if kind == "SCHEMA":
            out += run.on_schema(stream, body, ["id"])
        elif kind == "RECORD":
            out += run.on_record(stream, body)
        else:
            out += run.on_state(body)
    out += run.summary()
    records = [(i, m) for i, m in enumerate(out) if isinstance(m, RecordMessage)]
    states = [i for i, m in enumerate(out) if isinstance(m, StateMessage)]
    held = [i for i, m in records if m.stream in ("note", "noteTarget", "matter")]
    # every bookmark waited for the records it was sent after (notes and matters were held)
    assert len(states) == 3 and min(states) > max(held)
    note_targets = [m.record for _, m in records if m.stream == "noteTarget"]
    assert len(note_targets) == 30
    assert sum(1 for t in note_targets if "targetMatterId" in t) == 15
    assert (
        run.rules.streams["notes"] == rules_mod.parse(_proposer().data, "demo.yml").streams["notes"]
    )
    reviews = [m.record for _, m in records if m.stream == "_review"]
    assert {(r["stream"], r["column"]) for r in reviews} == {
        ("matters", "referrer_id"),
        ("notes", "reference_no"),
    }


def test_the_proposal_writes_a_rules_file_the_mapper_loads_and_a_sheet(tmp_path: Path) -> None:
    rules_file = tmp_path / "demo-in.yml"
    rules_file.write_text(yaml.safe_dump(DATA), encoding="utf-8")
    messages = [
        _Message(kind, stream, **({"schema": body} if kind == "SCHEMA" else {"record": body}))
        for kind, stream, body in _messages()
        if kind != "STATE"
    ]
    paths = propose(messages, str(rules_file), tmp_path / "out")
    assert [p.name for p in paths] == [
        "demo-rules.yml",
        "demo-mapping-sheet.csv",
        "demo-mapping-sheet.html",
    ]
    loaded = rules_mod.load(str(paths[0]))
    assert "matters" in loaded.streams and "matter" in loaded.objects
    with paths[1].open(encoding="utf-8", newline="") as handle:
        rows = {(r["stream"], r["Twenty field"]): r for r in csv.DictReader(handle)}
    fee = rows[("matters", "matter.fee")]
    assert fee["sample 1"] == "1,100.50 → 1100.5"
    assert rows[("notes", "noteTarget.targetMatterId")]["sample 1"] == "M2 → id of M2"
    html = paths[2].read_text(encoding="utf-8")
    assert "Needs a decision" in html and "referrer_id" in html
