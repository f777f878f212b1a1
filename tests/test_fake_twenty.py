"""The fake Twenty behaves as the captured v2.21.0 server did (docs/twenty-contract.md).

One test per behaviour, each over real HTTP on loopback, so that target-twenty's API-mode tests
stand on facts about Twenty rather than on our own assumptions.
"""

from __future__ import annotations

import json
import time
import uuid

import pytest
import requests
from fakes.twenty import SHARED, TEST_API_KEY, FakeTwenty

KEY = {"Authorization": f"Bearer {TEST_API_KEY}"}


@pytest.fixture
def fake():
    with FakeTwenty() as server:
        yield server


def post(fake: FakeTwenty, path: str, body, **params) -> requests.Response:
    return requests.post(fake.url + path, json=body, headers=KEY, params=params, timeout=10)


def new_id() -> str:
    return str(uuid.uuid4())


def test_requests_without_the_api_key_are_refused(fake) -> None:
    assert requests.get(fake.url + "/rest/companies", timeout=10).status_code == 401


def test_client_ids_are_kept_and_an_upsert_updates_in_place(fake) -> None:
    cid = new_id()
    first = post(
        fake,
        "/rest/batch/companies",
        [{"id": cid, "name": "Acme", "createdAt": "2019-05-01T10:00:00.000Z"}],
        upsert="true",
    )
    assert first.status_code == 201
    (created,) = first.json()["data"]["createCompanies"]
    assert created["id"] == cid and created["createdAt"] == "2019-05-01T10:00:00.000Z"
    again = post(fake, "/rest/batch/companies", [{"id": cid, "name": "Acme Corp"}], upsert="true")
    assert again.json()["data"]["createCompanies"][0]["name"] == "Acme Corp"
    assert len(fake.live("company")) == 1


def test_created_by_is_kept_only_with_a_name(fake) -> None:
    rows = post(
        fake,
        "/rest/batch/companies",
        [
            {"name": "A", "createdBy": {"source": "IMPORT", "name": "Sage CRM migration"}},
            {"name": "B", "createdBy": {"source": "IMPORT"}},
        ],
    ).json()["data"]["createCompanies"]
    assert rows[0]["createdBy"]["name"] == "Sage CRM migration"
    assert rows[1]["createdBy"]["source"] == "API"


def test_upsert_matches_a_unique_email_in_the_trash_and_restores_it(fake) -> None:
    old = new_id()
    post(fake, "/rest/batch/people", [{"id": old, "emails": {"primaryEmail": "ana@x.com"}}])
    requests.delete(
        f"{fake.url}/rest/people/{old}", params={"soft_delete": "true"}, headers=KEY, timeout=10
    )
    assert requests.get(f"{fake.url}/rest/people/{old}", headers=KEY, timeout=10).status_code == 404
    plain = post(
        fake, "/rest/batch/people", [{"id": new_id(), "emails": {"primaryEmail": "ana@x.com"}}]
    )
    assert plain.status_code == 400
    assert plain.json()["messages"] == ["A duplicate entry was detected"]
    mine = new_id()
    restored = post(
        fake,
        "/rest/batch/people",
        [{"id": mine, "emails": {"primaryEmail": "ana@x.com"}}],
        upsert="true",
    ).json()["data"]["createPeople"][0]
    assert restored["id"] == old and restored["deletedAt"] is None  # our id was discarded
    assert mine not in fake.records["person"]


def test_a_dangling_relation_fails_the_whole_batch(fake) -> None:
    good, bad = {"id": new_id()}, {"id": new_id(), "companyId": new_id()}
    answer = post(fake, "/rest/batch/people", [good, bad], upsert="true")
    assert answer.status_code == 400
    assert "violates foreign key constraint" in answer.json()["messages"][0]
    assert fake.live("person") == []  # the good row did not land either


def test_duplicates_inside_one_batch_fail_it(fake) -> None:
    answer = post(
        fake,
        "/rest/batch/people",
        [{"emails": {"primaryEmail": "a@x.com"}}, {"emails": {"primaryEmail": "a@x.com"}}],
    )
    assert answer.status_code == 400 and fake.live("person") == []


def test_batch_cap_message_names_the_cap(fake) -> None:
    answer = post(fake, "/rest/batch/companies", [{"name": str(i)} for i in range(201)])
    assert answer.status_code == 400
    assert answer.json()["messages"] == ["Maximum number of records to upsert is 200."]


