"""Authentication: a create without a token, or with one the target never issued, is refused (never 2xx)."""

from __future__ import annotations

import uuid
from collections.abc import Callable

import pytest

from conformance.contract import Contract
from conformance.rules.checks import Outcome
from conformance.rules.oracle import Volumes, expect_auth_refusal, expect_foreign_project_refusal
from conformance.target import Target

Verify = Callable[..., Outcome]


def _valid_body(contract: Contract, volumes: Volumes) -> dict[str, object]:
    # A body the target would accept with good credentials, so only the token can explain a refusal.
    volume_id = volumes.available_id or volumes.unknown_id
    return {contract.snapshot_key: {"volume_id": volume_id, "name": "auth-probe"}}


@pytest.mark.requirement("AUTH-MISSING", "RSP-NO-5XX", "RSP-STATUS-CODES")
def test_create_without_a_token_is_refused(
    evs_contract: Contract, evs_target: Target, evs_volumes: Volumes, evs_verify: Verify
) -> None:
    exchange = evs_target.create(_valid_body(evs_contract, evs_volumes), token=None)
    assert evs_contract.token_header.lower() not in {h.lower() for h in exchange.request.headers}
    evs_verify(exchange, expect_auth_refusal("AUTH-MISSING"))


@pytest.mark.requirement("AUTH-INVALID", "RSP-NO-5XX", "RSP-STATUS-CODES")
@pytest.mark.parametrize("kind", ["random", "empty"])
def test_create_with_an_invalid_token_is_refused(
    evs_contract: Contract, evs_target: Target, evs_volumes: Volumes, evs_verify: Verify, kind: str
) -> None:
    token = f"invalid-{uuid.uuid4().hex}" if kind == "random" else ""
    exchange = evs_target.create(_valid_body(evs_contract, evs_volumes), token=token)
    evs_verify(exchange, expect_auth_refusal("AUTH-INVALID"))


@pytest.mark.requirement("AUTH-INVALID", "RSP-NO-5XX")
def test_token_cannot_act_on_another_project(
    evs_contract: Contract, evs_target: Target, evs_volumes: Volumes, evs_verify: Verify
) -> None:
    # The configured token is valid, but only for its own project: the URL names another one.
    other_project = uuid.uuid4().hex
    path = evs_contract.path_template.replace("{project_id}", other_project)
    # Through create like every POST: counted against the budget and journaled, whatever the answer.
    exchange = evs_target.create(_valid_body(evs_contract, evs_volumes), path=path)
    evs_verify(exchange, expect_foreign_project_refusal())
