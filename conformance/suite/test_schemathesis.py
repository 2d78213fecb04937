"""Schemathesis's examples, coverage and fuzzing phases of the create operation, judged by the suite's oracle.

Schemathesis generates the requests from the contract document; its coverage phase brings every documented
boundary (64/65 and 85/86 characters, ``null``, wrong types, missing fields, no token, undeclared methods).
The suite sends them through its own keep-alive client and judges each answer with ``oracle.expect`` and the
create checks, so a failure names a requirement and comes with a reproduction.

Schemathesis's pytest integration (``@schema.parametrize()``) is not used: its lazy loader rewrites
``request.node._nodeid``, which pytest 9 no longer has. The cases come from the builder that both its pytest
plugin and its CLI engine call (``create_test``), which the pinned Schemathesis version keeps stable.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import pytest
import schemathesis
from schemathesis.config import SchemathesisConfig
from schemathesis.core import NotSet
from schemathesis.generation.case import Case
from schemathesis.generation.hypothesis.builder import HypothesisTestConfig, HypothesisTestMode, create_test

from conformance.contract import JSON, Contract
from conformance.core.exchange import Exchange
from conformance.report.ledger import Ledger
from conformance.rules.checks import ACCEPTED_CREATE
from conformance.rules.checks.model import Expectation
from conformance.rules.oracle import (
    FIELD_REQUIREMENTS,
    Volumes,
    expect,
    expect_auth_refusal,
    expect_raw,
    expect_silent,
)
from conformance.run.settings import RunSettings
from conformance.target import CONFIGURED_TOKEN, JSON_MEDIA_TYPE, NO_BODY, Target

#: What every answered create is checked for, whatever the phase.
RESPONSE_CHECKS = ("RSP-NO-5XX", "RSP-STATUS-CODES", "RSP-CONTENT-TYPE")
#: What the schema-driven negative cases exercise: boundaries, wrong types, missing fields, no token.
BOUNDARY_CHECKS = (
    "AUTH-MISSING",
    "REQ-SNAPSHOT",
    "REQ-VOLUME-ID",
    "REQ-NAME",
    "REQ-DESCRIPTION",
    "REQ-FORCE-TYPE",
    "REQ-METADATA",
    "REQ-JSON",
    "RSP-400-SCHEMA",
)

PHASES = [
    pytest.param(
        HypothesisTestMode.EXAMPLES,
        id="examples",
        marks=pytest.mark.requirement(*ACCEPTED_CREATE, *RESPONSE_CHECKS),
    ),
    pytest.param(
        HypothesisTestMode.COVERAGE,
        id="coverage",
        marks=pytest.mark.requirement(*BOUNDARY_CHECKS, *RESPONSE_CHECKS, *ACCEPTED_CREATE),
    ),
    pytest.param(
        HypothesisTestMode.FUZZING,
        id="fuzzing",
        marks=pytest.mark.requirement(*BOUNDARY_CHECKS, *RESPONSE_CHECKS, *ACCEPTED_CREATE),
    ),
]


@pytest.fixture(scope="session")
def evs_openapi(evs_contract: Contract, evs_settings: RunSettings) -> Any:
    """The contract document loaded by Schemathesis, seeded and bounded by the run's settings."""
    generation: dict[str, Any] = {"max-examples": evs_settings.examples, "database": "none"}
    options: dict[str, Any] = {
        # Hypothesis health checks judge generation speed, which is not the target's business.
        "suppress-health-check": ["all"],
        "generation": generation,
    }
    if evs_settings.seed is None:
        generation["deterministic"] = True  # like the rest of the suite: the same cases on every run
    else:
        options["seed"] = evs_settings.seed
    return schemathesis.openapi.from_dict(
        bare_references(evs_contract.document), config=SchemathesisConfig.from_dict(options)
    )


#: Keywords that only annotate a schema: dropping them beside a ``$ref`` changes no validation result.
_ANNOTATIONS = frozenset({"description", "title", "examples", "deprecated", "readOnly", "writeOnly"})


def bare_references(node: JSON) -> JSON:
    """A copy of the document in which a ``$ref`` carrying only annotations (``description``, ``x-source``)
    is a bare ``$ref``.

    Schemathesis's coverage phase treats a ``$ref`` with sibling keywords as one opaque value and then draws
    no positive boundary (64 characters, 85, ``null`` description) inside the object it names.
    """
    if isinstance(node, Mapping):
        if "$ref" in node and all(k == "$ref" or k in _ANNOTATIONS or k.startswith("x-") for k in node):
            return {"$ref": node["$ref"]}
        return {key: bare_references(value) for key, value in node.items()}
    if isinstance(node, list):
        return [bare_references(value) for value in node]
    return copy.copy(node)


