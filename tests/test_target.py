"""The HTTP side, driven through httpx.MockTransport: what is sent, recorded, counted, retried and refused."""

from __future__ import annotations

import gzip
import json
import shlex
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import quote

import httpx
import pytest

from conformance.contract import Contract, load_contract
from conformance.core.errors import TargetError, UsageError
from conformance.core.exchange import MASK
from conformance.run.auth import PasswordCredentials, TokenSource
from conformance.run.journal import JOURNAL, Journal, read_journal
from conformance.run.settings import TargetSettings
from conformance.target import (
    DEADLINE_REACHED,
    USER_AGENT,
    BudgetExhausted,
    DiskApiMissing,
    Pacer,
    Target,
    check_disks,
    read_disk,
    retry_after_s,
    verify_disks,
)
from conformance.target.client import DeadlineReached

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
        max_response_bytes=1000,
    )
    response = target.list_snapshots().response
    assert response is not None
    assert response.truncated
    assert len(response.body) == 1000
    assert "cut at 1000 bytes" in target.list_snapshots().describe()


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


def test_a_302_is_recorded_not_followed(contract: Contract) -> None:
    recorder = Recorder(lambda _: httpx.Response(302, headers={"location": "/v2/elsewhere"}))
    exchange = target_with(contract, recorder).list_snapshots()
    assert len(recorder.requests) == 1
    assert exchange.response is not None
    assert exchange.response.status == 302
    assert exchange.response.headers["location"] == "/v2/elsewhere"


def test_the_suite_names_itself_and_asks_for_no_compression(contract: Contract) -> None:
    recorder = Recorder(accepted())
    exchange = target_with(contract, recorder).create({"snapshot": {}})
    sent = recorder.requests[0].headers
    assert sent["User-Agent"] == USER_AGENT
    assert USER_AGENT.startswith("evs-conformance/")
    assert sent["Accept"] == "application/json"
    assert "Accept-Encoding" not in sent
    assert "Cookie" not in sent
    assert exchange.request.headers["user-agent"] == USER_AGENT
    assert exchange.request.headers["content-length"] == str(len(b'{"snapshot":{}}'))
    assert exchange.request.headers["host"] == "127.0.0.1:9"
    assert USER_AGENT not in exchange.curl()


def test_a_cookie_set_by_the_target_is_not_sent_back(contract: Contract) -> None:
    recorder = Recorder(lambda _: httpx.Response(200, json={}, headers={"Set-Cookie": "session=abc; Path=/"}))
    target = target_with(contract, recorder)
    first = target.list_snapshots()
    target.list_snapshots()
    assert first.response is not None
    assert first.response.headers["set-cookie"] == "session=abc; Path=/"
    assert "Cookie" not in recorder.requests[1].headers


def test_a_callers_header_replaces_a_default_whatever_its_case(contract: Contract) -> None:
    recorder = Recorder(accepted())
    exchange = target_with(contract, recorder).request(
        "GET", "/x", headers={"accept": "text/plain", "user-agent": "other"}
    )
    assert recorder.requests[0].headers.get_list("Accept") == ["text/plain"]
    assert recorder.requests[0].headers.get_list("User-Agent") == ["other"]
    assert exchange.request.headers["accept"] == "text/plain"


def test_a_header_given_as_none_is_left_out(contract: Contract) -> None:
    recorder = Recorder(accepted())
    exchange = target_with(contract, recorder).create({"snapshot": {}}, headers={"Accept": None})
    assert "Accept" not in recorder.requests[0].headers
    assert "accept" not in exchange.request.headers
    assert recorder.requests[0].headers["Content-Type"] == "application/json"


