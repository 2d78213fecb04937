"""The accepted creates: a few combined valid bodies reach every requirement that needs a snapshot made.

Every snapshot is billable on a real cloud and takes minutes there, so the plan
(``conformance.rules.creates``) sends about six bodies, each carrying many classes of valid value at once; the
first one is read back, waited for and deleted. Every accepted answer is checked for schema, time format,
size, status, echo and a fresh ID. A refused body is not charged at once: once every body of the plan has been
sent, the last test splits each refused one, field by field and then class by class, and charges the refusal
to the field and the class the target refused (or to OP-ACCEPT when only the combination is refused).
"""

from __future__ import annotations

import contextlib
import dataclasses
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from http import HTTPStatus

import pytest

from conformance.contract import JSON, Contract
from conformance.core.exchange import Exchange
from conformance.plugin.runtime import SuiteRuntime
from conformance.rules.checks import (
    ACCEPTED_CREATE,
    CheckContext,
    check_deleted,
    check_read_back,
    check_settled,
    initial_status,
)
from conformance.rules.checks.model import Expectation, Outcome
from conformance.rules.creates.classes import Carried, Part
from conformance.rules.creates.plan import ACCEPTED_FIELD_REQUIREMENTS, PlannedBody, plan
from conformance.rules.creates.split import culprits
from conformance.rules.oracle import FIELD_REQUIREMENTS, expect, expect_silent
from conformance.target.limited import limit_refusal
from conformance.target.waiters import status_of, wait_for

RESPONSE_CHECKS = ("RSP-CONTENT-TYPE", "RSP-STATUS-CODES", "RSP-NO-5XX")
FIELDS = tuple(ACCEPTED_FIELD_REQUIREMENTS.values())
LIFECYCLE = ("LIFE-READ", "LIFE-SETTLE", "LIFE-DELETE")
#: The whole-value bodies of the plan, by key (``conformance.rules.creates.plan``).
WHOLE_VALUE_BODIES = ("empty", "whitespace", "omitted", "example")

pytestmark = [pytest.mark.creates("plan"), pytest.mark.xdist_group("create-plan")]


@dataclass
class Refused:
    """A planned body the target did not accept, kept until the split test charges it."""

    planned: PlannedBody
    disk: str
    exchange: Exchange
    expectation: Expectation
    #: The test that sent it, named as the failing test should the refusal be charged after the tests.
    test: str


class PlanRun:
    """What the plan's tests share in one process: the plan, the bodies refused so far, the failures."""

    def __init__(self, runtime: SuiteRuntime) -> None:
        self.runtime = runtime
        self.contract: Contract = runtime.contract
        in_use = runtime.volumes.in_use_id is not None
        self.bodies = {planned.key: planned for planned in plan(self.contract, in_use=in_use)}
        self.refused: list[Refused] = []
        self.failures: list[str] = []
        #: Whether the minimal body (a planned body's base alone) was accepted, by disk and base.
        self.bases: dict[tuple[str, str], bool] = {}

    def disk(self, planned: PlannedBody) -> str:
        volumes = self.runtime.volumes
        disk = volumes.in_use_id if planned.disk == "in-use" else volumes.available_id
        if disk is None:
            pytest.skip("no available disk configured (--volume-id)")
        return disk

    def expectation(self, planned: PlannedBody, body: JSON, carried: Sequence[Carried]) -> Expectation:
        """What ``body`` must get: accepted, charged to the one field it carries (else ``planned``'s focus),
        the classes it carries named in the reason."""
        expected = expect(self.contract, body, self.runtime.volumes, focus=planned.focus)
        if len(carried) == 1 and carried[0].field in FIELD_REQUIREMENTS:
            expected = dataclasses.replace(expected, requirement=FIELD_REQUIREMENTS[carried[0].field])
        what = "; ".join(f"{item.field} carries {item.labels}" for item in carried) or "no optional field"
        return dataclasses.replace(expected, reason=f"{expected.reason} ({planned.key} body: {what})")

    def send(self, planned: PlannedBody) -> tuple[Exchange, bool]:
        """Send a planned body whole: judged now when accepted, kept for the split test when not."""
        disk = self.disk(planned)
        body = planned.body(self.contract, disk)
        expectation = self.expectation(planned, body, planned.carried)
        exchange = self.runtime.outside_limits(self.runtime.target.create(body), expectation)
        if _accepted(exchange):
            if self.runtime.volumes.sizes.get(disk) is None:
                # A target that serves only the create operation (--no-lifecycle) does not describe its disks.
                reason = f"the size of disk {disk} is unknown: the target did not describe the disk"
                self.runtime.ledger.skip("RSP-SIZE", reason)
            self.judge(exchange, expectation, settled=True)
            self.observe_fields(planned.carried, exchange)
            return exchange, True
        self.refused.append(Refused(planned, disk, exchange, expectation, self.runtime.ledger.current_test))
        return exchange, False

    def attempt(self, planned: PlannedBody, disk: str, carried: Sequence[Carried]) -> tuple[Exchange, bool]:
        """Send ``planned`` with only ``carried`` (and its base), judged at once: the answer, and whether the
        target accepted it."""
        body = planned.body(self.contract, disk, carried)
        expectation = self.expectation(planned, body, carried)
        judged_exchange = self.judge(self.runtime.target.create(body), expectation)
        accepted = _accepted(judged_exchange)
        if accepted:
            self.observe_fields(carried, judged_exchange)
        if not carried:
            self.bases[(planned.disk, repr(sorted(planned.base.items())))] = accepted
        return judged_exchange, accepted

    def base_accepted(self, planned: PlannedBody, disk: str) -> bool:
        """Whether ``planned``'s minimal body is accepted (sent once per disk and base)."""
        key = (planned.disk, repr(sorted(planned.base.items())))
        if key not in self.bases:
            self.attempt(planned, disk, ())
        return self.bases[key]

    def judge(self, exchange: Exchange, expectation: Expectation, *, settled: bool = False) -> Exchange:
        """Judge an answer without failing the test yet; the answer judged (sent again after a limit).

        ``settled``: the answer already went through ``outside_limits`` (no second sending).
        """
        judged = self.runtime.judge(exchange, expectation, fail=False, narrow=False, settled=settled)
        self.failures += judged.failures
        return judged.exchange

    def observe_fields(self, carried: Sequence[Carried], exchange: Exchange) -> None:
        """An accepted body shows each field's classes are accepted: evidence for the field's requirement."""
        for item in carried:
            requirement = ACCEPTED_FIELD_REQUIREMENTS.get(item.field)
            if requirement is not None:
                evidence = f"accepted {item.field} carrying {item.labels}"
                self.runtime.ledger.observe(requirement, ok=True, evidence=evidence, exchange=exchange)

    def finish(self) -> None:
        """Fail the test with every failure seen, once every step has run."""
        failures, self.failures = self.failures, []
        if failures:
            pytest.fail("\n\n".join(failures), pytrace=False)


