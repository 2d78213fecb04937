"""Pacing requests: a rate limit shared by the threads of a run, and the pause a 429's Retry-After asks for.

Example::

    pacer = Pacer(5.0)        # at most 5 requests a second
    pacer.wait()              # returns when the next request may go
    retry_after_s("120")      # 120.0
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

from conformance.errors import UsageError


class Pacer:
    """Spaces requests at least ``1 / per_second`` apart, across every thread that shares it."""

    def __init__(
        self,
        per_second: float,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if per_second <= 0:
            raise UsageError("the rate limit must be positive")
        self.interval = 1.0 / per_second
        self._clock = clock
        self._sleep = sleep
        self._next = float("-inf")
        self._lock = threading.Lock()

    def wait(self) -> None:
        """Return when the next request may go; the slot is reserved under the lock, the sleep is not."""
        with self._lock:
            now = self._clock()
            slot = max(now, self._next)
            self._next = slot + self.interval
        if slot > now:
            self._sleep(slot - now)


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
