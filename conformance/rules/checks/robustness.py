"""The check of a probe whose answer the document leaves open but for one rule: it is never a 5xx."""

from __future__ import annotations

from conformance.contract import Contract
from conformance.core.exchange import Exchange
from conformance.rules.checks.model import Outcome, violation
from conformance.rules.checks.status import no_server_error


def check_no_server_error(exchange: Exchange, contract: Contract, *, silence: str) -> Outcome:
    """Any answer but a 5xx passes (RSP-NO-5XX); the status and media type are recorded under ``silence``.

    ``silence`` says what the document does not decide about the probe (e.g. how a request that accepts only
    text/html is answered); the answer is kept as an observation of RSP-CONTENT-TYPE, never judged.
    """
    response = exchange.response
    source = contract.response_source(contract.accepted_status).split("/")[0]
    if response is None:
        failure = violation(
            "RSP-NO-5XX", "target_answered", f"no response: {exchange.error}", "an HTTP response", source
        )
        return Outcome(frozenset({"RSP-NO-5XX"}), (failure,))
    found = no_server_error(contract, response.status)
    media = response.content_type or "no Content-Type"
    info = ("RSP-CONTENT-TYPE", f"document silent ({silence}); received {response.status}, {media}")
    return Outcome(frozenset({"RSP-NO-5XX"}), tuple(found), (info,))
