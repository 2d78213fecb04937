"""The clean mock over real HTTP, one test per requirement, in both profiles (the ``mock`` params)."""

from __future__ import annotations

import json
import re
import uuid
from http import HTTPStatus
from typing import Any

import httpx
import pytest

from tests.mock.conftest import Api

JSON_TYPE = "application/json"


def assert_refused(api: Api, response: httpx.Response, kind: str) -> dict[str, Any]:
    """The response is the contract's refusal of ``kind``, with a documented envelope and a message."""
    status = api.contract.refusal(kind).status
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == JSON_TYPE
    body: dict[str, Any] = response.json()
    errors = sorted(e.message for e in api.contract.validator(status).iter_errors(body))
    assert errors == []
    ((fault,),) = [body.values()]
    assert fault["message"]
    return body


def test_op_accept_valid_body_gets_the_documented_status_and_schema(api: Api) -> None:
    response = api.post(json=api.contract.request_examples[0] | api.body())
    assert response.status_code == api.contract.accepted_status
    assert response.headers["content-type"] == JSON_TYPE
    assert list(api.contract.validator("summary").iter_errors(response.json())) == []


@pytest.mark.parametrize("token", [None, "", "not-a-token"])
def test_auth_missing_or_invalid_token_is_refused_with_401(api: Api, token: str | None) -> None:
    response = api.create(token=token)
    assert response.status_code == HTTPStatus.UNAUTHORIZED
    assert response.headers["content-type"] == JSON_TYPE
    assert response.json()
    assert api.get("/snapshots", token=token).status_code == HTTPStatus.UNAUTHORIZED


def test_auth_token_of_another_project_is_refused_with_403(api: Api) -> None:
    api.backend.add_project("another-project")
    api.backend.add_token("another-token", "another-project")
    assert api.create(token="another-token").status_code == HTTPStatus.FORBIDDEN
    assert api.contract.auth_statuses >= {HTTPStatus.UNAUTHORIZED, HTTPStatus.FORBIDDEN}


@pytest.mark.parametrize(
    "body", [{}, {"snapshot": "x"}, {"snapshot": []}, {"snapshot": None}, [], "snapshot", 1]
)
def test_req_snapshot_missing_or_not_an_object_is_refused(api: Api, body: Any) -> None:
    if isinstance(body, dict) and body:
        body = {api.key: body["snapshot"]}
    assert_refused(api, api.post(json=body), "invalid-body")


@pytest.mark.parametrize("volume_id", [1, 1.5, True, [], {}])
def test_req_volume_id_not_a_string_is_refused(api: Api, volume_id: Any) -> None:
    assert_refused(api, api.create(volume_id=volume_id), "invalid-body")


def test_req_volume_id_missing_is_refused(api: Api) -> None:
    assert_refused(api, api.post(json={api.key: {"name": "no disk"}}), "invalid-body")


def test_req_volume_id_null_gets_the_profiles_refusal(api: Api) -> None:
    assert_refused(api, api.create(volume_id=None), "null-volume-id")


def test_req_volume_id_null_with_another_defect_is_an_invalid_body(api: Api) -> None:
    too_long = "n" * (api.contract.field("name").max_length or 0) + "n"
    assert_refused(api, api.create(volume_id=None, name=too_long), "invalid-body")


def test_req_volume_exists_unknown_disk_gets_the_profiles_refusal(api: Api) -> None:
    body = assert_refused(api, api.create(volume_id=str(uuid.uuid4())), "unknown-volume")
    assert "disk" in json.dumps(body)


@pytest.mark.parametrize("field", ["name", "description"])
def test_req_lengths_up_to_the_limit_are_accepted_in_characters(api: Api, field: str) -> None:
    limit = api.contract.field(field).max_length
    assert limit is not None
    for value in ("", "a" * limit, "é" * limit, "雪" * limit):
        assert api.accepted(api.create(**{field: value}))[field] == value


