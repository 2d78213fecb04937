from __future__ import annotations

import uuid

import pytest
from hypothesis import HealthCheck, find, given, settings
from hypothesis import strategies as st
from hypothesis.errors import InvalidArgument

from conformance.contract import JSON, Contract
from conformance.rules import strategies
from conformance.rules.strategies import bodies
from tests.strategies.conftest import never

FAST = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@FAST
@given(data=st.data())
def test_create_bodies_always_pass_the_request_schema(contract: Contract, data: st.DataObject) -> None:
    body = data.draw(strategies.create_bodies(contract, volume_id="vol-1"))
    assert contract.validator("request").is_valid(body)
    assert body[contract.snapshot_key]["volume_id"] == "vol-1"


@FAST
@given(data=st.data())
def test_invalid_create_bodies_never_pass_the_request_schema(contract: Contract, data: st.DataObject) -> None:
    assert not contract.validator("request").is_valid(
        data.draw(strategies.invalid_create_bodies(contract, volume_id="v"))
    )


def test_create_bodies_shrink_to_the_bare_minimum(contract: Contract) -> None:
    assert find(strategies.create_bodies(contract, volume_id="v"), lambda b: True) == {
        contract.snapshot_key: {"volume_id": "v"}
    }


def test_create_bodies_take_a_field_strategy(contract: Contract) -> None:
    bodies = strategies.create_bodies(contract, volume_id="v", name=strategies.overlong_names(contract))
    body = find(bodies, lambda b: "name" in b[contract.snapshot_key])
    assert not contract.validator("request").is_valid(body)


def test_invalid_create_bodies_cover_each_way_of_breaking_a_body(contract: Contract) -> None:
    bodies = strategies.invalid_create_bodies(contract, volume_id="v")
    key = contract.snapshot_key
    find(bodies, lambda b: not isinstance(b, dict))
    find(bodies, lambda b: isinstance(b, dict) and key not in b)
    find(bodies, lambda b: isinstance(b, dict) and key in b and not isinstance(b[key], dict))
    find(bodies, lambda b: isinstance(b, dict) and isinstance(b.get(key), dict) and "volume_id" not in b[key])
    find(
        bodies,
        lambda b: (
            isinstance(b, dict) and isinstance(b.get(key), dict) and isinstance(b[key].get("volume_id"), int)
        ),
    )


def test_volume_ids_are_uuids_and_malformed_ones_never() -> None:
    uuid.UUID(find(strategies.volume_ids(), lambda v: True))
    find(strategies.malformed_volume_ids(), lambda v: v == "")


@FAST
@given(value=strategies.malformed_volume_ids())
def test_malformed_volume_ids_never_parse_as_uuids(value: str) -> None:
    try:
        uuid.UUID(value)
    except ValueError:
        return
    raise AssertionError(f"{value!r} is a UUID")


def test_always_puts_a_field_in_every_body(contract: Contract) -> None:
    bodies = strategies.create_bodies(contract, volume_id="v", always=("name",))
    assert set(find(bodies, lambda b: True)[contract.snapshot_key]) == {"volume_id", "name"}
    with pytest.raises(InvalidArgument):
        strategies.create_bodies(contract, volume_id="v", always=("volume_id",))


def test_single_field_bodies_carry_that_field_alone(contract: Contract) -> None:
    key = contract.snapshot_key
    bodies = strategies.single_field_bodies(
        contract, volume_id="v", field="name", values=strategies.overlong_names(contract)
    )
    body = find(bodies, lambda b: True)
    assert set(body[key]) == {"volume_id", "name"}
    assert body[key]["volume_id"] == "v"
    with pytest.raises(InvalidArgument):
        strategies.single_field_bodies(contract, volume_id="v", field="volume_id", values=st.just("x"))
    with pytest.raises(InvalidArgument):
        strategies.single_field_bodies(contract, volume_id="v", field="colour", values=st.just("x"))


def test_invalid_create_bodies_break_each_field(contract: Contract) -> None:
    bad = strategies.invalid_create_bodies(contract, volume_id="v")
    key = contract.snapshot_key

    def broken(field: str) -> None:
        find(
            bad,
            lambda b: (
                isinstance(b, dict)
                and isinstance(b.get(key), dict)
                and b[key].get("volume_id") == "v"
                and field in b[key]
                and not contract.validator("request").is_valid(
                    {key: {"volume_id": "v", field: b[key][field]}}
                )
            ),
        )

    for field in ("name", "description", "force", "metadata"):
        broken(field)


def _never_drawn(value: object) -> JSON:
    raise AssertionError("a valid value was drawn for the field that is broken")


#: The function each optional field's valid values come from, by field.
_VALID_VALUES = {
    "name": "snapshot_names",
    "description": "descriptions",
    "force": "forces",
    "metadata": "metadata_maps",
}


@pytest.mark.parametrize("field", sorted(_VALID_VALUES))
def test_a_broken_field_draws_no_valid_value_first(
    contract: Contract, field: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(bodies, _VALID_VALUES[field], lambda contract: st.just(None).map(_never_drawn))
    key = contract.snapshot_key
    broken = bodies._broken(key, "v", bodies._optional_fields(contract), field, st.just("bad"))
    never(broken, lambda b: b[key][field] != "bad" or b[key]["volume_id"] != "v")
    find(broken, lambda b: len(b[key]) == 2 + len(_VALID_VALUES) - 1)


def test_create_bodies_take_a_drawn_volume_id(contract: Contract) -> None:
    bodies = strategies.create_bodies(contract, volume_id=st.sampled_from(["a", "b"]))
    assert find(bodies, lambda b: True) == {contract.snapshot_key: {"volume_id": "a"}}
    find(bodies, lambda b: b[contract.snapshot_key]["volume_id"] == "b")