@pytest.mark.parametrize("phase", PHASES)
def test_schemathesis_phase(
    phase: HypothesisTestMode,
    evs_openapi: Any,
    evs_settings: RunSettings,
    evs_contract: Contract,
    evs_target: Target,
    evs_volumes: Volumes,
    evs_verify: Callable[..., Any],
    evs_ledger: Ledger,
    request: pytest.FixtureRequest,
) -> None:
    """Every request a Schemathesis phase generates for the create operation gets its documented answer."""
    sender = CaseSender(evs_contract, evs_target, evs_volumes, evs_verify, evs_ledger, request.node.nodeid)
    operation = evs_openapi[evs_contract.path_template]["POST"]
    # Fuzzing failures go to Hypothesis, which shrinks them; the deterministic phases run every case
    # (each broken requirement gets its own verdict) and fail once at the end.
    sender.keep_going = phase != HypothesisTestMode.FUZZING
    phase_test(evs_openapi, operation, phase, evs_settings.seed, sender.send)()
    sender.raise_first_failure()


def phase_test(
    schema: Any,
    operation: Any,
    phase: HypothesisTestMode,
    seed: int | None,
    send: Callable[[Case[Any]], None],
) -> Callable[[], None]:
    """The Hypothesis test Schemathesis builds for one phase, calling ``send`` with each generated case."""
    config = schema.config

    def exercise(case: Case[Any]) -> None:
        send(case)

    test: Callable[[], None] = create_test(
        operation=operation,
        test_func=exercise,
        config=HypothesisTestConfig(
            project=config,
            modes=[phase],
            settings=config.get_hypothesis_settings(
                operation=operation, phase=phase.value, apply_ci_profile=False
            ),
            explicit_setting_names=config.explicit_hypothesis_settings(
                operation=operation, phase=phase.value
            ),
            # The same cases locally and in CI: Hypothesis's own CI profile changes the example count.
            apply_ci_profile=False,
            seed=seed,
        ),
    )
    return test


@dataclass(frozen=True)
class Prepared:
    """A generated case as the suite sends it: method, JSON body or raw bytes, token or none, media type."""

    method: str
    body: JSON
    raw: bytes | None
    token_sent: bool
    content_type: str


class CaseSender:
    """Sends each generated case through the suite's client and hands the exchange to the checks."""

    def __init__(
        self,
        contract: Contract,
        target: Target,
        volumes: Volumes,
        verify: Callable[..., Any],
        ledger: Ledger,
        test: str,
    ) -> None:
        self.contract = contract
        self.target = target
        self.volumes = volumes
        self.verify = verify
        self.ledger = ledger
        self.test = test
        self.keep_going = False
        self.failures: list[BaseException] = []

    def send(self, case: Case[Any]) -> None:
        prepared = prepare(case, self.contract, self.volumes)
        try:
            self._judge(prepared)
        except pytest.fail.Exception as failure:
            if not self.keep_going:
                raise
            self.failures.append(failure)

    def raise_first_failure(self) -> None:
        if not self.failures:
            return
        more = len(self.failures) - 1
        suffix = f"\n\n(and {more} more failing case{'s' if more != 1 else ''})" if more else ""
        pytest.fail(f"{self.failures[0]}{suffix}", pytrace=False)

    def _judge(self, prepared: Prepared) -> None:
        token = CONFIGURED_TOKEN if prepared.token_sent else None
        if prepared.method != "POST":
            self._judge_other_method(prepared, token)
            return
        exchange = self.target.create(
            prepared.body, raw=prepared.raw, token=token, content_type=prepared.content_type
        )
        volume_id = _volume_id(prepared.body, self.contract)
        size = self.volumes.sizes.get(volume_id) if volume_id is not None else None
        self.verify(exchange, self._expectation(prepared, refused=_refused(exchange)), volume_size=size)

    def _expectation(self, prepared: Prepared, *, refused: bool) -> Expectation:
        if not prepared.token_sent:
            return expect_auth_refusal("AUTH-MISSING")
        media_type = prepared.content_type.split(";", 1)[0].strip().lower()
        if media_type != JSON_MEDIA_TYPE:
            return expect_silent(
                "REQ-JSON", f"the document does not say how a body sent as {prepared.content_type} is read"
            )
        if prepared.raw is not None:
            # Generated bytes are now and then valid JSON ("0", "[]"): judged as the value they hold.
            parsed = parsed_json(prepared.raw)
            if parsed is NO_BODY:
                return expect_raw(self.contract, prepared.raw)
            return expect(self.contract, parsed, self.volumes)
        if prepared.body is NO_BODY:
            return expect_raw(self.contract, b"")
        # The outcome never depends on the answer; only whom a wrongly refused boundary value is charged to:
        # the field's rule when the value was refused, the operation's when the acceptance itself was wrong.
        focus = boundary_focus(self.contract, prepared.body) if refused else None
        return expect(self.contract, prepared.body, self.volumes, focus=focus)

    def _judge_other_method(self, prepared: Prepared, token: Any) -> None:
        """Another method on the collection: any answer but a server error (GET may list snapshots)."""
        exchange = self.target.request(
            prepared.method,
            self.target.collection_path,
            body=prepared.body,
            raw=prepared.raw,
            token=token,
            content_type=prepared.content_type,
        )
        ok, evidence = _answered_without_server_error(exchange)
        self.ledger.observe("RSP-NO-5XX", ok=ok, evidence=evidence, exchange=exchange, test=self.test)
        if not ok:
            pytest.fail(f"[RSP-NO-5XX] {evidence}\nReproduce:\n{exchange.curl()}", pytrace=False)


