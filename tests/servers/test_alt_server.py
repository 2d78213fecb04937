"""The alternative server, driven over HTTP, honours the page in both profiles."""

from __future__ import annotations

import json
import re
import socket
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from .alt_server import MAX_BODY_BYTES, AltServer, serve_alt

TIME = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}$")
SUMMARY_KEYS = {
    "created_at",
    "description",
    "id",
    "metadata",
    "name",
    "size",
    "status",
    "updated_at",
    "volume_id",
}


@pytest.fixture
def huawei() -> Iterator[AltServer]:
    with serve_alt() as server:
        yield server


@pytest.fixture
def cinder() -> Iterator[AltServer]:
    with serve_alt(profile="cinder") as server:
        yield server


@pytest.fixture(params=["huawei", "cinder"])
def server(request: pytest.FixtureRequest) -> Iterator[AltServer]:
    with serve_alt(profile=request.param) as running:
        yield running


@pytest.fixture
def client() -> Iterator[httpx.Client]:
    # Plain HTTP on loopback only; skipping the CA bundle keeps each test's setup short.
    with httpx.Client(timeout=10, verify=False) as http:
        yield http


def create(
    client: httpx.Client, server: AltServer, body: object = None, *, content: bytes | None = None
) -> httpx.Response:
    data = content if content is not None else json.dumps(body).encode()
    return client.post(server.url("snapshots"), content=data, headers={"X-Auth-Token": server.token})


def option(server: AltServer, **fields: Any) -> dict[str, Any]:
    return {"snapshot": {"volume_id": server.available_volume_id, **fields}}


def assert_refused(response: httpx.Response, server: AltServer, status: int = 400) -> None:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].split(";")[0] == "application/json"
    body = response.json()
    if server.profile == "huawei":
        assert set(body) == {"error"}
        assert isinstance(body["error"]["code"], str)
        assert isinstance(body["error"]["message"], str)
    else:
        fault = {400: "badRequest", 404: "itemNotFound"}[status]
        assert body == {fault: {"code": status, "message": body[fault]["message"]}}
        assert isinstance(body[fault]["message"], str)


def test_valid_body_is_accepted_with_a_summary(server: AltServer, client: httpx.Client) -> None:
    sent = option(server, name="snap-001", description="Daily backup", force=False, metadata={"k": "v"})
    response = create(client, server, sent)
    assert response.status_code == 202
    assert response.headers["content-type"].split(";")[0] == "application/json"
    snapshot = response.json()["snapshot"]
    assert set(snapshot) == SUMMARY_KEYS
    assert snapshot["status"] == "creating"
    assert snapshot["size"] == 40
    assert TIME.match(snapshot["created_at"])
    assert (snapshot["volume_id"], snapshot["name"], snapshot["description"], snapshot["metadata"]) == (
        server.available_volume_id,
        "snap-001",
        "Daily backup",
        {"k": "v"},
    )


def test_huawei_ids_are_undashed_and_updated_at_equals_created_at(
    huawei: AltServer, client: httpx.Client
) -> None:
    snapshot = create(client, huawei, option(huawei)).json()["snapshot"]
    assert re.fullmatch(r"[0-9a-f]{32}", snapshot["id"])
    assert snapshot["updated_at"] == snapshot["created_at"]
    assert (snapshot["name"], snapshot["description"]) == ("", "")


def test_cinder_leaves_updated_at_and_omitted_text_null(cinder: AltServer, client: httpx.Client) -> None:
    snapshot = create(client, cinder, option(cinder)).json()["snapshot"]
    assert snapshot["updated_at"] is None
    assert (snapshot["name"], snapshot["description"]) == (None, None)
    assert cinder.url().endswith(f"/v3/{cinder.project_id}")


def test_every_create_gets_a_new_id(server: AltServer, client: httpx.Client) -> None:
    ids = {create(client, server, option(server)).json()["snapshot"]["id"] for _ in range(5)}
    assert len(ids) == 5


