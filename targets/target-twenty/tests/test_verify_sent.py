"""What verify compares a record with: the audit log's confirmed bodies, each field as the last
body that carried it, none a rollback undid (audit.py ``last_sent``, ``sent_records``)."""

from __future__ import annotations

from pathlib import Path

from target_twenty.audit import Action, Audit, SentSource, Write


def _sent(audit: Audit, run: str, rid: str, body: dict, values: dict | None = None) -> None:
    write = Write(
        rid, Action.CREATED, sent={"id": rid, **body}, source=SentSource("s", "k", values)
    )
    batch = audit.intend(run, "person", "people", [write])
    audit.confirm(batch, run, "person", "people", [write])


def test_each_field_is_the_last_sent_and_a_rollback_takes_its_writes_back(tmp_path: Path) -> None:
    audit = Audit(tmp_path / "audit.sqlite")
    for run in ("r1", "r2", "r3"):
        audit.start(run, "m", "http://twenty")
    _sent(audit, "r1", "a", {"jobTitle": "CEO", "city": "Leeds"}, {"jobTitle": "ceo"})
    _sent(audit, "r1", "b", {"jobTitle": "CTO"})
    _sent(audit, "r2", "a", {"jobTitle": "CFO"}, {"jobTitle": "cfo"})  # a delta's update
    _sent(audit, "r3", "a", {"jobTitle": "Intern"})
    # r3 rolled back: its writes are undone
    audit.mark_undone([w.seq for w in audit.writes("r3")])
    # a batch never confirmed (the run was killed) is not what Twenty holds
    audit.intend("r3", "person", "people", [Write("c", Action.CREATED, sent={"id": "c"})])

    assert [r[2] for r in audit.sent_records("r1")] == ["a", "b"]
    assert [r[2] for r in audit.sent_records("r2")] == ["a"]
    assert audit.sent_records("r3") == []
    assert [r[2] for r in audit.sent_records(None)] == ["a", "b"]
    last = audit.last_sent("person", ["a", "b", "c"])
    assert set(last) == {"a", "b"}
    assert last["a"].body == {"id": "a", "jobTitle": "CFO", "city": "Leeds"}
    assert last["a"].run_of["jobTitle"] == "r2" and last["a"].run_of["city"] == "r1"
    assert last["a"].source is not None and last["a"].source.values == {"jobTitle": "cfo"}
    assert last["a"].runs == ["r1", "r2"]
