"""Spending a create budget well: reach every requirement first, then share what is left between generators.

With ``--max-creates`` the run is reordered so that each requirement's most focused plain test runs before
any other (those are cheap and reach everything), then the tests whose cases are expected to be refused
(plain, then property tests), then those expected to create, the property tests last with their example
counts scaled to the creates left. Without a budget the order is the suite's own.

Example::

    items[:] = budget_order(items, requirement_ids)
    planner = BudgetPlanner(items, requirement_ids, examples=100)
    planner.examples_for(item, creates_left=40)   # 40 shared between the creating property tests left
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import pytest

from conformance.checks import ACCEPTED_CREATE

IdsOf = Callable[[pytest.Item], tuple[str, ...]]

#: Requirements only an accepted create can show (a force-true create on a busy disk is one too): a property
#: test carrying one creates with most examples.
ACCEPTED_REQUIREMENTS = frozenset({*ACCEPTED_CREATE, "REQ-FORCE-TRUE"})
#: What a skipped test says when the budget ran out; ``{limit}`` is the run's ``--max-creates``.
EXHAUSTED_REASON = "create budget exhausted ({flag} {limit})"


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


def budget_order(items: Sequence[pytest.Item], ids_of: IdsOf) -> list[pytest.Item]:
    """The tests in the order that reaches every requirement soonest; ties keep the suite's order."""
    position = {id(item): index for index, item in enumerate(items)}
    plain = [item for item in items if ids_of(item) and not is_property_test(item)]
    focused: dict[int, pytest.Item] = {}
    reached: set[str] = set()
    # The test with the fewest requirements is the cheapest way to reach one; prefer those.
    for item in sorted(plain, key=lambda i: (len(ids_of(i)), position[id(i)])):
        if not set(ids_of(item)) <= reached:
            focused[id(item)] = item
            reached.update(ids_of(item))
    # Within each stage, tests expected to be refused first: once the budget is spent no create is sent.
    first = sorted(focused.values(), key=lambda i: (_creating(i, ids_of), position[id(i)]))

    def stage(item: pytest.Item) -> int:
        # Once the budget is spent no create is sent at all (a refusal is expected, but a faulty target
        # could accept), so the tests expected to be refused go before those expected to create.
        return 1 + 2 * _creating(item, ids_of) + is_property_test(item)

    rest = sorted((i for i in items if id(i) not in focused), key=lambda i: (stage(i), position[id(i)]))
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
    """About how many requests and creates the tests send on a conformant target (before any budget)."""
    requests = creates = 0
    for item in items:
        ids = ids_of(item)
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
