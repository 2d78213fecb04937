"""The near-miss cases: one change from the smallest accepted body each, refused, charged to that change."""

from __future__ import annotations

import copy
import json
import uuid
from typing import Any

import pytest

from conformance.contract import PROFILES, Contract, contract_from_document, load_contract
from conformance.rules.near_misses import CASES, REQUIRED_FIELD, expected, near_miss
from conformance.rules.oracle import Volumes, expect

VOLUME = "5aa119a8-d25b-45a7-8d1b-88e127885635"
VOLUMES = Volumes(VOLUME, None, None, str(uuid.uuid4()), {VOLUME: 40})
CONTRACTS = [load_contract(p) for p in PROFILES]


def _readings(raw: bytes) -> list[Any]:
    """The raw body read keeping the first, then the last, of each repeated key."""
    first = json.loads(raw, object_pairs_hook=lambda pairs: dict(reversed(pairs)))
    return [first, json.loads(raw)]


def _changes(accepted: Any, sent: Any, path: str = "") -> list[str]:
    """The places where ``sent`` differs from ``accepted``, as paths (a subtree that differs is one place)."""
    if isinstance(accepted, dict) and isinstance(sent, dict):
        keys = sorted(set(accepted) | set(sent))
        return [c for k in keys for c in _changes(accepted.get(k, ...), sent.get(k, ...), f"{path}/{k}")]
    return [] if accepted == sent else [path or "/"]


@pytest.mark.parametrize("contract", CONTRACTS, ids=PROFILES)
@pytest.mark.parametrize("name", sorted(CASES))
def test_every_case_is_refused_and_charged_to_what_changed(contract: Contract, name: str) -> None:
    case = near_miss(contract, VOLUME, name)
    found = expected(contract, case, VOLUMES)
    assert found.requirement == CASES[name] == case.focus
    if case.raw is None:
        assert found.outcome == "refuse", found.reason
    else:
        # Repeated keys: the document does not say which copy counts; every other case it decides.
        assert "repeated" in name
        assert found.outcome == "either"


@pytest.mark.parametrize("contract", CONTRACTS, ids=PROFILES)
@pytest.mark.parametrize("name", sorted(n for n in CASES if "repeated" not in n))
def test_every_case_changes_one_place_of_an_accepted_body(contract: Contract, name: str) -> None:
    case = near_miss(contract, VOLUME, name)
    key = contract.snapshot_key
    accepted = [{key: {REQUIRED_FIELD: VOLUME}}]
    field = name.partition("-in-")[0]
    if field not in (REQUIRED_FIELD, "wrapper") and field in {r.name for r in contract.fields}:
        # An optional field's case starts from the smallest body with that field holding a value it takes.
        value = case.body[key][field]
        taken = value[0] if isinstance(value, list) else value["value"]
        accepted = [{key: {REQUIRED_FIELD: VOLUME, field: taken}}]
    for body in accepted:
        assert expect(contract, body, VOLUMES).outcome == "accept"
        changed = _changes(body, case.body)
        # Moving something is one change seen from two places: where it was, and where it went.
        assert 1 <= len(changed) <= 2, changed


@pytest.mark.parametrize("name", sorted(n for n in CASES if "repeated" in n))
def test_repeated_key_cases_hold_one_accepted_reading_at_most_once_per_parser(name: str) -> None:
    contract = CONTRACTS[0]
    case = near_miss(contract, VOLUME, name)
    assert case.raw is not None
    readings = [expect(contract, body, VOLUMES).outcome for body in _readings(case.raw)]
    assert "accept" in readings
    assert b'"%s"' % contract.snapshot_key.encode() in case.raw


def test_at_most_two_repeated_key_cases_create_on_any_parser() -> None:
    contract = CONTRACTS[0]
    raws = [near_miss(contract, VOLUME, n).raw for n in CASES if "repeated" in n]
    for reading in (0, 1):
        accepted = [expect(contract, _readings(raw)[reading], VOLUMES).outcome for raw in raws if raw]
        assert accepted.count("accept") <= 2


def test_an_unknown_case_is_a_key_error() -> None:
    with pytest.raises(KeyError):
        near_miss(CONTRACTS[0], VOLUME, "no-such-case")


def test_a_contract_without_the_mandatory_disk_field_is_refused() -> None:
    document = copy.deepcopy(dict(CONTRACTS[0].document))
    document["components"]["schemas"]["CinderCreateSnapshotOption"]["required"] = []
    with pytest.raises(ValueError, match="does not make volume_id mandatory"):
        near_miss(contract_from_document(document), VOLUME, "wrapper-null")