def test_unknown_fields_are_refused_with_the_field_named(fake) -> None:
    answer = post(fake, "/rest/batch/companies", [{"name": "A", "employees": 5}])
    assert answer.json()["messages"] == ['Object company doesn\'t have any "employees" field.']
    answer = post(fake, "/rest/batch/noteTargets", [{"personId": new_id()}])
    assert 'doesn\'t have any "personId" field' in answer.json()["messages"][0]


def test_select_and_typed_values_are_validated(fake) -> None:
    answer = post(fake, "/rest/batch/opportunities", [{"name": "D", "stage": "OPEN"}])
    assert answer.json()["messages"][0].startswith(
        'Invalid value "OPEN" for field "stage". Valid values are: NEW, SCREENING'
    )
    answer = post(fake, "/rest/batch/tasks", [{"title": "t", "dueAt": "not a date"}])
    assert "Expected format: 'YYYY-MM-DDTHH:mm:ssZ'" in answer.json()["messages"][0]


PHONE_CAPTURE = json.loads((SHARED / "phone-refusals.json").read_text(encoding="utf-8"))["cases"]


@pytest.mark.parametrize(
    "case",
    [
        k
        for k, v in PHONE_CAPTURE.items()
        if isinstance(v.get("sent"), dict)
        and any(key.startswith(("primaryPhone", "additionalPhones")) for key in v["sent"])
    ],
)
def test_phones_are_validated_as_the_real_server_answered(fake, case: str) -> None:
    """docs/twenty-contract.md §7: each phone the real v2.21.0 refused is refused with the
    same status, message and code; each it kept is kept as it stored it."""
    seen = PHONE_CAPTURE[case]
    body = {"id": new_id(), "name": {"firstName": "P", "lastName": case}, "phones": seen["sent"]}
    answer = post(fake, "/rest/batch/people", [body], upsert="true")
    assert answer.status_code == seen["status"]
    if answer.status_code >= 400:
        got = answer.json()
        assert (got["messages"], got.get("code")) == (
            seen["answer"]["messages"], seen["answer"].get("code"),
        )  # fmt: skip
        assert got["error"] == seen["answer"]["error"]
    else:
        stored = answer.json()["data"]["createPeople"][0]["phones"]
        wanted = seen["answer"]["stored phones"]
        assert {k: stored.get(k) or None for k in wanted} == {
            k: v or None for k, v in wanted.items()
        }


SPELLINGS = json.loads((SHARED / "value-spellings.json").read_text(encoding="utf-8"))["cases"]
PLURAL = {"person": "people", "opportunity": "opportunities", "note": "notes"}


def _sent_part(sent, stored):
    """The part of ``stored`` that was sent: a composite's sub-fields and list items' keys
    sent (the real server also fills the others in; the fake leaves them out)."""
    if isinstance(sent, dict) and isinstance(stored, dict):
        return {k: _sent_part(v, stored.get(k)) for k, v in sent.items()}
    if isinstance(sent, list) and isinstance(stored, list):
        return [_sent_part(a, b) for a, b in zip(sent, stored, strict=False)]
    return stored


@pytest.mark.parametrize("case", sorted(SPELLINGS))
def test_values_are_stored_as_the_real_server_stored_them(fake, case: str) -> None:
    """docs/twenty-contract.md §4.6: each value the real v2.21.0 stored in its own spelling
    (e-mails, phone numbers, URLs, date-times) is stored so by the fake too."""
    seen = SPELLINGS[case]
    plural = PLURAL[seen["object"]]
    rid = new_id()
    body = {"id": rid, **seen["sent"]}
    assert post(fake, f"/rest/batch/{plural}", [body], upsert="true").status_code == 201
    got = requests.get(f"{fake.url}/rest/{plural}/{rid}", headers=KEY, timeout=10).json()
    record = next(iter(got["data"].values()))
    for name, wanted in seen["stored"].items():
        assert _sent_part(seen["sent"][name], record[name]) == _sent_part(
            seen["sent"][name], wanted
        ), name


