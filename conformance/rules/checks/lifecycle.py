"""Checks on what follows a create: reading the snapshot back, its settling, and its deletion."""

from __future__ import annotations

from collections.abc import Mapping
from http import HTTPStatus

from conformance.contract import JSON, Contract
from conformance.core.exchange import Exchange
from conformance.rules.checks.body import parsed_body
from conformance.rules.checks.model import CheckContext, Outcome, Violation, shown, violation
from conformance.rules.checks.status import no_server_error
from conformance.rules.checks.summary import instant

#: Summary fields a read-back may legitimately change (the snapshot moves on after the create).
MOVING_FIELDS = frozenset({"status", "updated_at"})
READ_SOURCE = "OpenStack Block Storage API: show a snapshot"
DELETE_SOURCE = "OpenStack Block Storage API: delete a snapshot"


def read_back_matches(
    contract: Contract, created: Mapping[str, JSON], read: Mapping[str, JSON]
) -> list[Violation]:
    """A snapshot read back shows every field of its 202 unchanged; only its status and updated_at move on.

    Each difference is its own violation: a field changed or missing, a metadata pair lost, changed or
    added, a status gone back to the initial one, an updated_at earlier than the 202's.
    """
    found: list[Violation] = []
    accepted = contract.accepted_status
    for prop in contract.summary_schema["properties"]:
        if prop in MOVING_FIELDS or prop not in created:
            continue
        was, now = created[prop], read.get(prop)
        if isinstance(was, Mapping) and isinstance(now, Mapping):
            found += _pairs_differ(prop, was, now, accepted)
        elif prop not in read:
            found.append(_differs(f"no {prop}", f"{prop} as in the {accepted} body, {shown(was)}"))
        elif now != was:
            found.append(
                _differs(f"{prop} = {shown(now)}", f"{prop} as in the {accepted} body, {shown(was)}")
            )
    found += _status_moves_forward(contract, created.get("status"), read.get("status"))
    found += _updated_at_moves_forward(created.get("updated_at"), read.get("updated_at"), accepted)
    return found


def _differs(received: str, documented: str, source: str = READ_SOURCE) -> Violation:
    return violation("LIFE-READ", "read_back_matches", received, documented, source)


def _pairs_differ(
    prop: str, was: Mapping[str, JSON], now: Mapping[str, JSON], accepted: int
) -> list[Violation]:
    """The pairs of a map field that the read lost, changed or added, one violation each."""
    found = []
    for key, value in was.items():
        where = f"{prop}[{shown(key)}]"
        if key not in now:
            found.append(_differs(f"no {where}", f"{where} as in the {accepted} body, {shown(value)}"))
        elif now[key] != value:
            found.append(
                _differs(f"{where} = {shown(now[key])}", f"{where} as in the {accepted} body, {shown(value)}")
            )
    for key in now.keys() - was.keys():
        where = f"{prop}[{shown(key)}]"
        found.append(_differs(f"{where} = {shown(now[key])}", f"no {where}, as in the {accepted} body"))
    return found


def _status_moves_forward(contract: Contract, was: JSON, now: JSON) -> list[Violation]:
    """The read's status is documented, and not the initial one again once the 202 showed a later one."""
    source = str(contract.summary_schema["properties"]["status"].get("x-source", ""))
    statuses = contract.snapshot_statuses
    if now not in statuses:
        return [_differs(f"status = {shown(now)}", f"one of {', '.join(statuses)}", source)]
    start = initial_status(contract)
    if was in statuses and was != start and now == start:
        return [
            _differs(
                f"status = {shown(now)}",
                f"a status other than {start}: the {contract.accepted_status} body showed {shown(was)}, and "
                f"a snapshot that left {start} does not return to it",
                source,
            )
        ]
    return []


def _updated_at_moves_forward(was: JSON, now: JSON, accepted: int) -> list[Violation]:
    """A read's ``updated_at`` is not earlier than the one the 202 showed."""
    earlier, later = instant(was), instant(now)
    if earlier is None or later is None or later >= earlier:
        return []
    return [
        _differs(f"updated_at = {shown(now)}", f"updated_at at or after {shown(was)} of the {accepted} body")
    ]


