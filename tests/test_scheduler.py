"""The scheduler keeps a run's creates within a limited cloud's rules, shown against the limited mock."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest

from conformance.contract import load_contract
from conformance.mock.config import VolumeSeed
from conformance.mock.models import AVAILABLE, IN_USE
from conformance.mock.server import MockConfig, RunningMock, serve_in_thread
from conformance.run.settings import TargetSettings
from conformance.target import Target
from conformance.target.scheduler import CapReached, CreateScheduler, DiskRules, disk_named, with_disk

DISKS = (
    VolumeSeed("5aa119a8-d25b-45a7-8d1b-88e127885635", AVAILABLE, 40),
    VolumeSeed("1b0e5c1a-0d5e-4c8e-9f3c-6e0a2d4b7c11", AVAILABLE, 10),
    VolumeSeed("7c9d2e40-3b1f-4a6e-9f58-2d0c7b1e4a93", IN_USE, 20),
)
#: Huawei's three minutes to settle and one to delete, in half a second and a sixth of one.
FAST = 360.0


@contextmanager
def limited(rules: DiskRules, **config: Any) -> Iterator[tuple[RunningMock, Target, CreateScheduler]]:
    with serve_in_thread(MockConfig(volumes=DISKS, **config)) as mock:
        contract = load_contract(mock.config.profile)
        settings = TargetSettings(
            mock.base_url, mock.project_id, mock.token, DISKS[0].id, extra_volume_ids=(DISKS[1].id,)
        )
        scheduler = CreateScheduler(contract, rules, available=(DISKS[0].id,), in_use=DISKS[2].id)
        with Target(contract, settings) as target:
            target.scheduler = scheduler
            yield mock, target, scheduler


def body(disk: str = DISKS[0].id, **fields: Any) -> dict[str, Any]:
    return {"snapshot": {"volume_id": disk, **fields}}


def stored(mock: RunningMock) -> list[dict[str, Any]]:
    assert mock.backend is not None
    return mock.backend.list_snapshots(mock.project_id)


def test_a_second_create_on_a_disk_waits_for_the_first_to_settle() -> None:
    with limited(DiskRules(creating_per_disk=1), limits="huawei", time_scale=FAST) as (_, target, _s):
        first = target.create(body())
        started = time.monotonic()
        second = target.create(body())
        assert first.response is not None
        assert first.response.status == 202
        assert second.response is not None
        assert second.response.status == 202, second.response.body
        assert time.monotonic() - started >= 0.3


def test_without_the_scheduler_the_limited_mock_refuses_the_second_create() -> None:
    with limited(DiskRules(creating_per_disk=1), limits="huawei", time_scale=FAST) as (_, target, _s):
        target.scheduler = None
        target.create(body())
        refused = target.create(body())
        assert refused.response is not None
        assert refused.response.status == 400
        assert b"a snapshot of this disk is being created" in refused.response.body


def test_the_runs_live_snapshots_stay_under_the_project_cap() -> None:
    rules = DiskRules(creating_per_disk=None, snapshots_per_project=2)
    with limited(rules, settle_seconds=0.05, delete_seconds=0.05) as (mock, target, scheduler):
        for _ in range(5):
            exchange = target.create(body())
            assert exchange.response is not None
            assert exchange.response.status == 202
            assert len(stored(mock)) <= 2
        assert len(scheduler.pending(target)) <= 2


def test_the_disk_cap_is_kept_per_disk() -> None:
    rules = DiskRules(creating_per_disk=None, snapshots_per_disk=1)
    with limited(rules, settle_seconds=0.05) as (mock, target, _s):
        target.create(body())
        target.create(body(DISKS[2].id, force=True))
        target.create(body())
        on_disk = [s for s in stored(mock) if s["volume_id"] == DISKS[0].id and s["status"] != "deleting"]
        assert len(on_disk) == 1
        assert any(s["volume_id"] == DISKS[2].id for s in stored(mock))


def test_a_cap_no_deletion_can_free_stops_the_create_with_the_reason() -> None:
    rules = DiskRules(creating_per_disk=None, snapshots_per_project=2, settle_timeout_s=2)
    with limited(rules, quirks=frozenset({"cannot-delete"})) as (mock, target, _s):
        target.create(body())
        target.create(body())
        with pytest.raises(CapReached, match=r"reached 2 \(--snapshots-per-project\).*DELETE refused: 400"):
            target.create(body())
        assert len(stored(mock)) == 2
        assert target.creates == 2


def test_creates_spread_over_the_available_disks() -> None:
    with serve_in_thread(MockConfig(volumes=DISKS, limits="huawei", time_scale=FAST)) as mock:
        contract = load_contract("huawei")
        disks = (DISKS[0].id, DISKS[1].id)
        settings = TargetSettings(
            mock.base_url, mock.project_id, mock.token, disks[0], extra_volume_ids=disks[1:]
        )
        with Target(contract, settings) as target:
            target.scheduler = CreateScheduler(contract, DiskRules(), available=disks, in_use=None)
            started = time.monotonic()
            sent = [target.create(body()) for _ in range(2)]
            # Two disks: neither create waited for the other to settle.
            assert time.monotonic() - started < 0.4
    assert [e.request.json_body["snapshot"]["volume_id"] for e in sent] == list(disks)
    assert all(e.response is not None and e.response.status == 202 for e in sent)


def test_a_snapshot_that_never_settles_is_waited_for_once() -> None:
    rules = DiskRules(creating_per_disk=1, settle_timeout_s=0.3)
    with limited(rules, quirks=frozenset({"never-settles"})) as (_, target, scheduler):
        target.create(body())
        started = time.monotonic()
        target.create(body())
        target.create(body())
        assert 0.3 <= time.monotonic() - started < 1.5
        states = sorted(s.state for s in scheduler.snapshots.values())
        assert states == ["creating", "stuck", "stuck"]
        assert "still creating after 0.3 s" in next(iter(scheduler.snapshots.values())).note


def test_make_idle_deletes_everything_of_the_run_and_sees_it_gone() -> None:
    with limited(DiskRules(), limits="huawei", time_scale=FAST) as (mock, target, scheduler):
        target.create(body())
        target.create(body(DISKS[2].id, force=True))
        assert scheduler.make_idle(target) is None
        assert stored(mock) == []
        assert target.outstanding() == []
        assert scheduler.pending(target) == []


def test_make_idle_says_what_it_could_not_delete() -> None:
    rules = DiskRules(settle_timeout_s=1)
    with limited(rules, quirks=frozenset({"cannot-delete"})) as (_, target, scheduler):
        snapshot = target.create(body()).response
        assert snapshot is not None
        left = scheduler.make_idle(target)
        assert left is not None
        assert left.startswith("1 snapshot(s) of the run are still there: ")
        assert "undeletable (DELETE refused: 400" in left


def test_a_held_snapshot_is_not_deleted() -> None:
    rules = DiskRules(creating_per_disk=None, snapshots_per_project=1)
    with limited(rules) as (mock, target, scheduler):
        first = target.create(body()).response
        assert first is not None
        with scheduler.keep(first.json()["snapshot"]["id"]), pytest.raises(CapReached):
            target.create(body())
        target.create(body())
        assert [s["id"] for s in stored(mock)] != [first.json()["snapshot"]["id"]]


def test_without_reads_a_refused_body_waits_the_settle_time_since_the_last_create() -> None:
    slept: list[float] = []
    rules = DiskRules(lifecycle=False, settle_time_s=120)
    with limited(rules) as (_, target, scheduler):
        now = [1000.0]
        scheduler.clock = lambda: now[0]
        scheduler.sleep = slept.append
        target.create(body())
        now[0] += 20
        target.create(body(DISKS[2].id, force=True))
        assert slept == []  # creates go at once: the run cannot see a snapshot settle
        now[0] += 30
        assert scheduler.make_idle(target) is None
    # 120 s after the run's last create, which came 30 s ago.
    assert slept == [90.0]


def test_without_reads_a_cap_counts_every_create() -> None:
    with limited(DiskRules(lifecycle=False, snapshots_per_disk=2)) as (_, target, _s):
        target.create(body())
        target.create(body())
        with pytest.raises(CapReached, match="cannot delete any without reads and deletes"):
            target.create(body())


def test_creates_naming_no_known_disk_are_not_held_up() -> None:
    rules = DiskRules(creating_per_disk=1, settle_timeout_s=5)
    with limited(rules, quirks=frozenset({"never-settles"})) as (_, target, scheduler):
        target.create(body())
        started = time.monotonic()
        target.create(body("no-such-disk"))
        target.create(raw=b"{")
        assert time.monotonic() - started < 1
        assert [s.state for s in scheduler.snapshots.values()] == ["creating"]


def test_the_disk_a_body_names_is_read_from_json_and_from_raw_bytes() -> None:
    contract = load_contract("huawei")
    assert disk_named(contract, body("d1"), None) == "d1"
    assert disk_named(contract, None, b'{"snapshot": {"volume_id": "d2"}} trailing') == "d2"
    assert disk_named(contract, None, b"\xff") is None
    assert disk_named(contract, {"snapshot": "x"}, None) is None
    assert with_disk(contract, body("d1", name="n"), "d3") == body("d3", name="n")


def test_a_delete_refused_as_too_early_is_tried_a_few_times_then_given_up() -> None:
    import httpx

    contract = load_contract("huawei")
    deletes: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        if request.method == "POST":
            return httpx.Response(202, json={"snapshot": {"id": f"s{len(deletes)}-{time.monotonic_ns()}"}})
        if request.method == "DELETE":
            deletes.append(request.url.path)
            message = "the snapshot is being created and cannot be deleted"
            return httpx.Response(400, json={"error": {"code": "EVS.0001", "message": message}})
        return httpx.Response(200, json={"snapshot": {"status": "available"}})

    settings = TargetSettings("http://127.0.0.1:9", "p", "token-0123456789", DISKS[0].id)
    rules = DiskRules(creating_per_disk=None, snapshots_per_project=1, settle_timeout_s=1)
    with Target(contract, settings, transport=httpx.MockTransport(handler)) as target:
        target.scheduler = CreateScheduler(contract, rules, available=(DISKS[0].id,), in_use=None)
        target.create(body())
        with pytest.raises(CapReached, match="DELETE refused: 400"):
            target.create(body())
    assert len(deletes) == 4
