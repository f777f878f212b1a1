"""The report's contract: report.schema.json agrees with the RunReport model and bites; the
template and schema ship with the package; report.md says how the run went, at the top.

(Every run the other tests make has its report.json checked against the schema: see ``Run``.)
"""

from __future__ import annotations

import copy
import dataclasses
import json
import typing
from importlib import resources

import pytest
from crm2twenty_common import members
from jsonschema import Draft202012Validator
from target_twenty import outcome
from target_twenty.report import SCHEMA_PATH, model
from twenty_builders import COMPANY, PERSON, REPORT_SCHEMA, record, rid

SCHEMA = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))

# Each part of report.json, as the schema names it, and the dataclass that holds it.
PARTS: dict[str, type] = {
    "ObjectCount": model.ObjectCount,
    "SourceCount": model.SourceCount,
    "OwnersReport": model.OwnersReport,
    "RejectsSummary": model.RejectsSummary,
    "RepairsSummary": model.RepairsSummary,
    "ReasonCount": model.ReasonCount,
    "ProblemExample": model.ProblemExample,
    "AttachmentsSummary": model.AttachmentsSummary,
    "RecordCycle": outcome.RecordCycle,
    "Merge": outcome.Merge,
    "NewObject": outcome.NewObject,
    "NewField": outcome.NewField,
    "NewOptions": outcome.NewOptions,
    "ProvisioningNeeds": outcome.ProvisioningNeeds,
    "CsvFile": outcome.CsvFile,
    "ObjectRef": outcome.ObjectRef,
    "ApiStats": outcome.ApiStats,
    "PlannedObject": outcome.PlannedObject,
    "DryRunPlan": outcome.DryRunPlan,
    "SampleDiff": outcome.SampleDiff,
    "WorkspaceMatch": outcome.WorkspaceMatch,
    "PreflightSummary": outcome.PreflightSummary,
    "RunScope": model.RunScope,
    "RunStatus": model.RunStatus,
    "PluginRun": model.PluginRun,
    "RequestStats": outcome.RequestStats,
    "FieldDiff": outcome.FieldDiff,
    "OwnerMatching": outcome.OwnerMatching,
    "ReviewItem": model.ReviewItem,
    "LoadOverTime": model.LoadOverTime,
    "MemberList": members.MemberList,
    "InventorySection": model.InventorySection,
    "InventoryEntry": model.InventoryEntry,
    "SourceMember": members.SourceMember,
}


def json_keys(cls: type) -> tuple[list[str], list[str]]:
    """(every key, the keys always present) of a dataclass's JSON form, as model._data writes
    it: a field defaulting to None may be left out; an inline field lends its own keys."""
    keys: list[str] = []
    required: list[str] = []
    for f in dataclasses.fields(cls):
        if f.metadata.get("inline"):
            inner = typing.get_args(typing.get_type_hints(cls)[f.name])[0]
            keys += [g.name for g in dataclasses.fields(inner)]
            continue
        keys.append(f.name)
        if f.default is not None:
            required.append(f.name)
    return keys, required


def test_the_schema_is_valid_and_says_what_the_model_writes() -> None:
    Draft202012Validator.check_schema(SCHEMA)
    parts = {**PARTS, "RunOutputs": model.RunOutputs}
    assert set(SCHEMA["$defs"]) == set(parts)
    for name, cls in [*parts.items(), ("(report)", model.RunReport)]:
        part = SCHEMA if name == "(report)" else SCHEMA["$defs"][name]
        keys, required = json_keys(cls)
        assert list(part["properties"]) == keys, name
        assert part["additionalProperties"] is False, name
        if cls is not model.RunOutputs:  # its CSV keys come as a group (dependentRequired)
            assert part["required"] == required, name
    assert SCHEMA["properties"]["mode"]["enum"] == [m.value for m in model.Mode]
    outcomes = SCHEMA["$defs"]["RunStatus"]["properties"]["outcome"]
    assert outcomes["enum"] == [o.value for o in model.Outcome]
    kind = SCHEMA["$defs"]["RunScope"]["properties"]["kind"]
    assert kind["enum"] == [k.value for k in model.RunKind]
    decision = SCHEMA["$defs"]["WorkspaceMatch"]["properties"]["decision"]
    assert decision["enum"] == [d.value for d in outcome.Decision]


@pytest.fixture
def csv_report(run_target) -> dict:
    run = run_target(
        [
            COMPANY,
            PERSON,
            record("company", 1, name="Acme"),
            record("person", 1, name={"firstName": "Ana"}, companyId=rid("company", 9)),
        ]
    )
    return run.report


def test_the_schema_rejects_what_a_report_must_not_be(csv_report: dict) -> None:
    assert REPORT_SCHEMA.is_valid(csv_report)

    def broken(change: typing.Callable[[dict], object]) -> bool:
        report = copy.deepcopy(csv_report)
        change(report)
        return not REPORT_SCHEMA.is_valid(report)

    assert broken(lambda r: r.pop("balanced"))
    assert broken(lambda r: r.update(surprise=1))
    assert broken(lambda r: r.update(mode="spreadsheet"))
    assert broken(lambda r: r["objects"][0].update(received="2"))
    assert broken(lambda r: r["objects"][0].update(skipped=0))  # present only when some were
    assert broken(lambda r: r["outputs"].pop("csv"))  # a CSV run lists its files
    assert broken(lambda r: r["rejects"]["top_reasons"].append(["why", 1, 2]))
    assert broken(lambda r: r.update(dry_run={}))  # API mode's parts stay out of CSV runs


def test_the_template_and_the_schema_ship_with_the_package() -> None:
    package = resources.files("target_twenty.report")
    assert (package / "templates" / "report.md.j2").is_file()
    assert (package / "templates" / "report.html.j2").is_file()
    assert (package / "report.schema.json").is_file()


def test_the_markdown_says_first_whether_the_counts_add_up(run_target) -> None:
    good = run_target([COMPANY, record("company", 1, name="Acme")])
    head = (good.dir / "report.md").read_text(encoding="utf-8").split("\n## ")[0]
    assert head.endswith("**All counts add up.**\n")
    assert f"Run `{good.report['run_id']}`, mode **csv**" in head