def test_an_answer_records_when_it_arrived_by_the_clients_clock(contract: Contract) -> None:
    before = time.time()
    answered = target_with(contract, accepted()).create({"snapshot": {}})
    assert answered.received_at is not None
    assert before <= answered.received_at <= time.time()

    def refuse(_: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("refused")

    assert target_with(contract, refuse).create({"snapshot": {}}).received_at is None


def test_a_compressed_body_is_recorded_decoded(contract: Contract) -> None:
    packed = gzip.compress(b'{"snapshots":[]}')
    target = target_with(
        contract, lambda _: httpx.Response(200, headers={"Content-Encoding": "gzip"}, content=packed)
    )
    response = target.list_snapshots().response
    assert response is not None
    assert response.json() == {"snapshots": []}


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


def test_a_snapshot_counts_as_gone_only_after_an_accepted_delete_and_a_404(contract: Contract) -> None:
    ids = iter(["a", "b", "c"])
    deleted: set[str] = set()

    def respond(request: httpx.Request) -> httpx.Response:
        snapshot = request.url.path.rsplit("/", 1)[1]
        if request.method == "POST":
            return httpx.Response(202, json={"snapshot": {"id": next(ids)}})
        if request.method == "DELETE":
            deleted.add(snapshot)
            return httpx.Response(202)
        return httpx.Response(404 if snapshot in deleted or snapshot == "c" else 200)

    target = target_with(contract, respond)
    for _ in range(3):
        target.create({"snapshot": {}})
    target.get_snapshot("b")
    target.delete_snapshot("b")
    assert target.created_ids == ("a", "b", "c")  # accepted is not gone
    target.get_snapshot("b")
    target.get_snapshot("c")  # a 404 without a DELETE of ours proves nothing
    assert target.created_ids == ("a", "c")
    assert [r.snapshot_id for r in target.outstanding()] == ["a", "c"]
    # Nor does one after our DELETE, for a snapshot the target never showed: it answers every read 404.
    target.delete_snapshot("c")
    target.get_snapshot("c")
    assert [r.snapshot_id for r in target.outstanding()] == ["a", "c"]


def test_every_create_is_counted_and_its_outcome_recorded(contract: Contract, tmp_path: Path) -> None:
    answers = iter(
        [
            httpx.Response(202, json={"snapshot": {"id": "s-1"}}),
            httpx.Response(202, text="<html>created</html>"),
            httpx.Response(202, json={"snapshot": {"id": "x" * 100_000}}),
            httpx.Response(500),
            httpx.Response(400, json={"error": {"code": "x", "message": "no"}}),
        ]
    )
    journal = Journal(tmp_path / JOURNAL, run={"base_url": "http://127.0.0.1:9"})
    target = Target(
        contract, settings(), transport=httpx.MockTransport(lambda _: next(answers)), journal=journal
    )
    for _ in range(5):
        target.create({"snapshot": {"volume_id": VOLUME}})
    journal.close()
    outcomes = [r.outcome for r in target.records]
    assert outcomes == ["accepted", "accepted-no-id", "accepted-no-id", "unknown", "refused"]
    assert target.creates == 4  # the refusal is given back to the budget; an unknown outcome is not
    view = read_journal(tmp_path / JOURNAL)
    assert [r.outcome for r in view.creates] == outcomes
    assert [r.disk for r in view.creates] == [VOLUME] * 5
    assert len(view.outstanding()) == 4
    assert "100000 characters" in view.creates[2].detail


def test_a_post_goes_through_create(contract: Contract) -> None:
    with pytest.raises(ValueError, match=r"Target\.create"):
        target_with(contract, accepted()).request("POST", "/v2/other/snapshots")


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
        (404, {"error": {"code": "EVS.1404", "message": "no disk"}}, "does not exist in project proj-1"),
        (400, {"error": {"code": "EVS.1400", "message": "bad disk"}}, "does not exist in project proj-1"),
        (404, {}, "404 .no Content-Type. '{}', not the contract's error envelope"),
        (405, {"error": {"code": "EVS.1400", "message": "no"}}, "does not seem to serve the disk API"),
        (401, {}, "refuses the token"),
        (500, {}, "answered 500"),
        (200, {"volume": {"status": "available"}}, "did not describe a disk"),
        (200, {"volume": {"status": "available", "size": "10"}}, "did not describe a disk"),
    ],
)
def test_read_disk_says_what_is_wrong(contract: Contract, status: int, body: object, message: str) -> None:
    with pytest.raises(TargetError, match=message):
        read_disk(target_with(contract, disk_answer(status, body)), VOLUME)