@pytest.mark.parametrize(
    ("profile", "field", "limit"),
    [
        ("huawei", "name", 64),
        ("huawei", "description", 85),
        ("cinder", "name", 255),
        ("cinder", "description", 255),
    ],
)
def test_text_limits_count_characters(profile: str, field: str, limit: int, client: httpx.Client) -> None:
    with serve_alt(profile=profile) as server:
        at_limit = create(client, server, option(server, **{field: "é" * limit}))
        assert at_limit.status_code == 202
        assert at_limit.json()["snapshot"][field] == "é" * limit
        assert_refused(create(client, server, option(server, **{field: "x" * (limit + 1)})), server)


HUAWEI_REFUSED = {
    "empty": b"",
    "whitespace only": b"  \n",
    "malformed": b'{"snapshot": {',
    "not utf-8": b'{"snapshot": {"name": "\xff"}}',
    "array": b"[]",
    "no snapshot": b'{"volume": {}}',
    "snapshot string": b'{"snapshot": "x"}',
    "snapshot null": b'{"snapshot": null}',
    "volume_id missing": b'{"snapshot": {"name": "a"}}',
    "volume_id number": b'{"snapshot": {"volume_id": 7}}',
    "volume_id null": b'{"snapshot": {"volume_id": null}}',
    "unknown volume": b'{"snapshot": {"volume_id": "no-such-disk"}}',
    "name number": b'{"snapshot": {"volume_id": "VOL", "name": 5}}',
    "description list": b'{"snapshot": {"volume_id": "VOL", "description": ["a"]}}',
    "force string": b'{"snapshot": {"volume_id": "VOL", "force": "true"}}',
    "force number": b'{"snapshot": {"volume_id": "VOL", "force": 1}}',
    "force object": b'{"snapshot": {"volume_id": "VOL", "force": {}}}',
    "force NaN": b'{"snapshot": {"volume_id": "VOL", "force": NaN}}',
    "metadata list": b'{"snapshot": {"volume_id": "VOL", "metadata": []}}',
    "metadata number value": b'{"snapshot": {"volume_id": "VOL", "metadata": {"a": 1}}}',
    "metadata null value": b'{"snapshot": {"volume_id": "VOL", "metadata": {"a": null}}}',
    "deep nesting": b'{"snapshot": ' + b"[" * 100_000 + b"]" * 100_000 + b"}",
    "huge integer": b'{"snapshot": {"volume_id": "VOL", "force": ' + b"9" * 10_000 + b"}}",
}


@pytest.mark.parametrize("content", HUAWEI_REFUSED.values(), ids=HUAWEI_REFUSED.keys())
def test_huawei_refuses_invalid_bodies_with_400(
    huawei: AltServer, client: httpx.Client, content: bytes
) -> None:
    response = create(client, huawei, content=content.replace(b"VOL", huawei.available_volume_id.encode()))
    assert_refused(response, huawei)


def test_huawei_error_codes_are_its_own_strings(huawei: AltServer, client: httpx.Client) -> None:
    codes = {
        create(client, huawei, content=content).json()["error"]["code"]
        for content in (b"", b"{", b'{"snapshot": {"volume_id": "nope"}}')
    }
    assert all(code.startswith("EVS.") for code in codes)
    assert len(codes) == 3


@pytest.mark.parametrize(
    "extra",
    [
        {"name": None},
        {"description": None},
        {"force": None},
        {"metadata": None},
        {"unexpected": 1},
        {"name": "autobk_snapshot_x"},
        {"metadata": {"": "", "__system__enableActive": "true"}},
    ],
)
def test_huawei_is_lenient_where_the_page_is_silent(
    huawei: AltServer, client: httpx.Client, extra: dict[str, Any]
) -> None:
    body = option(huawei, **extra)
    body["also_unexpected"] = {"x": 1}
    response = create(client, huawei, body)
    assert response.status_code == 202
    snapshot = response.json()["snapshot"]
    for key in {"name", "description"} & set(extra):
        assert snapshot[key] == extra[key]
    assert snapshot["metadata"] == (extra.get("metadata") or {})


