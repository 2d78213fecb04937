"""How a parallel run hands its tests to pytest-xdist workers: by group, and safe when a worker dies.

The planned creates share what they learn in one process, so a parallel run uses pytest-xdist's
``loadgroup`` distribution. In pytest-xdist 3.8, a worker that dies mid-run (killed, out of memory) and is
replaced can leave the run waiting for ever: the dead worker's whole workload goes back on the queue, its
finished tests included (a unit with nothing left to run is sent as an empty batch and never completes), and
a replacement given a single test waits for a second one that never comes (a worker runs a test only once
it knows the next, or is told to stop). ``GroupScheduling`` is that distribution without those two faults,
and it does not send the test the worker died in again (pytest-xdist has already reported it failed; a test
that ends its process would end the next one too).

Example::

    def pytest_xdist_make_scheduler(config, log):
        return GroupScheduling(config, log)
"""

from __future__ import annotations

from typing import Any

from xdist.scheduler import LoadGroupScheduling

#: A worker holds at least this many tests, or is told to stop: it runs one only once it knows the next.
HELD = 2


class GroupScheduling(LoadGroupScheduling):  # type: ignore[misc]
    """pytest-xdist's ``loadgroup`` distribution, kept from waiting for ever when a worker is replaced."""

    def remove_node(self, node: Any) -> str | None:
        """Forget ``node``; put what it had not run back on the queue; the test it died in, if any."""
        workload: dict[str, dict[str, bool]] = self.assigned_work.pop(node)
        undone = {scope: [t for t, done in unit.items() if not done] for scope, unit in workload.items()}
        undone = {scope: tests for scope, tests in undone.items() if tests}
        if not undone:
            return None
        # The worker was running the first test it had not finished: that one is not sent again.
        crashed = next(iter(undone.values()))[0]
        for scope, tests in undone.items():
            left = [t for t in tests if t != crashed]
            if left:
                self.workqueue[scope] = dict.fromkeys(left, False)
        for other in self.assigned_work:
            self._reschedule(other)
        return crashed

    def _reschedule(self, node: Any) -> None:
        """Give ``node`` more work when it runs low, and never leave it holding a single test."""
        if node.shutting_down:
            return
        if self._pending_of(self.assigned_work[node]) > HELD:
            return
        while self.workqueue:
            self._assign_work_unit(node)
            if self._pending_of(self.assigned_work[node]) >= HELD:
                return
        node.shutdown()
