"""Checks on what follows a create: reading the snapshot back, its settling, and its deletion."""

from __future__ import annotations

from collections.abc import Mapping
from http import HTTPStatus

from conformance.checks.body import parsed_body
from conformance.checks.model import CheckContext, Outcome, Violation, shown, violation
from conformance.checks.status import no_server_error
from conformance.contract import JSON, Contract
from conformance.exchange import Exchange

#: Summary fields a read-back may legitimately change (the snapshot moves on after the create).
MOVING_FIELDS = frozenset({"status", "updated_at"})
READ_SOURCE = "OpenStack Block Storage API: show a snapshot"
DELETE_SOURCE = "OpenStack Block Storage API: delete a snapshot"


def read_back_matches(
    contract: Contract, created: Mapping[str, JSON], read: Mapping[str, JSON]
) -> list[Violation]:
    """A snapshot read back carries the same documented fields as the 202 that created it."""
    found: list[Violation] = []
    for prop in contract.summary_schema["properties"]:
        if prop in MOVING_FIELDS or prop not in created:
            continue
        if read.get(prop) != created[prop]:
            found.append(
                violation(
                    "LIFE-READ",
                    "read_back_matches",
                    f"{prop} = {shown(read.get(prop))}",
                    f"{prop} as in the {contract.accepted_status} body, {shown(created[prop])}",
                    READ_SOURCE,
                )
            )
    if read.get("status") not in contract.snapshot_statuses:
        found.append(
            violation(
                "LIFE-READ",
                "read_back_matches",
                f"status = {shown(read.get('status'))}",
                f"one of {', '.join(contract.snapshot_statuses)}",
                str(contract.summary_schema["properties"]["status"].get("x-source", "")),
            )
        )
    return found


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
