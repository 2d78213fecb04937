"""Checks on the status line and headers: no 5xx, documented codes, JSON media type, the expectation."""

from __future__ import annotations

from http import HTTPStatus

from conformance.contract import Contract
from conformance.rules.checks.model import (
    AUTH_REFUSAL,
    FOREIGN_PROJECT_REFUSAL,
    Expectation,
    Violation,
    violation,
)


def _phrase(status: int) -> str:
    try:
        return f"{status} {HTTPStatus(status).phrase}"
    except ValueError:
        return str(status)


def _codes(statuses: frozenset[int]) -> str:
    return ", ".join(str(s) for s in sorted(statuses))


def no_server_error(contract: Contract, status: int) -> list[Violation]:
    """A request, however malformed, never gets a 5xx."""
    if not 500 <= status < 600:
        return []
    return [
        violation(
            "RSP-NO-5XX",
            "no_server_error",
            _phrase(status),
            f"a client error or success; the operation documents only {_codes(contract.documented_statuses)}",
            contract.response_source(contract.accepted_status).split("/")[0],
        )
    ]


#: Below this many bytes no body is "too large" for a server; above it, the document is silent on limits.
SMALL_BODY_BYTES = 16 * 1024


def too_large_excused(status: int, sent_bytes: int) -> bool:
    """Whether ``status`` refuses a body for its size where the document sets no size limit."""
    return status == HTTPStatus.REQUEST_ENTITY_TOO_LARGE and sent_bytes > SMALL_BODY_BYTES


def silent_refusal_excused(status: int, expectation: Expectation | None) -> bool:
    """Whether ``status`` is a 4xx for a request the document is silent about, where any refusal is fine."""
    return expectation is not None and expectation.outcome == "either" and 400 <= status < 500


def status_is_documented(
    contract: Contract, status: int, *, sent_bytes: int = 0, expectation: Expectation | None = None
) -> list[Violation]:
    """Every answer is one of the documented status codes (server errors are left to ``no_server_error``).

    Where ``expectation`` says the document is silent, any 4xx is a conformant refusal.
    """
    if (
        status in contract.documented_statuses
        or status >= 500
        or too_large_excused(status, sent_bytes)
        or silent_refusal_excused(status, expectation)
    ):
        return []
    return [
        violation(
            "RSP-STATUS-CODES",
            "status_is_documented",
            _phrase(status),
            f"one of {_codes(contract.documented_statuses)}",
            contract.response_source(contract.accepted_status).split("/")[0],
        )
    ]


def documented_media_types(contract: Contract) -> frozenset[str]:
    """The media types the document gives response bodies."""
    return frozenset(
        media.lower() for rsp in contract.operation["responses"].values() for media in rsp.get("content", {})
    )


def content_type_is_json(contract: Contract, content_type: str, body: bytes) -> list[Violation]:
    """Every response with a body is labelled with the documented media type."""
    documented = documented_media_types(contract)
    if not body or content_type in documented:
        return []
    return [
        violation(
            "RSP-CONTENT-TYPE",
            "content_type_is_json",
            f"Content-Type {content_type or '(none)'!s} on a {len(body)}-byte body",
            f"Content-Type {' or '.join(sorted(documented))}",
            contract.media_type_source,
        )
    ]


def status_matches_expectation(contract: Contract, status: int, expectation: Expectation) -> list[Violation]:
    """The status is the one the document prescribes for this request (accepted, or refused how)."""
    name = "status_matches_expectation"
    req = expectation.requirement
    why = f"; {expectation.reason}" if expectation.reason else ""
    if expectation.outcome == "either":
        return []
    if expectation.outcome == "accept":
        wanted = contract.accepted_status
        if status == wanted:
            return []
        return [violation(req, name, _phrase(status), f"{wanted}{why}", contract.response_source(wanted))]
    if expectation.refusal == AUTH_REFUSAL:
        if 400 <= status < 500:
            return []
        examples = _codes(contract.auth_statuses)
        documented = f"a refusal (4xx, e.g. {examples}){why}"
        return [violation(req, name, _phrase(status), documented, contract.token_source)]
    if expectation.refusal == FOREIGN_PROJECT_REFUSAL:
        allowed = contract.auth_statuses | {contract.refusal("invalid-body").status}
        if status in allowed:
            return []
        return [
            violation(req, name, _phrase(status), f"one of {_codes(allowed)}{why}", contract.token_source)
        ]
    if expectation.refusal is None:
        if 400 <= status < 500:
            return []
        return [violation(req, name, _phrase(status), f"a refusal (4xx){why}", contract.status_table)]
    refusal = contract.refusal(expectation.refusal)
    if status == refusal.status:
        return []
    return [
        violation(
            req,
            name,
            _phrase(status),
            f"{refusal.status} ({expectation.refusal}){why}",
            contract.response_source(refusal.status),
        )
    ]
