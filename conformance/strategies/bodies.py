"""Strategies for whole create bodies and volume IDs, valid and invalid, built from the field strategies."""

from __future__ import annotations

import uuid
from collections.abc import Collection, Mapping

from hypothesis import strategies as st
from hypothesis.errors import InvalidArgument

from conformance.contract import JSON, Contract
from conformance.strategies.fields import (
    descriptions,
    forces,
    invalid_metadata,
    json_objects,
    metadata_maps,
    non_boolean_forces,
    non_object_values,
    overlong_descriptions,
    overlong_names,
    snapshot_names,
    values_of_other_types,
)


def volume_ids() -> st.SearchStrategy[str]:
    """Well-formed disk IDs (UUID strings) that almost surely name no disk."""
    return st.uuids().map(str)


def _is_uuid(value: str) -> bool:
    try:
        uuid.UUID(value)
    except ValueError:
        return False
    return True


def malformed_volume_ids() -> st.SearchStrategy[str]:
    """Strings that are not disk IDs: empty, whitespace, arbitrary text, UUIDs with a character too many."""
    return st.one_of(
        st.just(""),
        st.text(" \t\n", min_size=1, max_size=4),
        st.text().filter(lambda v: not _is_uuid(v)),
        st.uuids().map(lambda u: f"{u}0"),
    )


def _strategy(value: str | st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    return value if isinstance(value, st.SearchStrategy) else st.just(value)


def create_bodies(
    contract: Contract,
    *,
    volume_id: str | st.SearchStrategy[str],
    name: st.SearchStrategy[JSON] | None = None,
    description: st.SearchStrategy[JSON] | None = None,
    force: st.SearchStrategy[JSON] | None = None,
    metadata: st.SearchStrategy[JSON] | None = None,
    always: Collection[str] = (),
) -> st.SearchStrategy[dict[str, JSON]]:
    """Create bodies for ``volume_id`` with any subset of the optional fields; shrinks to the bare minimum.

    Each optional field (``name``, ``description``, ``force``, ``metadata``) defaults to the contract's valid
    values; pass a strategy to fuzz it otherwise. Fields named in ``always`` are in every body.
    """
    optional = {
        "name": name if name is not None else snapshot_names(contract),
        "description": description if description is not None else descriptions(contract),
        "force": force if force is not None else forces(contract),
        "metadata": metadata if metadata is not None else metadata_maps(contract),
    }
    unknown = set(always) - set(optional)
    if unknown:
        raise InvalidArgument(f"always names fields that are not optional fields: {sorted(unknown)}")
    required = {"volume_id": _strategy(volume_id)} | {f: optional.pop(f) for f in always}
    return _bodies(contract.snapshot_key, required, optional)


@st.composite
def _bodies(
    draw: st.DrawFn,
    key: str,
    required: Mapping[str, st.SearchStrategy[JSON]],
    optional: Mapping[str, st.SearchStrategy[JSON]],
) -> dict[str, JSON]:
    """``{key: snapshot}`` with every required field and the optional ones a drawn bit mask selects."""
    snapshot = {name: draw(values) for name, values in required.items()}
    # One number picks the optional fields: cheaper than a yes/no draw each, and it shrinks to none.
    present = draw(st.integers(min_value=0, max_value=2 ** len(optional) - 1))
    for bit, (name, values) in enumerate(optional.items()):
        if present >> bit & 1:
            snapshot[name] = draw(values)
    return {key: snapshot}


def single_field_bodies(
    contract: Contract, *, volume_id: str, field: str, values: st.SearchStrategy[JSON]
) -> st.SearchStrategy[dict[str, JSON]]:
    """Bodies for ``volume_id`` with ``field`` set to one of ``values`` and no other field, so that whatever
    the target answers is about that field alone; shrinks as ``values`` does."""
    if field == "volume_id" or field not in {rule.name for rule in contract.fields}:
        raise InvalidArgument(f"{field!r} is not an optional field of the contract's snapshot object")
    key = contract.snapshot_key
    return values.map(lambda value: {key: {"volume_id": volume_id, field: value}})


def invalid_create_bodies(contract: Contract, *, volume_id: str) -> st.SearchStrategy[JSON]:
    """Bodies the contract refuses as invalid: one field broken, ``volume_id`` missing or not a string,
    ``snapshot`` not an object, or no ``snapshot`` at all."""
    key = contract.snapshot_key
    one_bad_field = st.one_of(
        _with(contract, volume_id, "name", overlong_names(contract)),
        _with(contract, volume_id, "description", overlong_descriptions(contract)),
        _with(contract, volume_id, "force", non_boolean_forces(contract)),
        _with(contract, volume_id, "metadata", invalid_metadata(contract)),
        _with(contract, volume_id, "volume_id", values_of_other_types(contract.field("volume_id").types)),
    )
    no_volume = create_bodies(contract, volume_id=volume_id).map(
        lambda b: {key: {k: v for k, v in b[key].items() if k != "volume_id"}}
    )
    bad_snapshot = non_object_values().map(lambda v: {key: v})
    no_snapshot = st.one_of(
        non_object_values(),
        json_objects(keys=st.text(max_size=8).filter(lambda k: k != key)),
    )
    return st.one_of(one_bad_field, no_volume, bad_snapshot, no_snapshot)


def _with(
    contract: Contract, volume_id: str, field: str, values: st.SearchStrategy[JSON]
) -> st.SearchStrategy[dict[str, JSON]]:
    return _replaced(contract.snapshot_key, create_bodies(contract, volume_id=volume_id), field, values)


@st.composite
def _replaced(
    draw: st.DrawFn,
    key: str,
    bodies: st.SearchStrategy[dict[str, JSON]],
    field: str,
    values: st.SearchStrategy[JSON],
) -> dict[str, JSON]:
    """A drawn body whose ``field`` is set to a drawn value (drawn inline: cheaper than st.builds)."""
    body = draw(bodies)
    return {key: {**body[key], field: draw(values)}}