def _refused(exchange: Exchange) -> bool:
    return exchange.response is not None and 400 <= exchange.response.status < 500


def _answered_without_server_error(exchange: Exchange) -> tuple[bool, str]:
    if exchange.response is None:
        return False, f"{exchange.describe()}: no response"
    status = exchange.response.status
    return status < 500, f"{exchange.request.method} on the snapshot collection got {status}"


def prepare(case: Case[Any], contract: Contract, volumes: Volumes) -> Prepared:
    """The request the suite sends for ``case``.

    The project is the configured one (the target's own path), the token the configured one whenever the
    case carries the security header, and ``volume_id`` the available disk whenever it is a string.
    """
    headers = {name.lower(): value for name, value in (case.headers or {}).items()}
    # Other generated headers are dropped: the document names none, and a generated Content-Length or
    # Transfer-Encoding would test the HTTP library rather than the target.
    content_type = headers.get("content-type") or case.media_type or JSON_MEDIA_TYPE
    body: JSON = NO_BODY
    raw: bytes | None = None
    if isinstance(case.body, bytes | bytearray):
        raw = bytes(case.body)
    elif not isinstance(case.body, NotSet):
        body = with_available_volume(case.body, contract, volumes.available_id)
    return Prepared(
        method=case.method.upper(),
        body=body,
        raw=raw,
        token_sent=contract.token_header.lower() in headers,
        content_type=content_type,
    )


def with_available_volume(body: JSON, contract: Contract, available_id: str | None) -> JSON:
    """``body`` with a string ``volume_id`` replaced by the available disk, so the other fields decide the
    outcome; a ``volume_id`` of another type (``null``, a number, an object) is kept as generated."""
    key = contract.snapshot_key
    if available_id is None or not isinstance(body, Mapping):
        return body
    snapshot = body.get(key)
    if not isinstance(snapshot, Mapping) or not isinstance(snapshot.get("volume_id"), str):
        return body
    return {**body, key: {**snapshot, "volume_id": available_id}}


def boundary_focus(contract: Contract, body: JSON) -> str | None:
    """The requirement of the first field that sits on a documented boundary (exactly the maximum length, or
    ``null`` where allowed), so a refusal of that valid value is charged to the field's rule."""
    snapshot = body.get(contract.snapshot_key) if isinstance(body, Mapping) else None
    if not isinstance(snapshot, Mapping):
        return None
    for rule in contract.fields:
        if rule.name not in snapshot or rule.name not in FIELD_REQUIREMENTS:
            continue
        value = snapshot[rule.name]
        at_limit = isinstance(value, str) and rule.max_length is not None and len(value) == rule.max_length
        if at_limit or (value is None and rule.nullable):
            return FIELD_REQUIREMENTS[rule.name]
    return None


def parsed_json(raw: bytes) -> JSON:
    """The JSON value ``raw`` holds, or ``NO_BODY`` when it holds none."""
    try:
        return json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError):
        return NO_BODY


def _volume_id(body: JSON, contract: Contract) -> str | None:
    snapshot = body.get(contract.snapshot_key) if isinstance(body, Mapping) else None
    value = snapshot.get("volume_id") if isinstance(snapshot, Mapping) else None
    return value if isinstance(value, str) else None
