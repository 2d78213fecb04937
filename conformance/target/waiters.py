"""Waiting on the target: poll a read until a condition holds or the time is up, never a blind sleep.

Polling starts fast (the mock settles at once) and backs off towards a gentle pace for real clouds. When the
time is up the last read is returned with ``met`` false, so a caller can say what it last saw.

Example::

    waited = wait_for(lambda: target.get_snapshot(i), lambda e: status_of(e, contract) != "creating",
                      timeout_s=300)
    waited.met, status_of(waited.last, contract), waited.waited_s
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from conformance.contract import Contract
from conformance.core.exchange import Exchange

FIRST_POLL_S, LAST_POLL_S = 0.05, 2.0


@dataclass(frozen=True)
class Waited:
    """The last read, how long the wait took, and whether the condition was met."""

    last: Exchange
    waited_s: float
    met: bool


def wait_for(
    read: Callable[[], Exchange],
    until: Callable[[Exchange], bool],
    *,
    timeout_s: float,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
) -> Waited:
    """Read until ``until`` holds or ``timeout_s`` passes (one read at least)."""
    started = clock()
    pause = FIRST_POLL_S
    while True:
        exchange = read()
        waited = clock() - started
        if until(exchange):
            return Waited(exchange, waited, True)
        if waited >= timeout_s:
            return Waited(exchange, waited, False)
        sleep(min(pause, max(0.0, timeout_s - waited)))
        pause = min(pause * 2, LAST_POLL_S)


def status_of(exchange: Exchange, contract: Contract) -> Any:
    """The snapshot status a read shows (None when it shows none)."""
    try:
        return exchange.response.json()[contract.summary_key]["status"] if exchange.response else None
    except (ValueError, KeyError, TypeError, RecursionError):
        return None
