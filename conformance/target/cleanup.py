"""Cleanup: every snapshot a run may have left is deleted and seen gone, or listed with the reason it is not.

Only what was verified is claimed: "deleted" means a DELETE of ours was accepted and a read then found
nothing. A snapshot the target never showed (a 404 from its first read) is tried once with a DELETE, and is
"not verifiable" unless it could be seen go. A snapshot still in its initial status is waited for (clouds
refuse to delete one being created), and a DELETE the target refuses because the snapshot is still being made
is sent again. Creates whose ID is unknown (no usable ID in the answer, or no answer) cannot be cleaned by ID
and are listed with what is known of them. Every round sends something for each snapshot not yet settled,
and the whole cleanup shares one time limit, which the target's client enforces.

Example::

    target.reopen(seconds=60)
    result = clean_up(target, target.outstanding(), timeout_s=60)
    result.deleted, [(s.id, s.reason) for s in result.left]
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from http import HTTPStatus

from conformance.core.exchange import Exchange
from conformance.rules.checks import initial_status
from conformance.run.journal import ACCEPTED, CreateRecord, shown_id
from conformance.target import Target
from conformance.target.client import NotSent
from conformance.target.limited import limit_refusal
from conformance.target.waiters import FIRST_POLL_S, LAST_POLL_S, status_of

#: Snapshots handled at once: enough to keep a few connections busy without crowding a small machine.
CLEANUP_WORKERS = 4
_NOT_SEEN = "not verifiable: the target never showed it"
#: Refusals of a DELETE that may clear up on their own (a conflict, a rate limit); other 4xx are final.
_TRANSIENT_REFUSALS = frozenset({HTTPStatus.CONFLICT, HTTPStatus.TOO_MANY_REQUESTS})


@dataclass(frozen=True)
class Left:
    """A snapshot (or a create without an ID) that cleanup could not see gone, and why."""

    id: str
    reason: str


@dataclass(frozen=True)
class CleanupResult:
    """What cleanup did: deleted and seen gone, already gone without our DELETE, and what is left."""

    deleted: tuple[str, ...] = ()
    already_gone: tuple[str, ...] = ()
    left: tuple[Left, ...] = ()
    #: Why cleanup stopped before it was done (the time limit, the target not answering), if it did.
    stopped: str | None = None


@dataclass
class _Snapshot:
    record: CreateRecord
    seen: bool = False
    delete_accepted: bool = False
    outcome: str | None = None  # "deleted", "already gone", or None while cleanup is still at it
    reason: str = "not handled yet"
    tried_unseen: bool = False
    refused: bool = False

    @property
    def id(self) -> str:
        assert self.record.snapshot_id is not None
        return self.record.snapshot_id

    @property
    def done(self) -> bool:
        return self.outcome is not None or self.refused or (self.tried_unseen and not self.delete_accepted)


def clean_up(
    target: Target,
    records: Sequence[CreateRecord],
    *,
    timeout_s: float,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
) -> CleanupResult:
    """Wait for, delete and see gone every snapshot ``records`` left, within ``timeout_s`` in all."""
    left = [Left(_label(r), r.describe()) for r in records if r.outcome != ACCEPTED and r.needs_cleanup]
    snapshots = [_Snapshot(r, seen=r.seen) for r in records if r.outcome == ACCEPTED and r.needs_cleanup]
    start_status = initial_status(target.contract)
    deadline = clock() + timeout_s
    pause = FIRST_POLL_S
    stopped: str | None = None
    workers = max(1, min(CLEANUP_WORKERS, target.settings.max_connections))
    pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="evs-cleanup")
    try:
        while True:
            pending = [s for s in snapshots if not s.done]
            if not pending:
                break
            results = list(pool.map(lambda s: _step(target, s, start_status), pending))
            stopped = next((r for r in results if r is not None), None)
            now = clock()
            if stopped is not None or now >= deadline or not any(not s.done for s in snapshots):
                break
            sleep(min(pause, deadline - now))
            pause = min(pause * 2, LAST_POLL_S)
    finally:
        # An interrupt must not wait for requests in flight: they end by themselves within the time limit.
        pool.shutdown(wait=False, cancel_futures=True)
    deleted, gone = [], []
    for snapshot in snapshots:
        if snapshot.outcome == "deleted":
            deleted.append(snapshot.id)
        elif snapshot.outcome == "already gone":
            gone.append(snapshot.id)
        else:
            reason = snapshot.reason
            if stopped is None and not snapshot.done:
                reason += f" (cleanup gave up after {timeout_s:g} s)"
            left.append(Left(snapshot.id, reason))
    return CleanupResult(tuple(deleted), tuple(gone), tuple(left), stopped)


def _step(target: Target, snapshot: _Snapshot, start_status: object) -> str | None:
    """One round for one snapshot; returns why cleanup must stop (the target cannot be reached), if so."""
    collection = snapshot.record.path
    try:
        read = target.get_snapshot(snapshot.id, collection=collection)
        if _gone(read):
            if snapshot.delete_accepted:
                if snapshot.seen:
                    _settle(target, snapshot, "deleted", "deleted by cleanup, then read 404")
                else:
                    snapshot.reason = (
                        "DELETE accepted, then read 404; not verifiable: the target never showed it"
                    )
                    snapshot.tried_unseen = True
                    snapshot.delete_accepted = False  # settled: nothing more to learn
                return None
            if snapshot.seen:
                reason = "gone before cleanup deleted it (read 404 after it had been shown)"
                _settle(target, snapshot, "already gone", reason)
                return None
            if snapshot.tried_unseen:
                return None
            # Never shown: a read that lags behind creates, or no read at all. One DELETE, then judge.
            return _delete(target, snapshot, collection, unseen=True)
        if read.response is None or not read.response.status < 300:
            snapshot.reason = f"cannot read it: {_answer(read)}"
            return None
        snapshot.seen = True
        if not snapshot.record.seen and target.journal is not None:
            # A record read back from a journal (``evs-conformance cleanup``) is not one of the target's own.
            target.journal.seen(snapshot.id)
        snapshot.record.seen = True
        if snapshot.delete_accepted:
            status = status_of(read, target.contract)
            snapshot.reason = f"still there after its DELETE was accepted (status {status!r})"
            return None
        status = status_of(read, target.contract)
        if status == start_status:
            snapshot.reason = f"still {status!r}: a snapshot being created cannot be deleted yet"
            return None
        return _delete(target, snapshot, collection, unseen=False)
    except NotSent as exc:
        return str(exc)
    except Exception as exc:  # a hostile answer must not stop the cleanup of the others
        snapshot.reason = f"cleanup could not handle an answer: {type(exc).__name__}: {str(exc)[:200]}"
        snapshot.tried_unseen = True
        snapshot.delete_accepted = False
        return None


def _delete(target: Target, snapshot: _Snapshot, collection: str, *, unseen: bool) -> str | None:
    delete = target.delete_snapshot(snapshot.id, collection=collection)
    code = None if delete.response is None else delete.response.status
    if unseen:
        snapshot.tried_unseen = True
    if code is not None and code < 300:
        snapshot.delete_accepted = True
        snapshot.reason = "DELETE accepted; waiting to see it gone"
    elif code == HTTPStatus.NOT_FOUND:
        snapshot.reason = f"{_NOT_SEEN}, and its DELETE answered 404" if unseen else "DELETE answered 404"
        if not unseen:
            reason = "gone before cleanup deleted it (DELETE answered 404 after it had been shown)"
            _settle(target, snapshot, "already gone", reason)
    elif code is not None and (being_made := limit_refusal(delete)) is not None:
        # The target says the snapshot is still being made (a read that lags, or none at all): the DELETE
        # is sent again next round, within cleanup's time limit.
        snapshot.tried_unseen = False
        snapshot.reason = f"still being made: DELETE refused ({code}: {being_made})"
        if unseen:
            snapshot.reason = f"{_NOT_SEEN}; {snapshot.reason}"
    elif code is not None and code < 500 and code not in _TRANSIENT_REFUSALS:
        # The snapshot has settled, so a refusal now is the target's final word on it.
        snapshot.refused = True
        snapshot.reason = f"DELETE refused: {_answer(delete)}"
        if unseen:
            snapshot.reason = f"{_NOT_SEEN}; {snapshot.reason}"
    else:
        snapshot.reason = f"DELETE failed: {_answer(delete)}"
        if unseen:
            snapshot.reason = f"{_NOT_SEEN}; {snapshot.reason}"
    return None


def _settle(target: Target, snapshot: _Snapshot, outcome: str, reason: str) -> None:
    """Record a snapshot seen gone at once (journal included), so an interrupt later does not list it."""
    snapshot.outcome, snapshot.reason = outcome, reason
    target.mark_gone(snapshot.id, reason)


def _gone(read: Exchange) -> bool:
    return read.response is not None and read.response.status == HTTPStatus.NOT_FOUND


def _label(record: CreateRecord) -> str:
    return (
        shown_id(record.snapshot_id)
        if record.snapshot_id
        else f"(no ID; create {record.key or 'unrecorded'})"
    )


def _answer(exchange: Exchange) -> str:
    """The status and the start of the body, or the transport error, on one line."""
    if exchange.response is None:
        return str(exchange.error)
    body = " ".join(exchange.response.body[:200].decode("utf-8", "replace").split())
    return f"{exchange.response.status} {body}".strip()
