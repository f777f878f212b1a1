"""The API-mode scenarios against a real Twenty, when one is given.

Set TWENTY_API_URL and TWENTY_API_KEY (a workspace you can write to; everything a test creates
it rolls back, custom fields and objects included). Without them these tests are skipped and
say why. Records use names and e-mails unique to the run, so existing data is not touched.
"""

from __future__ import annotations

import io
import os
import uuid
from contextlib import redirect_stdout
from pathlib import Path

import pytest
import requests
from target_twenty.rollback import rollback
from target_twenty.target import TargetTwenty
from target_twenty.verify.command import run_verify
from twenty_builders import (
    COMPANY,
    OPPORTUNITY,
    PERSON,
    Run,
    prop,
    record,
    rid,
    schema,
    singer_input,
)

URL, KEY = os.environ.get("TWENTY_API_URL", ""), os.environ.get("TWENTY_API_KEY", "")
pytestmark = [
    pytest.mark.integration,
    pytest.mark.skipif(
        not (URL and KEY),
        reason="no real Twenty: set TWENTY_API_URL and TWENTY_API_KEY to run these against one",
    ),
]


def run_target(tmp_path: Path, messages: list[dict], **config) -> Run:
    output = tmp_path / "out"
    target = TargetTwenty(
        config={"mode": "api", "api_url": URL, "api_key": KEY, "output_dir": str(output), **config}
    )
    with redirect_stdout(io.StringIO()):
        target.listen(singer_input(messages))
    return Run(output, "")


def get(path: str) -> dict:
    answer = requests.get(
        f"{URL.rstrip('/')}/rest/{path}", headers={"Authorization": f"Bearer {KEY}"}, timeout=30
    )
    answer.raise_for_status()
    return answer.json()


def test_load_read_back_rerun_and_roll_back(tmp_path: Path) -> None:
    tag = uuid.uuid4().hex[:8]
    suffix = "C" + tag.upper()
    matter = schema(
        f"crmtest{tag}",
        {
            "name": prop("TEXT"),
            "clientId": prop("RELATION", target="person", match="id", inverseLabel=f"Tests {tag}"),
        },
        custom=True,
        namePlural=f"crmtests{tag}",
        labelSingular=f"Test {tag}",
        labelPlural=f"Tests {tag}",
    )
    messages = [
        COMPANY,
        PERSON,
        OPPORTUNITY,
        matter,
        record(
            "company",
            f"{tag}-1",
            name=f"Acme {tag}",
            employees=12,
            domainName={"primaryLinkUrl": f"https://{tag}.example"},
        ),
        record(
            "person",
            f"{tag}-1",
            emails={"primaryEmail": f"ana.{tag}@example.org"},
            companyId=rid("company", f"{tag}-1"),
        ),
        record(
            "opportunity",
            f"{tag}-1",
            name=f"Deal {tag}",
            stage=suffix,
            companyId=rid("company", f"{tag}-1"),
            pointOfContactId=rid("person", f"{tag}-1"),
        ),
        record(f"crmtest{tag}", f"{tag}-1", name="M", clientId=rid("person", f"{tag}-1")),
    ]
    messages[2]["schema"]["properties"]["stage"]["x-twenty"]["options"] = [
        {"value": suffix, "label": f"Stage {tag}", "position": 0}
    ]
    state = {"state_dir": str(tmp_path / "state")}
    first = run_target(tmp_path, messages, **state)
    assert first.report["balanced"] and first.report["rejects"]["count"] == 0
    company = get(f"companies/{rid('company', f'{tag}-1')}")["data"]["company"]
    assert company["name"] == f"Acme {tag}" and company["employees"] == 12
    deal = get(f"opportunities/{rid('opportunity', f'{tag}-1')}")["data"]["opportunity"]
    assert deal["stage"] == suffix and deal["pointOfContactId"] == rid("person", f"{tag}-1")
    # verify: every field as sent; then one edited in Twenty behind the target's back
    checked = {"api_url": URL, "api_key": KEY, "output_dir": str(tmp_path / "out"), **state}
    result, files = run_verify(dict(checked), first.report["run_id"])
    assert result.equal and result.records == 4, result.summary()
    assert result.requests.reads == 4  # one read of each object's records
    assert files.csv.is_file() and files.html.is_file()
    edited = requests.patch(
        f"{URL.rstrip('/')}/rest/companies/{rid('company', f'{tag}-1')}",
        json={"name": f"Edited {tag}"},
        headers={"Authorization": f"Bearer {KEY}"},
        timeout=30,
    )
    edited.raise_for_status()
    result, _ = run_verify(dict(checked), first.report["run_id"], objects=["company"])
    assert result.differences == {"company.name": 1} and result.records == 1, result.summary()
    second = run_target(tmp_path, messages, **state)
    assert second.report["provisioning"] == {"objects": [], "fields": [], "options": []}
    assert second.report["api"]["created"] == {}
    config = {"api_url": URL, "api_key": KEY, **state}
    rollback(config, second.report["run_id"])
    done = rollback(config, first.report["run_id"], remove_metadata=True)
    assert done["destroyed"] == 4
    with pytest.raises(requests.HTTPError):
        get(f"companies/{rid('company', f'{tag}-1')}")


def test_a_refused_phone_is_kept_in_phones_raw_and_the_record_lands(tmp_path: Path) -> None:
    """docs/twenty-contract.md §7 on the real server: country US with calling code +44 is
    refused; the person is written again without it (kept in `phonesRaw`, created then) and
    the deal that points at her lands too. Rolled back, the new field included."""
    tag = uuid.uuid4().hex[:8]
    phones = {
        "primaryPhoneNumber": "7700900123",
        "primaryPhoneCountryCode": "US",
        "primaryPhoneCallingCode": "+44",
    }
    messages = [
        PERSON,
        OPPORTUNITY,
        record(
            "person",
            f"{tag}-olivia",
            name={"firstName": "Olivia", "lastName": tag},
            phones=phones,
        ),
        record(
            "opportunity",
            f"{tag}-1",
            name=f"Deal {tag}",
            pointOfContactId=rid("person", f"{tag}-olivia"),
        ),
    ]
    state = {"state_dir": str(tmp_path / "state")}
    run = run_target(tmp_path, messages, **state)
    try:
        assert run.report["balanced"] and run.report["rejects"]["count"] == 0
        person = get(f"people/{rid('person', f'{tag}-olivia')}")["data"]["person"]
        assert person["phonesRaw"] == "+44 7700900123"
        deal = get(f"opportunities/{rid('opportunity', f'{tag}-1')}")["data"]["opportunity"]
        assert deal["pointOfContactId"] == rid("person", f"{tag}-olivia")
    finally:
        config = {"api_url": URL, "api_key": KEY, **state}
        rollback(config, run.report["run_id"], remove_metadata=True)