def test_rate_limit_answers_429_without_retry_after_like_v2_21() -> None:
    with FakeTwenty(rate_limit=3, window=60) as fake:
        codes = [
            requests.get(fake.url + "/rest/companies", headers=KEY, timeout=10) for _ in range(4)
        ]
        assert [c.status_code for c in codes] == [200, 200, 200, 429]
        assert codes[3].json() == json.loads((SHARED / "response-429.json").read_text())
        assert "Retry-After" not in codes[3].headers


class Clock:
    def __init__(self) -> None:
        self.now = 5000.0

    def __call__(self) -> float:
        return self.now


def companies(fake: FakeTwenty) -> int:
    return requests.get(fake.url + "/rest/companies", headers=KEY, timeout=10).status_code


def test_the_limit_is_a_bucket_refilled_in_whole_tokens_rounded_down() -> None:
    """3 tokens per 60 s: one every 20 s, counted only when a request is let through."""
    clock = Clock()
    with FakeTwenty(rate_limit=3, window=60, clock=clock) as fake:
        assert [companies(fake) for _ in range(4)] == [200, 200, 200, 429]  # starts full
        clock.now += 19.999
        assert companies(fake) == 429  # not a whole token yet; and the refusal costs nothing
        clock.now += 0.001
        assert companies(fake) == 200  # 20 s after the last request let through
        # every 30 s: 1.5 tokens refilled, rounded down to 1 and spent; the halves are lost,
        # so after 4 such requests (6 tokens' worth of time) there is still none left over
        for _ in range(4):
            clock.now += 30
            assert companies(fake) == 200
        assert companies(fake) == 429
        meta = requests.get(fake.url + "/rest/metadata/objects", headers=KEY, timeout=10)
        assert meta.status_code == 200  # the metadata API is not limited
        clock.now += 120  # idle two windows: the bucket is forgotten, so full again
        assert [companies(fake) for _ in range(4)] == [200, 200, 200, 429]


def test_batch_upsert_answers_updated_records_first_then_created(fake) -> None:
    a, b, c, d = (str(uuid.uuid4()) for _ in range(4))
    post(fake, "/rest/batch/companies", [{"id": b, "name": "B"}, {"id": d, "name": "D"}])
    answer = post(
        fake,
        "/rest/batch/companies",
        [{"id": i, "name": n} for i, n in ((a, "A"), (b, "B2"), (c, "C"), (d, "D2"))],
        upsert="true",
    )
    assert [r["id"] for r in answer.json()["data"]["createCompanies"]] == [b, d, a, c]


def test_rate_limit_with_newer_headers() -> None:
    with FakeTwenty(rate_limit=1, window=60, retry_after_headers=True) as fake:
        requests.get(fake.url + "/rest/companies", headers=KEY, timeout=10)
        limited = requests.get(fake.url + "/rest/companies", headers=KEY, timeout=10)
        assert limited.status_code == 429
        assert int(limited.headers["Retry-After"]) >= 1
        assert limited.headers["X-RateLimit-Remaining"] == "0"


@pytest.mark.parametrize("shape", ["objects", "flat"])
def test_metadata_answers_in_both_shapes(shape: str) -> None:
    with FakeTwenty(metadata_shape=shape) as fake:
        body = requests.get(fake.url + "/rest/metadata/objects", headers=KEY, timeout=10).json()
        objects = body["data"]["objects"] if shape == "objects" else body["data"]
        assert {o["nameSingular"] for o in objects} >= {"company", "person", "noteTarget"}


