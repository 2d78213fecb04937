from __future__ import annotations

import json
from collections.abc import Callable

from conformance.checks import CheckContext, check_deleted, check_read_back, check_settled, read_back_matches
from conformance.contract import Contract
from conformance.exchange import Exchange, Received, SentRequest
from tests.checks.conftest import summary

Context = Callable[..., CheckContext]


def _answer(method: str, status: int, body: bytes = b"") -> Exchange:
    request = SentRequest(method, "http://127.0.0.1:1/v2/p/snapshots/s", {}, None)
    return Exchange(request, Received(status, {"content-type": "application/json"}, body))


def test_read_back_may_move_status_but_not_other_fields(huawei: Contract) -> None:
    created = summary()
    assert (
        read_back_matches(
            huawei, created, summary(status="available", updated_at="2024-01-01T00:00:00.000000")
        )
        == []
    )
    (found,) = read_back_matches(huawei, created, summary(size=99))
    assert found.requirement == "LIFE-READ"


def test_check_read_back_wants_200_with_the_summary(context: Context) -> None:
    good = _answer("GET", 200, json.dumps({"snapshot": summary()}).encode())
    assert check_read_back(good, summary(), context()).violations == ()
    assert check_read_back(_answer("GET", 404), summary(), context()).failed() == {"LIFE-READ"}


def test_settled_means_left_the_initial_status(context: Context, huawei: Contract) -> None:
    settled = _answer("GET", 200, json.dumps({"snapshot": summary(status="available")}).encode())
    stuck = _answer(
        "GET", 200, json.dumps({"snapshot": summary(status=huawei.snapshot_statuses[0])}).encode()
    )
    assert check_settled(settled, context(), waited_s=1, timeout_s=5).violations == ()
    (found,) = check_settled(stuck, context(), waited_s=5, timeout_s=5).violations
    assert found.requirement == "LIFE-SETTLE"


def test_deleted_means_accepted_then_not_found(context: Context) -> None:
    assert check_deleted(_answer("DELETE", 202), _answer("GET", 404), context()).violations == ()
    outcome = check_deleted(_answer("DELETE", 202), _answer("GET", 200, b"{}"), context())
    assert outcome.failed() == {"LIFE-DELETE"}
    assert check_deleted(_answer("DELETE", 500), _answer("GET", 404), context()).failed() == {
        "LIFE-DELETE",
        "RSP-NO-5XX",
    }