def test_an_unknown_route_is_told_from_an_unknown_disk(contract: Contract) -> None:
    page = "<html><body><h1>404 Not Found</h1>\x1b[2J" + "padding " * 100 + "</body></html>"
    answer = lambda _: httpx.Response(404, text=page, headers={"Content-Type": "text/html"})  # noqa: E731
    with pytest.raises(DiskApiMissing) as raised:
        read_disk(target_with(contract, answer), VOLUME)
    message = str(raised.value)
    assert "answered 404 (text/html) '<html><body><h1>404 Not Found</h1>\\x1b[2J" in message
    assert "more)', not the contract's error envelope" in message  # the start of the page, not all of it
    assert "\x1b" not in message
    assert "does not exist" not in message


def test_without_the_disk_api_a_create_only_run_goes_on_with_the_disks_as_stated(contract: Contract) -> None:
    target = target_with(contract, lambda _: httpx.Response(405, text="Method Not Allowed"))
    with pytest.raises(DiskApiMissing):
        verify_disks(target, (VOLUME,), "busy", disk_api_optional=False)
    disks, unverified = verify_disks(target, (VOLUME,), "busy", disk_api_optional=True)
    assert disks == ()
    assert unverified is not None
    assert "answered 405 (text/plain) 'Method Not Allowed'" in unverified
    assert unverified.endswith("going on with them as stated")
    # An unknown disk or a refused token stays an error: the target does serve the disk API.
    envelope = {"error": {"code": "EVS.1404", "message": "no disk"}}
    with pytest.raises(TargetError, match="does not exist"):
        verify_disks(
            target_with(contract, disk_answer(404, envelope)), (VOLUME,), None, disk_api_optional=True
        )
    with pytest.raises(TargetError, match="refuses the token"):
        verify_disks(target_with(contract, disk_answer(401, {})), (VOLUME,), None, disk_api_optional=True)


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


# -- transport safety ------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "changes",
    [
        {"base_url": "http://evs.example.test"},
        {"base_url": "http://10.1.2.3:8080"},
        {"base_url": "http://evs.example.test", "token": None, "token_source": TokenSource.from_token("t")},
    ],
)
def test_a_token_is_not_sent_over_plain_http_to_another_machine(
    contract: Contract, changes: dict[str, object]
) -> None:
    recorder = Recorder(accepted())
    with pytest.raises(TargetError, match="refusing to send the token over plain HTTP to") as caught:
        target_with(contract, recorder, **changes)
    assert "\n" not in str(caught.value)
    assert recorder.requests == []


@pytest.mark.parametrize(
    "changes",
    [
        {"base_url": "http://localhost:8080"},
        {"base_url": "http://[::1]:8080"},
        {"base_url": "https://evs.example.test"},
        {"base_url": "http://evs.example.test", "allow_plain_http": True},
        {"base_url": "http://evs.example.test", "token": None},
    ],
)
def test_plain_http_is_fine_on_loopback_with_tls_when_allowed_or_without_a_token(
    contract: Contract, changes: dict[str, object]
) -> None:
    recorder = Recorder(accepted())
    target_with(contract, recorder, **changes).create({"snapshot": {}})
    assert len(recorder.requests) == 1


def test_tls_settings_that_cannot_work_are_usage_errors(contract: Contract, tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="cannot use the CA bundle"):
        Target(contract, settings(base_url="https://127.0.0.1:9", ca_bundle=tmp_path / "missing.pem"))
    (tmp_path / "junk.pem").write_text("not a certificate")
    with pytest.raises(UsageError, match="cannot use the CA bundle"):
        Target(contract, settings(base_url="https://127.0.0.1:9", ca_bundle=tmp_path / "junk.pem"))


def test_target_settings_take_a_token_or_a_token_source_not_both() -> None:
    # Values are checked where they are read (tests/test_options.py); only this invariant is the settings'.
    with pytest.raises(UsageError, match="not both"):
        settings(token_source=TokenSource.from_token("t"))