@pytest.mark.parametrize(
    ("content", "status"),
    [
        (b"{", 400),
        (b'{"snapshot": {"name": "a"}}', 400),
        (b'{"snapshot": {"volume_id": 3}}', 400),
        (b'{"snapshot": {"volume_id": null}}', 404),
        (b'{"snapshot": {"volume_id": "2f3e4d5c-0000-4000-8000-000000000000"}}', 404),
        (b'{"snapshot": {"volume_id": "VOL", "force": null}}', 400),
        (b'{"snapshot": {"volume_id": "VOL", "force": "maybe"}}', 400),
        (b'{"snapshot": {"volume_id": "VOL", "force": 0}}', 400),
        (b'{"snapshot": {"volume_id": "VOL", "metadata": "a=b"}}', 400),
    ],
)
def test_cinder_refusals_use_openstack_faults(
    cinder: AltServer, client: httpx.Client, content: bytes, status: int
) -> None:
    response = create(client, cinder, content=content.replace(b"VOL", cinder.available_volume_id.encode()))
    assert_refused(response, cinder, status)


@pytest.mark.parametrize(
    ("word", "forced"),
    [
        ("True", True),
        ("YES", True),
        ("1", True),
        ("on", True),
        ("t", True),
        ("y", True),
        ("False", False),
        ("no", False),
        ("0", False),
        ("OFF", False),
        ("f", False),
        ("NO", False),
    ],
)
def test_cinder_reads_boolean_like_force_strings(
    cinder: AltServer, client: httpx.Client, word: str, forced: bool
) -> None:
    body = {"snapshot": {"volume_id": cinder.in_use_volume_id, "force": word}}
    assert create(client, cinder, body).status_code == (202 if forced else 400)
    assert create(client, cinder, option(cinder, force=word)).status_code == 202


@pytest.mark.parametrize("word", [" true", "tRuE", "T", "N", "Y", "oN", "yes "])
def test_cinder_refuses_other_spellings_of_force(cinder: AltServer, client: httpx.Client, word: str) -> None:
    assert_refused(create(client, cinder, option(cinder, force=word)), cinder)


@pytest.mark.parametrize(
    "text", ["a\tb", "line\u2028break", "zero\u200bwidth", "private \ue000", "smile \U0001f600"]
)
def test_cinder_refuses_unprintable_descriptions(cinder: AltServer, client: httpx.Client, text: str) -> None:
    assert_refused(create(client, cinder, option(cinder, description=text)), cinder)


@pytest.mark.parametrize("metadata", [{"": "v"}, {"ké": "v"}, {"a@b": "v"}, {"k": "v" * 256}])
def test_cinder_refuses_metadata_outside_its_key_and_value_rules(
    cinder: AltServer, client: httpx.Client, metadata: dict[str, str]
) -> None:
    assert_refused(create(client, cinder, option(cinder, metadata=metadata)), cinder)


def test_cinder_takes_metadata_within_its_rules(cinder: AltServer, client: httpx.Client) -> None:
    metadata = {"key with spaces:-_./": "v" * 255}
    assert (
        create(client, cinder, option(cinder, metadata=metadata)).json()["snapshot"]["metadata"] == metadata
    )


def test_cinder_trims_whitespace_and_accepts_nulls(cinder: AltServer, client: httpx.Client) -> None:
    body = option(cinder, name="  padded\t", description=" \u3000text ", metadata=None, unexpected=True)
    snapshot = create(client, cinder, body).json()["snapshot"]
    assert (snapshot["name"], snapshot["description"], snapshot["metadata"]) == ("padded", "text", {})


@pytest.mark.parametrize("status", ["in-use", "attaching"])
@pytest.mark.parametrize("profile", ["huawei", "cinder"])
def test_busy_disk_needs_force(profile: str, status: str, client: httpx.Client) -> None:
    volumes = [("ready", "available", 1), ("busy", status, 3)]
    with serve_alt(profile=profile, volumes=volumes) as server:
        assert server.in_use_volume_id == "busy"
        assert_refused(create(client, server, {"snapshot": {"volume_id": "busy"}}), server)
        assert_refused(create(client, server, {"snapshot": {"volume_id": "busy", "force": False}}), server)
        forced = create(client, server, {"snapshot": {"volume_id": "busy", "force": True}})
        assert forced.status_code == 202
        assert forced.json()["snapshot"]["size"] == 3


