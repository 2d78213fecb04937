from __future__ import annotations

import pytest

from conformance.checks import (
    id_is_fresh,
    size_equals_volume_size,
    status_is_snapshot_status,
    timestamps_are_utc_microseconds,
)
from conformance.contract import Contract
from tests.checks.conftest import summary


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