@pytest.mark.parametrize("field", ["name", "description"])
def test_req_lengths_over_the_limit_are_refused(api: Api, field: str) -> None:
    limit = api.contract.field(field).max_length
    assert limit is not None
    body = assert_refused(api, api.create(**{field: "é" * (limit + 1)}), "invalid-body")
    assert field in json.dumps(body)


@pytest.mark.parametrize("field", ["name", "description", "metadata"])
def test_null_for_optional_fields_follows_the_schema(api: Api, field: str) -> None:
    response = api.create(**{field: None})
    if api.contract.field(field).nullable:
        api.accepted(response)
    else:
        assert_refused(api, response, "invalid-body")


def test_req_description_may_be_null(api: Api) -> None:
    assert api.accepted(api.create(description=None))["description"] is None


@pytest.mark.parametrize(
    "force", ["true", "yes", "1", "Off", " true", "tRuE", "T", "abc", 1, 0, 1.0, [], {}, [True]]
)
def test_req_force_type_non_booleans_follow_the_profile(api: Api, force: Any) -> None:
    strings = api.contract.field("force").boolean_like_strings
    response = api.create(force=force)
    if isinstance(force, str) and force in strings:
        api.accepted(response)
    else:
        assert_refused(api, response, "invalid-body")


@pytest.mark.parametrize("status", ["in-use", "attaching"])
def test_req_force_default_and_false_refuse_a_busy_disk(api: Api, status: str) -> None:
    assert status in api.contract.busy_volume_statuses
    api.backend.set_volume_status(api.mock.project_id, api.mock.in_use_volume_id, status)
    for extra in ({}, {"force": False}):
        response = api.create(volume_id=api.mock.in_use_volume_id, **extra)
        assert "force" in assert_refused(api, response, "volume-busy")[next(iter(response.json()))]["message"]


def test_req_force_true_is_accepted_for_a_busy_disk(api: Api) -> None:
    snapshot = api.accepted(api.create(volume_id=api.mock.in_use_volume_id, force=True))
    assert snapshot["volume_id"] == api.mock.in_use_volume_id


def test_cinder_boolean_like_strings_mean_what_the_contract_says(api: Api) -> None:
    strings = api.contract.field("force").boolean_like_strings
    if not strings:
        pytest.skip("the profile takes only Booleans")
    for text, meaning in strings.items():
        response = api.create(volume_id=api.mock.in_use_volume_id, force=text)
        if meaning:
            api.accepted(response)
        else:
            assert_refused(api, response, "volume-busy")


@pytest.mark.parametrize("metadata", [[], "k=v", 1, {"k": 1}, {"k": None}, {"k": {"nested": "x"}}])
def test_req_metadata_must_map_strings_to_strings(api: Api, metadata: Any) -> None:
    assert_refused(api, api.create(metadata=metadata), "invalid-body")


@pytest.mark.parametrize(
    "content", [b"", b"   ", b"{", b'{"snapshot": }', b"nul", b"NaN", b"\xff\xfe", b'{"a": 1} x', b"[" * 5000]
)
def test_req_json_invalid_or_empty_body_is_refused(api: Api, content: bytes) -> None:
    assert_refused(api, api.post(content), "invalid-body")


def test_unknown_fields_are_accepted_as_the_page_is_silent(api: Api) -> None:
    api.accepted(api.post(json=api.body(colour="blue") | {"extra": 1}))


def test_rsp_202_schema_time_size_status_echo(api: Api) -> None:
    metadata = {"k": "v", "key.2": "значение"}
    sent = {"name": "  snap  ", "description": " daily ", "metadata": metadata}
    response = api.create(**sent)
    assert list(api.contract.validator("summary").iter_errors(response.json())) == []
    snapshot = api.accepted(response)
    for stamp in (snapshot["created_at"], snapshot["updated_at"]):
        assert stamp is None or re.fullmatch(api.contract.time_pattern, stamp)
    assert snapshot["created_at"] is not None
    volume = api.get(f"/volumes/{api.mock.available_volume_id}").json()["volume"]
    assert snapshot["size"] == volume["size"] >= 1
    assert snapshot["status"] in api.contract.snapshot_statuses
    assert snapshot["volume_id"] == api.mock.available_volume_id
    assert snapshot["metadata"] == metadata
    trim = str.strip if api.contract.trims_whitespace else str
    assert (snapshot["name"], snapshot["description"]) == (trim(sent["name"]), trim(sent["description"]))


