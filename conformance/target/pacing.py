"""Pacing requests: a rate limit shared by the threads of a run, and the pause a 429's Retry-After asks for.

Example::

    pacer = Pacer(5.0)        # at most 5 requests a second
    pacer.wait()              # returns when the next request may go
    retry_after_s("120")      # 120.0
"""

from __future__ import annotations

import fcntl
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from pathlib import Path

from conformance.core.errors import UsageError


class Pacer:
    """Spaces requests at least ``1 / per_second`` apart, across every thread that shares it.

    With ``shared`` (a file), the processes of one run (pytest-xdist workers) share the limit too: the next
    free slot lives in the file, read and moved on under an exclusive lock. The monotonic clock is
    system-wide, so every process reads the same time.
    """

    def __init__(
        self,
        per_second: float,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
        shared: Path | None = None,
    ) -> None:
        if per_second <= 0:
            raise UsageError("the rate limit must be positive")
        self.interval = 1.0 / per_second
        self.shared = shared
        self._clock = clock
        self._sleep = sleep
        self._next = float("-inf")
        self._lock = threading.Lock()

    def wait(self, *, until: float | None = None) -> bool:
        """Return when the next request may go; False at once when its slot lies past ``until``.

        The slot is reserved under the lock, the sleep is not; a slot past ``until`` is not taken.
        """
        with self._lock:
            now = self._clock()
            slot: float | None
            if self.shared is None:
                slot = max(now, self._next)
                if until is not None and slot > until:
                    return False
                self._next = slot + self.interval
            else:
                slot = self._reserve_shared(now, until)
                if slot is None:
                    return False
        if slot > now:
            self._sleep(slot - now)
        return True

    def _reserve_shared(self, now: float, until: float | None) -> float | None:
        assert self.shared is not None
        with self.shared.open("a+b") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            try:
                handle.seek(0)
                try:
                    taken = float(handle.read().decode("ascii") or "-inf")
                except (UnicodeDecodeError, ValueError):
                    taken = float("-inf")
                slot = max(now, taken)
                if until is not None and slot > until:
                    return None
                handle.truncate(0)
                handle.write(repr(slot + self.interval).encode("ascii"))
                handle.flush()
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)
        return slot


def retry_after_s(value: str | None, *, now: datetime | None = None) -> float | None:
    """The pause a ``Retry-After`` header asks for (seconds or an HTTP date), or None when unreadable."""
    if value is None:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        return None
    return max(0.0, (when - (now or datetime.now(UTC))).total_seconds())