def test_settings_never_show_the_token() -> None:
    shown = settings(token_source=None)
    assert TOKEN not in repr(shown)
    assert TOKEN not in json.dumps(shown.public())
    assert shown.public()["tls_verified"] is True


def test_a_redirect_is_reported_by_the_disk_check(contract: Contract) -> None:
    elsewhere = "http://127.0.0.1:8/v2/x"
    target = target_with(contract, lambda _: httpx.Response(307, headers={"location": elsewhere}))
    with pytest.raises(TargetError, match=f"answered 307, a redirect to {elsewhere}"):
        read_disk(target, VOLUME)


# -- tokens ----------------------------------------------------------------------------------------------
PASSWORD = "pw-not-for-reports"


def password_source(*tokens: str | None) -> tuple[TokenSource, list[httpx.Request]]:
    """A token source whose identity service issues ``tokens`` in turn (None: refuses with 401)."""
    issued = list(tokens)
    seen: list[httpx.Request] = []

    def issue(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        token = issued.pop(0)
        if token is None:
            return httpx.Response(401, json={"error": {"message": "The request you have made requires auth"}})
        return httpx.Response(201, headers={"X-Subject-Token": token}, json={"token": {}})

    client = httpx.Client(transport=httpx.MockTransport(issue))
    credentials = PasswordCredentials(
        iam_url="http://127.0.0.1:9/v3", username="qa", password=PASSWORD, domain="d", project_id=PROJECT
    )
    return TokenSource.from_password(client, credentials), seen


def accepting_only(token: str) -> Handler:
    def respond(request: httpx.Request) -> httpx.Response:
        if request.headers.get("X-Auth-Token") == token:
            return httpx.Response(202, json={"snapshot": {"id": "s"}})
        return httpx.Response(401, json={"error": {"message": "token expired"}})

    return respond


def test_a_401_renews_the_token_once_and_repeats_the_request(contract: Contract) -> None:
    source, issued = password_source("tok-old", "tok-new")
    recorder = Recorder(accepting_only("tok-new"))
    target = target_with(contract, recorder, token=None, token_source=source)
    exchange = target.create({"snapshot": {}})
    assert [r.headers["X-Auth-Token"] for r in recorder.requests] == ["tok-old", "tok-new"]
    assert exchange.response is not None
    assert exchange.response.status == 202
    assert exchange.attempts == 2
    assert exchange.request.headers["x-auth-token"] == MASK
    assert target.secrets() == (PASSWORD, "tok-old", "tok-new")
    assert len(issued) == 2


def test_a_second_401_is_recorded_as_the_answer(contract: Contract) -> None:
    source, issued = password_source("tok-1", "tok-2")
    recorder = Recorder(accepting_only("never"))
    exchange = target_with(contract, recorder, token=None, token_source=source).list_snapshots()
    assert len(recorder.requests) == 2
    assert exchange.response is not None
    assert exchange.response.status == 401
    assert len(issued) == 2


@pytest.mark.parametrize("token", [None, "deliberately-invalid"])
def test_deliberately_unauthenticated_requests_are_not_renewed(contract: Contract, token: str | None) -> None:
    source, issued = password_source("tok-1", "tok-2")
    recorder = Recorder(accepting_only("tok-1"))
    exchange = target_with(contract, recorder, token=None, token_source=source).create({}, token=token)
    assert len(recorder.requests) == 1
    assert exchange.response is not None
    assert exchange.response.status == 401
    assert issued == []


def test_a_fixed_token_is_not_renewed(contract: Contract) -> None:
    recorder = Recorder(accepting_only("never"))
    exchange = target_with(contract, recorder).create({"snapshot": {}})
    assert len(recorder.requests) == 1
    assert exchange.attempts == 1


def test_a_failed_renewal_is_recorded_without_the_password(contract: Contract) -> None:
    source, _ = password_source("tok-1", None)
    exchange = target_with(contract, accepting_only("never"), token=None, token_source=source).create({})
    assert exchange.response is None
    assert exchange.error is not None
    assert exchange.error.startswith("HTTP 401 and the token could not be renewed")
    assert PASSWORD not in exchange.error


def test_a_token_echoed_by_the_target_is_masked_in_what_is_recorded(contract: Contract) -> None:
    def echo(request: httpx.Request) -> httpx.Response:
        return httpx.Response(400, headers={"x-echo": f"got {request.headers['X-Auth-Token']}"})

    exchange = target_with(contract, echo).request("GET", "/x", headers={"X-Trace": f"t={TOKEN}"})
    assert exchange.response is not None
    assert exchange.response.headers["x-echo"] == f"got {MASK}"
    assert exchange.request.headers["x-trace"] == f"t={MASK}"
    assert TOKEN not in repr(exchange)


def test_a_token_echoed_in_encoded_form_is_masked_in_what_is_recorded(contract: Contract) -> None:
    token = "tok/en+with=marks-0123456789"
    encoded = quote(token, safe="")

    def echo(request: httpx.Request) -> httpx.Response:
        return httpx.Response(400, headers={"x-echo": f"token={encoded}"})

    exchange = target_with(contract, echo, token=token).request("GET", "/x")
    assert exchange.response is not None
    assert exchange.response.headers["x-echo"] == f"token={MASK}"
    assert encoded not in repr(exchange)


# -- politeness and bounds -------------------------------------------------------------------------------
def sequence(*answers: httpx.Response | Exception) -> Recorder:
    """A recorder that gives ``answers`` in turn (raising the exceptions), then repeats the last."""
    pending = list(answers)

    def respond(_: httpx.Request) -> httpx.Response:
        answer = pending.pop(0) if len(pending) > 1 else pending[0]
        if isinstance(answer, Exception):
            raise answer
        return answer

    return Recorder(respond)


def too_many(retry_after: str | None) -> httpx.Response:
    headers = {} if retry_after is None else {"Retry-After": retry_after}
    return httpx.Response(429, headers=headers)


@pytest.mark.parametrize("retry_after", ["0", "Thu, 01 Jan 2015 00:00:00 GMT", None])
def test_a_429_is_waited_out_and_the_request_repeated(contract: Contract, retry_after: str | None) -> None:
    recorder = sequence(too_many(retry_after), httpx.Response(202, json={"snapshot": {"id": "s"}}))
    target = target_with(contract, recorder, retry_backoff_s=0.01)
    exchange = target.create({"snapshot": {}})
    assert len(recorder.requests) == 2
    assert exchange.response is not None
    assert exchange.response.status == 202
    assert exchange.attempts == 2
    assert target.creates == 1


@pytest.mark.parametrize(("retry_after", "changes"), [("3600", {}), ("0", {"retries": 0})])
def test_a_429_beyond_the_bounds_is_the_answer(
    contract: Contract, retry_after: str, changes: dict[str, object]
) -> None:
    recorder = sequence(too_many(retry_after), httpx.Response(202))
    started = time.monotonic()
    exchange = target_with(contract, recorder, **changes).create({"snapshot": {}})
    assert time.monotonic() - started < 1
    assert len(recorder.requests) == 1
    assert exchange.response is not None
    assert exchange.response.status == 429


def test_a_persistent_429_is_the_answer_after_the_retries(contract: Contract) -> None:
    recorder = sequence(too_many("0"))
    exchange = target_with(contract, recorder, retries=3).list_snapshots()
    assert len(recorder.requests) == 4
    assert exchange.attempts == 4
    assert exchange.response is not None
    assert exchange.response.status == 429
    assert "(after 4 attempts)" in exchange.describe()


def test_retry_after_reads_seconds_and_http_dates() -> None:
    now = datetime(2026, 5, 1, 12, 0, 0, tzinfo=UTC)
    assert retry_after_s("7") == 7.0
    assert retry_after_s(" 0 ") == 0.0
    assert retry_after_s("Fri, 01 May 2026 12:00:30 GMT", now=now) == 30.0
    assert retry_after_s("Fri, 01 May 2026 11:00:00 GMT", now=now) == 0.0
    assert retry_after_s("soon") is None
    assert retry_after_s("-5") is None
    assert retry_after_s(None) is None


@pytest.mark.parametrize("method", ["GET", "DELETE"])
def test_connection_errors_on_reads_and_deletes_are_retried_with_back_off(
    contract: Contract, method: str
) -> None:
    recorder = sequence(httpx.ConnectError("refused"), httpx.ReadError("reset"), httpx.Response(200, json={}))
    started = time.monotonic()
    exchange = target_with(contract, recorder, retry_backoff_s=0.05).request(method, "/x")
    # Two pauses: 0.05 s, then twice that.
    assert time.monotonic() - started >= 0.15
    assert len(recorder.requests) == 3
    assert exchange.response is not None
    assert exchange.attempts == 3


def test_retries_are_bounded_and_the_last_error_recorded(contract: Contract) -> None:
    recorder = sequence(httpx.RemoteProtocolError("Server disconnected"))
    exchange = target_with(contract, recorder, retries=2, retry_backoff_s=0).get_snapshot("s")
    assert len(recorder.requests) == 3
    assert exchange.error == "RemoteProtocolError: Server disconnected"


@pytest.mark.parametrize(
    "failure", [httpx.ConnectError("refused"), httpx.RemoteProtocolError("Server disconnected")]
)
def test_a_create_is_never_retried_blindly(contract: Contract, failure: Exception) -> None:
    recorder = sequence(failure, httpx.Response(202, json={"snapshot": {"id": "s"}}))
    exchange = target_with(contract, recorder, retry_backoff_s=0).create({"snapshot": {}})
    assert len(recorder.requests) == 1
    assert exchange.response is None
    assert exchange.error is not None


def test_a_timeout_is_not_retried(contract: Contract) -> None:
    recorder = sequence(httpx.ReadTimeout("timed out"), httpx.Response(200))
    exchange = target_with(contract, recorder, retry_backoff_s=0).list_snapshots()
    assert len(recorder.requests) == 1
    assert exchange.error == "ReadTimeout: timed out"


def test_nothing_is_sent_after_the_overall_deadline(contract: Contract) -> None:
    recorder = Recorder(accepted())
    target = Target(
        contract,
        settings(),
        transport=httpx.MockTransport(recorder),
        deadline_at=time.monotonic() - 1,
    )
    with pytest.raises(DeadlineReached):
        target.create({"snapshot": {}})
    with pytest.raises(DeadlineReached):
        target.get_snapshot("s")
    assert recorder.requests == []
    assert target.creates == 0


def test_the_deadline_counts_from_the_target_opening(contract: Contract) -> None:
    target = target_with(contract, accepted(), deadline_s=0.2)
    assert target.create({"snapshot": {}}).response is not None
    time.sleep(0.25)
    with pytest.raises(DeadlineReached, match=DEADLINE_REACHED):
        target.create({"snapshot": {}})
    assert target.remaining_s() is not None


def test_no_back_off_runs_past_the_deadline(contract: Contract) -> None:
    recorder = sequence(httpx.ConnectError("refused"), httpx.Response(200))
    started = time.monotonic()
    exchange = target_with(contract, recorder, deadline_s=0.5, retry_backoff_s=5).list_snapshots()
    assert time.monotonic() - started < 0.5
    assert len(recorder.requests) == 1
    assert exchange.error == "ConnectError: refused"


class FakeClock:
    def __init__(self) -> None:
        self.now = 100.0
        self.slept: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


def test_the_pacer_spaces_requests_and_lets_idle_time_pass() -> None:
    clock = FakeClock()
    pacer = Pacer(4, clock=clock, sleep=clock.sleep)
    for _ in range(3):
        pacer.wait()
    assert clock.slept == [0.25, 0.25]
    clock.now += 10
    pacer.wait()
    assert clock.slept == [0.25, 0.25]


def test_a_rate_limited_target_is_paced(contract: Contract) -> None:
    recorder = Recorder(accepted())
    target = target_with(contract, recorder, rate_limit_per_s=50)
    started = time.monotonic()
    for _ in range(5):
        target.list_snapshots()
    assert time.monotonic() - started >= 4 / 50


def trickle(request: httpx.Request) -> httpx.Response:
    def slowly() -> Iterator[bytes]:
        for _ in range(50):
            time.sleep(0.02)
            yield b"x"

    return httpx.Response(200, content=slowly())


def test_a_body_slower_than_the_timeout_is_an_error(contract: Contract) -> None:
    started = time.monotonic()
    exchange = target_with(contract, trickle, timeout_s=0.2).create({"snapshot": {}})
    assert time.monotonic() - started < 0.6
    assert exchange.response is None
    assert exchange.error is not None
    assert exchange.error.startswith("ReadTimeout: the body took longer than 0.2 s (after HTTP 200 and")


def test_the_pacer_is_shared_safely_between_threads() -> None:
    pacer = Pacer(100)
    started = time.monotonic()
    threads = [threading.Thread(target=lambda: [pacer.wait() for _ in range(4)]) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    # Twelve slots a hundredth of a second apart: the first is free, the last eleven hundredths later.
    assert time.monotonic() - started >= 0.11


def test_a_short_token_masks_only_itself(contract: Contract) -> None:
    exchange = target_with(contract, accepted(), token="on").create({"snapshot": {}})
    assert exchange.request.headers["x-auth-token"] == MASK
    # Too short to be searched for inside other values: "application/json" stays readable.
    assert exchange.request.headers["content-type"] == "application/json"
    assert "x-auth-token: $EVS_TOKEN" in shlex.split(exchange.curl())


# -- on the wire -----------------------------------------------------------------------------------------
class WireHandler(BaseHTTPRequestHandler):
    """Answers every request over keep-alive: a cookie on the first, a 302 to /elsewhere on POSTs."""

    protocol_version = "HTTP/1.1"
    server: WireServer

    def do_GET(self) -> None:
        self.answer(200, {"Set-Cookie": "session=abc; Path=/"}, gzip.compress(b'{"snapshots":[]}'))

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length", "0")))
        self.answer(302, {"Location": "/elsewhere"}, b"")

    def answer(self, status: int, headers: dict[str, str], body: bytes) -> None:
        self.server.seen.append((self.client_address[1], self.command, self.path, dict(self.headers.items())))
        self.send_response(status)
        for name, value in headers.items():
            self.send_header(name, value)
        if body:
            self.send_header("Content-Encoding", "gzip")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        pass


class WireServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), WireHandler)
        self.seen: list[tuple[int, str, str, dict[str, str]]] = []


