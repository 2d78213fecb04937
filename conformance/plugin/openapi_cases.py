"""Schemathesis's cases for the create operation, sent through the suite's client and judged by its oracle.

Schemathesis draws the requests from the contract document in three phases: the document's examples, its
coverage of every documented boundary (64/65 and 85/86 characters, ``null``, wrong types, missing fields, no
token, undeclared methods) and fuzzing. ``phase_test`` turns a phase into a Hypothesis test that hands each
case to a ``CaseSender``, which sends it with the suite's keep-alive client and checks the answer against
``oracle.expect``, so a failure names a requirement and carries a reproduction.

Example::

    operation = create_operation(contract)
    sender = CaseSender(contract, target, volumes, verify, ledger, test="test_x")
    phase_test(operation, CasePhase.COVERAGE, examples=100, seed=None, send=sender.send)()
    sender.raise_first_failure()
"""

from __future__ import annotations

import copy
import enum
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, TypeAlias

import hypothesis
import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, Verbosity, given
from hypothesis import strategies as st
from schemathesis import APIOperation, Case, GenerationMode

from conformance.contract import JSON, Contract
from conformance.core.exchange import Exchange
from conformance.report.ledger import Ledger
from conformance.rules.checks.body import parsed_body
from conformance.rules.checks.model import Expectation
from conformance.rules.oracle import (
    FIELD_REQUIREMENTS,
    Volumes,
    expect,
    expect_auth_refusal,
    expect_raw,
    expect_silent,
)
from conformance.target import CONFIGURED_TOKEN, JSON_MEDIA_TYPE, NO_BODY, Target

#: An operation of a document Schemathesis loaded (its type parameters say nothing the suite relies on).
Operation: TypeAlias = "APIOperation[Any, Any, Any, Any]"


class CasePhase(enum.StrEnum):
    """A Schemathesis phase: the document's examples, its boundaries (coverage), or random cases (fuzzing)."""

    EXAMPLES = "examples"
    COVERAGE = "coverage"
    FUZZING = "fuzzing"


# -- the contract as Schemathesis loads it -----------------------------------------------------------------
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


def create_operation(contract: Contract) -> Operation:
    """The contract's create operation as Schemathesis loads it from the contract document."""
    # An explicit (empty) configuration: without one Schemathesis reads a schemathesis.toml from the working
    # directory, which would let a file beside the user's run change the cases sent.
    schema = schemathesis.openapi.from_dict(
        bare_references(contract.document), config=schemathesis.Config.from_dict({})
    )
    operation: Operation = schema[contract.path_template]["POST"]
    return operation


# -- one phase as a Hypothesis test ----------------------------------------------------------------------
def phase_settings(phase: CasePhase, *, examples: int, seed: int | None) -> hypothesis.settings:
    """The Hypothesis settings of a phase, on top of the profile loaded (the suite's, during a run).

    Without a seed the cases are the same on every run; with one, other cases that the seed repeats.
    """
    phases = [p for p in hypothesis.settings().phases if p is not Phase.explain]
    if phase is not CasePhase.FUZZING:
        # The examples and coverage phases are explicit cases only: nothing drawn, nothing replayed.
        phases = [p for p in phases if p not in (Phase.generate, Phase.reuse)]
    return hypothesis.settings(
        max_examples=examples,
        derandomize=seed is None,
        database=None,
        deadline=None,
        print_blob=False,
        verbosity=Verbosity.quiet,
        # Health checks judge how fast cases are drawn, which is no business of the target's.
        suppress_health_check=list(HealthCheck),
        phases=phases,
    )


def phase_test(
    operation: Operation,
    phase: CasePhase,
    *,
    examples: int,
    seed: int | None,
    send: Callable[[Case[Any]], None],
) -> Callable[[], None]:
    """The Hypothesis test of one phase, calling ``send`` with each case Schemathesis generates for it."""
    explicit, feedback = _builder_inputs(operation, phase)
    strategy = st.one_of(
        [operation.as_strategy(generation_mode=mode, feedback=feedback) for mode in GenerationMode]
    )

    # Hypothesis derives a derandomised run's cases from this function's source, name and signature: it is
    # kept as it was so that a run without ``--seed`` sends the cases earlier versions of the suite sent.
    def exercise(case: Case[Any]) -> None:
        send(case)

    test: Callable[[], None] = given(case=strategy)(exercise)
    # Hypothesis runs explicit cases in the reverse order of attachment; Schemathesis's builder attaches
    # them in the order it generates them, and so does this.
    for case in explicit:
        test = hypothesis.example(case=case)(test)
    test = phase_settings(phase, examples=examples, seed=seed)(test)
    if seed is not None:
        test = hypothesis.seed(seed)(test)
    return test


