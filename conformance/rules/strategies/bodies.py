"""Strategies for whole create bodies and volume IDs, valid and invalid, built from the field strategies."""

from __future__ import annotations

import uuid
from collections.abc import Collection, Mapping

from hypothesis import strategies as st
from hypothesis.errors import InvalidArgument

from conformance.contract import JSON, Contract
from conformance.rules.strategies.fields import (
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


def _optional_fields(contract: Contract) -> dict[str, st.SearchStrategy[JSON]]:
    """The contract's valid values of each optional field, by field name."""
    return {
        "name": snapshot_names(contract),
        "description": descriptions(contract),
        "force": forces(contract),
        "metadata": metadata_maps(contract),
    }


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
    given = {"name": name, "description": description, "force": force, "metadata": metadata}
    optional = _optional_fields(contract)
    optional.update({f: values for f, values in given.items() if values is not None})
    unknown = set(always) - set(optional)
    if unknown:
        raise InvalidArgument(f"always names fields that are not optional fields: {sorted(unknown)}")
    required = {f: optional.pop(f) for f in always}
    if isinstance(volume_id, st.SearchStrategy):
        return _bodies(contract.snapshot_key, {}, {"volume_id": volume_id} | required, optional)
    return _bodies(contract.snapshot_key, {"volume_id": volume_id}, required, optional)


def _bodies(
    key: str,
    fixed: Mapping[str, JSON],
    required: Mapping[str, st.SearchStrategy[JSON]],
    optional: Mapping[str, st.SearchStrategy[JSON]],
) -> st.SearchStrategy[dict[str, JSON]]:
    """``{key: snapshot}`` with the ``fixed`` values, every required field and the optional ones a drawn bit
    mask selects."""
    # One number picks the optional fields: cheaper than a yes/no draw each, and it shrinks to none.
    masks = st.integers(min_value=0, max_value=2 ** len(optional) - 1)
    return _drawn_bodies(key, fixed, required, tuple(optional.items()), masks)


@st.composite
def _drawn_bodies(
    draw: st.DrawFn,
    key: str,
    fixed: Mapping[str, JSON],
    required: Mapping[str, st.SearchStrategy[JSON]],
    optional: tuple[tuple[str, st.SearchStrategy[JSON]], ...],
    masks: st.SearchStrategy[int],
) -> dict[str, JSON]:
    # A fixed value is put in place rather than drawn from st.just, which would cost a span per body.
    snapshot = dict(fixed)
    for name, values in required.items():
        snapshot[name] = draw(values)
    present = draw(masks)
    for bit, (name, values) in enumerate(optional):
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
    optional = _optional_fields(contract)
    one_bad_field = st.one_of(
        _broken(key, volume_id, optional, "name", overlong_names(contract)),
        _broken(key, volume_id, optional, "description", overlong_descriptions(contract)),
        _broken(key, volume_id, optional, "force", non_boolean_forces(contract)),
        _broken(key, volume_id, optional, "metadata", invalid_metadata(contract)),
        _broken(
            key, volume_id, optional, "volume_id", values_of_other_types(contract.field("volume_id").types)
        ),
    )
    no_volume = _bodies(key, {}, {}, optional)
    bad_snapshot = non_object_values().map(lambda v: {key: v})
    no_snapshot = st.one_of(
        non_object_values(),
        json_objects(keys=st.text(max_size=8).filter(lambda k: k != key)),
    )
    return st.one_of(one_bad_field, no_volume, bad_snapshot, no_snapshot)


def _broken(
    key: str,
    volume_id: str,
    optional: Mapping[str, st.SearchStrategy[JSON]],
    field: str,
    values: st.SearchStrategy[JSON],
) -> st.SearchStrategy[dict[str, JSON]]:
    """Bodies for ``volume_id`` whose ``field`` takes one of ``values`` and whose other fields are valid."""
    # The broken field is drawn from ``values`` alone: no valid value is drawn for it only to be replaced.
    fixed = {} if field == "volume_id" else {"volume_id": volume_id}
    others = {f: v for f, v in optional.items() if f != field}
    return _bodies(key, fixed, {field: values}, others)
