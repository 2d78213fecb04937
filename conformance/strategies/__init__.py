"""Hypothesis strategies for create requests, every limit read from a Contract.

Example::

    @given(body=create_bodies(contract, volume_id=volume, name=overlong_names(contract)))
    def test_overlong_names_are_refused(body): ...
"""

from __future__ import annotations

from conformance.strategies.bodies import (
    create_bodies,
    invalid_create_bodies,
    malformed_volume_ids,
    volume_ids,
)
from conformance.strategies.fields import (
    bounded_texts,
    descriptions,
    forces,
    invalid_metadata,
    json_values,
    metadata_maps,
    non_boolean_forces,
    non_object_values,
    overlong_descriptions,
    overlong_names,
    snapshot_names,
)

__all__ = [
    "bounded_texts",
    "create_bodies",
    "descriptions",
    "forces",
    "invalid_create_bodies",
    "invalid_metadata",
    "json_values",
    "malformed_volume_ids",
    "metadata_maps",
    "non_boolean_forces",
    "non_object_values",
    "overlong_descriptions",
    "overlong_names",
    "snapshot_names",
    "volume_ids",
]