def test_custom_objects_fields_and_relations_follow_the_naming_rules(fake) -> None:
    meta = fake.url + "/rest/metadata"
    bad = requests.post(
        meta + "/objects",
        json={
            "nameSingular": "Matter",
            "namePlural": "matters",
            "labelSingular": "M",
            "labelPlural": "Ms",
        },
        headers=KEY,
        timeout=10,
    )
    assert bad.status_code == 400 and bad.json()["error"] == "METADATA_VALIDATION_ERROR"
    created = requests.post(
        meta + "/objects",
        json={
            "nameSingular": "matter",
            "namePlural": "matters",
            "labelSingular": "Matter",
            "labelPlural": "Matters",
        },
        headers=KEY,
        timeout=10,
    ).json()
    assert "data" not in created and created["nameSingular"] == "matter"  # bare, not wrapped
    assert "targetMatter" in {f["name"] for f in fake.objects["noteTarget"]["fields"]}
    taken = requests.post(
        meta + "/fields",
        json={"objectMetadataId": created["id"], "type": "TEXT", "name": "name", "label": "Name"},
        headers=KEY,
        timeout=10,
    )
    assert "NOT_AVAILABLE" in json.dumps(taken.json())
    reserved = requests.post(
        meta + "/fields",
        json={"objectMetadataId": created["id"], "type": "TEXT", "name": "type", "label": "T"},
        headers=KEY,
        timeout=10,
    )
    assert reserved.status_code == 400
    option = requests.post(
        meta + "/fields",
        json={
            "objectMetadataId": created["id"],
            "type": "SELECT",
            "name": "tier",
            "label": "Tier",
            "options": [{"value": "gold", "label": "Gold"}],
        },
        headers=KEY,
        timeout=10,
    )
    assert option.status_code == 400
    person = fake.objects["person"]["id"]
    relation = requests.post(
        meta + "/fields",
        json={
            "objectMetadataId": created["id"],
            "type": "RELATION",
            "name": "client",
            "label": "Client",
            "relationCreationPayload": {
                "type": "MANY_TO_ONE",
                "targetObjectMetadataId": person,
                "targetFieldLabel": "Matters",
                "targetFieldIcon": "IconLink",
            },
        },
        headers=KEY,
        timeout=10,
    ).json()
    assert relation["settings"]["joinColumnName"] == "clientId"
    assert "matters" in {f["name"] for f in fake.objects["person"]["fields"]}
    pid = new_id()
    post(fake, "/rest/batch/people", [{"id": pid}])
    ok = post(fake, "/rest/batch/matters", [{"name": "M", "clientId": pid}], upsert="true")
    assert ok.status_code == 201
    assert fake.violations == []


def test_patching_options_without_ids_resets_the_records_that_used_them(fake) -> None:
    stage = next(f for f in fake.objects["opportunity"]["fields"] if f["name"] == "stage")
    post(fake, "/rest/batch/opportunities", [{"name": "D", "stage": "MEETING"}])
    kept = [dict(o) for o in stage["options"]]
    ok = requests.patch(
        f"{fake.url}/rest/metadata/fields/{stage['id']}",
        json={"options": [*kept, {"value": "CLOSED_LOST", "label": "Closed lost", "position": 5}]},
        headers=KEY,
        timeout=10,
    )
    assert ok.status_code == 200 and fake.live("opportunity")[0]["stage"] == "MEETING"
    stripped = [{k: v for k, v in o.items() if k != "id"} for o in stage["options"]]
    requests.patch(
        f"{fake.url}/rest/metadata/fields/{stage['id']}",
        json={"options": stripped},
        headers=KEY,
        timeout=10,
    )
    assert fake.live("opportunity")[0]["stage"] == "NEW"  # required field → its default


def test_destroy_is_the_default_and_soft_delete_is_asked_for(fake) -> None:
    a, b = new_id(), new_id()
    post(fake, "/rest/batch/companies", [{"id": a, "name": "A"}, {"id": b, "name": "B"}])
    requests.delete(f"{fake.url}/rest/companies/{a}", headers=KEY, timeout=10)
    requests.delete(
        f"{fake.url}/rest/companies/{b}", params={"soft_delete": "true"}, headers=KEY, timeout=10
    )
    assert a not in fake.records["company"]
    assert fake.records["company"][b]["deletedAt"]
    trash = requests.get(
        fake.url + "/rest/companies",
        params={"filter": "deletedAt[is]:NOT_NULL"},
        headers=KEY,
        timeout=10,
    ).json()["data"]["companies"]
    assert [c["id"] for c in trash] == [b]
    requests.patch(f"{fake.url}/rest/restore/companies/{b}", headers=KEY, timeout=10)
    assert not fake.records["company"][b]["deletedAt"]


def test_lists_page_with_cursors_and_clamp_the_limit(fake) -> None:
    post(fake, "/rest/batch/companies", [{"name": str(i)} for i in range(150)])
    post(fake, "/rest/batch/companies", [{"name": str(i)} for i in range(150, 250)])
    page = requests.get(
        fake.url + "/rest/companies", params={"limit": 500}, headers=KEY, timeout=10
    ).json()
    assert len(page["data"]["companies"]) == 200 and page["pageInfo"]["hasNextPage"]
    rest = requests.get(
        fake.url + "/rest/companies",
        params={"starting_after": page["pageInfo"]["endCursor"]},
        headers=KEY,
        timeout=10,
    ).json()
    assert len(rest["data"]["companies"]) == 50 and page["totalCount"] == 250
    bad = requests.get(
        fake.url + "/rest/companies", params={"starting_after": "nope"}, headers=KEY, timeout=10
    )
    assert bad.json()["messages"] == ["Invalid cursor: nope"]


