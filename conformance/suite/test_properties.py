"""Property tests: Hypothesis fuzzes each field with valid and invalid values; the oracle says what each body
must get and the checks judge every answer. Failures shrink to a minimal body with a cURL reproduction.

A field's own test sends that field and ``volume_id`` alone, so what the target answers is charged to that
field's requirement; the whole-body tests charge an unexpected refusal of a valid body to OP-ACCEPT.

Example counts and the seed come from the run's Hypothesis profile.
"""

from __future__ import annotations

import functools
from collections.abc import Callable

import pytest
from hypothesis import given
from hypothesis import strategies as st

from conformance.contract import JSON, Contract
from conformance.rules import strategies
from conformance.rules.checks import Outcome
from conformance.rules.oracle import Volumes, expect
from conformance.target import Target

Verify = Callable[..., Outcome]
#: Pairs in the large metadata maps of their one dedicated test (the other tests send small maps).
LARGE_MAP = 200


def _available(volumes: Volumes) -> str:
    if volumes.available_id is None:
        pytest.skip("no available disk configured (--volume-id)")
    return volumes.available_id


@functools.cache
def _bodies(contract: Contract, volume_id: str, field: str) -> st.SearchStrategy[JSON]:
    """Bodies for ``volume_id`` whose ``field`` alone is fuzzed, valid and invalid (built once).

    No other field is sent, so an unexpected answer can only be about ``field``.
    """
    others = strategies.json_values()
    fuzz: dict[str, st.SearchStrategy[JSON]] = {
        "name": strategies.snapshot_names(contract, include_null=True)
        | strategies.overlong_names(contract)
        | others,
        "description": strategies.descriptions(contract, include_null=True)
        | strategies.overlong_descriptions(contract)
        | others,
        "force": strategies.forces(contract) | strategies.non_boolean_forces(contract) | st.none(),
        "metadata": strategies.metadata_maps(contract) | strategies.invalid_metadata(contract) | st.none(),
    }
    return strategies.single_field_bodies(contract, volume_id=volume_id, field=field, values=fuzz[field])


@functools.cache
def _large_metadata_bodies(contract: Contract, volume_id: str) -> st.SearchStrategy[JSON]:
    values = strategies.metadata_maps(contract, max_size=LARGE_MAP)
    return strategies.single_field_bodies(contract, volume_id=volume_id, field="metadata", values=values)


@functools.cache
def _invalid_bodies(contract: Contract, volume_id: str) -> st.SearchStrategy[JSON]:
    return strategies.invalid_create_bodies(contract, volume_id=volume_id)


@functools.cache
def _valid_bodies(contract: Contract, volume_id: str) -> st.SearchStrategy[JSON]:
    return strategies.create_bodies(contract, volume_id=volume_id)


@functools.cache
def _busy_bodies(contract: Contract, volume_id: str) -> st.SearchStrategy[JSON]:
    """Bodies for a busy disk that vary ``force`` alone: omitted, or any value the contract accepts."""
    key = contract.snapshot_key
    force = st.none() | strategies.forces(contract).map(lambda v: {"force": v})
    return force.map(lambda extra: {key: {"volume_id": volume_id, **(extra or {})}})


@functools.cache
def _volume_ids(known: tuple[str, ...]) -> st.SearchStrategy[JSON]:
    strings = st.sampled_from(known) | strategies.volume_ids() | strategies.malformed_volume_ids()
    return strings | strategies.json_values() | st.none()


def _check(
    contract: Contract, target: Target, volumes: Volumes, verify: Verify, body: JSON, focus: str
) -> None:
    verify(target.create(body), expect(contract, body, volumes, focus=focus))


