"""Judging a create whose body should be accepted: limits of the target first, then which field was refused.

Two things can make a valid body come back refused without the target breaking the contract, and one thing
can make a refusal land on the wrong requirement:

* **A limit of the target.** A disk still making the run's previous snapshot, a disk or a project that holds
  as many snapshots as it may, a quota used up: the target is right to refuse. When the run has snapshots
  pending, or the answer's words say a limit refused it (``target.limited``), the run settles and deletes
  everything of its own (``CreateScheduler.make_idle``) and sends the same body again. Accepted then: an
  observation (``info``), not a failure. Refused again for a limit, or while something of the run could not
  be deleted: the requirement is skipped with the reason. Only a refusal that persists with nothing of the
  run pending is judged.
* **Several fields at once.** A refused body carrying several optional fields is narrowed: each field is
  sent alone (with what the body must keep, ``force: true`` on a busy disk), and the refusal is charged to
  the field whose body the target also refuses, else to the body's own requirement (``OP-ACCEPT``). The
  bodies the target accepts are checked as every create is, so a refusal never hides another field's echo.
  When the budget or the time runs out first, the test is skipped with that reason.

Example::

    judged = judge(runtime, exchange, expect(contract, body, volumes), fail=False)
    judged.exchange, judged.outcome.violations, judged.failures
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass
from http import HTTPStatus
from typing import TYPE_CHECKING, Any

import pytest

from conformance.core.exchange import MASK, Exchange
from conformance.rules.checks import CheckContext, check_create
from conformance.rules.checks.model import Expectation, Outcome
from conformance.rules.oracle import FIELD_REQUIREMENTS, expect
from conformance.target import CONFIGURED_TOKEN, Target
from conformance.target.client import NotSent
from conformance.target.limited import limit_refusal

if TYPE_CHECKING:
    from conformance.plugin.runtime import SuiteRuntime

#: The requirement a refusal of force true on a busy disk belongs to: the body keeps its force when split.
FORCE_TRUE = "REQ-FORCE-TRUE"


@dataclass(frozen=True)
class Judged:
    """The answer that was judged (the body sent again, when a limit refused the first), what it proved,
    and the failure messages of it and of every body sent to narrow it down."""

    exchange: Exchange
    outcome: Outcome
    failures: tuple[str, ...] = ()

    @property
    def accepted(self) -> bool:
        return _accepted(self.exchange)


def judge(
    runtime: SuiteRuntime,
    exchange: Exchange,
    expectation: Expectation,
    *,
    volume_size: int | None = None,
    fail: bool = True,
    narrow: bool = True,
    settled: bool = False,
) -> Judged:
    """Judge a create's answer against ``expectation`` and record it; fail the test on violations if ``fail``.

    Raises pytest's skip when a limit of the target, not the target, decided the answer (see the module).
    ``settled``: the answer is already what ``outside_limits`` gave (it is not sent again).
    """
    if not settled:
        exchange = outside_limits(runtime, exchange, expectation)
    failures: list[str] = []
    if narrow and expectation.outcome == "accept" and _refused_or_failed(exchange):
        expectation, failures = _narrowed(runtime, exchange, expectation)
    if volume_size is None:
        volume_size = runtime.size_of_named_volume(exchange)
    context = CheckContext(runtime.contract, expectation, volume_size, runtime.seen_ids)
    outcome = runtime.conclude(check_create(exchange, context), exchange, fail=False)
    if outcome.violations:
        failures.insert(0, runtime.failure_text(outcome, exchange))
    if fail and failures:
        pytest.fail("\n\n".join(failures), pytrace=False)
    return Judged(exchange, outcome, tuple(failures))


def outside_limits(runtime: SuiteRuntime, exchange: Exchange, expectation: Expectation) -> Exchange:
    """The answer to judge: ``exchange``, or the same request sent again with nothing of the run pending."""
    scheduler = runtime.scheduler
    if scheduler is None or expectation.outcome == "refuse" or not _refused(exchange):
        return exchange
    target = runtime.target
    wording = limit_refusal(exchange)
    if wording is None and (expectation.outcome == "either" or not scheduler.pending(target)):
        return exchange
    held = len(scheduler.pending(target))
    try:
        left = scheduler.make_idle(target)
        again = resend(target, exchange)
    except NotSent as exc:
        pytest.skip(
            f"not reached within the target's limits: {_status(exchange)} while the run had {held} "
            f"snapshot(s) pending, and the body could not be sent again ({exc})"
        )
    if _accepted(again):
        what = f"{_status(exchange)}: {wording}" if wording else _status(exchange)
        when = (
            "while the run had snapshots pending; sent again once they were gone"
            if held
            else "with nothing of the run pending; sent again"
        )
        runtime.ledger.info(
            expectation.requirement,
            f"a valid body was refused ({what}) {when}, it was accepted: a limit of the target, "
            "not a violation",
            exchange,
        )
        return again
    still = limit_refusal(again)
    if still is not None:
        pytest.skip(f"not reached within the target's limits: {_status(again)}: {still}")
    if left is not None:
        pytest.skip(f"not reached within the target's limits: {_status(again)} while {left}")
    return again


def resend(target: Target, exchange: Exchange) -> Exchange:
    """Send a recorded create again as it was (its JSON or bytes, media type, token and path)."""
    request = exchange.request
    headers = {name.lower(): value for name, value in request.headers.items()}
    token_value = headers.get(target.contract.token_header.lower())
    token: Any = CONFIGURED_TOKEN if token_value == MASK else token_value
    base = target.settings.base_url.rstrip("/")
    path = request.url[len(base) :] if request.url.startswith(base) else None
    path = None if path == target.collection_path else path
    content_type = headers.get("content-type")
    if request.has_json_body:
        return Target.create(target, request.json_body, token=token, content_type=content_type, path=path)
    return Target.create(target, raw=request.body, token=token, content_type=content_type, path=path)


def _narrowed(
    runtime: SuiteRuntime, exchange: Exchange, expectation: Expectation
) -> tuple[Expectation, list[str]]:
    """The expectation charged to the field the target refused alone, and the failures found on the way."""
    contract = runtime.contract
    body = exchange.request.json_body if exchange.request.has_json_body else None
    snapshot = body.get(contract.snapshot_key) if isinstance(body, Mapping) else None
    if not isinstance(body, Mapping) or not isinstance(snapshot, Mapping):
        return expectation, []
    keep = {"volume_id", *(["force"] if expectation.requirement == FORCE_TRUE else [])}
    fields = [name for name in snapshot if name not in keep and name in FIELD_REQUIREMENTS]
    if not fields:
        return expectation, []
    if len(fields) == 1:
        return _charged(expectation, fields[0], "the only optional field the body holds"), []
    failures: list[str] = []
    refused: list[str] = []
    for name in fields:
        alone = {**body, contract.snapshot_key: {k: v for k, v in snapshot.items() if k in keep or k == name}}
        # When the budget or the time is up this skips the test: a refusal not narrowed is charged to nothing.
        sent = runtime.target.create(alone)
        single = _charged(expect(contract, alone, runtime.volumes), name, "sent alone")
        judged = judge(runtime, sent, single, fail=False, narrow=False)
        failures += judged.failures
        if _refused_or_failed(judged.exchange):
            refused.append(name)
    if not refused:
        return expectation, failures
    return _charged(expectation, refused[0], f"refused alone too ({', '.join(refused)})"), failures


def _charged(expectation: Expectation, field: str, why: str) -> Expectation:
    """``expectation`` charged to ``field``'s requirement (an acceptance expected all the same)."""
    if expectation.outcome != "accept":
        return expectation
    return dataclasses.replace(
        expectation, requirement=FIELD_REQUIREMENTS[field], reason=f"{expectation.reason}; {field}: {why}"
    )


def _refused(exchange: Exchange) -> bool:
    response = exchange.response
    return (
        response is not None and HTTPStatus.BAD_REQUEST <= response.status < HTTPStatus.INTERNAL_SERVER_ERROR
    )


def _refused_or_failed(exchange: Exchange) -> bool:
    """A refusal, or a server error: an answer that made no snapshot the run can count on."""
    response = exchange.response
    return response is not None and response.status >= HTTPStatus.BAD_REQUEST


def _accepted(exchange: Exchange) -> bool:
    response = exchange.response
    return response is not None and HTTPStatus.OK <= response.status < HTTPStatus.MULTIPLE_CHOICES


def _status(exchange: Exchange) -> str:
    return "no answer" if exchange.response is None else f"HTTP {exchange.response.status}"
