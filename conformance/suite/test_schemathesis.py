"""Schemathesis's examples, coverage and fuzzing phases of the create operation, judged by the suite's oracle.

The cases and how each is sent and judged live in ``conformance.plugin.openapi_cases``; a failure names a
requirement and comes with a reproduction.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from conformance.contract import Contract
from conformance.plugin.openapi_cases import CasePhase, CaseSender, Operation, create_operation, phase_test
from conformance.report.ledger import Ledger
from conformance.rules.checks import ACCEPTED_CREATE
from conformance.rules.oracle import Volumes
from conformance.run.settings import RunSettings
from conformance.target import Target

#: What every answered create is checked for, whatever the phase.
RESPONSE_CHECKS = ("RSP-NO-5XX", "RSP-STATUS-CODES", "RSP-CONTENT-TYPE")
#: What the schema-driven negative cases exercise: boundaries, wrong types, missing fields, no token.
BOUNDARY_CHECKS = (
    "AUTH-MISSING",
    "REQ-SNAPSHOT",
    "REQ-VOLUME-ID",
    "REQ-NAME",
    "REQ-DESCRIPTION",
    "REQ-FORCE-TYPE",
    "REQ-METADATA",
    "REQ-JSON",
    "RSP-400-SCHEMA",
)

PHASES = [
    pytest.param(
        CasePhase.EXAMPLES,
        id="examples",
        marks=pytest.mark.requirement(*ACCEPTED_CREATE, *RESPONSE_CHECKS),
    ),
    pytest.param(
        CasePhase.COVERAGE,
        id="coverage",
        marks=pytest.mark.requirement(*BOUNDARY_CHECKS, *RESPONSE_CHECKS, *ACCEPTED_CREATE),
    ),
    pytest.param(
        CasePhase.FUZZING,
        id="fuzzing",
        marks=pytest.mark.requirement(*BOUNDARY_CHECKS, *RESPONSE_CHECKS, *ACCEPTED_CREATE),
    ),
]


@pytest.fixture(scope="session")
def evs_create_operation(evs_contract: Contract) -> Operation:
    """The create operation as Schemathesis loads it from the contract document."""
    return create_operation(evs_contract)


@pytest.mark.parametrize("phase", PHASES)
def test_schemathesis_phase(
    phase: CasePhase,
    evs_create_operation: Operation,
    evs_settings: RunSettings,
    evs_contract: Contract,
    evs_target: Target,
    evs_volumes: Volumes,
    evs_verify: Callable[..., Any],
    evs_ledger: Ledger,
    request: pytest.FixtureRequest,
) -> None:
    """Every request a Schemathesis phase generates for the create operation gets its documented answer."""
    sender = CaseSender(evs_contract, evs_target, evs_volumes, evs_verify, evs_ledger, request.node.nodeid)
    # Fuzzing failures go to Hypothesis, which shrinks them; the deterministic phases run every case
    # (each broken requirement gets its own verdict) and fail once at the end.
    sender.keep_going = phase is not CasePhase.FUZZING
    test = phase_test(
        evs_create_operation, phase, examples=evs_settings.examples, seed=evs_settings.seed, send=sender.send
    )
    test()
    sender.raise_first_failure()
