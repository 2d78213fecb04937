"""Robustness: bodies nested thousands of levels deep and requests that do not ask for JSON get no 5xx.

A parser that recurses once per level runs out of stack on a deep body; a framework that renders errors per
``Accept`` header may have no renderer for what is asked. The document sets no nesting limit and says
nothing of ``Accept``: a 5xx fails RSP-NO-5XX, and what else comes back is judged only where the document
decides it. Every request here is a refusal on a conformant target (no snapshot is made).
"""

from __future__ import annotations

import json
from collections.abc import Callable

import pytest

from conformance.contract import JSON, Contract
from conformance.core.exchange import Exchange
from conformance.rules.checks import Outcome, check_no_server_error
from conformance.rules.oracle import Volumes, expect
from conformance.target import Target

Verify = Callable[..., Outcome]
Conclude = Callable[[Outcome, Exchange], Outcome]
#: Levels of nesting: past the default limits of recursive parsers (Python's 1000, Go's 10000 is the top).
DEPTH = 10_001
REFUSAL_CHECKS = ("RSP-400-SCHEMA", "RSP-STATUS-CODES", "RSP-CONTENT-TYPE", "RSP-NO-5XX")


def _available(volumes: Volumes) -> str:
    if volumes.available_id is None:
        pytest.skip("no available disk configured (--volume-id)")
    return volumes.available_id


def _deep_body(contract: Contract, volumes: Volumes, where: str) -> tuple[bytes, JSON]:
    """The body nested ``DEPTH`` levels deep, and a shallow body of the same shape for the oracle.

    The shallow body keeps what the document judges (the top is no snapshot object; a metadata value is no
    string) without the depth, which no rule of the document is about and which the oracle's own parser
    could not hold.
    """
    if where == "array":
        return b"[" * DEPTH + b"]" * DEPTH, [[]]
    key, volume_id = contract.snapshot_key, _available(volumes)
    value = b'{"k": ' * DEPTH + b'"v"' + b"}" * DEPTH
    raw = b'{%s: {"volume_id": %s, "metadata": {"k": %s}}}' % (
        json.dumps(key).encode(),
        json.dumps(volume_id).encode(),
        value,
    )
    return raw, {key: {"volume_id": volume_id, "metadata": {"k": {"k": "v"}}}}


@pytest.mark.parametrize(
    "where",
    [
        pytest.param("array", marks=pytest.mark.requirement("REQ-SNAPSHOT")),
        pytest.param("metadata", marks=pytest.mark.requirement("REQ-METADATA")),
    ],
)
@pytest.mark.requirement(*REFUSAL_CHECKS)
def test_deeply_nested_body_is_refused_without_a_server_error(
    evs_contract: Contract, evs_target: Target, evs_volumes: Volumes, evs_verify: Verify, where: str
) -> None:
    raw, shallow = _deep_body(evs_contract, evs_volumes, where)
    focus = "REQ-SNAPSHOT" if where == "array" else "REQ-METADATA"
    evs_verify(evs_target.create(raw=raw), expect(evs_contract, shallow, evs_volumes, focus=focus))


def _refused_body(contract: Contract) -> JSON:
    """A body every profile refuses (no volume_id), so that a probe never makes a snapshot."""
    return {contract.snapshot_key: {"name": "accept-probe"}}


@pytest.mark.requirement("REQ-VOLUME-ID", *REFUSAL_CHECKS)
@pytest.mark.parametrize("accept", ["*/*", None], ids=["any", "absent"])
def test_request_accepting_json_gets_the_documented_answer(
    evs_contract: Contract, evs_target: Target, evs_volumes: Volumes, evs_verify: Verify, accept: str | None
) -> None:
    body = _refused_body(evs_contract)
    exchange = evs_target.create(body, headers={"Accept": accept})
    evs_verify(exchange, expect(evs_contract, body, evs_volumes, focus="REQ-VOLUME-ID"))


@pytest.mark.requirement("RSP-NO-5XX")
@pytest.mark.parametrize("accept", ["text/html", "application/xml"])
def test_request_not_accepting_json_is_not_a_server_error(
    evs_contract: Contract, evs_target: Target, evs_conclude: Conclude, accept: str
) -> None:
    exchange = evs_target.create(_refused_body(evs_contract), headers={"Accept": accept})
    silence = f"the document does not say how a request with Accept: {accept} is answered"
    evs_conclude(check_no_server_error(exchange, evs_contract, silence=silence), exchange)
