"""The aggregate of every check that applies to one create exchange."""

from __future__ import annotations

from collections.abc import Mapping

from conformance.core.exchange import Exchange
from conformance.rules.checks.body import (
    parsed_body,
    refusal_matches_envelope,
    summary_extra_fields,
    summary_matches_schema,
)
from conformance.rules.checks.echo import snapshot_echoes_request
from conformance.rules.checks.model import CheckContext, Criteria, Outcome, Violation, view, violation
from conformance.rules.checks.status import (
    SMALL_BODY_BYTES,
    content_type_is_json,
    no_server_error,
    silent_refusal_excused,
    status_is_documented,
    status_matches_expectation,
    too_large_excused,
)
from conformance.rules.checks.summary import (
    answer_time,
    id_is_fresh,
    size_equals_volume_size,
    status_is_snapshot_status,
    timestamps_are_utc,
    timestamps_are_utc_microseconds,
    updated_not_before_created,
)

#: Requirements every answered create exercises.
ALWAYS = ("RSP-NO-5XX", "RSP-STATUS-CODES")
#: Requirements only an accepted create can show: the checks of a 202 and its summary.
ACCEPTED_CREATE = (
    "OP-ACCEPT",
    "RSP-202-SCHEMA",
    "RSP-TIME-FORMAT",
    "RSP-STATUS",
    "RSP-SIZE",
    "RSP-ECHO",
    "RSP-ID-UNIQUE",
)


def check_create(exchange: Exchange, ctx: CheckContext) -> Outcome:
    """Run every check that applies to a create exchange and say what it proved."""
    contract, expectation = ctx.contract, ctx.expectation
    response = exchange.response
    criteria = Criteria(expectation, ctx.volume_size)
    if response is None:
        requirement = expectation.requirement if expectation is not None else "RSP-NO-5XX"
        failure = violation(
            requirement,
            "target_answered",
            f"no response: {exchange.error}",
            "an HTTP response",
            contract.response_source(contract.accepted_status).split("/")[0],
        )
        return Outcome(frozenset({requirement}), (failure,), criteria=criteria)

    status, body = response.status, response.body
    sent_bytes = len(exchange.request.body or b"")
    checked: set[str] = set(ALWAYS)
    violations: list[Violation] = [
        *no_server_error(contract, status),
        *status_is_documented(contract, status, sent_bytes=sent_bytes, expectation=expectation),
    ]
    infos: list[tuple[str, str]] = []
    if silent_refusal_excused(status, expectation) and status not in contract.documented_statuses:
        infos.append(("RSP-STATUS-CODES", f"document silent; undocumented refusal {status} received"))
    if body:
        checked.add("RSP-CONTENT-TYPE")
        violations += content_type_is_json(contract, response.content_type, body)
    if expectation is not None:
        if too_large_excused(status, sent_bytes):
            sentence = f"document silent on body size; a body over {SMALL_BODY_BYTES} bytes received {status}"
            infos.append((expectation.requirement, sentence))
        elif expectation.outcome == "either":
            # The status alone, so that repeated probes of one silence make one ledger line, not hundreds.
            sentence = f"document silent ({expectation.reason}); received {status}"
            infos.append((expectation.requirement, sentence))
        else:
            checked.add(expectation.requirement)
            violations += status_matches_expectation(contract, status, expectation)

    is_json, value = parsed_body(body) if not response.truncated else (False, None)
    if status == contract.accepted_status:
        checked.add("RSP-202-SCHEMA")
        if not is_json:
            # OP-ACCEPT itself requires "a JSON body"; the schema cannot even be applied.
            checked.add("OP-ACCEPT")
            violations.append(
                violation(
                    "OP-ACCEPT",
                    "accepted_body_is_json",
                    f"a {len(body)}-byte body that is not JSON"
                    + (" (truncated)" if response.truncated else ""),
                    f"a JSON {contract.summary_key} object",
                    str(contract.summary_schema.get("x-source", "")),
                )
            )
        else:
            violations += summary_matches_schema(contract, value)
            extras = summary_extra_fields(contract, value)
            if extras:
                infos.append(("RSP-202-SCHEMA", f"undocumented summary fields (document silent): {extras}"))
            summary = value.get(view(contract).summary_key) if isinstance(value, Mapping) else None
            if isinstance(summary, Mapping):
                more, proved = _summary_checks(exchange, summary, ctx)
                violations += more
                checked |= proved
    elif 400 <= status < 500 and view(contract).body_schemas.get(status) is not None:
        checked.add("RSP-400-SCHEMA")
        violations += refusal_matches_envelope(
            contract, status, value if is_json else body.decode("utf-8", "replace")
        )
    return Outcome(frozenset(checked), tuple(violations), tuple(infos), criteria)


def _summary_checks(
    exchange: Exchange, summary: Mapping[str, object], ctx: CheckContext
) -> tuple[list[Violation], set[str]]:
    contract = ctx.contract
    proved = {"RSP-TIME-FORMAT", "RSP-STATUS", "RSP-ID-UNIQUE"}
    found = [
        *timestamps_are_utc_microseconds(contract, summary),
        *timestamps_are_utc(contract, summary, answer_time(exchange)),
        *updated_not_before_created(contract, summary),
        *status_is_snapshot_status(contract, summary),
        *id_is_fresh(contract, summary, ctx.seen_ids),
    ]
    if isinstance(summary.get("id"), str):
        ctx.seen_ids.add(str(summary["id"]))
    if ctx.volume_size is not None:
        # Without the disk's size only half the requirement is checkable: a pass would claim the other half.
        proved.add("RSP-SIZE")
    found += size_equals_volume_size(contract, summary, ctx.volume_size)
    sent = exchange.request.json_body if exchange.request.has_json_body else None
    snapshot = sent.get(view(contract).snapshot_key) if isinstance(sent, Mapping) else None
    if isinstance(snapshot, Mapping):
        proved.add("RSP-ECHO")
        found += snapshot_echoes_request(contract, snapshot, summary)
    return found, proved
