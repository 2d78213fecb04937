"""A limited cloud on demand: each limit alone and together, on a fake clock and over HTTP, time scaled."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import datetime
from http import HTTPStatus
from typing import Any

import httpx
import pytest

from conformance.contract import PROFILES, Contract, load_contract
from conformance.core.errors import UsageError
from conformance.mock import MockConfig, RunningMock, serve_in_thread
from conformance.mock.limits import PRESETS, UNLIMITED, Limits, limits_with
from conformance.mock.models import ServiceError, SnapshotBackend
from conformance.mock.refusals import (
    DISK_SNAPSHOT_LIMIT,
    LIMIT_WORDING,
    SNAPSHOT_IN_PROGRESS,
    SNAPSHOT_NOT_DELETABLE,
    SNAPSHOT_QUOTA,
)
from tests.mock.test_models import PROJECT, FakeClock, body, make_backend

#: The status each limit refusal gets in each profile: the contract documents 413 (quota) for cinder only.
EXPECTED_STATUS = {
    "huawei": {
        SNAPSHOT_IN_PROGRESS: HTTPStatus.BAD_REQUEST,
        DISK_SNAPSHOT_LIMIT: HTTPStatus.BAD_REQUEST,
        SNAPSHOT_QUOTA: HTTPStatus.BAD_REQUEST,
        SNAPSHOT_NOT_DELETABLE: HTTPStatus.BAD_REQUEST,
    },
    "cinder": {
        SNAPSHOT_IN_PROGRESS: HTTPStatus.BAD_REQUEST,
        DISK_SNAPSHOT_LIMIT: HTTPStatus.BAD_REQUEST,
        SNAPSHOT_QUOTA: HTTPStatus.REQUEST_ENTITY_TOO_LARGE,
        SNAPSHOT_NOT_DELETABLE: HTTPStatus.BAD_REQUEST,
    },
}
BUSY = body(volume_id="busy", force=True)


@pytest.fixture(params=PROFILES)
def profile(request: pytest.FixtureRequest) -> str:
    return str(request.param)


def limited(profile: str, clock: FakeClock, limits: Limits, **options: Any) -> SnapshotBackend:
    return make_backend(profile, clock=clock, limits=limits, **options)


def refused(backend: SnapshotBackend, kind: str, request: dict[str, Any] | None = None) -> ServiceError:
    """The refusal of a create of ``request`` (the free disk by default), which must be a ``kind`` one."""
    before = len(backend.list_snapshots(PROJECT))
    with pytest.raises(ServiceError) as caught:
        backend.create_snapshot(PROJECT, request or body())
    return checked(backend, caught.value, kind, before)


def checked(backend: SnapshotBackend, error: ServiceError, kind: str, before: int) -> ServiceError:
    assert error.kind == kind, error.message
    assert error.status == EXPECTED_STATUS[backend.contract.profile][kind]
    assert error.message.startswith(LIMIT_WORDING[kind] + ": ")
    # A refusal stores nothing.
    assert len(backend.list_snapshots(PROJECT)) == before
    return error


def status_of(backend: SnapshotBackend, snapshot_id: str) -> str:
    return str(backend.get_snapshot(PROJECT, snapshot_id)["status"])


# -- each limit alone ----------------------------------------------------------------------------------------
def test_one_create_per_disk_waits_for_the_previous_snapshot_of_that_disk(profile: str) -> None:
    clock = FakeClock()
    backend = limited(profile, clock, Limits(one_create_per_disk=True), settle_seconds=5)
    first = backend.create_snapshot(PROJECT, body())["id"]
    refused(backend, SNAPSHOT_IN_PROGRESS)
    # Another disk is not held up by this one.
    backend.create_snapshot(PROJECT, BUSY)
    clock.advance(4.9)
    refused(backend, SNAPSHOT_IN_PROGRESS)
    clock.advance(0.1)
    assert status_of(backend, first) == "available"
    backend.create_snapshot(PROJECT, body())


def test_without_the_limit_a_disk_takes_creates_while_one_is_creating(profile: str) -> None:
    backend = limited(profile, FakeClock(), Limits(), settle_seconds=5)
    ids = [backend.create_snapshot(PROJECT, body())["id"] for _ in range(3)]
    assert [status_of(backend, i) for i in ids] == ["creating"] * 3


def test_disk_snapshot_limit_counts_every_snapshot_of_the_disk_until_it_is_gone(profile: str) -> None:
    clock = FakeClock()
    backend = limited(profile, clock, Limits(disk_snapshot_limit=2), delete_seconds=10)
    first, _ = (backend.create_snapshot(PROJECT, body())["id"] for _ in range(2))
    error = refused(backend, DISK_SNAPSHOT_LIMIT)
    assert "holds 2 snapshots, at most 2" in error.message
    backend.create_snapshot(PROJECT, BUSY)
    backend.delete_snapshot(PROJECT, first)
    assert status_of(backend, first) == "deleting"
    refused(backend, DISK_SNAPSHOT_LIMIT)
    clock.advance(10)
    backend.create_snapshot(PROJECT, body())
    refused(backend, DISK_SNAPSHOT_LIMIT)


def test_project_quota_counts_every_disk_and_says_when_it_may_free(profile: str) -> None:
    clock = FakeClock()
    backend = limited(profile, clock, Limits(project_snapshot_quota=3), delete_seconds=30)
    created = [backend.create_snapshot(PROJECT, request)["id"] for request in (body(), BUSY, body())]
    error = refused(backend, SNAPSHOT_QUOTA, BUSY)
    assert "maximum number of snapshots allowed (3) exceeded" in error.message
    # Nothing is being deleted: the quota frees no sooner than a deletion takes.
    assert error.retry_after == 30
    backend.delete_snapshot(PROJECT, created[0])
    clock.advance(12.5)
    assert refused(backend, SNAPSHOT_QUOTA).retry_after == 18
    clock.advance(17.5)
    backend.create_snapshot(PROJECT, body())
    refused(backend, SNAPSHOT_QUOTA)


def test_a_quota_of_zero_refuses_the_first_create(profile: str) -> None:
    backend = limited(profile, FakeClock(), Limits(project_snapshot_quota=0))
    assert refused(backend, SNAPSHOT_QUOTA).retry_after == 1


def test_a_creating_snapshot_cannot_be_deleted_until_it_settles(profile: str) -> None:
    clock = FakeClock()
    backend = limited(profile, clock, Limits(refuse_delete_while_creating=True), settle_seconds=5)
    snapshot_id = backend.create_snapshot(PROJECT, body())["id"]
    with pytest.raises(ServiceError) as caught:
        backend.delete_snapshot(PROJECT, snapshot_id)
    checked(backend, caught.value, SNAPSHOT_NOT_DELETABLE, 1)
    assert status_of(backend, snapshot_id) == "creating"
    clock.advance(5)
    backend.delete_snapshot(PROJECT, snapshot_id)
    assert status_of(backend, snapshot_id) == "deleting"


def test_without_the_limit_a_creating_snapshot_is_deleted(profile: str) -> None:
    backend = limited(profile, FakeClock(), Limits(), settle_seconds=5)
    snapshot_id = backend.create_snapshot(PROJECT, body())["id"]
    backend.delete_snapshot(PROJECT, snapshot_id)
    assert status_of(backend, snapshot_id) == "deleting"


def test_deletion_takes_its_own_time(profile: str) -> None:
    clock = FakeClock()
    backend = limited(profile, clock, Limits(), settle_seconds=1, delete_seconds=10)
    snapshot_id = backend.create_snapshot(PROJECT, body())["id"]
    clock.advance(1)
    backend.delete_snapshot(PROJECT, snapshot_id)
    clock.advance(9.9)
    assert status_of(backend, snapshot_id) == "deleting"
    clock.advance(0.1)
    with pytest.raises(ServiceError) as gone:
        backend.get_snapshot(PROJECT, snapshot_id)
    assert gone.value.status == HTTPStatus.NOT_FOUND


# -- all together --------------------------------------------------------------------------------------------
def test_every_limit_together_in_the_order_a_create_meets_them(profile: str) -> None:
    clock = FakeClock()
    every = Limits(
        one_create_per_disk=True,
        disk_snapshot_limit=2,
        project_snapshot_quota=3,
        refuse_delete_while_creating=True,
    )
    backend = limited(profile, clock, every, settle_seconds=10, delete_seconds=5)
    a1 = backend.create_snapshot(PROJECT, body())["id"]
    refused(backend, SNAPSHOT_IN_PROGRESS)
    with pytest.raises(ServiceError) as caught:
        backend.delete_snapshot(PROJECT, a1)
    checked(backend, caught.value, SNAPSHOT_NOT_DELETABLE, 1)
    clock.advance(10)
    backend.create_snapshot(PROJECT, body())
    # The second snapshot is still creating and the disk is full: the disk being busy is said first.
    refused(backend, SNAPSHOT_IN_PROGRESS)
    clock.advance(10)
    refused(backend, DISK_SNAPSHOT_LIMIT)
    backend.create_snapshot(PROJECT, BUSY)
    clock.advance(10)
    # The busy disk is idle and under its own limit; the project is at its quota.
    refused(backend, SNAPSHOT_QUOTA, BUSY)
    # The free disk is full and the project at its quota: the disk's limit is said first.
    refused(backend, DISK_SNAPSHOT_LIMIT)
    backend.delete_snapshot(PROJECT, a1)
    refused(backend, SNAPSHOT_QUOTA, BUSY)
    clock.advance(5)
    backend.create_snapshot(PROJECT, BUSY)


def test_a_refused_create_spends_no_snapshot_id(profile: str) -> None:
    quota = limited(profile, FakeClock(), Limits(project_snapshot_quota=1))
    first = quota.create_snapshot(PROJECT, body())["id"]
    refused(quota, SNAPSHOT_QUOTA)
    quota.limits = Limits()
    clean = make_backend(profile)
    expected = [clean.create_snapshot(PROJECT, body())["id"] for _ in range(2)]
    assert [first, quota.create_snapshot(PROJECT, body())["id"]] == expected


# -- the time scale ------------------------------------------------------------------------------------------
def test_the_time_scale_applies_to_settle_deletion_and_token_lifetimes(profile: str) -> None:
    clock = FakeClock()
    backend = limited(profile, clock, Limits(), settle_seconds=180, delete_seconds=60, time_scale=60)
    backend.add_user("u", "pw", PROJECT)
    backend.token_ttl_s = 120
    snapshot_id = backend.create_snapshot(PROJECT, body())["id"]
    clock.advance(2.9)
    assert status_of(backend, snapshot_id) == "creating"
    clock.advance(0.1)
    assert status_of(backend, snapshot_id) == "available"
    backend.delete_snapshot(PROJECT, snapshot_id)
    clock.advance(0.99)
    assert status_of(backend, snapshot_id) == "deleting"
    clock.advance(0.01)
    assert backend.list_snapshots(PROJECT) == []
    token, grant = backend.issue_token("u", "pw", PROJECT)
    issued, expires = (datetime.fromisoformat(grant["token"][k]) for k in ("issued_at", "expires_at"))
    assert (expires - issued).total_seconds() == 2
    clock.advance(1.9)
    backend.authenticate(PROJECT, token)
    clock.advance(0.1)
    with pytest.raises(ServiceError, match="expired"):
        backend.authenticate(PROJECT, token)


def test_the_time_scale_shortens_the_default_token_lifetime(profile: str) -> None:
    clock = FakeClock()
    backend = limited(profile, clock, Limits(), time_scale=24 * 60)
    backend.add_user("u", "pw", PROJECT)
    token, _ = backend.issue_token("u", "pw", PROJECT)
    clock.advance(59.9)
    backend.authenticate(PROJECT, token)
    clock.advance(0.1)
    with pytest.raises(ServiceError, match="expired"):
        backend.authenticate(PROJECT, token)


@pytest.mark.parametrize("scale", [0, -1, float("nan"), float("inf"), 1e9, True, "60"])
def test_a_time_scale_must_be_a_sane_factor(scale: Any) -> None:
    with pytest.raises(UsageError, match="the time scale must be a number from"):
        make_backend(time_scale=scale)
    backend = make_backend()
    with pytest.raises(UsageError, match="the time scale"):
        backend.time_scale = scale
    assert backend.time_scale == 1


# -- limits and presets as data ------------------------------------------------------------------------------
def test_limits_refuse_nothing_by_default_and_check_their_values() -> None:
    assert not Limits().active
    assert Limits(disk_snapshot_limit=UNLIMITED) == Limits()
    bads: tuple[Any, ...] = (-2, 1.5, True, "7", 10**7)
    for bad in bads:
        with pytest.raises(UsageError, match="disk snapshot limit"):
            Limits(disk_snapshot_limit=bad)
        with pytest.raises(UsageError, match="project snapshot quota"):
            Limits(project_snapshot_quota=bad)
    with pytest.raises(UsageError, match="one create per disk must be true or false"):
        Limits(one_create_per_disk=1)  # type: ignore[arg-type]


def test_presets_switch_a_vendors_limits_on_and_each_stays_settable() -> None:
    assert limits_with("huawei") == Limits(
        one_create_per_disk=True, disk_snapshot_limit=7, refuse_delete_while_creating=True
    )
    assert limits_with("cinder") == Limits(project_snapshot_quota=10, refuse_delete_while_creating=True)
    assert limits_with(None) == Limits()
    lifted = limits_with("huawei", disk_snapshot_limit=UNLIMITED, refuse_delete_while_creating=False)
    assert lifted == Limits(one_create_per_disk=True)
    assert limits_with(None, project_snapshot_quota=4).project_snapshot_quota == 4
    with pytest.raises(UsageError, match="unknown limits preset 'aws'"):
        limits_with("aws")


def test_a_config_takes_the_presets_times_unless_it_states_its_own() -> None:
    huawei = MockConfig(limits="huawei")
    assert (huawei.settle_in_force(), huawei.delete_in_force()) == (180, 60)
    assert huawei.limits_in_force() == PRESETS["huawei"].limits
    own = MockConfig(limits="huawei", settle_seconds=2, one_create_per_disk=False)
    assert (own.settle_in_force(), own.delete_in_force()) == (2, 60)
    assert not own.limits_in_force().one_create_per_disk
    clean = MockConfig()
    assert (clean.settle_in_force(), clean.delete_in_force(), clean.limits_in_force()) == (0, None, Limits())


# -- over HTTP: documented answers ---------------------------------------------------------------------------
@pytest.fixture(scope="module", params=PROFILES)
def served(request: pytest.FixtureRequest) -> Iterator[RunningMock]:
    with serve_in_thread(MockConfig(profile=request.param)) as running:
        yield running


class Client:
    """Creates and deletes over HTTP against one served mock."""

    def __init__(self, mock: RunningMock) -> None:
        assert mock.backend is not None
        self.mock = mock
        self.backend = mock.backend
        self.contract: Contract = mock.backend.contract
        self.http = httpx.Client(
            base_url=mock.api_url, headers={self.contract.token_header: mock.token}, timeout=10
        )

    def create(self, volume_id: str | None = None) -> httpx.Response:
        disk = volume_id or self.mock.available_volume_id
        fields: dict[str, Any] = {"volume_id": disk}
        if disk == self.mock.in_use_volume_id:
            fields["force"] = True
        return self.http.post("/snapshots", json={self.contract.snapshot_key: fields})

    def created(self, volume_id: str | None = None) -> str:
        response = self.create(volume_id)
        assert response.status_code == self.contract.accepted_status, response.text
        return str(response.json()[self.contract.summary_key]["id"])


@pytest.fixture
def client(served: RunningMock) -> Iterator[Client]:
    backend = served.backend
    assert backend is not None
    user = Client(served)
    yield user
    user.http.close()
    backend.limits = Limits()
    backend.settle_seconds = 0
    backend.delete_seconds = None
    backend.time_scale = 1
    backend.reset()


def assert_documented_refusal(client: Client, response: httpx.Response, kind: str) -> dict[str, Any]:
    """The response is the profile's answer to a limit refusal of ``kind``: status, envelope, wording."""
    contract = client.contract
    status = EXPECTED_STATUS[contract.profile][kind]
    assert response.status_code == status, response.text
    assert status in contract.documented_statuses
    assert response.headers["content-type"] == "application/json"
    body: dict[str, Any] = response.json()
    ((fault,),) = [body.values()]
    assert isinstance(fault, dict)
    assert fault["message"].startswith(LIMIT_WORDING[kind] + ": ")
    if contract.response_schema(status) is not None:
        assert [e.message for e in contract.validator(status).iter_errors(body)] == []
    else:
        # Cinder documents its 413 without a body: the fault is named as Cinder names it, with the code
        # typed as in the profile's documented envelopes and the wait both in the fault and the header.
        assert list(body) == ["overLimit"]
        invalid = contract.refusal("invalid-body").body_schema
        assert invalid is not None
        (invalid_fault,) = invalid["properties"].values()
        assert invalid_fault["properties"]["code"]["type"] == "integer"
        assert fault["code"] == status
        assert fault["retryAfter"] == response.headers["retry-after"]
        assert int(fault["retryAfter"]) >= 1
    return fault


