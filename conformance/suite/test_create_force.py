"""Force against a busy (attaching or in-use) disk: omitted and false are refused.

Skipped, with that reason, when the run was given no in-use disk. Force true on it is accepted: one of the
planned creates shows that (``test_create_plan.py``).
"""

from __future__ import annotations

from collections.abc import Callable

import pytest

from conformance.contract import JSON, Contract
from conformance.rules.checks import Outcome
from conformance.rules.oracle import Volumes, expect
from conformance.target import Target

Verify = Callable[..., Outcome]


def _create(
    contract: Contract,
    target: Target,
    volumes: Volumes,
    verify: Verify,
    snapshot: dict[str, JSON],
    focus: str,
) -> None:
    body = {contract.snapshot_key: snapshot}
    outcome = verify(target.create(body), expect(contract, body, volumes, focus=focus))
    assert focus in outcome.checked


@pytest.mark.requirement("REQ-FORCE-DEFAULT")
def test_omitted_force_is_refused_for_a_busy_disk(
    evs_contract: Contract,
    evs_target: Target,
    evs_volumes: Volumes,
    evs_verify: Verify,
    evs_in_use_volume: str,
) -> None:
    snapshot = {"volume_id": evs_in_use_volume}
    _create(evs_contract, evs_target, evs_volumes, evs_verify, snapshot, "REQ-FORCE-DEFAULT")


@pytest.mark.requirement("REQ-FORCE-FALSE")
def test_force_false_is_refused_for_a_busy_disk(
    evs_contract: Contract,
    evs_target: Target,
    evs_volumes: Volumes,
    evs_verify: Verify,
    evs_in_use_volume: str,
) -> None:
    snapshot = {"volume_id": evs_in_use_volume, "force": False}
    _create(evs_contract, evs_target, evs_volumes, evs_verify, snapshot, "REQ-FORCE-FALSE")
