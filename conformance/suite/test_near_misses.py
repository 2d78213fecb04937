"""Near misses: the smallest accepted body changed in exactly one place gets the answer that place decides.

A server that takes the right fields in the wrong structure (outside their wrapper, under a key spelt
another way, inside an array) answers obviously wrong bodies correctly and these wrongly. The cases and
what each changes are in ``conformance.rules.near_misses``; each is judged by the oracle and charged to the
requirement of the one thing that changed. Every case is a refusal on a conformant target except the
repeated keys, on which the document is silent (recorded as information; at most three creates, sent
after the planned creates when the run has a create budget).
"""

from __future__ import annotations

from collections.abc import Callable

import pytest

from conformance.contract import Contract
from conformance.rules.checks import Outcome
from conformance.rules.near_misses import CASES, MAY_CREATE, expected, near_miss
from conformance.rules.oracle import Volumes
from conformance.target import Target

Verify = Callable[..., Outcome]
REFUSAL_CHECKS = ("RSP-400-SCHEMA", "RSP-STATUS-CODES", "RSP-CONTENT-TYPE", "RSP-NO-5XX")


@pytest.mark.requirement(*REFUSAL_CHECKS)
@pytest.mark.parametrize(
    "name",
    [
        pytest.param(
            name,
            marks=[pytest.mark.requirement(focus)]
            + ([pytest.mark.creates("probe")] if name in MAY_CREATE else []),
        )
        for name, focus in CASES.items()
    ],
)
def test_near_miss_gets_the_answer_of_what_changed(
    evs_contract: Contract, evs_target: Target, evs_volumes: Volumes, evs_verify: Verify, name: str
) -> None:
    if evs_volumes.available_id is None:
        pytest.skip("no available disk configured (--volume-id)")
    case = near_miss(evs_contract, evs_volumes.available_id, name)
    exchange = evs_target.create(raw=case.raw) if case.raw is not None else evs_target.create(case.body)
    evs_verify(exchange, expected(evs_contract, case, evs_volumes))