def test_a_disk_in_another_state_is_refused(client: httpx.Client) -> None:
    with serve_alt(volumes=[("ok", "available", 1), ("broken", "error", 2)]) as server:
        assert_refused(create(client, server, {"snapshot": {"volume_id": "broken", "force": True}}), server)


@pytest.mark.parametrize(
    ("token_of", "project_of", "status"),
    [
        (None, "own", 401),
        ("wrong", "own", 401),
        ("", "own", 401),
        ("foreign", "own", 403),
        ("own", "other", 403),
    ],
)
def test_authentication_refusals(
    server: AltServer, client: httpx.Client, token_of: str | None, project_of: str, status: int
) -> None:
    tokens = {"own": server.token, "foreign": server.foreign_token, "wrong": "not-a-token", "": ""}
    headers = {} if token_of is None else {"X-Auth-Token": tokens[token_of]}
    project = server.project_id if project_of == "own" else "someone-else"
    url = f"{server.base_url}/{server.api_prefix}/{project}/snapshots"
    response = client.post(url, json=option(server), headers=headers)
    assert response.status_code == status
    assert response.headers["content-type"].split(";")[0] == "application/json"
    assert isinstance(response.json(), dict)


def test_lifecycle_read_list_delete(server: AltServer, client: httpx.Client) -> None:
    auth = {"X-Auth-Token": server.token}
    created = create(client, server, option(server, name="n", metadata={"a": "b"})).json()["snapshot"]
    read = client.get(server.url("snapshots", created["id"]), headers=auth)
    assert read.status_code == 200
    snapshot = read.json()["snapshot"]
    assert snapshot["status"] == "available"
    assert {k: v for k, v in snapshot.items() if k not in ("status", "updated_at")} == {
        k: v for k, v in created.items() if k not in ("status", "updated_at")
    }
    assert TIME.match(snapshot["updated_at"])
    listed = client.get(server.url("snapshots"), headers=auth).json()["snapshots"]
    assert [item["id"] for item in listed] == [created["id"]]
    deleted = client.delete(server.url("snapshots", created["id"]), headers=auth)
    assert (deleted.status_code, deleted.content) == (202, b"")
    assert_refused(client.get(server.url("snapshots", created["id"]), headers=auth), server, 404)
    assert_refused(client.delete(server.url("snapshots", created["id"]), headers=auth), server, 404)


def test_snapshot_stays_creating_until_settled(client: httpx.Client) -> None:
    with serve_alt(settle_seconds=60) as server:
        created = create(client, server, option(server)).json()["snapshot"]
        read = client.get(server.url("snapshots", created["id"]), headers={"X-Auth-Token": server.token})
        assert read.json()["snapshot"] == created


def test_volume_can_be_read(server: AltServer, client: httpx.Client) -> None:
    auth = {"X-Auth-Token": server.token}
    volume = client.get(server.url("volumes", server.available_volume_id), headers=auth).json()
    assert volume == {"volume": {"id": server.available_volume_id, "size": 40, "status": "available"}}
    assert_refused(client.get(server.url("volumes", "missing"), headers=auth), server, 404)


def test_unknown_routes_methods_and_versions(cinder: AltServer, client: httpx.Client) -> None:
    auth = {"X-Auth-Token": cinder.token}
    old = client.post(
        f"{cinder.base_url}/v2/{cinder.project_id}/snapshots", json=option(cinder), headers=auth
    )
    assert old.status_code == 404
    for method in ("PUT", "PATCH", "TRACE", "OPTIONS", "FOO"):
        response = client.request(method, cinder.url("snapshots"), headers=auth)
        assert response.status_code == 405
        assert response.headers["allow"] == "GET, POST"
        assert "badMethod" in response.json()


def test_head_sends_length_without_body(huawei: AltServer, client: httpx.Client) -> None:
    response = client.head(
        huawei.url("volumes", huawei.available_volume_id), headers={"X-Auth-Token": huawei.token}
    )
    assert response.status_code == 200
    assert int(response.headers["content-length"]) > 0
    assert response.content == b""


def test_body_of_exactly_the_cap_is_read(huawei: AltServer, client: httpx.Client) -> None:
    body = json.dumps(option(huawei)).encode()
    assert create(client, huawei, content=body.ljust(MAX_BODY_BYTES)).status_code == 202


