"""What ``run`` shows while the suite runs: tests done, requirements reached, exchanges, creates, time.

On a terminal a live line (rich) is redrawn in place; elsewhere (CI logs, pipes) a plain line is printed at
most every ``PLAIN_EVERY_S`` seconds, so logs stay short and still show that the run is alive.
"""

from __future__ import annotations

import sys
import time
from typing import IO, Any

from conformance.plugin.hooks import PROGRESS_PROPERTY

PLAIN_EVERY_S = 10.0


class Progress:
    """Counts finished tests and the figures the plugin reports with them, and shows them."""

    def __init__(
        self, *, budget: int | None, stream: IO[str] | None = None, live: bool | None = None
    ) -> None:
        self.budget = budget
        self.stream = stream or sys.stderr
        self.live = self.stream.isatty() if live is None else live
        self.tests = 0
        self.failed = 0
        self.requirements: set[str] = set()
        self._per_process: dict[str, tuple[int, int]] = {}
        self._began = time.monotonic()
        self._last_plain = self._began
        self._display: Any = None

    @property
    def exchanges(self) -> int:
        return sum(e for e, _ in self._per_process.values())

    @property
    def creates(self) -> int:
        return sum(c for _, c in self._per_process.values())

    def __enter__(self) -> Progress:
        if self.live:
            from rich.console import Console
            from rich.live import Live

            self._display = Live(
                self.line(), console=Console(file=self.stream), transient=True, refresh_per_second=4
            )
            self._display.__enter__()
        return self

    def __exit__(self, *exc: object) -> None:
        if self._display is not None:
            self._display.__exit__(None, None, None)
            self._display = None

    def test_done(self, report: Any) -> None:
        """Count a finished test (a pytest TestReport) and the figures it carries."""
        self.tests += 1
        self.failed += int(report.outcome == "failed")
        for name, value in getattr(report, "user_properties", ()):
            if name == PROGRESS_PROPERTY:
                process, exchanges, creates, ids = value
                self._per_process[str(process)] = (int(exchanges), int(creates))
                self.requirements.update(str(i) for i in ids)
        self.show()

    def line(self) -> str:
        budget = "" if self.budget is None else f" of {self.budget}"
        elapsed = time.monotonic() - self._began
        return (
            f"evs-conformance: {self.tests} tests, {len(self.requirements)} requirements reached, "
            f"{self.exchanges} exchanges, {self.creates} creates{budget}, {elapsed:.0f} s"
        )

    def show(self) -> None:
        if self._display is not None:
            self._display.update(self.line())
            return
        now = time.monotonic()
        if now - self._last_plain >= PLAIN_EVERY_S:
            self._last_plain = now
            print(self.line(), file=self.stream, flush=True)