@pytest.fixture(scope="session")
def plan_run(evs_runtime: SuiteRuntime) -> Iterator[PlanRun]:
    run = PlanRun(evs_runtime)
    yield run
    ledger = evs_runtime.ledger
    for left in run.refused:
        # The split test did not run in this process, or stopped (budget, time): the refusal is charged as
        # it came, unsplit, so that no refused valid body goes unjudged, to the test that sent it.
        last_test, ledger.current_test = ledger.current_test, left.test
        try:
            with contextlib.suppress(pytest.skip.Exception):
                evs_runtime.judge(left.exchange, left.expectation, fail=False, narrow=False, settled=True)
        finally:
            ledger.current_test = last_test


@pytest.mark.requirement("OP-ACCEPT", *FIELDS, *ACCEPTED_CREATE, *RESPONSE_CHECKS, *LIFECYCLE)
def test_combined_body_is_accepted_read_settled_and_deleted(plan_run: PlanRun) -> None:
    """Every class that combines, in one body; then the snapshot's life: read back, settled, deleted."""
    planned = plan_run.bodies["combined"]
    exchange, accepted = plan_run.send(planned)
    if not accepted:
        # The snapshot's life is judged on the minimal body instead; the split test charges the refusal.
        exchange, accepted = plan_run.attempt(planned, plan_run.disk(planned), ())
    if accepted:
        _lifecycle(plan_run, exchange)
    else:
        for requirement in LIFECYCLE:
            plan_run.runtime.ledger.skip(requirement, "not reached: the target accepted no body to follow")
    plan_run.finish()


@pytest.mark.requirement("OP-ACCEPT", *FIELDS, *ACCEPTED_CREATE, *RESPONSE_CHECKS, "REQ-FORCE-TRUE")
@pytest.mark.parametrize("key", WHOLE_VALUE_BODIES)
def test_whole_value_body_is_accepted(plan_run: PlanRun, key: str) -> None:
    """Empty, whitespace-only and null values, force true (on the in-use disk) and omitted; the example."""
    planned = plan_run.bodies.get(key)
    if planned is None:
        pytest.skip(f"the contract gives no {key} body (no request example)")
    if key == "whitespace" and planned.disk != "in-use":
        in_use = plan_run.runtime.settings.flag("in_use_volume_id")
        plan_run.runtime.ledger.skip("REQ-FORCE-TRUE", f"no in-use disk configured ({in_use})")
    plan_run.send(planned)
    plan_run.finish()


@pytest.mark.requirement("ADV-AUTOBK", *RESPONSE_CHECKS)
def test_reserved_name_prefix_is_probed_once(plan_run: PlanRun) -> None:
    """What the target does with a reserved name is recorded, never judged."""
    planned = plan_run.bodies.get("reserved-prefix")
    if planned is None:
        pytest.skip("the contract reserves no name prefix")
    body = planned.body(plan_run.contract, plan_run.disk(planned))
    name = body[plan_run.contract.snapshot_key]["name"]
    rule = plan_run.contract.field("name")
    prefix = str(rule.schema["x-reserved-prefixes"][0])
    reason = f"names starting with {prefix!r} are reserved for backups ({rule.source}); probed with {name!r}"
    silent = expect_silent("ADV-AUTOBK", reason)
    answer = plan_run.runtime.outside_limits(plan_run.runtime.target.create(body), silent)
    plan_run.judge(answer, silent, settled=True)
    plan_run.finish()


