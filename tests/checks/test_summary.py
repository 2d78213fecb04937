from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from conformance.contract import Contract
from conformance.core.exchange import Exchange, Received, SentRequest
from conformance.rules.checks import (
    CLOCK_TOLERANCE,
    CheckContext,
    Expectation,
    answer_time,
    check_create,
    id_is_fresh,
    size_equals_volume_size,
    status_is_snapshot_status,
    timestamps_are_utc,
    timestamps_are_utc_microseconds,
    updated_not_before_created,
)
from tests.checks.conftest import exchange as make_exchange
from tests.checks.conftest import sent_snapshot, summary


@pytest.mark.parametrize(
    "value",
    ["2013-02-25T03:56:53", "2013-02-25T03:56:53.081642Z", "2013-13-45T03:56:53.081642", 1361764613, None],
)
def test_created_at_outside_the_format_fails(huawei: Contract, value: object) -> None:
    (found,) = timestamps_are_utc_microseconds(huawei, summary(created_at=value))
    assert found.requirement == "RSP-TIME-FORMAT"
    assert "Documented: created_at in UTC YYYY-MM-DDTHH:MM:SS.XXXXXX" in found.message


def test_timestamps_in_the_format_pass_and_updated_at_may_be_null(huawei: Contract) -> None:
    assert timestamps_are_utc_microseconds(huawei, summary(updated_at=None)) == []
    assert timestamps_are_utc_microseconds(huawei, summary(updated_at="2024-02-27T00:00:00.000001")) == []
    assert len(timestamps_are_utc_microseconds(huawei, summary(updated_at="yesterday"))) == 1


def test_status_must_be_documented(huawei: Contract) -> None:
    (found,) = status_is_snapshot_status(huawei, summary(status="pending"))
    assert found.requirement == "RSP-STATUS"
    assert all(s in found.message for s in huawei.snapshot_statuses)
    assert status_is_snapshot_status(huawei, summary(status=huawei.snapshot_statuses[0])) == []


@pytest.mark.parametrize(
    ("size", "volume_size"), [(0, None), ("10", None), (True, None), (1.5, None), (5, 10)]
)
def test_size_must_be_whole_positive_and_the_disks(
    huawei: Contract, size: object, volume_size: int | None
) -> None:
    (found,) = size_equals_volume_size(huawei, summary(size=size), volume_size)
    assert found.requirement == "RSP-SIZE"


def test_size_equal_to_the_disk_passes(huawei: Contract) -> None:
    assert size_equals_volume_size(huawei, summary(size=10), 10) == []
    assert size_equals_volume_size(huawei, summary(size=3), None) == []


def test_a_repeated_id_fails(huawei: Contract) -> None:
    body = summary()
    assert id_is_fresh(huawei, body, set()) == []
    (found,) = id_is_fresh(huawei, body, {body["id"]})
    assert found.requirement == "RSP-ID-UNIQUE"


# -- created_at proven UTC against the answer's own time ---------------------------------------------------
CREATED = "2024-02-27T03:56:53.081642"
DATE_OF_CREATE = "Tue, 27 Feb 2024 03:56:54 GMT"


def _answered(date: str | None = None, received_at: float | None = None) -> Exchange:
    headers = {"content-type": "application/json"} | ({"date": date} if date is not None else {})
    request = SentRequest("POST", "http://127.0.0.1:1/v2/p/snapshots", {}, b"{}")
    return Exchange(request, Received(202, headers, b"{}"), received_at=received_at)


def test_the_answer_time_is_its_date_header_else_the_clients_clock() -> None:
    dated = answer_time(_answered(DATE_OF_CREATE, received_at=0.0))
    assert dated is not None
    assert dated.at == datetime(2024, 2, 27, 3, 56, 54, tzinfo=UTC)
    assert "Date header" in dated.clock
    clocked = answer_time(_answered(received_at=1709006214.0))
    assert clocked is not None
    assert clocked.at == datetime(2024, 2, 27, 3, 56, 54, tzinfo=UTC)
    assert "client's clock" in clocked.clock
    assert answer_time(_answered("not a date", received_at=None)) is None
    assert answer_time(_answered()) is None


@pytest.mark.parametrize("hours", [8, -5, 1])
def test_created_at_in_a_local_time_fails(huawei: Contract, hours: int) -> None:
    local = (datetime.fromisoformat(CREATED) + timedelta(hours=hours)).strftime("%Y-%m-%dT%H:%M:%S.%f")
    (found,) = timestamps_are_utc(huawei, summary(created_at=local), answer_time(_answered(DATE_OF_CREATE)))
    assert found.requirement == "RSP-TIME-FORMAT"
    assert f"{hours * 60:+d} minutes from the answer's Date header" in found.received
    assert "within 5 minutes" in found.documented


def test_created_at_in_utc_within_the_skew_passes(huawei: Contract) -> None:
    answered = answer_time(_answered(DATE_OF_CREATE))
    skewed = (datetime.fromisoformat(CREATED) - CLOCK_TOLERANCE + timedelta(seconds=2)).isoformat()
    assert timestamps_are_utc(huawei, summary(created_at=CREATED), answered) == []
    assert timestamps_are_utc(huawei, summary(created_at=skewed), answered) == []
    # Nothing to compare with, or a time the format check already refuses: nothing is claimed here.
    assert timestamps_are_utc(huawei, summary(created_at="2013-02-25T03:56:53.081642"), None) == []
    assert timestamps_are_utc(huawei, summary(created_at="2013-02-25T03:56:53Z"), answered) == []


def test_updated_at_before_created_at_fails(huawei: Contract) -> None:
    (found,) = updated_not_before_created(huawei, summary(updated_at="2013-02-25T03:56:53.081641"))
    assert found.requirement == "RSP-TIME-FORMAT"
    assert "before created_at" in found.received
    assert updated_not_before_created(huawei, summary(updated_at="2013-02-25T03:56:53.081642")) == []
    assert updated_not_before_created(huawei, summary(updated_at="2013-02-25T03:56:54.000000")) == []
    assert updated_not_before_created(huawei, summary(updated_at=None)) == []


def test_check_create_proves_created_at_is_utc(huawei: Contract) -> None:
    sent = sent_snapshot()
    expectation = Expectation("accept", "OP-ACCEPT")
    local = "2024-02-27T11:56:53.081642"
    for created_at, failed in ((CREATED, set()), (local, {"RSP-TIME-FORMAT"})):
        body = {"snapshot": summary(created_at=created_at, updated_at=created_at)}
        exchange = make_exchange(202, body, sent={"snapshot": sent})
        assert exchange.response is not None
        headers = {**exchange.response.headers, "date": DATE_OF_CREATE}
        dated = replace(exchange, response=replace(exchange.response, headers=headers))
        outcome = check_create(dated, CheckContext(huawei, expectation, 10, set()))
        assert outcome.failed() == failed
        assert "RSP-TIME-FORMAT" in outcome.checked
