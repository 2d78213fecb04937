"""Spending a create budget well: reach every requirement first, then share what is left between generators.

With ``--max-creates`` the run is reordered: the plain tests whose cases are expected to be refused first
(they make nothing on a conformant target, so no disk is busy yet), then the planned creates (tests marked
``creates("plan")``, which reach every requirement that needs a snapshot made), then any other plain test that
is the most focused way to reach a requirement, then the probes of what the document is silent on (marked
``creates("probe")``: a conformant target may accept them), then everything else, the property tests last
with their example counts scaled to the creates left. Without a budget the order is the suite's own.

Example::

    items[:] = budget_order(items, requirement_ids)
    planner = BudgetPlanner(items, requirement_ids, examples=100)
    planner.examples_for(item, creates_left=40)   # 40 shared between the creating property tests left
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import pytest

from conformance.rules.checks import ACCEPTED_CREATE

IdsOf = Callable[[pytest.Item], tuple[str, ...]]

#: Requirements only an accepted create can show (a force-true create on a busy disk is one too): a property
#: test carrying one creates with most examples.
ACCEPTED_REQUIREMENTS = frozenset({*ACCEPTED_CREATE, "REQ-FORCE-TRUE"})
#: What a skipped test says when the budget ran out; ``{limit}`` is the run's ``--max-creates``.
EXHAUSTED_REASON = "create budget exhausted ({flag} {limit})"
#: The marker naming how a test creates: ``plan`` (the planned creates) or ``probe`` (a silent case).
CREATES_MARKER = "creates"
PLAN, PROBE = "plan", "probe"


def exhausted_reason(limit: int | None, flag: str = "--max-creates") -> str:
    return EXHAUSTED_REASON.format(limit=limit, flag=flag)


def is_property_test(item: pytest.Item) -> bool:
    """Whether the test draws its cases from Hypothesis (its example count can be scaled)."""
    obj: Any = getattr(item, "obj", None)
    function: Any = getattr(obj, "__func__", obj)
    return bool(getattr(function, "is_hypothesis_test", False))


def creates_per_example(item: pytest.Item, ids: tuple[str, ...]) -> bool:
    """Whether a property test is expected to create a snapshot with (nearly) every example."""
    return is_property_test(item) and bool(ACCEPTED_REQUIREMENTS.intersection(ids))


def _creating(item: pytest.Item, ids_of: IdsOf) -> bool:
    return bool(ACCEPTED_REQUIREMENTS.intersection(ids_of(item)))


def creates_kind(item: pytest.Item) -> str | None:
    """How a test says it creates (``plan`` or ``probe``), or None when it does not say."""
    mark = item.get_closest_marker(CREATES_MARKER)
    return str(mark.args[0]) if mark is not None and mark.args else None


def budget_order(items: Sequence[pytest.Item], ids_of: IdsOf) -> list[pytest.Item]:
    """The tests in the order that reaches every requirement soonest; ties keep the suite's order."""
    position = {id(item): index for index, item in enumerate(items)}
    kinds = {id(item): creates_kind(item) for item in items}
    planned = [item for item in items if kinds[id(item)] == PLAN]
    probes = [item for item in items if kinds[id(item)] == PROBE]
    plain = [
        item for item in items if ids_of(item) and not is_property_test(item) and kinds[id(item)] is None
    ]
    refusals = [item for item in plain if not _creating(item, ids_of)]
    reached = {requirement for item in [*refusals, *planned] for requirement in ids_of(item)}
    focused: dict[int, pytest.Item] = {}
    # The test with the fewest requirements is the cheapest way to reach one the plan does not; prefer those.
    for item in sorted(plain, key=lambda i: (len(ids_of(i)), position[id(i)])):
        if _creating(item, ids_of) and not set(ids_of(item)) <= reached:
            focused[id(item)] = item
            reached.update(ids_of(item))
    first = [*refusals, *planned, *sorted(focused.values(), key=lambda i: position[id(i)]), *probes]
    taken = {id(item) for item in first}

    def stage(item: pytest.Item) -> int:
        # Once the budget is spent no create is sent at all (a refusal is expected, but a faulty target
        # could accept), so the tests expected to be refused go before those expected to create.
        return 2 * _creating(item, ids_of) + is_property_test(item)

    rest = sorted((i for i in items if id(i) not in taken), key=lambda i: (stage(i), position[id(i)]))
    return first + rest


class BudgetPlanner:
    """Shares the creates left between the property tests that create, as each of them starts."""

    def __init__(self, items: Sequence[pytest.Item], ids_of: IdsOf, *, examples: int) -> None:
        self.examples = examples
        self._waiting = {item.nodeid for item in items if creates_per_example(item, ids_of(item))}

    def is_scaled(self, item: pytest.Item) -> bool:
        return item.nodeid in self._waiting

    def examples_for(self, item: pytest.Item, *, creates_left: int) -> int:
        """How many examples ``item`` may run: its share of ``creates_left`` (0: the budget is spent)."""
        sharing = len(self._waiting)
        self._waiting.discard(item.nodeid)
        if creates_left <= 0:
            return 0
        return max(1, min(self.examples, creates_left // max(sharing, 1)))


def estimate(items: Sequence[pytest.Item], ids_of: IdsOf, *, examples: int) -> tuple[int, int]:
    """About how many requests and creates the tests send on a conformant target (before any budget),
    the planned creates left out (``conformance.rules.creates.plan`` counts those)."""
    requests = creates = 0
    for item in items:
        ids = ids_of(item)
        if creates_kind(item) == PLAN:
            requests += 2
            continue
        if is_property_test(item):
            requests += examples
            creates += examples if creates_per_example(item, ids) else 0
            continue
        # A plain test sends a case or two; one that reads a snapshot back creates it first.
        requests += 2
        creates += (
            1 if ACCEPTED_REQUIREMENTS.intersection(ids) or any(i.startswith("LIFE-") for i in ids) else 0
        )
    return requests, creates
