"""A parallel run's distribution by group: a worker that dies and is replaced never leaves the run waiting.

The workers here are stand-ins that record what the scheduler sends them; the scheduler is pytest-xdist's
own ``loadgroup`` next to ours, driven through the same calls pytest-xdist's session makes.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pytest
from xdist.scheduler import LoadGroupScheduling

from conformance.plugin.scheduling import GroupScheduling

#: Two groups of tests and two tests of their own; the group tests end in ``@group``.
COLLECTION = [
    "t.py::a@plan",
    "t.py::b@plan",
    "t.py::c@plan",
    "t.py::d",
    "t.py::e",
    "t.py::h",
    "t.py::i",
    "t.py::j",
    "t.py::f@other",
    "t.py::g@other",
]


@dataclass(eq=False)
class Worker:
    """What a pytest-xdist worker is told: tests to run (by index) and whether to stop after them."""

    name: str
    queue: list[int] = field(default_factory=list)
    shutting_down: bool = False
    gateway: Any = None

    def __post_init__(self) -> None:
        self.gateway = type("Gateway", (), {"id": self.name})()

    def send_runtest_some(self, indices: list[int]) -> None:
        self.queue.extend(indices)

    def shutdown(self) -> None:
        self.shutting_down = True

    def waits_for_ever(self) -> bool:
        """A worker runs its test only once it knows the next one or is told to stop."""
        return len(self.queue) == 1 and not self.shutting_down


class Config:
    def __init__(self, workers: int) -> None:
        self.tx = [f"{workers}*popen"]

    def getvalue(self, name: str) -> Any:
        return {"tx": self.tx, "loadscopereorder": False}[name]

    @property
    def option(self) -> Any:
        return type("Option", (), {"loadscopereorder": False})()


def start(kind: type[Any], workers: int = 2) -> tuple[Any, list[Worker]]:
    scheduler = kind(Config(workers))
    nodes = [Worker(f"gw{i}") for i in range(workers)]
    for node in nodes:
        scheduler.add_node(node)
    for node in nodes:
        scheduler.add_node_collection(node, COLLECTION)
    scheduler.schedule()
    return scheduler, nodes


def run_one(scheduler: Any, node: Worker) -> str:
    """The worker finishes the first test it holds (it knows the next, or was told to stop)."""
    index = node.queue.pop(0)
    scheduler.mark_test_complete(node, index)
    return COLLECTION[index]


def replace(scheduler: Any, dead: Worker, name: str) -> tuple[str | None, Worker]:
    """What pytest-xdist does when a worker dies: forget it, start another, give it its share."""
    crashed = scheduler.remove_node(dead)
    fresh = Worker(name)
    scheduler.add_node(fresh)
    scheduler.add_node_collection(fresh, COLLECTION)
    scheduler.schedule()
    return crashed, fresh


def drain(scheduler: Any, nodes: list[Worker], limit: int = 100) -> list[str]:
    """Run every worker until each is told to stop and holds nothing; the tests run, in order."""
    ran = []
    for _ in range(limit):
        busy = [n for n in nodes if n.queue and (len(n.queue) > 1 or n.shutting_down)]
        if not busy:
            break
        ran.append(run_one(scheduler, busy[0]))
    return ran


@pytest.mark.parametrize("kind", [GroupScheduling, LoadGroupScheduling])
def test_without_a_death_every_test_runs_once_and_every_worker_stops(kind: type[Any]) -> None:
    scheduler, nodes = start(kind)
    ran = drain(scheduler, nodes)
    assert sorted(ran) == sorted(COLLECTION)
    assert all(n.shutting_down and not n.queue for n in nodes)


def die_on_the_plans_last_test(kind: type[Any]) -> tuple[list[str], str | None, list[Worker], list[str]]:
    """The worker holding the plan runs all but its last test and dies; a replacement starts.

    What ran before the death, the test the worker died in, the workers left, what they ran after it.
    """
    scheduler, (first, second) = start(kind)
    holding = first if COLLECTION.index("t.py::a@plan") in first.queue else second
    other = second if holding is first else first
    done = [run_one(scheduler, holding), run_one(scheduler, holding)]
    crashed, fresh = replace(scheduler, holding, "gw2")
    return done, crashed, [other, fresh], drain(scheduler, [other, fresh])


def test_a_worker_that_dies_mid_group_is_replaced_and_the_run_ends() -> None:
    done, crashed, workers, ran = die_on_the_plans_last_test(GroupScheduling)
    assert done == ["t.py::a@plan", "t.py::b@plan"]
    assert crashed == "t.py::c@plan"
    # Each test runs once: the finished ones are not sent again, nor the one the worker died in.
    assert sorted([*done, crashed, *ran]) == sorted(COLLECTION)
    assert [n.name for n in workers if n.waits_for_ever() or not n.shutting_down] == []


def test_pytest_xdists_own_loadgroup_sends_the_test_a_worker_died_in_again() -> None:
    # What this module changes, seen on pytest-xdist 3.8's own scheduler: the test the worker died in goes
    # out again (for the suite, a create sent twice). Its other fault, a replacement left holding one test,
    # depends on timing; the end-to-end test of a killed worker (tests/safety/test_interrupts.py) shows it.
    _, crashed, _, ran = die_on_the_plans_last_test(LoadGroupScheduling)
    assert crashed in ran, "pytest-xdist no longer re-runs a crashed test: GroupScheduling may be retired"


def test_a_replacement_handed_a_single_test_is_told_to_stop_after_it() -> None:
    scheduler, (first, second) = start(GroupScheduling)
    drain(scheduler, [second])  # the other worker takes all it can first
    _, fresh = replace(scheduler, first, "gw2")
    assert not fresh.waits_for_ever()
    assert not second.waits_for_ever()