def _read_summary(exchange: Exchange, contract: Contract, requirement: str) -> tuple[JSON, list[Violation]]:
    """The summary object of a GET answer, or why there is none."""
    response = exchange.response
    if response is None:
        return None, [
            violation(requirement, "target_answered", f"no response: {exchange.error}", "200", READ_SOURCE)
        ]
    found = no_server_error(contract, response.status)
    if response.status != HTTPStatus.OK:
        return None, [
            *found,
            violation(requirement, "snapshot_is_readable", str(response.status), "200", READ_SOURCE),
        ]
    ok, value = parsed_body(response.body)
    summary = value.get(contract.summary_key) if ok and isinstance(value, Mapping) else None
    if not isinstance(summary, Mapping):
        received = shown(response.body.decode("utf-8", "replace"))
        documented = f"a JSON {contract.summary_key} object"
        return None, [
            *found,
            violation(requirement, "snapshot_is_readable", received, documented, READ_SOURCE),
        ]
    return summary, found


def check_read_back(exchange: Exchange, created_summary: Mapping[str, JSON], ctx: CheckContext) -> Outcome:
    """GET of a created snapshot answers 200 with the fields of the 202 body (LIFE-READ)."""
    summary, found = _read_summary(exchange, ctx.contract, "LIFE-READ")
    if isinstance(summary, Mapping):
        found += read_back_matches(ctx.contract, created_summary, summary)
    return Outcome(frozenset({"LIFE-READ"}), tuple(found))


def initial_status(contract: Contract) -> str:
    """The status a new snapshot starts in: the first the document lists."""
    return contract.snapshot_statuses[0]


def snapshot_has_settled(
    contract: Contract, status: JSON, *, waited_s: float, timeout_s: float
) -> list[Violation]:
    """After the configured wait a snapshot has left its initial status for a documented one."""
    if status in contract.snapshot_statuses and status != initial_status(contract):
        return []
    return [
        violation(
            "LIFE-SETTLE",
            "snapshot_has_settled",
            f"status = {shown(status)} after {waited_s:.1f} s",
            f"a documented status other than {initial_status(contract)} within {timeout_s:.1f} s",
            str(contract.summary_schema["properties"]["status"].get("x-source", "")),
        )
    ]


def check_settled(exchange: Exchange, ctx: CheckContext, *, waited_s: float, timeout_s: float) -> Outcome:
    """The last GET of a settle wait shows a snapshot that left its initial status (LIFE-SETTLE)."""
    summary, found = _read_summary(exchange, ctx.contract, "LIFE-SETTLE")
    if isinstance(summary, Mapping):
        found += snapshot_has_settled(
            ctx.contract, summary.get("status"), waited_s=waited_s, timeout_s=timeout_s
        )
    return Outcome(frozenset({"LIFE-SETTLE"}), tuple(found))


def check_deleted(delete: Exchange, read_after: Exchange, ctx: CheckContext) -> Outcome:
    """DELETE is accepted and a later GET finds nothing (LIFE-DELETE)."""
    found: list[Violation] = []
    # The document's code for an accepted asynchronous request; DELETE of a snapshot is one too.
    accepted = ctx.contract.accepted_status
    for exchange, wanted in ((delete, accepted), (read_after, int(HTTPStatus.NOT_FOUND))):
        response = exchange.response
        received = exchange.error if response is None else str(response.status)
        if response is not None:
            found += no_server_error(ctx.contract, response.status)
        if response is None or response.status != wanted:
            what = f"{exchange.request.method} {exchange.request.url}"
            found.append(
                violation(
                    "LIFE-DELETE", "snapshot_is_deleted", f"{what} -> {received}", str(wanted), DELETE_SOURCE
                )
            )
    return Outcome(frozenset({"LIFE-DELETE"}), tuple(found))