def test_rsp_202_name_and_description_are_null_when_left_out(api: Api) -> None:
    snapshot = api.accepted(api.create())
    assert snapshot["name"] is None
    assert snapshot["description"] is None
    assert snapshot["metadata"] == {}


def test_rsp_updated_at_at_creation_follows_the_real_service(api: Api) -> None:
    snapshot = api.accepted(api.create())
    if api.contract.profile == "cinder":
        assert snapshot["updated_at"] is None
    else:
        assert snapshot["updated_at"] == snapshot["created_at"]


def test_rsp_id_unique_every_create_gets_a_new_uuid(api: Api) -> None:
    ids = [api.accepted(api.create())["id"] for _ in range(20)]
    assert len(set(ids)) == len(ids)
    assert all(uuid.UUID(i).version == 4 for i in ids)


def test_lifecycle_read_settle_delete(api: Api) -> None:
    created = api.accepted(api.create(name="life", metadata={"a": "b"}))
    read = api.get(f"/snapshots/{created['id']}")
    assert read.status_code == HTTPStatus.OK
    assert read.headers["content-type"] == JSON_TYPE
    shown = read.json()[api.contract.summary_key]
    assert {k: v for k, v in shown.items() if k not in ("status", "updated_at")} == {
        k: v for k, v in created.items() if k not in ("status", "updated_at")
    }
    assert shown["status"] == "available"
    listed = [s["id"] for s in api.get("/snapshots").json()["snapshots"]]
    detailed = [s["id"] for s in api.get("/snapshots/detail").json()["snapshots"]]
    assert created["id"] in listed
    assert listed == detailed
    assert api.delete(f"/snapshots/{created['id']}").status_code == HTTPStatus.ACCEPTED
    gone = api.get(f"/snapshots/{created['id']}")
    assert gone.status_code == HTTPStatus.NOT_FOUND
    assert gone.json()
    assert api.delete(f"/snapshots/{created['id']}").status_code == HTTPStatus.NOT_FOUND


def test_lifecycle_settle_time_is_observable(api: Api) -> None:
    api.backend.settle_seconds = 0.3
    created = api.accepted(api.create())
    path = f"/snapshots/{created['id']}"
    assert api.get(path).json()[api.contract.summary_key]["status"] == "creating"
    assert api.delete(path).status_code == HTTPStatus.ACCEPTED
    assert api.get(path).json()[api.contract.summary_key]["status"] == "deleting"


def test_volume_lookup(api: Api) -> None:
    volume = api.get(f"/volumes/{api.mock.in_use_volume_id}").json()["volume"]
    assert volume == {"id": api.mock.in_use_volume_id, "size": 20, "status": "in-use"}
    assert api.get("/volumes/nope").status_code == HTTPStatus.NOT_FOUND


def test_any_content_type_is_accepted_when_the_body_parses(api: Api) -> None:
    response = api.client.post(
        "/snapshots", content=json.dumps(api.body()), headers=api.headers(content_type="text/plain")
    )
    api.accepted(response)


def test_wrong_method_and_unknown_path_answer_json(api: Api) -> None:
    wrong = api.client.put("/snapshots", headers=api.headers())
    assert wrong.status_code == HTTPStatus.METHOD_NOT_ALLOWED
    assert "POST" in wrong.headers["allow"]
    unknown = api.client.get(f"{api.mock.base_url}/nowhere")
    assert unknown.status_code == HTTPStatus.NOT_FOUND
    for response in (wrong, unknown):
        assert response.headers["content-type"] == JSON_TYPE
        assert response.json()


