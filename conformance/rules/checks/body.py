"""Checks on response bodies against the documented schemas: the 202 summary and the refusal envelopes."""

from __future__ import annotations

import json
from collections.abc import Collection, Mapping, Sequence
from typing import Any

import jsonschema

from conformance.contract import JSON, Contract
from conformance.rules.checks.model import Violation, shown, view, violation

#: Summary properties whose errors a dedicated check reports under its own requirement.
DEDICATED_PROPERTIES = frozenset({"created_at", "updated_at", "status", "size"})


def source_at(schema: Mapping[str, JSON], schema_path: Sequence[Any]) -> str:
    """The innermost ``x-source`` met while walking ``schema`` along a jsonschema error's schema path."""
    found = str(schema.get("x-source", ""))
    node: JSON = schema
    for step in schema_path:
        if isinstance(node, Mapping):
            node = node.get(step)
        elif isinstance(node, list) and isinstance(step, int) and step < len(node):
            node = node[step]
        else:
            break
        if isinstance(node, Mapping) and "x-source" in node:
            found = str(node["x-source"])
    return found


def _missing_property_source(error: jsonschema.ValidationError, schema: Mapping[str, JSON]) -> str:
    """For a ``required`` error, the x-source of the first missing property rather than its parent."""
    parent: JSON = schema
    for step in list(error.absolute_schema_path)[:-1]:
        parent = parent[step]
    instance = error.instance if isinstance(error.instance, Mapping) else {}
    for name in error.validator_value:
        if name not in instance:
            prop = parent.get("properties", {}).get(name, {})
            return str(prop.get("x-source", source_at(schema, list(error.absolute_schema_path))))
    return source_at(schema, list(error.absolute_schema_path))


def schema_violations(
    validator: Any,
    schema: Mapping[str, JSON],
    body: JSON,
    *,
    requirement: str,
    check: str,
    skip: Collection[tuple[Any, ...]] = (),
    fast: Any = None,
) -> list[Violation]:
    """One violation per schema error in ``body``, each quoting the x-source of the broken property.

    Errors at an instance path that starts with one of ``skip`` are left to a dedicated check. ``fast``, a
    compiled validator of the same schema, answers the common case (a valid body) without collecting errors.
    """
    if fast is not None and _fast_is_valid(fast, body):
        return []
    found: list[Violation] = []
    for error in sorted(validator.iter_errors(body), key=lambda e: list(map(str, e.absolute_path))):
        path = tuple(error.absolute_path)
        if any(path[: len(prefix)] == prefix for prefix in skip):
            continue
        where = "/".join(str(p) for p in path) or "(body)"
        if error.validator == "required":
            source = _missing_property_source(error, schema)
        else:
            source = source_at(schema, list(error.absolute_schema_path))
        found.append(
            violation(
                requirement,
                check,
                f"{where} = {shown(error.instance)}",
                f"{error.validator} {shown(error.validator_value)}: {error.message}",
                source,
            )
        )
    return found


def _fast_is_valid(fast: Any, body: JSON) -> bool:
    try:
        return bool(fast.is_valid(body))
    except (ValueError, TypeError, OverflowError):
        # A value the compiled validator cannot represent (an integer past 64 bits): ask the full one.
        return False


def summary_matches_schema(contract: Contract, body: JSON) -> list[Violation]:
    """A 202 body is the documented wrapper around a SnapshotSummary of the documented types."""
    schema = view(contract).body_schemas[contract.accepted_status]
    assert schema is not None
    skip = {(view(contract).summary_key, prop) for prop in DEDICATED_PROPERTIES}
    return schema_violations(
        contract.validator("summary"),
        schema,
        body,
        requirement="RSP-202-SCHEMA",
        check="summary_matches_schema",
        skip=skip,
        fast=contract.fast_validator("summary"),
    )


def refusal_matches_envelope(contract: Contract, status: int, body: JSON) -> list[Violation]:
    """A refusal's body is the error envelope documented for its status (nothing to check when none is)."""
    schema = view(contract).body_schemas.get(status)
    if schema is None or status == contract.accepted_status:
        return []
    return schema_violations(
        contract.validator(status),
        schema,
        body,
        requirement="RSP-400-SCHEMA",
        check="refusal_matches_envelope",
        fast=contract.fast_validator(status),
    )


def summary_extra_fields(contract: Contract, body: JSON) -> list[str]:
    """Fields of a 202 summary the document does not list, where it is silent about extra fields."""
    schema = view(contract).summary_schema
    # A summary schema that states additionalProperties (true, false or a schema) is not silent: the
    # schema check already judges the extras.
    if "additionalProperties" in schema:
        return []
    summary = body.get(view(contract).summary_key) if isinstance(body, Mapping) else None
    if not isinstance(summary, Mapping):
        return []
    return sorted(str(k) for k in summary if k not in schema.get("properties", {}))


def parsed_body(body: bytes) -> tuple[bool, JSON]:
    """``(True, value)`` when ``body`` is JSON, ``(False, None)`` otherwise."""
    try:
        return True, json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError):
        # Nesting deeper than the parser's stack is no JSON a reader can use.
        return False, None
