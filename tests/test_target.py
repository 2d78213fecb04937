"""The HTTP side, driven through httpx.MockTransport: what is sent, what is recorded, what is counted."""

from __future__ import annotations

import json
from collections.abc import Callable

import httpx
import pytest

from conformance.contract import Contract, load_contract
from conformance.errors import TargetError
from conformance.exchange import MASK
from conformance.settings import HttpSettings, TargetSettings
from conformance.target import BudgetExhausted, Target, check_disks, read_disk

TOKEN = "secret-token-123"
PROJECT = "proj-1"
VOLUME = "5aa119a8-d25b-45a7-8d1b-88e127885635"
Handler = Callable[[httpx.Request], httpx.Response]


@pytest.fixture(scope="module")
def contract() -> Contract:
    return load_contract("huawei")


def settings(**changes: object) -> TargetSettings:
    values: dict[str, object] = {
        "base_url": "http://127.0.0.1:9",
        "project_id": PROJECT,
        "token": TOKEN,
        "available_volume_id": VOLUME,
    }
    values.update(changes)
    return TargetSettings(**values)  # type: ignore[arg-type]


class Recorder:
    """A transport handler that keeps every request and answers with ``respond``."""

    def __init__(self, respond: Handler) -> None:
        self.requests: list[httpx.Request] = []
        self.respond = respond

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        return self.respond(request)


def accepted(snapshot_id: str = "snap-1") -> Handler:
    return lambda _: httpx.Response(202, json={"snapshot": {"id": snapshot_id}})


def target_with(contract: Contract, handler: Handler, **changes: object) -> Target:
    max_creates = changes.pop("max_creates", None)
    return Target(
        contract,
        settings(**changes),
        max_creates=max_creates,  # type: ignore[arg-type]
        transport=httpx.MockTransport(handler),
    )


def test_create_sends_compact_utf8_json_with_the_token(contract: Contract) -> None:
    recorder = Recorder(accepted())
    exchange = target_with(contract, recorder).create({"snapshot": {"name": "é ☃", "volume_id": VOLUME}})
    request = recorder.requests[0]
    assert request.url.path == f"/v2/{PROJECT}/snapshots"
    assert (
        request.content
        == '{"snapshot":{"name":"é ☃","volume_id":"5aa119a8-d25b-45a7-8d1b-88e127885635"}}'.encode()
    )
    assert request.headers["X-Auth-Token"] == TOKEN
    assert request.headers["Content-Type"] == "application/json"
    assert exchange.request.json_body == {"snapshot": {"name": "é ☃", "volume_id": VOLUME}}
    assert exchange.request.has_json_body
    assert exchange.response is not None
    assert exchange.response.status == 202


def test_the_recorded_request_masks_the_token(contract: Contract) -> None:
    exchange = target_with(contract, accepted()).create({"snapshot": {}})
    assert exchange.request.headers["x-auth-token"] == MASK
    assert TOKEN not in exchange.curl()
    assert TOKEN not in repr(exchange)


def test_token_none_omits_the_header_and_a_given_token_is_sent_as_is(contract: Contract) -> None:
    recorder = Recorder(lambda _: httpx.Response(401, json={}))
    target = target_with(contract, recorder)
    target.create({}, token=None)
    exchange = target.create({}, token="not-a-token")
    assert "X-Auth-Token" not in recorder.requests[0].headers
    assert recorder.requests[1].headers["X-Auth-Token"] == "not-a-token"
    assert exchange.request.headers["x-auth-token"] == "not-a-token"


def test_json_null_is_a_body_and_raw_bytes_go_unchanged(contract: Contract) -> None:
    recorder = Recorder(lambda _: httpx.Response(400, json={}))
    target = target_with(contract, recorder)
    null = target.create(None)
    raw = target.create(raw=b"{not json", content_type=None)
    assert recorder.requests[0].content == b"null"
    assert null.request.has_json_body
    assert recorder.requests[1].content == b"{not json"
    assert "Content-Type" not in recorder.requests[1].headers
    assert not raw.request.has_json_body
    assert raw.request.json_body is None


def test_no_body_sends_nothing(contract: Contract) -> None:
    recorder = Recorder(lambda _: httpx.Response(400, json={}))
    exchange = target_with(contract, recorder).create()
    assert recorder.requests[0].content == b""
    assert exchange.request.body is None


def test_nan_is_not_sent_as_json(contract: Contract) -> None:
    with pytest.raises(ValueError, match="JSON"):
        target_with(contract, accepted()).create({"snapshot": {"force": float("nan")}})


def test_a_large_response_is_cut_at_the_cap(contract: Contract) -> None:
    target = target_with(
        contract,
        lambda _: httpx.Response(200, content=b"x" * 5000),
        http=HttpSettings(max_response_bytes=1000),
    )
    response = target.list_snapshots().response
    assert response is not None
    assert response.truncated
    assert len(response.body) == 1000