def _builder_inputs(operation: Operation, phase: CasePhase) -> tuple[list[Case[Any]], Any]:
    """The explicit cases of a phase, in the order Schemathesis's own test builder (behind its pytest plugin
    and its CLI) attaches them, and the feedback its fuzzing strategy draws with.

    Internal Schemathesis API, kept to this function. No public API yields the examples or coverage phase's
    cases: only ``@schema.parametrize()``, whose lazy loader rewrites ``request.node._nodeid`` (gone in pytest
    9), and ``schemathesis run``. And ``as_strategy``'s default feedback mixes constants taken from the
    document into fuzzing, which the builder does not; there is no public way to ask for no feedback.
    """
    from schemathesis.generation.drivers import CoverageGenerator
    from schemathesis.generation.feedback import NO_FEEDBACK
    from schemathesis.generation.hypothesis.builder import generate_example_cases
    from schemathesis.generation.meta import content_type_probes_first
    from schemathesis.generation.overrides import Override

    config = operation.schema.config
    if phase is CasePhase.EXAMPLES:
        fill_missing = config.phases_for(operation=operation).examples.fill_missing

        def unused() -> None:
            """What the builder marks problems with the document's examples on; nothing reads the marks."""

        cases = generate_example_cases(test=unused, operation=operation, fill_missing=fill_missing)
        return list(cases), NO_FEEDBACK
    if phase is CasePhase.COVERAGE:
        generation = config.generation_for(operation=operation, phase=phase.value)
        generator = CoverageGenerator(
            operation=operation,
            generation_modes=generation.modes,
            generation_config=generation,
            auth_storage=None,
            override=Override(),
            feedback=NO_FEEDBACK,
        )
        return content_type_probes_first(generator), NO_FEEDBACK
    return [], NO_FEEDBACK


# -- sending and judging a case ---------------------------------------------------------------------------
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
        expectation = expectation_for(prepared, self.contract, self.volumes, refused=_refused(exchange))
        self.verify(exchange, expectation, volume_size=size)

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


def expectation_for(
    prepared: Prepared, contract: Contract, volumes: Volumes, *, refused: bool
) -> Expectation:
    """What the oracle expects for a prepared case; ``refused`` (whether the target refused it) only decides
    whom a wrongly refused boundary value is charged to."""
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
            return expect_raw(contract, prepared.raw)
        return expect(contract, parsed, volumes)
    if prepared.body is NO_BODY:
        return expect_raw(contract, b"")
    # The outcome never depends on the answer; only whom a wrongly refused boundary value is charged to:
    # the field's rule when the value was refused, the operation's when the acceptance itself was wrong.
    focus = boundary_focus(contract, prepared.body) if refused else None
    return expect(contract, prepared.body, volumes, focus=focus)


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
    elif _is_json(case.body):
        body = with_available_volume(case.body, contract, volumes.available_id)
    return Prepared(
        method=case.method.upper(),
        body=body,
        raw=raw,
        token_sent=contract.token_header.lower() in headers,
        content_type=content_type,
    )


def _is_json(value: object) -> bool:
    """Whether a case's body is a JSON value; Schemathesis marks a case without a body by anything else."""
    return value is None or isinstance(value, dict | list | str | int | float | bool)


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
    is_json, value = parsed_body(raw)
    return value if is_json else NO_BODY


def _volume_id(body: JSON, contract: Contract) -> str | None:
    snapshot = body.get(contract.snapshot_key) if isinstance(body, Mapping) else None
    value = snapshot.get("volume_id") if isinstance(snapshot, Mapping) else None
    return value if isinstance(value, str) else None