@pytest.mark.parametrize(
    ("field", "requirement"),
    [
        pytest.param("name", "REQ-NAME", marks=pytest.mark.requirement("REQ-NAME")),
        pytest.param("description", "REQ-DESCRIPTION", marks=pytest.mark.requirement("REQ-DESCRIPTION")),
        pytest.param("force", "REQ-FORCE-TYPE", marks=pytest.mark.requirement("REQ-FORCE-TYPE")),
        pytest.param("metadata", "REQ-METADATA", marks=pytest.mark.requirement("REQ-METADATA")),
    ],
)
@pytest.mark.requirement("RSP-ECHO", "RSP-202-SCHEMA", "RSP-400-SCHEMA", "RSP-NO-5XX")
@given(data=st.data())
def test_fuzzed_field_gets_the_documented_answer(
    evs_contract: Contract,
    evs_target: Target,
    evs_volumes: Volumes,
    evs_verify: Verify,
    field: str,
    requirement: str,
    data: st.DataObject,
) -> None:
    body = data.draw(_bodies(evs_contract, _available(evs_volumes), field), label="body")
    _check(evs_contract, evs_target, evs_volumes, evs_verify, body, requirement)


@pytest.mark.requirement("REQ-METADATA", "RSP-ECHO", "RSP-202-SCHEMA")
@given(data=st.data())
def test_large_metadata_maps_are_accepted_and_echoed(
    evs_contract: Contract, evs_target: Target, evs_volumes: Volumes, evs_verify: Verify, data: st.DataObject
) -> None:
    body = data.draw(_large_metadata_bodies(evs_contract, _available(evs_volumes)), label="body")
    _check(evs_contract, evs_target, evs_volumes, evs_verify, body, "REQ-METADATA")


@pytest.mark.requirement("REQ-VOLUME-ID", "REQ-VOLUME-EXISTS", "RSP-400-SCHEMA", "RSP-NO-5XX")
@given(data=st.data())
def test_fuzzed_volume_id_gets_the_documented_answer(
    evs_contract: Contract, evs_target: Target, evs_volumes: Volumes, evs_verify: Verify, data: st.DataObject
) -> None:
    known = tuple(v for v in (evs_volumes.available_id, evs_volumes.unknown_id) if v is not None)
    volume_id = data.draw(_volume_ids(known), label="volume_id")
    body = {evs_contract.snapshot_key: {"volume_id": volume_id}}
    focus = "REQ-VOLUME-ID" if not isinstance(volume_id, str) else "REQ-VOLUME-EXISTS"
    _check(evs_contract, evs_target, evs_volumes, evs_verify, body, focus)


@pytest.mark.requirement("REQ-SNAPSHOT", "REQ-VOLUME-ID", "RSP-400-SCHEMA", "RSP-NO-5XX")
@given(data=st.data())
def test_fuzzed_invalid_body_is_refused(
    evs_contract: Contract, evs_target: Target, evs_volumes: Volumes, evs_verify: Verify, data: st.DataObject
) -> None:
    body = data.draw(_invalid_bodies(evs_contract, _available(evs_volumes)), label="body")
    outcome = evs_verify(evs_target.create(body), expect(evs_contract, body, evs_volumes))
    assert outcome.checked


@pytest.mark.requirement(
    "OP-ACCEPT", "RSP-ECHO", "RSP-202-SCHEMA", "RSP-TIME-FORMAT", "RSP-STATUS", "RSP-ID-UNIQUE"
)
@given(data=st.data())
def test_fuzzed_valid_body_is_accepted_and_echoed(
    evs_contract: Contract, evs_target: Target, evs_volumes: Volumes, evs_verify: Verify, data: st.DataObject
) -> None:
    body = data.draw(_valid_bodies(evs_contract, _available(evs_volumes)), label="body")
    _check(evs_contract, evs_target, evs_volumes, evs_verify, body, "OP-ACCEPT")


@pytest.mark.requirement("REQ-FORCE-DEFAULT", "REQ-FORCE-FALSE", "REQ-FORCE-TRUE")
@given(data=st.data())
def test_fuzzed_force_against_a_busy_disk(
    evs_contract: Contract,
    evs_target: Target,
    evs_volumes: Volumes,
    evs_verify: Verify,
    evs_in_use_volume: str,
    data: st.DataObject,
) -> None:
    body = data.draw(_busy_bodies(evs_contract, evs_in_use_volume), label="body")
    evs_verify(evs_target.create(body), expect(evs_contract, body, evs_volumes))