@pytest.mark.parametrize(
    ("failure", "name"),
    [
        (httpx.ReadTimeout("timed out"), "ReadTimeout"),
        (httpx.RemoteProtocolError("peer closed connection\nwithout response"), "RemoteProtocolError"),
        (httpx.ConnectError("connection refused"), "ConnectError"),
    ],
)
def test_transport_failures_are_recorded_not_raised(
    contract: Contract, failure: Exception, name: str
) -> None:
    def fail(_: httpx.Request) -> httpx.Response:
        raise failure

    exchange = target_with(contract, fail).create({"snapshot": {}})
    assert exchange.response is None
    assert exchange.error is not None
    assert exchange.error.startswith(name)
    assert "\n" not in exchange.error


def test_redirects_are_not_followed(contract: Contract) -> None:
    recorder = Recorder(lambda _: httpx.Response(307, headers={"location": "http://127.0.0.1:8/elsewhere"}))
    exchange = target_with(contract, recorder).create({"snapshot": {}})
    assert len(recorder.requests) == 1
    assert exchange.response is not None
    assert exchange.response.status == 307


def test_the_budget_stops_creates_before_they_are_sent(contract: Contract) -> None:
    recorder = Recorder(accepted())
    target = target_with(contract, recorder, max_creates=1)
    target.create({"snapshot": {}})
    with pytest.raises(BudgetExhausted, match="1 snapshots"):
        target.create({"snapshot": {}})
    assert len(recorder.requests) == 1
    assert target.creates == 1


def test_refused_creates_do_not_spend_the_budget(contract: Contract) -> None:
    target = target_with(contract, lambda _: httpx.Response(400, json={}), max_creates=1)
    for _ in range(3):
        target.create({"snapshot": {}})
    assert target.creates == 0


def test_created_snapshots_are_tracked_until_deleted(contract: Contract) -> None:
    ids = iter(["a", "b", "c"])

    def respond(request: httpx.Request) -> httpx.Response:
        if request.method == "POST":
            return httpx.Response(202, json={"snapshot": {"id": next(ids)}})
        return httpx.Response(202 if request.method == "DELETE" else 200)

    target = target_with(contract, respond)
    for _ in range(3):
        target.create({"snapshot": {}})
    target.delete_snapshot("b")
    target.forget("c")
    assert target.created_ids == ("a",)
    deletes = target.cleanup()
    assert [e.request.url.rsplit("/", 1)[1] for e in deletes] == ["a"]
    assert target.created_ids == ()


def test_paths_quote_ids_and_follow_the_api_prefix() -> None:
    recorder = Recorder(lambda _: httpx.Response(404))
    v3 = load_contract("huawei", api_prefix="/v3")
    target = target_with(v3, recorder, project_id="p/1")
    target.get_snapshot("../x")
    target.get_volume(VOLUME)
    assert recorder.requests[0].url.raw_path == b"/v3/p%2F1/snapshots/..%2Fx"
    assert recorder.requests[1].url.raw_path == f"/v3/p%2F1/volumes/{VOLUME}".encode()


def disk_answer(status: int, body: object) -> Handler:
    return lambda _: httpx.Response(status, content=json.dumps(body).encode())


def test_read_disk_reads_status_and_size(contract: Contract) -> None:
    target = target_with(
        contract, disk_answer(200, {"volume": {"id": VOLUME, "status": "in-use", "size": 20}})
    )
    disk = read_disk(target, VOLUME)
    assert (disk.status, disk.size) == ("in-use", 20)


@pytest.mark.parametrize(
    ("status", "body", "message"),
    [
        (404, {}, "does not exist in project proj-1"),
        (401, {}, "refuses the token"),
        (500, {}, "answered 500"),
        (200, {"volume": {"status": "available"}}, "did not describe a disk"),
        (200, {"volume": {"status": "available", "size": "10"}}, "did not describe a disk"),
    ],
)
def test_read_disk_says_what_is_wrong(contract: Contract, status: int, body: object, message: str) -> None:
    with pytest.raises(TargetError, match=message):
        read_disk(target_with(contract, disk_answer(status, body)), VOLUME)


def test_an_unreachable_target_is_a_target_error(contract: Contract) -> None:
    def refuse(_: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("connection refused")

    with pytest.raises(TargetError, match="not reachable"):
        read_disk(target_with(contract, refuse), VOLUME)


def test_check_disks_wants_the_stated_states(contract: Contract) -> None:
    statuses = {VOLUME: "in-use", "busy": "available"}

    def respond(request: httpx.Request) -> httpx.Response:
        volume = request.url.path.rsplit("/", 1)[1]
        return httpx.Response(200, json={"volume": {"status": statuses[volume], "size": 1}})

    target = target_with(contract, respond)
    with pytest.raises(TargetError, match="is 'in-use', not 'available'"):
        check_disks(target, VOLUME, None)
    with pytest.raises(TargetError, match="is 'available', not one of attaching, in-use"):
        check_disks(target, None, "busy")
    statuses.update({VOLUME: "available", "busy": "in-use"})
    assert [d.id for d in check_disks(target, VOLUME, "busy")] == [VOLUME, "busy"]
