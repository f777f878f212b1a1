"""Builders for Singer messages shaped like the mapper's output, and a finished run's files."""

from __future__ import annotations

import csv
import io
import json
import uuid
from pathlib import Path
from typing import Any

from crm2twenty_common.completion import RunStatus, status_messages
from jsonschema import Draft202012Validator
from target_twenty.report import SCHEMA_PATH

NS = uuid.UUID("12345678-1234-5678-1234-567812345678")
S = {"type": ["string", "null"]}


def rid(obj: str, key: Any) -> str:
    return str(uuid.uuid5(NS, f"{obj}:{key}"))


def prop(kind: str, **intent: Any) -> dict:
    composite = {
        "EMAILS": ["primaryEmail", "additionalEmails"],
        "LINKS": ["primaryLinkUrl"],
        "FULL_NAME": ["firstName", "lastName"],
        "CURRENCY": ["amountMicros", "currencyCode"],
        "PHONES": ["primaryPhoneNumber", "primaryPhoneCountryCode", "primaryPhoneCallingCode"],
        "RICH_TEXT": ["markdown"],
    }
    schema: dict[str, Any] = (
        {"type": ["object", "null"], "properties": {k: S for k in composite[kind]}}
        if kind in composite
        else dict(S)
    )
    schema["x-twenty"] = {"type": kind, **intent}
    return schema


def schema(obj: str, props: dict[str, dict], **root: Any) -> dict:
    return {
        "type": "SCHEMA",
        "stream": obj,
        "key_properties": ["id"],
        "schema": {
            "type": "object",
            "x-twenty": {"object": obj, **root},
            "properties": {
                "id": {"type": "string", "format": "uuid"},
                "_crm2twenty": {"type": "object", "x-twenty": {"internal": True}},
                **props,
            },
        },
    }


def record(
    obj: str,
    key: Any,
    stream: str | None = None,
    primary: bool = True,
    refs: dict | None = None,
    line: int | None = None,
    **values: Any,
) -> dict:
    prov: dict[str, Any] = {"stream": stream or f"src_{obj}", "key": str(key), "primary": primary}
    if line is not None:
        prov["location"] = f"{prov['stream']}.csv:{line}"
    if refs:
        prov["refs"] = refs
    return {
        "type": "RECORD",
        "stream": obj,
        "record": {"id": rid(obj, key), "_crm2twenty": prov, **values},
    }


COMPANY = schema(
    "company",
    {
        "name": prop("TEXT", label="Name"),
        "domainName": prop("LINKS", label="Domain Name"),
        "employees": prop("NUMBER", label="Employees"),
        "parentCompanyId": prop("RELATION", target="company", match="id", label="Parent Company"),
        "accountOwnerId": prop(
            "RELATION", target="workspaceMember", match="userEmail", label="Account Owner"
        ),
    },
)
PERSON = schema(
    "person",
    {
        "name": prop("FULL_NAME", label="Name"),
        "emails": prop("EMAILS", label="Emails"),
        "phones": prop("PHONES", label="Phones"),
        "companyId": prop("RELATION", target="company", match="id", label="Company"),
    },
)
OPPORTUNITY = schema(
    "opportunity",
    {
        "name": prop("TEXT"),
        "stage": prop(
            "SELECT", options=[{"value": "NEGOTIATION", "label": "Negotiation", "position": 0}]
        ),
        "amount": prop("CURRENCY"),
        "companyId": prop("RELATION", target="company", match="id"),
        "pointOfContactId": prop("RELATION", target="person", match="id"),
    },
)


def says(status: RunStatus, plugin: str = "tap-test", error: str | None = None) -> list[dict]:
    """What a tap of the suite says on ``_notices`` of its run (the real messages)."""
    return [m.to_dict() for m in status_messages(plugin, "tap", status, error)]


def singer_input(messages: list[dict], *, tap_completed: bool = True) -> io.StringIO:
    """The target's stdin: ``messages`` as a tap of the suite that read everything sends them
    (it says so before and after), or as they are (a tap outside the suite)."""
    if tap_completed:
        messages = [*says(RunStatus.STARTED), *messages, *says(RunStatus.COMPLETED)]
    return io.StringIO("".join(json.dumps(m) + "\n" for m in messages))


REPORT_SCHEMA = Draft202012Validator(json.loads(SCHEMA_PATH.read_text(encoding="utf-8")))


class Run:
    """A finished target run: its report, files and stdout."""

    def __init__(self, output: Path, stdout: str, latest: str = "LATEST") -> None:
        """``latest``: the file naming the run (``LAST_RUN`` for one that held back)."""
        self.output = output
        self.dir = output / (output / latest).read_text().strip()
        self.report = json.loads((self.dir / "report.json").read_text())
        REPORT_SCHEMA.validate(self.report)  # every run's report.json keeps to the schema
        self.stdout = stdout

    def csv(self, pattern: str) -> list[dict[str, str]]:
        rows: list[dict[str, str]] = []
        for path in sorted((self.dir / "csv").glob(pattern)):
            with path.open(encoding="utf-8", newline="") as handle:
                rows.extend(csv.DictReader(handle))
        return rows

    def files(self) -> list[str]:
        return sorted(p.name for p in (self.dir / "csv").iterdir())

    def side(self, name: str) -> list[dict[str, str]]:
        with (self.dir / name).open(encoding="utf-8", newline="") as handle:
            return list(csv.DictReader(handle))

    def counts(self, obj: str) -> dict:
        return next(o for o in self.report["objects"] if o["object"] == obj)
