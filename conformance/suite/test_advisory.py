"""Advisory: the reserved backup name prefix; what the target does with one is recorded, never judged."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from conformance.checks import Outcome
from conformance.contract import Contract
from conformance.oracle import Volumes, expect_silent
from conformance.target import Target

Verify = Callable[..., Outcome]


@pytest.mark.requirement("ADV-AUTOBK")
def test_reserved_name_prefix_is_probed_once(
    evs_contract: Contract, evs_target: Target, evs_volumes: Volumes, evs_verify: Verify
) -> None:
    rule = evs_contract.field("name")
    prefixes = rule.schema.get("x-reserved-prefixes", ())
    if not prefixes or evs_volumes.available_id is None:
        pytest.skip(
            "the contract reserves no name prefix" if not prefixes else "no available disk configured"
        )
    name = (str(prefixes[0]) + "conformance-probe")[: rule.max_length]
    body = {evs_contract.snapshot_key: {"volume_id": evs_volumes.available_id, "name": name}}
    exchange = evs_target.create(body)
    reason = f"names starting with {prefixes[0]!r} are reserved for backups ({rule.source})"
    outcome = evs_verify(exchange, expect_silent("ADV-AUTOBK", f"{reason}; probed with {name!r}"))
    assert any(requirement == "ADV-AUTOBK" for requirement, _ in outcome.infos)
