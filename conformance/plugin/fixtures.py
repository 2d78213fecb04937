"""The fixtures the shipped suite uses: the run's runtime, settings, contract, target, disks and checks."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

import pytest

from conformance.contract import Contract
from conformance.core.errors import ToolError
from conformance.core.exchange import Exchange
from conformance.plugin.hooks import provided_by, runtime_of
from conformance.plugin.redaction import redact_exception
from conformance.plugin.runtime import SuiteRuntime
from conformance.report.ledger import Ledger
from conformance.run.settings import RunSettings
from conformance.target import Target

if TYPE_CHECKING:
    from conformance.rules.checks.model import Outcome
    from conformance.rules.oracle import Volumes


@pytest.fixture(scope="session")
def evs_runtime(pytestconfig: pytest.Config) -> SuiteRuntime:
    """The run's shared state, started on first use (the embedded mock, the client, the disks)."""
    runtime = runtime_of(pytestconfig)
    try:
        runtime.start()
    except ToolError as exc:
        redact_exception(exc, runtime.redactor)
        provided = provided_by(pytestconfig)
        if provided is not None:
            provided.error = str(exc)
        pytest.exit(f"evs-conformance: error: {exc}", returncode=2)
    return runtime


@pytest.fixture(scope="session")
def evs_settings(evs_runtime: SuiteRuntime) -> RunSettings:
    """The run's frozen settings, with the target resolved (the embedded mock's address when it runs)."""
    return evs_runtime.settings


@pytest.fixture(scope="session")
def evs_contract(evs_runtime: SuiteRuntime) -> Contract:
    return evs_runtime.contract


@pytest.fixture(scope="session")
def evs_target(evs_runtime: SuiteRuntime) -> Target:
    return evs_runtime.target


@pytest.fixture(scope="session")
def evs_volumes(evs_runtime: SuiteRuntime) -> Volumes:
    return evs_runtime.volumes


@pytest.fixture(scope="session")
def evs_in_use_volume(evs_runtime: SuiteRuntime) -> str:
    """The in-use disk's ID; tests that need one are skipped when none was given."""
    in_use = evs_runtime.volumes.in_use_id
    if in_use is None:
        pytest.skip("no in-use disk configured (--in-use-volume-id)")
    return in_use


@pytest.fixture(scope="session")
def evs_ledger(evs_runtime: SuiteRuntime) -> Ledger:
    return evs_runtime.ledger


@pytest.fixture(scope="session")
def evs_verify(evs_runtime: SuiteRuntime) -> Callable[..., Outcome]:
    """``evs_verify(exchange, expectation, *, volume_size=None)``: check a create, fail on violations."""
    return evs_runtime.verify


@pytest.fixture(scope="session")
def evs_conclude(evs_runtime: SuiteRuntime) -> Callable[[Outcome, Exchange], Outcome]:
    """``evs_conclude(outcome, exchange)``: record an outcome of another check and fail on its violations."""
    return evs_runtime.conclude