def test_each_limit_refusal_is_a_documented_answer_over_http(client: Client) -> None:
    backend = client.backend
    backend.settle_seconds = 60
    backend.limits = Limits(one_create_per_disk=True)
    first = client.created()
    assert_documented_refusal(client, client.create(), SNAPSHOT_IN_PROGRESS)

    backend.limits = Limits(refuse_delete_while_creating=True)
    refusal = client.http.delete(f"/snapshots/{first}")
    assert_documented_refusal(client, refusal, SNAPSHOT_NOT_DELETABLE)
    # A refusal does not close the connection: the next request goes on it.
    assert "close" not in refusal.headers.get("connection", "")

    backend.limits = Limits(disk_snapshot_limit=1)
    assert_documented_refusal(client, client.create(), DISK_SNAPSHOT_LIMIT)

    backend.limits = Limits(project_snapshot_quota=1)
    fault = assert_documented_refusal(client, client.create(client.mock.in_use_volume_id), SNAPSHOT_QUOTA)
    assert "(1) exceeded" in fault["message"]


def test_a_refused_delete_leaves_the_snapshot_and_a_settled_one_goes(client: Client) -> None:
    backend = client.backend
    backend.settle_seconds = 0.3
    backend.delete_seconds = 0.3
    backend.limits = Limits(refuse_delete_while_creating=True)
    snapshot_id = client.created()
    path = f"/snapshots/{snapshot_id}"
    refusal = EXPECTED_STATUS[client.contract.profile][SNAPSHOT_NOT_DELETABLE]
    assert client.http.delete(path).status_code == refusal
    time.sleep(0.35)
    assert client.http.get(path).json()[client.contract.summary_key]["status"] == "available"
    assert client.http.delete(path).status_code == HTTPStatus.ACCEPTED
    assert client.http.get(path).json()[client.contract.summary_key]["status"] == "deleting"
    time.sleep(0.35)
    assert client.http.get(path).status_code == HTTPStatus.NOT_FOUND


