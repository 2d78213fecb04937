"""Identity without HTTP or snapshots: users, seeded and issued tokens, lifetimes, the auth quirks."""

from __future__ import annotations

from datetime import datetime
from http import HTTPStatus

import pytest

from conformance.contract import load_contract
from conformance.core.errors import UsageError
from conformance.mock.clock import TimeScale
from conformance.mock.hooks import Deviations
from conformance.mock.identity import Identity
from conformance.mock.quirks import compile_deviations
from conformance.mock.refusals import ServiceError
from tests.mock.test_models import FakeClock

CLEAN = compile_deviations((), load_contract("huawei"))


def deviations(*quirks: str) -> Deviations:
    return compile_deviations(quirks, load_contract("huawei"))


def identity(clock: FakeClock, scale: float = 1.0) -> Identity:
    service = Identity(clock=clock, time_scale=TimeScale(scale), seed=4)
    service.add_user("u", "pw", "p1")
    service.add_token("seeded", "p1")
    return service


def status_of_refusal(service: Identity, project_id: str, token: str | None, quirks: Deviations) -> int:
    with pytest.raises(ServiceError) as refused:
        service.authenticate(project_id, token, quirks)
    return refused.value.status


def test_a_password_gives_a_token_scoped_to_the_users_project() -> None:
    service = identity(FakeClock())
    token, grant = service.issue_token("u", "pw", "p1")
    assert grant["token"]["project"]["id"] == "p1"
    assert grant["token"]["methods"] == ["password"]
    service.authenticate("p1", token, CLEAN)
    assert status_of_refusal(service, "p2", token, CLEAN) == HTTPStatus.FORBIDDEN
    for user, password, project in (("u", "wrong", "p1"), ("nobody", "pw", "p1"), ("u", "pw", "p2")):
        with pytest.raises(ServiceError) as refused:
            service.issue_token(user, password, project)
        assert refused.value.status == HTTPStatus.UNAUTHORIZED


def test_tokens_are_reproducible_from_the_seed_and_reset_forgets_issued_ones() -> None:
    first, _ = identity(FakeClock()).issue_token("u", "pw", "p1")
    service = identity(FakeClock())
    again, _ = service.issue_token("u", "pw", "p1")
    assert again == first
    assert len(first) == 64
    service.reset(seed=4)
    assert service.issued_tokens == ()
    assert status_of_refusal(service, "p1", first, CLEAN) == HTTPStatus.UNAUTHORIZED
    service.authenticate("p1", "seeded", CLEAN)


def test_lifetimes_pass_through_the_time_scale_and_seeded_tokens_never_expire() -> None:
    clock = FakeClock()
    service = identity(clock, scale=10)
    service.token_ttl_s = 600
    token, grant = service.issue_token("u", "pw", "p1")
    issued, expires = (datetime.fromisoformat(grant["token"][k]) for k in ("issued_at", "expires_at"))
    assert (expires - issued).total_seconds() == 60
    clock.advance(59.9)
    service.authenticate("p1", token, CLEAN)
    clock.advance(0.1)
    assert status_of_refusal(service, "p1", token, CLEAN) == HTTPStatus.UNAUTHORIZED
    clock.advance(10**6)
    service.authenticate("p1", "seeded", CLEAN)


@pytest.mark.parametrize("seconds", [0, -1, float("nan"), float("inf"), 10**9, "60", True])
def test_a_token_lifetime_must_be_a_sane_number_of_seconds(seconds: object) -> None:
    service = identity(FakeClock())
    with pytest.raises(UsageError, match="token lifetime must be a positive number of seconds"):
        service.token_ttl_s = seconds  # type: ignore[assignment]
    assert service.token_ttl_s is None


def test_the_auth_quirks_reach_identity_as_switches() -> None:
    service = identity(FakeClock())
    assert status_of_refusal(service, "p1", None, CLEAN) == HTTPStatus.UNAUTHORIZED
    service.authenticate("p1", None, deviations("accepts-missing-token"))
    assert status_of_refusal(service, "p1", "forged", CLEAN) == HTTPStatus.UNAUTHORIZED
    service.authenticate("p1", "forged", deviations("accepts-invalid-token"))
    assert status_of_refusal(service, "p2", "seeded", CLEAN) == HTTPStatus.FORBIDDEN
    service.authenticate("p2", "seeded", deviations("accepts-other-project-token"))
    # A switch for one case opens no other.
    assert status_of_refusal(service, "p1", None, deviations("accepts-invalid-token")) == 401
