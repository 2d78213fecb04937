"""How each process of a run answers SIGINT and SIGTERM: the first stops the tests, a later one the cleanup.

A first signal while the tests run raises ``KeyboardInterrupt`` (pytest stops, the run cleans up and reports
it incomplete), once the create in flight, if any, has its answer: abandoned, it could leave a snapshot whose
ID no one knows. A first signal once the tests are over is only noted, since the run is already finishing.
A later signal skips the cleanup (at once when it is under way); any signal after that is ignored, so the
reports are always written. The processes of a parallel run tell each other with two more signals: ``STOP``
(an interrupt, unless one came already) and ``SKIP_CLEANUP``; a process whose own signal came from the
terminal or the process group gets the same news twice and takes it once.

Example::

    interrupts = Interrupts()
    with interrupts.installed():
        run_the_tests()                  # KeyboardInterrupt on the first signal
        interrupts.tests_over()
        if not interrupts.skip_cleanup:
            with interrupts.cleaning():  # KeyboardInterrupt on a later signal
                clean_up()
"""

from __future__ import annotations

import contextlib
import os
import signal
import threading
from collections.abc import Callable, Iterator
from types import FrameType
from typing import Final

#: Sent by one process of a run to another: the run was interrupted.
STOP: Final = signal.SIGUSR1
#: Sent by one process of a run to another: the run was interrupted again, skip the cleanup.
SKIP_CLEANUP: Final = signal.SIGUSR2
#: The signals a user stops a run with.
USER_SIGNALS: Final = (signal.SIGINT, signal.SIGTERM)
#: How often an orphaned worker looks whether its parent is still there.
ORPHAN_POLL_S: Final = 0.5

_TESTS, _FINISHING, _CLEANUP = "tests", "finishing", "cleanup"


class Interrupts:
    """The interrupt state of one process; ``forward`` (if set) passes a signal on to the run's workers."""

    def __init__(self) -> None:
        #: The name of the first signal (``SIGINT``, ``SIGTERM``), None while none came.
        self.signal: str | None = None
        #: Whether a later signal asked to skip the cleanup.
        self.skip_cleanup = False
        self.forward: Callable[[signal.Signals], None] | None = None
        #: Told, in a line, what a signal changed (the command's console); must be safe in a signal handler.
        self.say: Callable[[str], None] | None = None
        self._phase = _TESTS
        self._shielded = 0
        self._postponed = False

    @property
    def interrupted(self) -> bool:
        return self.signal is not None

    def handle(self, signum: int, frame: FrameType | None) -> None:
        """The signal handler: decide what this signal means in the run's current phase."""
        received = signal.Signals(signum)
        if received == STOP and self.signal is not None:
            return  # the news of an interrupt this process already had
        if self.signal is None:
            # A worker told by the controller names the interrupt after the user's most common signal.
            self.signal = "SIGINT" if received in (STOP, SKIP_CLEANUP) else received.name
            self._pass_on(STOP)
            if self.say is not None:
                doing = "stopping the tests" if self._phase == _TESTS else "the tests are over"
                self.say(f"{self.signal}: {doing}; the run cleans up and reports (signal again: skip it)")
            if received == SKIP_CLEANUP:
                self._skip()
            if self._phase == _TESTS and self._shielded and not self.skip_cleanup:
                self._postponed = True
            elif self._phase == _TESTS or (self._phase == _CLEANUP and self.skip_cleanup):
                raise KeyboardInterrupt
            return
        if self.skip_cleanup:
            return
        self._skip()
        if self._phase == _CLEANUP or self._postponed:
            # The user insists: the create in flight is abandoned (the journal lists it as unknown).
            self._postponed = False
            raise KeyboardInterrupt

    def _skip(self) -> None:
        self.skip_cleanup = True
        self._pass_on(SKIP_CLEANUP)
        if self.say is not None:
            self.say("skipping the cleanup; what is left is listed in the reports and the journal")

    def _pass_on(self, sent: signal.Signals) -> None:
        if self.forward is not None:
            self.forward(sent)

    @contextlib.contextmanager
    def shielded(self) -> Iterator[None]:
        """Hold a first interrupt back until the block (a create on its way) is done, then raise it."""
        if threading.current_thread() is not threading.main_thread():
            yield  # only the main thread is ever interrupted
            return
        self._shielded += 1
        try:
            yield
        finally:
            self._shielded -= 1
            if not self._shielded and self._postponed:
                self._postponed = False
                raise KeyboardInterrupt

    def tests_over(self) -> None:
        """From now on a first signal no longer stops anything: the run is cleaning up and reporting."""
        self._phase = _FINISHING

    @contextlib.contextmanager
    def cleaning(self) -> Iterator[None]:
        """While the block runs, a later signal raises ``KeyboardInterrupt`` to stop the cleanup."""
        self._phase = _CLEANUP
        try:
            yield
        finally:
            self._phase = _FINISHING

    @contextlib.contextmanager
    def installed(self, signals: tuple[signal.Signals, ...] = USER_SIGNALS) -> Iterator[None]:
        """Answer ``signals`` (and the run's own two) with ``handle`` for the block, on the main thread."""
        if threading.current_thread() is not threading.main_thread():
            yield  # signals reach only the main thread; a caller on another thread handles its own
            return
        previous = {sig: signal.signal(sig, self.handle) for sig in (*signals, STOP, SKIP_CLEANUP)}
        try:
            yield
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)


def watch_parent(parent: int, *, poll_s: float = ORPHAN_POLL_S) -> threading.Thread:
    """Interrupt this process (``STOP``) once ``parent`` is no longer its parent (it died, even killed)."""

    def watch() -> None:
        event = threading.Event()
        while not event.wait(poll_s):
            if os.getppid() != parent:
                os.kill(os.getpid(), STOP)
                return

    thread = threading.Thread(target=watch, name="evs-orphan-watch", daemon=True)
    thread.start()
    return thread