def test_settle_times_of_minutes_pass_in_real_seconds_under_a_time_scale() -> None:
    config = MockConfig(settle_seconds=180, delete_seconds=120, time_scale=600, limits="huawei")
    with serve_in_thread(config) as mock:
        user = Client(mock)
        start = time.monotonic()
        snapshot_id = user.created()
        path = f"/snapshots/{snapshot_id}"
        key = user.contract.summary_key
        assert user.http.get(path).json()[key]["status"] == "creating"
        assert user.create().status_code == HTTPStatus.BAD_REQUEST
        while user.http.get(path).json()[key]["status"] == "creating":
            assert time.monotonic() - start < 10, "a snapshot of 180 cloud seconds took 10 real ones"
            time.sleep(0.02)
        assert time.monotonic() - start >= 0.3
        user.created()
        user.http.close()


def test_the_cinder_preset_holds_a_project_to_ten_snapshots() -> None:
    with serve_in_thread(MockConfig(profile="cinder", limits="cinder", time_scale=1000)) as mock:
        user = Client(mock)
        for _ in range(10):
            user.created()
        fault = assert_documented_refusal(user, user.create(), SNAPSHOT_QUOTA)
        assert "(10) exceeded" in fault["message"]
        user.http.close()


def test_the_huawei_preset_refuses_with_the_pages_error_envelope() -> None:
    contract = load_contract("huawei")
    with serve_in_thread(MockConfig(limits="huawei")) as mock:
        user = Client(mock)
        user.created()
        response = user.create()
        assert_documented_refusal(user, response, SNAPSHOT_IN_PROGRESS)
        assert set(response.json()) == {"error"}
        assert contract.validator(HTTPStatus.BAD_REQUEST).is_valid(response.json())
        user.http.close()
