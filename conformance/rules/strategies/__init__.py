"""Hypothesis strategies for create requests, every limit read from a Contract.

Example::

    @given(body=create_bodies(contract, volume_id=volume, name=overlong_names(contract)))
    def test_overlong_names_are_refused(body): ...
"""

from __future__ import annotations

from conformance.rules.strategies.bodies import (
    create_bodies,
    invalid_create_bodies,
    malformed_volume_ids,
    single_field_bodies,
    volume_ids,
)
from conformance.rules.strategies.fields import (
    descriptions,
    forces,
    invalid_metadata,
    json_objects,
    json_values,
    metadata_maps,
    non_boolean_forces,
    non_object_values,
    overlong_descriptions,
    overlong_names,
    snapshot_names,
    values_of_other_types,
)
from conformance.rules.strategies.texts import bounded_texts

__all__ = [
    "bounded_texts",
    "create_bodies",
    "descriptions",
    "forces",
    "invalid_create_bodies",
    "invalid_metadata",
    "json_objects",
    "json_values",
    "malformed_volume_ids",
    "metadata_maps",
    "non_boolean_forces",
    "non_object_values",
    "overlong_descriptions",
    "overlong_names",
    "single_field_bodies",
    "snapshot_names",
    "values_of_other_types",
    "volume_ids",
]
