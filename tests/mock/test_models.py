"""The backend's state and rules without HTTP: lifecycle on a fake clock, IDs, refusals, thread safety."""

from __future__ import annotations

import threading
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from http import HTTPStatus
from typing import Any

import pytest

from conformance.contract import PROFILES, load_contract
from conformance.core.errors import UsageError
from conformance.mock.models import ServiceError, SnapshotBackend

PROJECT = "p1"


class FakeClock:
    """A clock that moves only when told."""

    def __init__(self) -> None:
        self.now = datetime(2024, 2, 27, 3, 56, 53, 81642, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


def make_backend(profile: str = "huawei", **options: Any) -> SnapshotBackend:
    backend = SnapshotBackend(load_contract(profile), **options)
    backend.add_project(PROJECT)
    backend.add_volume(PROJECT, "free", "available", 8)
    backend.add_volume(PROJECT, "busy", "in-use", 4)
    return backend


def body(**fields: Any) -> dict[str, Any]:
    return {"snapshot": {"volume_id": "free", **fields}}


@pytest.fixture(params=PROFILES)
def profile(request: pytest.FixtureRequest) -> str:
    return str(request.param)


def test_snapshot_settles_after_the_settle_time_on_the_injected_clock(profile: str) -> None:
    clock = FakeClock()
    backend = make_backend(profile, settle_seconds=5, clock=clock)
    created = backend.create_snapshot(PROJECT, body())
    assert created["status"] == "creating"
    assert created["created_at"] == "2024-02-27T03:56:53.081642"
    clock.advance(4.9)
    assert backend.get_snapshot(PROJECT, created["id"])["status"] == "creating"
    clock.advance(0.1)
    settled = backend.get_snapshot(PROJECT, created["id"])
    assert settled["status"] == "available"
    assert settled["updated_at"] == "2024-02-27T03:56:58.081642"


def test_delete_moves_to_deleting_then_gone(profile: str) -> None:
    clock = FakeClock()
    backend = make_backend(profile, settle_seconds=2, clock=clock)
    snapshot_id = backend.create_snapshot(PROJECT, body())["id"]
    backend.delete_snapshot(PROJECT, snapshot_id)
    assert backend.get_snapshot(PROJECT, snapshot_id)["status"] == "deleting"
    clock.advance(2)
    with pytest.raises(ServiceError) as gone:
        backend.get_snapshot(PROJECT, snapshot_id)
    assert (gone.value.kind, gone.value.status) == ("not-found", HTTPStatus.NOT_FOUND)
    assert backend.list_snapshots(PROJECT) == []


def test_ids_are_uuid4_and_reproducible_from_the_seed() -> None:
    def ids(seed: int) -> list[str]:
        backend = make_backend(seed=seed)
        return [backend.create_snapshot(PROJECT, body())["id"] for _ in range(5)]

    assert ids(7) == ids(7)
    assert ids(7) != ids(8)
    assert all(uuid.UUID(i).version == 4 for i in ids(7))


def test_reset_forgets_snapshots_and_issued_tokens_and_restarts_ids() -> None:
    backend = make_backend(seed=3)
    backend.add_user("u", "pw", PROJECT)
    backend.add_token("seeded", PROJECT)
    first = backend.create_snapshot(PROJECT, body())["id"]
    issued, _ = backend.issue_token("u", "pw", PROJECT)
    backend.reset()
    assert backend.list_snapshots(PROJECT) == []
    assert backend.create_snapshot(PROJECT, body())["id"] == first
    backend.authenticate(PROJECT, "seeded")
    with pytest.raises(ServiceError):
        backend.authenticate(PROJECT, issued)


def test_refusals_carry_kind_status_and_a_message_from_the_contract(profile: str) -> None:
    contract = load_contract(profile)
    backend = make_backend(profile)
    cases = {
        "invalid-body": body(name="x" * ((contract.field("name").max_length or 0) + 1)),
        "unknown-volume": body(volume_id="nope"),
        "null-volume-id": body(volume_id=None),
        "volume-busy": body(volume_id="busy"),
    }
    for kind, request in cases.items():
        with pytest.raises(ServiceError) as refused:
            backend.create_snapshot(PROJECT, request)
        assert (refused.value.kind, refused.value.status) == (kind, contract.refusal(kind).status)
        assert refused.value.message


def test_messages_say_what_was_wrong_and_stay_short() -> None:
    backend = make_backend()
    with pytest.raises(ServiceError, match=r"snapshot\.name is 100000 characters long; at most 64"):
        backend.create_snapshot(PROJECT, body(name="x" * 100_000))
    with pytest.raises(ServiceError) as refused:
        backend.create_snapshot(PROJECT, body(volume_id="v" * 100_000))
    assert len(refused.value.message) < 300


def test_cinder_trims_names_and_leaves_updated_at_null() -> None:
    created = make_backend("cinder").create_snapshot(PROJECT, body(name="  a  ", description=" \u3000b "))
    assert (created["name"], created["description"], created["updated_at"]) == ("a", "b", None)


def test_force_semantics_follow_the_contract() -> None:
    huawei, cinder = make_backend("huawei"), make_backend("cinder")
    assert huawei.create_snapshot(PROJECT, body(volume_id="busy", force=True))["size"] == 4
    assert cinder.create_snapshot(PROJECT, body(volume_id="busy", force="ON"))["size"] == 4
    for request in (body(volume_id="busy", force="no"), body(volume_id="busy")):
        with pytest.raises(ServiceError, match="force"):
            cinder.create_snapshot(PROJECT, request)
    with pytest.raises(ServiceError, match="force"):
        huawei.create_snapshot(PROJECT, body(volume_id="busy", force="true"))


def test_authentication_is_bound_to_the_project() -> None:
    backend = make_backend()
    backend.add_project("p2")
    backend.add_token("t1", PROJECT)
    backend.authenticate(PROJECT, "t1")
    expected = {None: HTTPStatus.UNAUTHORIZED, "bogus": HTTPStatus.UNAUTHORIZED}
    for token, status in expected.items():
        with pytest.raises(ServiceError) as refused:
            backend.authenticate(PROJECT, token)
        assert refused.value.status == status
    with pytest.raises(ServiceError) as forbidden:
        backend.authenticate("p2", "t1")
    assert forbidden.value.status == HTTPStatus.FORBIDDEN


def test_seeding_refuses_bad_disks_and_quirks() -> None:
    backend = make_backend()
    with pytest.raises(UsageError, match="disk status 'melting'"):
        backend.add_volume(PROJECT, "v", "melting", 1)
    with pytest.raises(UsageError, match="from 1 to 1048576 GiB, not 0"):
        backend.add_volume(PROJECT, "v", "available", 0)
    with pytest.raises(UsageError, match="unknown quirk"):
        backend.set_quirks(["nope"])
    with pytest.raises(UsageError, match="settle time"):
        backend.settle_seconds = -1


def test_quirks_switch_at_runtime() -> None:
    backend = make_backend()
    backend.set_quirks(["size-zero"])
    assert backend.create_snapshot(PROJECT, body())["size"] == 0
    backend.set_quirks([])
    assert backend.create_snapshot(PROJECT, body())["size"] == 8


def test_concurrent_creates_from_threads_lose_and_duplicate_nothing() -> None:
    backend = make_backend()
    start = threading.Barrier(8)

    def create(_: int) -> str:
        if _ < 8:
            start.wait()
        return str(backend.create_snapshot(PROJECT, body())["id"])

    with ThreadPoolExecutor(max_workers=8) as pool:
        ids = list(pool.map(create, range(400)))
    assert len(set(ids)) == 400
    assert sorted(s["id"] for s in backend.list_snapshots(PROJECT)) == sorted(ids)
