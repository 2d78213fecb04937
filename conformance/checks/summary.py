"""Checks on the fields of a SnapshotSummary beyond their types: time format, status, size, fresh ID."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

from conformance.checks.model import Violation, shown, view, violation
from conformance.contract import JSON, Contract

TIME_FIELDS = ("created_at", "updated_at")


def _source(contract: Contract, prop: str) -> str:
    return str(view(contract).summary_properties.get(prop, {}).get("x-source", ""))


def _time_format(contract: Contract, prop: str) -> str:
    schema = view(contract).summary_properties.get(prop, {})
    return str(schema.get("x-time-format", f"pattern {view(contract).time_pattern.pattern}"))


def timestamps_are_utc_microseconds(contract: Contract, summary: Mapping[str, JSON]) -> list[Violation]:
    """``created_at`` (and ``updated_at`` when set) are real instants in the documented format."""
    found: list[Violation] = []
    pattern = view(contract).time_pattern
    properties = view(contract).summary_properties
    nullable = {p for p in TIME_FIELDS if "null" in _types(properties.get(p, {}))}
    for prop in TIME_FIELDS:
        if prop not in summary or (summary[prop] is None and prop in nullable):
            continue
        value = summary[prop]
        if isinstance(value, str) and pattern.fullmatch(value) and _is_instant(value):
            continue
        found.append(
            violation(
                "RSP-TIME-FORMAT",
                "timestamps_are_utc_microseconds",
                f"{prop} = {shown(value)}",
                f"{prop} in {_time_format(contract, prop)}" + (" or null" if prop in nullable else ""),
                _source(contract, prop),
            )
        )
    return found


def _types(schema: Mapping[str, JSON]) -> tuple[str, ...]:
    declared = schema.get("type", ())
    return tuple(declared) if isinstance(declared, list) else (str(declared),)


def _is_instant(value: str) -> bool:
    try:
        datetime.fromisoformat(value)
    except ValueError:
        return False
    return True


def status_is_snapshot_status(contract: Contract, summary: Mapping[str, JSON]) -> list[Violation]:
    """``status`` is one of the documented snapshot statuses."""
    value = summary.get("status")
    statuses = view(contract).snapshot_statuses
    if "status" not in summary or value in statuses:
        return []
    return [
        violation(
            "RSP-STATUS",
            "status_is_snapshot_status",
            f"status = {shown(value)}",
            f"one of {', '.join(statuses)}",
            _source(contract, "status"),
        )
    ]


def size_equals_volume_size(
    contract: Contract, summary: Mapping[str, JSON], volume_size: int | None
) -> list[Violation]:
    """``size`` is a whole number of GiB, at least the documented minimum, equal to the source disk's size."""
    if "size" not in summary:
        return []
    value = summary["size"]
    schema = view(contract).summary_properties["size"]
    minimum = schema.get("minimum")
    is_int = isinstance(value, int) and not isinstance(value, bool)
    if not is_int or (minimum is not None and value < minimum):
        documented = f"an integer (GiB){f' >= {minimum}' if minimum is not None else ''}"
    elif volume_size is not None and value != volume_size:
        documented = f"the source disk's size, {volume_size} GiB"
    else:
        return []
    return [
        violation(
            "RSP-SIZE",
            "size_equals_volume_size",
            f"size = {shown(value)}",
            documented,
            _source(contract, "size"),
        )
    ]


def id_is_fresh(contract: Contract, summary: Mapping[str, JSON], seen_ids: set[str]) -> list[Violation]:
    """Every accepted create returns an ``id`` not returned before in this run."""
    value = summary.get("id")
    if not isinstance(value, str) or value not in seen_ids:
        return []
    return [
        violation(
            "RSP-ID-UNIQUE",
            "id_is_fresh",
            f"id = {shown(value)}, already returned by an earlier create",
            "a new snapshot ID for every accepted create",
            _source(contract, "id"),
        )
    ]