@contextmanager
def wire_server() -> Iterator[WireServer]:
    server = WireServer()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()


def test_over_loopback_one_connection_carries_every_request_and_nothing_is_followed(
    contract: Contract,
) -> None:
    with wire_server() as server:
        base_url = f"http://127.0.0.1:{server.server_address[1]}"
        with Target(contract, settings(base_url=base_url)) as target:
            listed = target.list_snapshots()
            created = target.create({"snapshot": {}})
            target.list_snapshots()
    ports = {port for port, *_ in server.seen}
    assert len(ports) == 1
    assert [(method, path) for _, method, path, _ in server.seen] == [
        ("GET", f"/v2/{PROJECT}/snapshots"),
        ("POST", f"/v2/{PROJECT}/snapshots"),
        ("GET", f"/v2/{PROJECT}/snapshots"),
    ]
    headers = [{name.lower(): value for name, value in sent.items()} for *_, sent in server.seen]
    assert all("cookie" not in sent and "accept-encoding" not in sent for sent in headers)
    assert headers[0]["user-agent"] == USER_AGENT
    assert headers[0]["x-auth-token"] == TOKEN
    assert listed.response is not None
    assert listed.response.json() == {"snapshots": []}
    assert created.response is not None
    assert created.response.status == 302
    assert created.request.headers["x-auth-token"] == MASK
