"""Cleanup at the end of a run: every snapshot the run created and did not delete is deleted, and seen gone.

A snapshot still in its initial status is waited for (clouds refuse to delete one that is being created);
the whole cleanup shares one time limit, and whatever is not gone by then is reported with the reason.

Example::

    cleanup = clean_up(target, timeout_s=60.0)
    cleanup.deleted, [(s.id, s.reason) for s in cleanup.left]
"""

from __future__ import annotations

import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from http import HTTPStatus
from typing import Any

from conformance.checks import initial_status
from conformance.exchange import Exchange
from conformance.ledger import Cleanup, LeftSnapshot
from conformance.target import Target
from conformance.target.waiters import FIRST_POLL_S, LAST_POLL_S, status_of

#: Refusals of a DELETE that may clear up on their own (a conflict, a rate limit); other 4xx are final.
_TRANSIENT_REFUSALS = frozenset({HTTPStatus.CONFLICT, HTTPStatus.TOO_MANY_REQUESTS})
#: Snapshots handled at once: while one request waits on the target the next is being prepared; a few
#: are enough to keep the connection pool busy without crowding a small machine.
CLEANUP_WORKERS = 4
# What one attempt at a snapshot came to.
_GONE, _ACCEPTED, _REFUSED, _PENDING = "gone", "accepted", "refused", "pending"


def clean_up(
    target: Target,
    *,
    timeout_s: float,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
) -> Cleanup:
    """Wait for, delete and see gone every snapshot ``target`` still tracks, within ``timeout_s`` in all."""
    start_status = initial_status(target.contract)
    deadline = clock() + timeout_s
    # Snapshot ID -> why it is not gone yet; the reason of the last attempt is the one reported.
    to_delete: dict[str, str] = dict.fromkeys(target.created_ids, "not deleted")
    to_verify: dict[str, str] = {}
    given_up: dict[str, str] = {}
    deleted = 0
    pause = FIRST_POLL_S
    workers = max(1, min(CLEANUP_WORKERS, target.settings.max_connections))
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="evs-cleanup") as pool:
        while to_delete or to_verify:
            pending = list(to_delete)
            attempts = pool.map(lambda i: _try_delete(target, i, start_status, timeout_s), pending)
            for snapshot_id, (state, reason) in zip(pending, attempts, strict=True):
                if state == _GONE:
                    del to_delete[snapshot_id]
                    deleted += 1
                elif state == _ACCEPTED:
                    del to_delete[snapshot_id]
                    to_verify[snapshot_id] = reason
                elif state == _REFUSED:
                    del to_delete[snapshot_id]
                    given_up[snapshot_id] = reason
                else:
                    to_delete[snapshot_id] = reason
            unverified = list(to_verify)
            checks = pool.map(lambda i: _still_there(target, i), unverified)
            for snapshot_id, still in zip(unverified, checks, strict=True):
                if still is None:
                    del to_verify[snapshot_id]
                    deleted += 1
                else:
                    to_verify[snapshot_id] = still
            now = clock()
            if not (to_delete or to_verify) or now >= deadline:
                break
            sleep(min(pause, deadline - now))
            pause = min(pause * 2, LAST_POLL_S)
    for snapshot_id in (*given_up, *to_delete, *to_verify):
        target.forget(snapshot_id)
    left = [LeftSnapshot(i, r) for reasons in (given_up, to_delete, to_verify) for i, r in reasons.items()]
    return Cleanup(deleted=deleted, left=tuple(left))


def _try_delete(target: Target, snapshot_id: str, start_status: Any, timeout_s: float) -> tuple[str, str]:
    """One attempt at a snapshot: read it, and delete it unless it is gone or still being created."""
    read = target.get_snapshot(snapshot_id)
    if _gone(read):
        return _GONE, ""
    status = status_of(read, target.contract)
    if read.response is None or not read.response.status < 300:
        return _PENDING, f"cannot read it: {_answer(read)}"
    if status == start_status:
        return _PENDING, f"still {status!r} when cleanup gave up after {timeout_s:g} s"
    delete = target.delete_snapshot(snapshot_id)
    code = None if delete.response is None else delete.response.status
    if code is not None and (code < 300 or code == HTTPStatus.NOT_FOUND):
        return _ACCEPTED, "deletion accepted, but the snapshot could still be read"
    if code is not None and code < 500 and code not in _TRANSIENT_REFUSALS:
        return _REFUSED, f"DELETE refused: {_answer(delete)}"
    return _PENDING, f"DELETE failed: {_answer(delete)}"


def _still_there(target: Target, snapshot_id: str) -> str | None:
    """None when a deleted snapshot reads as gone, else why it is not seen gone yet."""
    read = target.get_snapshot(snapshot_id)
    if _gone(read):
        return None
    status = status_of(read, target.contract)
    shown = f"status {status!r}" if status is not None else _answer(read)
    return f"still there after its DELETE was accepted ({shown})"


def _gone(read: Exchange) -> bool:
    return read.response is not None and read.response.status == HTTPStatus.NOT_FOUND


def _answer(exchange: Exchange) -> str:
    """The status and the start of the body, or the transport error, on one line."""
    if exchange.response is None:
        return str(exchange.error)
    body = " ".join(exchange.response.body[:200].decode("utf-8", "replace").split())
    return f"{exchange.response.status} {body}".strip()