def test_oversized_body_gets_413_and_the_server_carries_on(server: AltServer, client: httpx.Client) -> None:
    response = create(client, server, content=b" " * (2 * MAX_BODY_BYTES))
    assert response.status_code == 413
    assert response.headers["connection"] == "close"
    assert isinstance(response.json(), dict)
    assert create(client, server, option(server)).status_code == 202


def test_oversized_chunked_body_gets_413(huawei: AltServer, client: httpx.Client) -> None:
    def pieces() -> Iterator[bytes]:
        for _ in range(24):
            yield b" " * (64 << 10)

    response = client.post(huawei.url("snapshots"), content=pieces(), headers={"X-Auth-Token": huawei.token})
    assert response.status_code == 413


def test_small_chunked_body_is_accepted(huawei: AltServer, client: httpx.Client) -> None:
    body = json.dumps(option(huawei)).encode()
    response = client.post(
        huawei.url("snapshots"), content=iter([body[:10], body[10:]]), headers={"X-Auth-Token": huawei.token}
    )
    assert response.status_code == 202


def test_keep_alive_reuses_one_connection(server: AltServer, client: httpx.Client) -> None:
    statuses = [create(client, server, option(server)).status_code for _ in range(10)]
    statuses += [create(client, server, content=b"{").status_code for _ in range(10)]
    assert statuses == [202] * 10 + [400] * 10
    assert server.connections_accepted == 1


def test_lone_surrogate_name_is_echoed(huawei: AltServer, client: httpx.Client) -> None:
    content = json.dumps(option(huawei, name="\ud800x")).encode()
    response = create(client, huawei, content=content)
    assert response.status_code == 202
    assert response.json()["snapshot"]["name"] == "\ud800x"


def raw_exchange(server: AltServer, request: bytes) -> bytes:
    with socket.create_connection(("127.0.0.1", int(server.base_url.rsplit(":", 1)[1])), timeout=5) as sock:
        sock.sendall(request)
        chunks = []
        while chunk := sock.recv(65536):
            chunks.append(chunk)
    return b"".join(chunks)


@pytest.mark.parametrize(
    "head",
    [
        b"POST /v2/p/snapshots HTTP/1.1\r\nContent-Length: -5\r\nConnection: close\r\n\r\n",
        b"POST /v2/p/snapshots HTTP/1.1\r\nContent-Length: 3\r\nContent-Length: 4\r\n"
        b"Connection: close\r\n\r\nabcd",
        b"POST /v2/p/snapshots HTTP/1.1\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\nzz\r\n",
        b"POST /v2/p/snapshots HTTP/1.1\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n-5\r\n",
        "POST /v2/p/snapshots HTTP/1.1\r\nContent-Length: \u00b2\r\nConnection: close\r\n\r\n".encode(
            "latin-1"
        ),
        b"GET / HTTP/2.0\r\n\r\n",
    ],
)
def test_broken_framing_gets_a_4xx(huawei: AltServer, head: bytes) -> None:
    reply = raw_exchange(huawei, head)
    status = int(reply.split(b" ", 2)[1])
    assert 400 <= status < 500
    assert b"application/json" in reply


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"profile": "aws"}, "unknown profile"),
        ({"volumes": [("a", "available", 1), ("a", "in-use", 1)]}, "unique"),
        ({"volumes": [("a", "in-use", 1)]}, "available"),
        ({"volumes": [("a", "available", 0)]}, "at least 1"),
        ({"settle_seconds": -1}, "negative"),
    ],
)
def test_serve_alt_rejects_bad_arguments(kwargs: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message), serve_alt(**kwargs):
        pass


def test_announced_oversized_body_is_refused_before_it_is_sent(huawei: AltServer) -> None:
    head = (
        f"POST /v2/{huawei.project_id}/snapshots HTTP/1.1\r\nHost: x\r\nX-Auth-Token: {huawei.token}\r\n"
        f"Content-Length: {4 * MAX_BODY_BYTES}\r\nExpect: 100-continue\r\n\r\n"
    ).encode()
    reply = raw_exchange(huawei, head)
    assert reply.startswith(b"HTTP/1.1 413 ")
    assert b"100 Continue" not in reply