def test_workspace_members_are_listed_by_user_email(fake) -> None:
    members = requests.get(fake.url + "/rest/workspaceMembers", headers=KEY, timeout=10).json()[
        "data"
    ]["workspaceMembers"]
    assert {m["userEmail"] for m in members} == {"admin@acme.test", "Bob.Owner@acme.test"}


def test_uploaded_files_attach_once_and_come_back(fake) -> None:
    field = next(f for f in fake.objects["attachment"]["fields"] if f["name"] == "file")
    operations = {
        "query": "mutation($file: Upload!, $fieldMetadataId: String!){ "
        "uploadFilesFieldFile(file:$file, fieldMetadataId:$fieldMetadataId)"
        "{ id path size url } }",
        "variables": {"file": None, "fieldMetadataId": field["id"]},
    }
    up = requests.post(
        fake.url + "/metadata",
        headers=KEY,
        timeout=10,
        data={"operations": json.dumps(operations), "map": json.dumps({"0": ["variables.file"]})},
        files={"0": ("x.txt", b"hello", "text/plain")},
    ).json()["data"]["uploadFilesFieldFile"]
    assert requests.get(up["url"], timeout=10).content == b"hello"
    cid = new_id()
    post(fake, "/rest/batch/companies", [{"id": cid, "name": "A"}])
    body = {
        "name": "x.txt",
        "file": [{"fileId": up["id"], "label": "x.txt"}],
        "fileCategory": "TEXT_DOCUMENT",
        "targetCompanyId": cid,
    }
    assert post(fake, "/rest/batch/attachments", [body]).status_code == 201
    again = post(fake, "/rest/batch/attachments", [body])
    assert again.status_code == 400
    assert again.json()["messages"] == [
        f"File {up['id']} is already associated with a permanent files field"
    ]
    # a file id that names no file uploaded to this workspace (docs/twenty-contract.md §5.3)
    stray = str(uuid.uuid4())
    orphan = {**body, "file": [{"fileId": stray, "label": "x.txt"}]}
    refused = post(fake, "/rest/batch/attachments", [orphan])
    assert refused.status_code == 400
    assert refused.json()["messages"] == [f"File not found: {stray}"]
    assert len(fake.live("attachment")) == 1


def test_latency_and_faults_can_be_injected() -> None:
    with FakeTwenty(latency=0.05, fault_rate=1.0) as fake:
        started = time.monotonic()
        answer = requests.get(fake.url + "/rest/companies", headers=KEY, timeout=10)
        assert time.monotonic() - started >= 0.05
        assert answer.status_code in (429, 503)


def test_requests_outside_the_openapi_document_are_recorded(fake) -> None:
    requests.get(fake.url + "/rest/companies", params={"bogus": "1"}, headers=KEY, timeout=10)
    post(fake, "/rest/batch/companies", {"name": "not an array"})
    assert any("unknown query parameter 'bogus'" in v for v in fake.violations)
    assert any("is not of type 'array'" in v for v in fake.violations)


def test_an_older_server_uploads_through_graphql_upload_file() -> None:
    with FakeTwenty(legacy_attachments=True) as fake:
        assert "file" not in {f["name"] for f in fake.objects["attachment"]["fields"]}
        operations = {
            "query": "mutation($file: Upload!, $fileFolder: FileFolder){ "
            "uploadFile(file:$file, fileFolder:$fileFolder) }",
            "variables": {"file": None, "fileFolder": "Attachment"},
        }
        path = requests.post(
            fake.url + "/graphql",
            headers=KEY,
            timeout=10,
            data={
                "operations": json.dumps(operations),
                "map": json.dumps({"0": ["variables.file"]}),
            },
            files={"0": ("x.txt", b"hi", "text/plain")},
        ).json()["data"]["uploadFile"]
        assert path.endswith("/x.txt")
