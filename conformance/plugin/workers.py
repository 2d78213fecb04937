"""The pytest-xdist workers of a parallel run, as the controlling process sees them: told of an interrupt,
and waited for while they clean up.

pytest-xdist stops workers that are still busy once the controller ends its session: it asks them to exit,
interrupts them after 5 s and kills them 10 s later. A worker cleaning up a real cloud's snapshots needs
longer, so after an interrupt the controller passes the signal on and waits for every worker to report
before pytest-xdist takes them down.

Example::

    workers = Workers()
    workers.add(node)                    # from pytest_configure_node
    workers.forward(signal.SIGUSR1)      # from the controller's signal handler
    for output in workers.wait(timeout_s=330):
        ...                              # each finished worker's workeroutput
"""

from __future__ import annotations

import contextlib
import signal
import subprocess
import time
from typing import Any, Final

#: How often the controller looks whether its workers have finished.
POLL_S: Final = 0.1


def worker_process(node: Any) -> subprocess.Popen[bytes] | None:
    """The local process of a pytest-xdist worker (a ``popen`` gateway), or None when there is none."""
    process = getattr(getattr(getattr(node, "gateway", None), "_io", None), "popen", None)
    return process if isinstance(process, subprocess.Popen) else None


def finished(node: Any) -> bool:
    """Whether a worker has reported the end of its session, or its process or channel is gone."""
    if getattr(node, "workeroutput", None) is not None or getattr(node, "_down", False):
        return True
    process = worker_process(node)
    return process is not None and process.poll() is not None


class Workers:
    """The workers the controller started, in the order they were set up."""

    def __init__(self) -> None:
        self.nodes: list[Any] = []

    def add(self, node: Any) -> None:
        self.nodes.append(node)

    def pids(self) -> list[int]:
        return [p.pid for node in self.nodes if (p := worker_process(node)) is not None]

    def forward(self, sent: signal.Signals) -> None:
        """Send ``sent`` to every worker still running (safe to call from a signal handler)."""
        for node in self.nodes:
            process = worker_process(node)
            if process is not None and process.returncode is None:
                with contextlib.suppress(OSError):
                    process.send_signal(sent)

    def wait(self, *, timeout_s: float) -> list[dict[str, Any]]:
        """Wait up to ``timeout_s`` for every worker to finish; the outputs of those that reported."""
        give_up_at = time.monotonic() + timeout_s
        while any(not finished(node) for node in self.nodes) and time.monotonic() < give_up_at:
            time.sleep(POLL_S)
        outputs = (getattr(node, "workeroutput", None) for node in self.nodes)
        return [output for output in outputs if isinstance(output, dict)]
