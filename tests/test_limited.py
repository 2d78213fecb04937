"""Refusals of a limited cloud are told apart from refusals of the body by their words."""

from __future__ import annotations

import json

import pytest

from conformance.contract import load_contract
from conformance.core.exchange import Exchange, Received, SentRequest
from conformance.mock.models import SnapshotBackend
from conformance.mock.refusals import LIMIT_WORDING, ServiceError
from conformance.mock.refusals import limit_refusal as mock_refusal
from conformance.target.limited import limit_refusal

REQUEST = SentRequest("POST", "http://127.0.0.1:1/v2/p/snapshots", {}, b"{}")


def answer(status: int, body: object) -> Exchange:
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    return Exchange(REQUEST, Received(status, {"content-type": "application/json"}, raw))


@pytest.mark.parametrize("kind", sorted(LIMIT_WORDING))
@pytest.mark.parametrize("profile", ["huawei", "cinder"])
def test_every_refusal_the_limited_mock_gives_is_recognised(kind: str, profile: str) -> None:
    error = mock_refusal(load_contract(profile), kind, "disk d1 holds 7 snapshots")
    envelope = {"error": {"code": str(error.status), "message": error.message}}
    assert limit_refusal(answer(error.status, envelope)) == error.message


def test_cinders_quota_answer_is_recognised() -> None:
    body = {
        "overLimit": {
            "code": 413,
            "message": "SnapshotLimitExceeded: Maximum number of snapshots allowed (10) exceeded",
            "retryAfter": "0",
        }
    }
    assert limit_refusal(answer(413, body)) == body["overLimit"]["message"]


@pytest.mark.parametrize(
    "body",
    [
        {"snapshot": {"volume_id": "5aa119a8-d25b-45a7-8d1b-88e127885635", "name": "n" * 300}},
        {"snapshot": {"volume_id": "5aa119a8-d25b-45a7-8d1b-88e127885635", "description": "d" * 300}},
        {"snapshot": {"volume_id": "5aa119a8-d25b-45a7-8d1b-88e127885635", "force": "maybe"}},
        {"snapshot": {"volume_id": "no-such-disk"}},
        {"snapshot": {"volume_id": "7c9d2e40-3b1f-4a6e-9f58-2d0c7b1e4a93"}},
        {"snapshot": []},
    ],
)
@pytest.mark.parametrize("profile", ["huawei", "cinder"])
def test_refusals_of_the_body_are_not_taken_for_limits(body: object, profile: str) -> None:
    backend = SnapshotBackend(load_contract(profile))
    backend.add_project("p")
    backend.add_volume("p", "5aa119a8-d25b-45a7-8d1b-88e127885635", "available", 1)
    backend.add_volume("p", "7c9d2e40-3b1f-4a6e-9f58-2d0c7b1e4a93", "in-use", 1)
    with pytest.raises(ServiceError) as refused:
        backend.create_snapshot("p", body)
    envelope = {"badRequest": {"code": refused.value.status, "message": refused.value.message}}
    assert limit_refusal(answer(refused.value.status, envelope)) is None


@pytest.mark.parametrize(
    "message",
    [
        "Invalid input for field/attribute name. Value is too long; the limit is 255",
        "Request is too large.",
        "Malformed request body",
    ],
)
def test_other_words_of_a_refusal_are_not_a_limit(message: str) -> None:
    assert limit_refusal(answer(400, {"badRequest": {"code": 400, "message": message}})) is None


def test_only_refusals_are_read() -> None:
    assert limit_refusal(answer(202, {"snapshot": {"name": "quota"}})) is None
    assert limit_refusal(answer(500, {"computeFault": {"message": "quota exceeded"}})) is None
    assert limit_refusal(answer(413, b"<html>quota exceeded</html>")) == "<html>quota exceeded</html>"
