"""Positive creates: documented bodies for an available disk are accepted, and the 202 says what it should.

Every test here creates snapshots (billable on a real cloud): each sends one or two creates at most.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from typing import Any

import pytest

from conformance.checks import Outcome
from conformance.contract import JSON, Contract, FieldRule
from conformance.oracle import Volumes, expect
from conformance.target import Target

Verify = Callable[..., Outcome]
#: Characters of two, three and four UTF-8 bytes: a limit counted in bytes would refuse them early.
WIDE_CHARACTERS = "é中😀"


def _available(volumes: Volumes) -> str:
    if volumes.available_id is None:
        pytest.skip("no available disk configured (--volume-id)")
    return volumes.available_id


def _body(contract: Contract, volume_id: str, **fields: JSON) -> dict[str, JSON]:
    return {contract.snapshot_key: {"volume_id": volume_id, **fields}}


def _wide(length: int, rule: FieldRule | None = None) -> str:
    # A printable-only field (cinder's description) refuses characters beyond the BMP: leave those out.
    allowed = [c for c in WIDE_CHARACTERS if rule is None or not rule.unprintable(c)]
    return "".join(itertools.islice(itertools.cycle(allowed), length))


def _create(
    contract: Contract, target: Target, volumes: Volumes, verify: Verify, body: JSON, focus: str
) -> tuple[Outcome, Any]:
    exchange = target.create(body)
    outcome = verify(exchange, expect(contract, body, volumes, focus=focus))
    return outcome, exchange


@pytest.mark.requirement("OP-ACCEPT", "RSP-CONTENT-TYPE", "RSP-STATUS-CODES", "RSP-NO-5XX")
def test_documented_example_is_accepted(
    evs_contract: Contract, evs_target: Target, evs_volumes: Volumes, evs_verify: Verify
) -> None:
    volume_id = _available(evs_volumes)
    example = evs_contract.request_examples[0]
    body = {evs_contract.snapshot_key: {**example[evs_contract.snapshot_key], "volume_id": volume_id}}
    _create(evs_contract, evs_target, evs_volumes, evs_verify, body, "OP-ACCEPT")


@pytest.mark.requirement("OP-ACCEPT", "RSP-202-SCHEMA", "RSP-TIME-FORMAT", "RSP-STATUS")
def test_minimal_body_gets_a_documented_summary(
    evs_contract: Contract, evs_target: Target, evs_volumes: Volumes, evs_verify: Verify
) -> None:
    body = _body(evs_contract, _available(evs_volumes))
    outcome, _ = _create(evs_contract, evs_target, evs_volumes, evs_verify, body, "OP-ACCEPT")
    assert {"RSP-202-SCHEMA", "RSP-TIME-FORMAT", "RSP-STATUS"} <= outcome.checked


@pytest.mark.requirement("REQ-NAME")
@pytest.mark.parametrize("kind", ["empty", "at-limit", "at-limit-non-ascii"])
def test_names_up_to_the_limit_are_accepted(
    evs_contract: Contract, evs_target: Target, evs_volumes: Volumes, evs_verify: Verify, kind: str
) -> None:
    limit = evs_contract.field("name").max_length or 0
    name = {"empty": "", "at-limit": "n" * limit, "at-limit-non-ascii": _wide(limit)}[kind]
    body = _body(evs_contract, _available(evs_volumes), name=name)
    _create(evs_contract, evs_target, evs_volumes, evs_verify, body, "REQ-NAME")


@pytest.mark.requirement("REQ-DESCRIPTION")
@pytest.mark.parametrize("kind", ["empty", "null", "at-limit", "at-limit-non-ascii"])
def test_descriptions_up_to_the_limit_are_accepted(
    evs_contract: Contract, evs_target: Target, evs_volumes: Volumes, evs_verify: Verify, kind: str
) -> None:
    rule = evs_contract.field("description")
    limit = rule.max_length or 0
    description = {
        "empty": "",
        "null": None,
        "at-limit": "d" * limit,
        "at-limit-non-ascii": _wide(limit, rule),
    }[kind]
    body = _body(evs_contract, _available(evs_volumes), description=description)
    _create(evs_contract, evs_target, evs_volumes, evs_verify, body, "REQ-DESCRIPTION")


@pytest.mark.requirement("REQ-FORCE-TYPE")
@pytest.mark.parametrize("force", [True, False])
def test_boolean_force_is_accepted_for_an_available_disk(
    evs_contract: Contract, evs_target: Target, evs_volumes: Volumes, evs_verify: Verify, force: bool
) -> None:
    body = _body(evs_contract, _available(evs_volumes), force=force)
    _create(evs_contract, evs_target, evs_volumes, evs_verify, body, "REQ-FORCE-TYPE")


@pytest.mark.requirement("REQ-METADATA")
@pytest.mark.parametrize("metadata", [{}, {"purpose": "conformance", "owner": "qa"}], ids=["empty", "pairs"])
def test_string_metadata_is_accepted(
    evs_contract: Contract,
    evs_target: Target,
    evs_volumes: Volumes,
    evs_verify: Verify,
    metadata: dict[str, str],
) -> None:
    body = _body(evs_contract, _available(evs_volumes), metadata=metadata)
    _create(evs_contract, evs_target, evs_volumes, evs_verify, body, "REQ-METADATA")


@pytest.mark.requirement("RSP-ECHO")
def test_summary_echoes_the_request(
    evs_contract: Contract, evs_target: Target, evs_volumes: Volumes, evs_verify: Verify
) -> None:
    # Whitespace at the ends is part of what is sent (a profile that trims it is compared after trimming).
    body = _body(
        evs_contract,
        _available(evs_volumes),
        name=" echo-" + _wide(8) + "  ",
        description=" echo check " + _wide(5, evs_contract.field("description")) + " ",
        metadata={"suite": "evs-conformance", "key with spaces": "value"},
    )
    outcome, _ = _create(evs_contract, evs_target, evs_volumes, evs_verify, body, "OP-ACCEPT")
    assert "RSP-ECHO" in outcome.checked


@pytest.mark.requirement("RSP-SIZE")
def test_size_is_the_disks_size(
    evs_contract: Contract, evs_target: Target, evs_volumes: Volumes, evs_verify: Verify
) -> None:
    volume_id = _available(evs_volumes)
    size = _disk_size(evs_target, volume_id)
    if size is None:
        size = evs_volumes.sizes.get(volume_id)
    if size is None:
        # A target that serves only the create operation (--no-lifecycle) does not describe its disks.
        pytest.skip(f"the size of disk {volume_id} is unknown: the target did not describe the disk")
    body = _body(evs_contract, volume_id)
    exchange = evs_target.create(body)
    outcome = evs_verify(exchange, expect(evs_contract, body, evs_volumes), volume_size=size)
    assert "RSP-SIZE" in outcome.checked


def _disk_size(target: Target, volume_id: str) -> int | None:
    """The disk's size as the target's own volume API states it, when it answers in the Cinder shape."""
    response = target.get_volume(volume_id).response
    try:
        size = response.json()["volume"]["size"] if response is not None else None
    except (ValueError, KeyError, TypeError):
        return None
    return size if isinstance(size, int) and not isinstance(size, bool) else None


@pytest.mark.requirement("RSP-ID-UNIQUE")
def test_each_create_returns_a_new_id(
    evs_contract: Contract, evs_target: Target, evs_volumes: Volumes, evs_verify: Verify
) -> None:
    body = _body(evs_contract, _available(evs_volumes), name="unique-id")
    for _ in range(2):
        outcome, _ = _create(evs_contract, evs_target, evs_volumes, evs_verify, body, "OP-ACCEPT")
        assert "RSP-ID-UNIQUE" in outcome.checked