def test_body_over_the_limit_is_refused_with_413(api: Api) -> None:
    limit = api.mock.config.max_body_bytes
    padded = api.body(description="x") | {"padding": "p" * limit}
    response = api.post(json.dumps(padded).encode())
    assert response.status_code == HTTPStatus.REQUEST_ENTITY_TOO_LARGE
    assert response.json()


def _password_auth(api: Api, password: str, project_id: str) -> dict[str, Any]:
    user = {"name": api.mock.config.users[0][0], "password": password, "domain": {"name": "mock"}}
    identity = {"methods": ["password"], "password": {"user": user}}
    return {"auth": {"identity": identity, "scope": {"project": {"id": project_id}}}}


def test_keystone_password_auth_gives_a_working_token(api: Api) -> None:
    password = api.mock.config.users[0][1]
    response = api.client.post(
        f"{api.mock.base_url}/v3/auth/tokens", json=_password_auth(api, password, api.mock.project_id)
    )
    assert response.status_code == HTTPStatus.CREATED
    assert response.json()["token"]["project"]["id"] == api.mock.project_id
    token = response.headers["X-Subject-Token"]
    api.accepted(api.create(token=token))
    api.backend.reset()
    assert api.create(token=token).status_code == HTTPStatus.UNAUTHORIZED


@pytest.mark.parametrize(
    "body",
    [{"auth": {}}, [], "x", {"auth": {"identity": {"methods": "token"}}}, {"auth": {"identity": None}}],
)
def test_keystone_malformed_auth_is_refused_with_400(api: Api, body: Any) -> None:
    response = api.client.post(f"{api.mock.base_url}/v3/auth/tokens", json=body)
    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert response.json()


def test_keystone_wrong_password_or_project_is_refused_with_401(api: Api) -> None:
    url = f"{api.mock.base_url}/v3/auth/tokens"
    password = api.mock.config.users[0][1]
    for body in (_password_auth(api, "wrong", api.mock.project_id), _password_auth(api, password, "other")):
        assert api.client.post(url, json=body).status_code == HTTPStatus.UNAUTHORIZED


def test_rsp_status_codes_the_create_answers_only_documented_statuses(api: Api) -> None:
    in_use = api.mock.in_use_volume_id
    responses = [
        api.create(),
        api.create(volume_id=in_use),
        api.create(volume_id=in_use, force=True),
        api.create(volume_id="unknown"),
        api.create(volume_id=None),
        api.create(name=None, description=None, metadata=None, force=None),
        api.post(b"{"),
        api.post(b""),
        api.create(token=None),
        api.create(token="bogus"),
    ]
    seen = {r.status_code for r in responses}
    assert seen <= api.contract.documented_statuses
    assert {api.contract.accepted_status, HTTPStatus.UNAUTHORIZED} <= seen
    assert all(r.headers["content-type"] == JSON_TYPE for r in responses)


def test_head_reads_without_a_body_and_never_creates(api: Api) -> None:
    created = api.accepted(api.create())
    before = api.backend.list_snapshots(api.mock.project_id)
    # A HEAD carrying a valid create body is still a read of the collection.
    head = api.client.request("HEAD", "/snapshots", content=json.dumps(api.body()), headers=api.headers())
    assert head.status_code == HTTPStatus.OK
    assert head.content == b""
    assert api.backend.list_snapshots(api.mock.project_id) == before
    for path in (
        "/snapshots/detail",
        f"/snapshots/{created['id']}",
        f"/volumes/{api.mock.available_volume_id}",
    ):
        assert api.client.head(path, headers=api.headers()).status_code == HTTPStatus.OK
    assert api.client.head("/snapshots/nope", headers=api.headers()).status_code == HTTPStatus.NOT_FOUND
    assert (
        api.client.head("/snapshots", headers=api.headers(token=None)).status_code == HTTPStatus.UNAUTHORIZED
    )
