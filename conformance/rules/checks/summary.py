"""Checks on the fields of a SnapshotSummary beyond their types: time format, status, size, fresh ID."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime

from conformance.contract import JSON, Contract
from conformance.core.exchange import Exchange
from conformance.rules.checks.model import Violation, shown, view, violation

TIME_FIELDS = ("created_at", "updated_at")
#: How far ``created_at`` read as UTC may lie from the time of the answer that carries it. Clocks of a client
#: and a server, or of a gateway and the service behind it, drift by seconds and rarely by a minute; every
#: time zone in use is at least an hour away from UTC. Five minutes forgives skew and still catches a local
#: time written in the UTC format anywhere but in UTC itself.
CLOCK_TOLERANCE = timedelta(minutes=5)


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
    return instant(value) is not None


def instant(value: JSON) -> datetime | None:
    """A zone-less time string as the UTC instant it names, or None when it is not one."""
    if not isinstance(value, str):
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


@dataclass(frozen=True)
class AnswerTime:
    """When an answer was given, and by whose clock (the answer's ``Date`` header, or the client's)."""

    at: datetime
    clock: str


def answer_time(exchange: Exchange) -> AnswerTime | None:
    """When an answer was given: its ``Date`` header, else the client's clock on arrival (None: neither)."""
    response = exchange.response
    header = response.headers.get("date") if response is not None else None
    if header:
        try:
            dated = parsedate_to_datetime(header)
        except (TypeError, ValueError):
            dated = None
        if dated is not None and dated.tzinfo is not None:
            return AnswerTime(dated.astimezone(UTC), f"the answer's Date header ({header})")
    if response is not None and exchange.received_at is not None:
        arrived = datetime.fromtimestamp(exchange.received_at, UTC)
        return AnswerTime(
            arrived, f"the client's clock when the answer arrived ({arrived:%Y-%m-%dT%H:%M:%S}Z)"
        )
    return None


def timestamps_are_utc(
    contract: Contract, summary: Mapping[str, JSON], answered: AnswerTime | None
) -> list[Violation]:
    """``created_at`` of a new snapshot, read as UTC, is the time of the answer within ``CLOCK_TOLERANCE``."""
    created = instant(summary.get("created_at"))
    if (
        answered is None
        or created is None
        or not view(contract).time_pattern.fullmatch(summary["created_at"])
    ):
        # Without a clock to compare with nothing is proven; a malformed time is the format check's to report.
        return []
    off = created - answered.at
    if abs(off) <= CLOCK_TOLERANCE:
        return []
    minutes = off.total_seconds() / 60
    return [
        violation(
            "RSP-TIME-FORMAT",
            "timestamps_are_utc",
            f"created_at = {shown(summary['created_at'])}, {minutes:+.0f} minutes from {answered.clock}",
            f"created_at in UTC, the time of the create within {CLOCK_TOLERANCE.total_seconds() / 60:g} "
            "minutes (clock skew)",
            _source(contract, "created_at"),
        )
    ]


def updated_not_before_created(contract: Contract, summary: Mapping[str, JSON]) -> list[Violation]:
    """``updated_at``, when set, is not earlier than ``created_at``: no change precedes the creation."""
    created, updated = instant(summary.get("created_at")), instant(summary.get("updated_at"))
    if created is None or updated is None or updated >= created:
        return []
    return [
        violation(
            "RSP-TIME-FORMAT",
            "updated_not_before_created",
            f"updated_at = {shown(summary['updated_at'])}, before created_at {shown(summary['created_at'])}",
            "updated_at at or after created_at (or null)",
            _source(contract, "updated_at"),
        )
    ]


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
