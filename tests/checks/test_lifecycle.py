from __future__ import annotations

import json
from collections.abc import Callable

from conformance.contract import Contract
from conformance.core.exchange import Exchange, Received, SentRequest
from conformance.rules.checks import (
    CheckContext,
    check_deleted,
    check_read_back,
    check_settled,
    read_back_matches,
)
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


def _differences(huawei: Contract, read: dict[str, object], **created: object) -> list[str]:
    return [v.received for v in read_back_matches(huawei, summary(**created), read)]


def test_each_field_that_differs_is_its_own_violation(huawei: Contract) -> None:
    read = summary(name="other", description="another", created_at="2013-02-25T03:56:53.000000")
    found = read_back_matches(huawei, summary(), read)
    assert {v.requirement for v in found} == {"LIFE-READ"}
    assert sorted(v.received for v in found) == [
        'created_at = "2013-02-25T03:56:53.000000"',
        'description = "another"',
        'name = "other"',
    ]
    assert all("as in the 202 body" in v.documented for v in found)


def test_a_field_missing_from_the_read_is_a_difference(huawei: Contract) -> None:
    read = summary()
    del read["volume_id"]
    assert _differences(huawei, read) == ["no volume_id"]


def test_metadata_is_compared_pair_by_pair(huawei: Contract) -> None:
    created = {"kept": "1", "lost": "2", "changed": "3"}
    read = summary(metadata={"kept": "1", "changed": "three", "added": "4"})
    assert sorted(_differences(huawei, read, metadata=created)) == [
        'metadata["added"] = "4"',
        'metadata["changed"] = "three"',
        'no metadata["lost"]',
    ]
    assert _differences(huawei, summary(metadata=dict(created)), metadata=created) == []
    assert _differences(huawei, summary(metadata=None), metadata=created) == ["metadata = null"]


def test_status_may_move_on_but_not_back_to_the_initial_one(huawei: Contract) -> None:
    start = huawei.snapshot_statuses[0]
    assert _differences(huawei, summary(status="available")) == []
    assert _differences(huawei, summary(status="available"), status="available") == []
    (found,) = read_back_matches(huawei, summary(status="available"), summary(status=start))
    assert found.received == f'status = "{start}"'
    assert f"a snapshot that left {start} does not return to it" in found.documented
    assert _differences(huawei, summary(status="pending")) == ['status = "pending"']


def test_updated_at_may_move_on_but_not_back(huawei: Contract) -> None:
    at = "2013-02-25T03:56:53.081642"
    assert _differences(huawei, summary(updated_at="2013-02-25T03:57:00.000000"), updated_at=at) == []
    assert _differences(huawei, summary(updated_at=at), updated_at=None) == []
    earlier = "2013-02-25T03:56:52.000000"
    assert _differences(huawei, summary(updated_at=earlier), updated_at=at) == [f'updated_at = "{earlier}"']
