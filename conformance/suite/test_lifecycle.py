"""What follows a create: the snapshot reads back as created, settles, and can be deleted until it is gone.

Skipped as a whole for targets that only expose create (``--no-lifecycle``).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

import pytest

from conformance.checks import (
    CheckContext,
    Outcome,
    check_deleted,
    check_read_back,
    check_settled,
    initial_status,
)
from conformance.contract import JSON, Contract
from conformance.exchange import Exchange
from conformance.oracle import Volumes, expect
from conformance.settings import RunSettings
from conformance.target import Target
from conformance.target.waiters import status_of, wait_for

Verify = Callable[..., Outcome]
Conclude = Callable[[Outcome, Exchange], Outcome]


@pytest.fixture
def lifecycle(evs_settings: RunSettings) -> RunSettings:
    if not evs_settings.lifecycle:
        pytest.skip(f"lifecycle checks are off ({evs_settings.flag('lifecycle')})")
    return evs_settings


def _created(
    contract: Contract, target: Target, volumes: Volumes, verify: Verify, name: str, **fields: JSON
) -> Mapping[str, JSON]:
    """Create a snapshot of the available disk and return its 202 summary (the test fails otherwise)."""
    if volumes.available_id is None:
        pytest.skip("no available disk configured (--volume-id)")
    body = {contract.snapshot_key: {"volume_id": volumes.available_id, "name": name, **fields}}
    exchange = target.create(body)
    verify(exchange, expect(contract, body, volumes, focus="OP-ACCEPT"))
    assert exchange.response is not None
    summary: Mapping[str, JSON] = exchange.response.json()[contract.summary_key]
    return summary


def _context(contract: Contract) -> CheckContext:
    return CheckContext(contract, None, None, set())


@pytest.mark.requirement("LIFE-READ")
def test_created_snapshot_reads_back_as_created(
    lifecycle: RunSettings,
    evs_contract: Contract,
    evs_target: Target,
    evs_volumes: Volumes,
    evs_verify: Verify,
    evs_conclude: Conclude,
) -> None:
    summary = _created(evs_contract, evs_target, evs_volumes, evs_verify, "read-back")
    read = evs_target.get_snapshot(str(summary["id"]))
    evs_conclude(check_read_back(read, summary, _context(evs_contract)), read)


@pytest.mark.requirement("LIFE-READ")
def test_every_field_reads_back_as_created(
    lifecycle: RunSettings,
    evs_contract: Contract,
    evs_target: Target,
    evs_volumes: Volumes,
    evs_verify: Verify,
    evs_conclude: Conclude,
) -> None:
    # Every field the read is compared on carries a value: a description, and metadata compared pair by
    # pair. Kept apart from the test above, so that a 202 that mishandles these fields fails its own checks
    # without keeping the read-back from being judged at all.
    metadata = {"purpose": "read-back", "pair": "two"}
    summary = _created(
        evs_contract, evs_target, evs_volumes, evs_verify, "read-all", description="read", metadata=metadata
    )
    read = evs_target.get_snapshot(str(summary["id"]))
    evs_conclude(check_read_back(read, summary, _context(evs_contract)), read)


@pytest.mark.requirement("LIFE-SETTLE")
def test_created_snapshot_settles(
    lifecycle: RunSettings,
    evs_contract: Contract,
    evs_target: Target,
    evs_volumes: Volumes,
    evs_verify: Verify,
    evs_conclude: Conclude,
) -> None:
    summary = _created(evs_contract, evs_target, evs_volumes, evs_verify, "settle")
    start = initial_status(evs_contract)
    waited = wait_for(
        lambda: evs_target.get_snapshot(str(summary["id"])),
        lambda e: status_of(e, evs_contract) != start,
        timeout_s=lifecycle.settle_timeout_s,
    )
    outcome = check_settled(
        waited.last, _context(evs_contract), waited_s=waited.waited_s, timeout_s=lifecycle.settle_timeout_s
    )
    evs_conclude(outcome, waited.last)


@pytest.mark.requirement("LIFE-DELETE")
def test_deleted_snapshot_is_gone(
    lifecycle: RunSettings,
    evs_contract: Contract,
    evs_target: Target,
    evs_volumes: Volumes,
    evs_verify: Verify,
    evs_conclude: Conclude,
) -> None:
    summary = _created(evs_contract, evs_target, evs_volumes, evs_verify, "delete")
    snapshot_id = str(summary["id"])
    start = initial_status(evs_contract)
    # Clouds refuse to delete a snapshot still being created, so let it settle first (judged elsewhere).
    wait_for(
        lambda: evs_target.get_snapshot(snapshot_id),
        lambda e: status_of(e, evs_contract) != start,
        timeout_s=lifecycle.settle_timeout_s,
    )
    delete = evs_target.delete_snapshot(snapshot_id)
    gone = wait_for(
        lambda: evs_target.get_snapshot(snapshot_id),
        lambda e: e.response is not None and e.response.status != 200,
        timeout_s=lifecycle.settle_timeout_s,
    ).last
    evs_conclude(check_deleted(delete, gone, _context(evs_contract)), gone if delete.response else delete)