@pytest.mark.requirement("OP-ACCEPT", *FIELDS, "REQ-FORCE-TRUE", *ACCEPTED_CREATE, *RESPONSE_CHECKS)
def test_refused_bodies_are_split_to_the_refused_class(plan_run: PlanRun) -> None:
    """Each refused planned body, split by field then by class; each refusal charged where it belongs."""
    while plan_run.refused:
        _split(plan_run, plan_run.refused[0])
        plan_run.refused.pop(0)
    plan_run.finish()


def _split(run: PlanRun, refused: Refused) -> None:
    """Find the fields (then the classes) of a refused body the target refuses, and charge them."""
    planned, disk = refused.planned, refused.disk
    expectation = refused.expectation
    if not planned.carried or not run.base_accepted(planned, disk):
        # The minimal body is refused too: that is the body's own requirement, judged on its own answer.
        run.judge(refused.exchange, expectation, settled=True)
        return
    carried = planned.carried
    blamed = (
        list(carried)
        if len(carried) == 1
        else [c for c in carried if not run.attempt(planned, disk, (c,))[1]]
    )
    for item in blamed:
        if len(item.parts) > 1:
            culprits(item.parts, _refuses(run, planned, disk, item))
    charged = [FIELD_REQUIREMENTS[item.field] for item in blamed if item.field in FIELD_REQUIREMENTS]
    if charged:
        fields = ", ".join(item.field for item in blamed)
        expectation = dataclasses.replace(
            expectation, requirement=charged[0], reason=f"{expectation.reason}; the target refuses {fields}"
        )
    run.judge(refused.exchange, expectation, settled=True)


def _refuses(
    run: PlanRun, planned: PlannedBody, disk: str, item: Carried
) -> Callable[[tuple[Part, ...]], bool]:
    """Whether the target refuses ``item``'s field carrying only some of its classes (sent and judged)."""

    def refused(parts: tuple[Part, ...]) -> bool:
        return not run.attempt(planned, disk, (item.narrowed(parts),))[1]

    return refused


def _lifecycle(run: PlanRun, created: Exchange) -> None:
    """Read the snapshot back, wait for it to settle, delete it and see it gone."""
    runtime, contract = run.runtime, run.contract
    settings = runtime.settings
    if not settings.lifecycle:
        for requirement in LIFECYCLE:
            runtime.ledger.skip(requirement, f"lifecycle checks are off ({settings.flag('lifecycle')})")
        return
    assert created.response is not None
    summary: Mapping[str, JSON] = created.response.json()[contract.summary_key]
    snapshot_id = str(summary["id"])
    context = CheckContext(contract, None, None, set())
    target = runtime.target
    kept = runtime.scheduler.keep(snapshot_id) if runtime.scheduler is not None else contextlib.nullcontext()
    with kept:
        read = target.get_snapshot(snapshot_id)
        _conclude(run, check_read_back(read, summary, context), read)
        start = initial_status(contract)
        waited = wait_for(
            lambda: target.get_snapshot(snapshot_id),
            lambda e: status_of(e, contract) != start,
            timeout_s=settings.settle_timeout_s,
        )
        timeout = settings.settle_timeout_s
        _conclude(
            run, check_settled(waited.last, context, waited_s=waited.waited_s, timeout_s=timeout), waited.last
        )
        # A target that will not delete a snapshot still being made says so while it is (a read that lags,
        # or one that never settles): the DELETE is tried again until it is taken or the settle time is up.
        delete = wait_for(
            lambda: target.delete_snapshot(snapshot_id),
            lambda e: limit_refusal(e) is None,
            timeout_s=settings.settle_timeout_s,
        ).last
        refusal = limit_refusal(delete)
        if refusal is not None:
            reason = f"{delete.response.status if delete.response else delete.error}: {refusal}"
            runtime.ledger.skip(
                "LIFE-DELETE",
                f"not reached within the target's limits: the DELETE was refused ({reason}) for "
                f"{settings.settle_timeout_s:g} s",
            )
            return
        gone = wait_for(
            lambda: target.get_snapshot(snapshot_id),
            lambda e: e.response is not None and e.response.status != HTTPStatus.OK,
            timeout_s=settings.settle_timeout_s,
        ).last
        _conclude(run, check_deleted(delete, gone, context), gone if delete.response else delete)


def _conclude(run: PlanRun, outcome: Outcome, exchange: Exchange) -> None:
    run.runtime.conclude(outcome, exchange, fail=False)
    if outcome.violations:
        run.failures.append(run.runtime.failure_text(outcome, exchange))


def _accepted(exchange: Exchange) -> bool:
    response = exchange.response
    return response is not None and HTTPStatus.OK <= response.status < HTTPStatus.MULTIPLE_CHOICES
