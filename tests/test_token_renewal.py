"""An expired token (401 mid-run) is renewed from the identity service, as often as the source allows."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from conformance.contract import load_contract
from conformance.core.errors import UsageError
from conformance.core.exchange import MASK
from conformance.mock.models import ServiceError, SnapshotBackend
from conformance.mock.server import MockConfig, RunningMock, serve_in_thread
from conformance.run.auth import PasswordCredentials, TokenSource
from conformance.run.settings import TargetSettings
from conformance.target import Target
from tests.runs import run_command

USER = "evs-renewer"
PASSWORD = "PASSWORD-renewal-4d7a2c9e1b"
PROJECT = "p-renewal"


class FakeClock:
    """A clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = datetime(2026, 1, 1, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


# -- the mock's token lifetime and revocation ----------------------------------------------------------


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def backend(clock: FakeClock) -> SnapshotBackend:
    service = SnapshotBackend(load_contract("huawei"), clock=clock)
    service.add_project(PROJECT)
    service.add_user(USER, PASSWORD, PROJECT)
    service.add_token("seeded-token", PROJECT)
    return service


def refusal(backend: SnapshotBackend, token: str) -> str:
    """The message of the 401 the mock answers ``token`` with."""
    with pytest.raises(ServiceError) as refused:
        backend.authenticate(PROJECT, token)
    assert refused.value.status == 401
    return refused.value.message


def accept(backend: SnapshotBackend, token: str) -> None:
    """Authenticate ``token``; a refusal raises ServiceError and fails the test."""
    backend.authenticate(PROJECT, token)


def test_an_issued_token_expires_after_its_lifetime_by_the_mock_clock(
    backend: SnapshotBackend, clock: FakeClock
) -> None:
    backend.token_ttl_s = 60
    token, grant = backend.issue_token(USER, PASSWORD, PROJECT)
    issued = datetime.fromisoformat(grant["token"]["issued_at"])
    expires = datetime.fromisoformat(grant["token"]["expires_at"])
    assert expires - issued == timedelta(seconds=60)
    clock.advance(59.9)
    accept(backend, token)
    clock.advance(0.1)
    assert refusal(backend, token) == "the token has expired"
    # A seeded token is the fixed --token of a run and never expires.
    accept(backend, "seeded-token")


def test_without_a_lifetime_a_token_lasts_a_day(backend: SnapshotBackend, clock: FakeClock) -> None:
    token, _ = backend.issue_token(USER, PASSWORD, PROJECT)
    clock.advance(timedelta(hours=23, minutes=59).total_seconds())
    accept(backend, token)
    clock.advance(60)
    assert refusal(backend, token) == "the token has expired"


def test_expire_tokens_revokes_every_issued_token_and_only_those(backend: SnapshotBackend) -> None:
    first, _ = backend.issue_token(USER, PASSWORD, PROJECT)
    second, _ = backend.issue_token(USER, PASSWORD, PROJECT)
    assert backend.expire_tokens() == 2
    assert refusal(backend, first) == refusal(backend, second) == "the token is not valid"
    accept(backend, "seeded-token")
    assert backend.expire_tokens() == 0
    third, _ = backend.issue_token(USER, PASSWORD, PROJECT)
    accept(backend, third)
    assert backend.issued_tokens == (first, second, third)
    backend.reset()
    assert backend.issued_tokens == ()


def test_an_expired_token_is_accepted_only_under_the_invalid_token_quirk(
    backend: SnapshotBackend, clock: FakeClock
) -> None:
    backend.token_ttl_s = 1
    token, _ = backend.issue_token(USER, PASSWORD, PROJECT)
    clock.advance(2)
    backend.set_quirks(["accepts-invalid-token"])
    accept(backend, token)


@pytest.mark.parametrize("seconds", [0, -1.5])
def test_a_token_lifetime_must_be_positive(backend: SnapshotBackend, seconds: float) -> None:
    with pytest.raises(UsageError, match="token lifetime must be a positive number of seconds"):
        backend.token_ttl_s = seconds


def test_the_lifetime_survives_a_mock_config_round_trip() -> None:
    config = MockConfig(token_ttl_s=90.0)
    assert MockConfig.from_json(json.loads(json.dumps(config.to_json()))) == config


# -- a Target renewing over real HTTP against the mock's token endpoint --------------------------------


@pytest.fixture
def mock() -> Iterator[RunningMock]:
    with serve_in_thread(MockConfig(users=((USER, PASSWORD),))) as running:
        yield running


def mock_backend(mock: RunningMock) -> SnapshotBackend:
    assert mock.backend is not None
    return mock.backend


@pytest.fixture
def identity() -> Iterator[httpx.Client]:
    with httpx.Client(timeout=10, trust_env=False) as client:
        yield client


def password_target(mock: RunningMock, identity: httpx.Client, *, max_renewals: int) -> Target:
    credentials = PasswordCredentials(
        iam_url=f"{mock.base_url}/v3",
        username=USER,
        password=PASSWORD,
        domain="Default",
        project_id=mock.project_id,
    )
    tokens = TokenSource.from_password(identity, credentials, max_renewals=max_renewals)
    settings = TargetSettings(
        base_url=mock.base_url,
        project_id=mock.project_id,
        token=None,
        available_volume_id=mock.available_volume_id,
        token_source=tokens,
        timeout_s=10,
    )
    return Target(mock_backend(mock).contract, settings)


def create_status(target: Target, mock: RunningMock) -> int | None:
    key = target.contract.snapshot_key
    exchange = target.create({key: {"volume_id": mock.available_volume_id}})
    assert exchange.error is None
    sent = {name.lower(): value for name, value in exchange.request.headers.items()}
    assert sent[target.contract.token_header.lower()] == MASK
    return None if exchange.response is None else exchange.response.status


def test_a_401_mid_sequence_is_renewed_once_then_recorded(mock: RunningMock, identity: httpx.Client) -> None:
    backend = mock_backend(mock)
    accepted = backend.contract.accepted_status
    with password_target(mock, identity, max_renewals=1) as target:
        assert create_status(target, mock) == accepted
        assert create_status(target, mock) == accepted
        assert len(backend.issued_tokens) == 1

        assert backend.expire_tokens() == 1
        assert create_status(target, mock) == accepted
        assert len(backend.issued_tokens) == 2
        assert create_status(target, mock) == accepted
        assert len(backend.issued_tokens) == 2

        # The second expiry in the same run finds the renewal spent: the 401 is the recorded answer.
        backend.expire_tokens()
        assert create_status(target, mock) == 401
        assert len(backend.issued_tokens) == 2
        assert set(backend.issued_tokens) <= set(target.secrets())
        assert target.creates == 4


def test_a_source_allowing_two_renewals_renews_twice(mock: RunningMock, identity: httpx.Client) -> None:
    backend = mock_backend(mock)
    accepted = backend.contract.accepted_status
    with password_target(mock, identity, max_renewals=2) as target:
        for renewals in range(3):
            assert create_status(target, mock) == accepted
            assert len(backend.issued_tokens) == 1 + renewals
            backend.expire_tokens()
        assert create_status(target, mock) == 401
        assert len(backend.issued_tokens) == 3


def test_a_token_past_its_lifetime_is_renewed(mock: RunningMock, identity: httpx.Client) -> None:
    backend = mock_backend(mock)
    # Long enough that a renewed token is still fresh when the request is repeated on a busy machine.
    backend.token_ttl_s = 1.0
    with password_target(mock, identity, max_renewals=1) as target:
        assert create_status(target, mock) == backend.contract.accepted_status
        time.sleep(1.1)
        assert create_status(target, mock) == backend.contract.accepted_status
        assert len(backend.issued_tokens) == 2


# -- a whole run whose tokens expire once ---------------------------------------------------------------


class ExpireOnce:
    """Wraps the mock's create: after the ``after``-th accepted create every issued token is revoked."""

    def __init__(self, backend: SnapshotBackend, after: int) -> None:
        self.backend = backend
        self.after = after
        self.create = backend.create_snapshot
        self.accepted = 0
        self.issued_before: int | None = None
        self._lock = threading.Lock()

    def __call__(self, project_id: str, body: Any) -> dict[str, Any]:
        summary = self.create(project_id, body)
        with self._lock:
            self.accepted += 1
            if self.accepted == self.after:
                self.issued_before = len(self.backend.issued_tokens)
                self.backend.expire_tokens()
        return summary


@pytest.mark.slow
def test_a_run_whose_token_expires_mid_run_still_passes_and_leaks_nothing(
    mock: RunningMock, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    backend = mock_backend(mock)
    expiry = ExpireOnce(backend, after=3)
    monkeypatch.setattr(backend, "create_snapshot", expiry)
    reports = tmp_path / "reports"
    auth = ["--iam-url", f"{mock.base_url}/v3", "--username", USER, "--domain", "Default"]

    result = run_command(
        mock, reports, "--cleanup-timeout", "5", *auth, env={"EVS_PASSWORD": PASSWORD}, timeout_s=300
    )

    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-2000:]
    assert expiry.issued_before is not None, "the run made too few creates for the expiry to happen"
    assert expiry.accepted > expiry.after, "nothing was sent after the expiry"
    # Exactly one renewal: one more token than had been issued when the tokens expired.
    assert len(backend.issued_tokens) == expiry.issued_before + 1
    report = json.loads((reports / "conformance.json").read_text(encoding="utf-8"))
    assert report["verdict"] == "pass"
    texts = {str(p): p.read_bytes().decode("utf-8", "replace") for p in reports.rglob("*") if p.is_file()}
    texts |= {"<stdout>": result.stdout, "<stderr>": result.stderr}
    assert len(texts) > 10
    for secret in (PASSWORD, *backend.issued_tokens):
        leaks = [name for name, text in texts.items() if secret in text]
        assert not leaks, f"{secret[:6]}... found in {leaks}"
