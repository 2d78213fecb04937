"""Creates within a real cloud's limits: one snapshot being made per disk, the run's live snapshots capped.

Huawei EVS makes one snapshot of a disk at a time and keeps a few per disk; Cinder holds a project to a
quota and will not delete a snapshot still being created (``notes/cloud-limits.md``). The scheduler stands in
front of every create that names a disk the run knows (``Target.create`` asks it first):

* it spreads creates over the available disks, picking the one that is free soonest;
* it waits, polling with ``waiters.wait_for``, until the disk's snapshot being created has settled (at most
  ``creating_per_disk`` at once);
* it deletes the run's settled snapshots as it goes, and before a create waits until one is gone whenever the
  run's live snapshots would pass ``snapshots_per_disk`` or ``snapshots_per_project``;
* ``make_idle`` settles and deletes everything of the run, so a refused body can be sent again with nothing
  of the run pending (``conformance.plugin.acceptance``).

Without reads and deletes (``lifecycle`` off) it cannot see a snapshot settle nor delete one: it sends each
create at once, and a valid body the target refuses is sent again ``settle_time_s`` after the run's last
create (``make_idle``); its caps, when given, count every create of the run.

Example::

    scheduler = CreateScheduler(contract, DiskRules(snapshots_per_project=5), available=("disk-a",),
                                in_use=None)
    target.scheduler = scheduler     # every create of the target now keeps the rules
    scheduler.make_idle(target)      # None, or why something of the run is still there
"""

from __future__ import annotations

import contextlib
import json
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from http import HTTPStatus
from typing import Literal

from conformance.contract import JSON, Contract
from conformance.core.exchange import Exchange
from conformance.run.journal import ACCEPTED, CreateRecord
from conformance.target.client import NO_BODY, NotSent, Target
from conformance.target.limited import limit_refusal
from conformance.target.waiters import status_of, wait_for

State = Literal["creating", "settled", "stuck", "deleting", "undeletable", "gone"]
#: How often a DELETE refused as too early is tried again before the snapshot counts as not deletable.
EARLY_DELETES = 3
#: States in which a snapshot still counts against the caps (it exists, or may).
_LIVE: frozenset[State] = frozenset({"creating", "settled", "stuck", "deleting", "undeletable"})


class CapReached(NotSent):
    """The run's live snapshots fill a cap and none of them can be deleted: the create is not sent."""


@dataclass(frozen=True)
class DiskRules:
    """What the scheduler keeps to; None lifts a rule."""

    #: The run's snapshots being created at once on one disk (Huawei EVS: one).
    creating_per_disk: int | None = 1
    #: The run's live snapshots on one disk (Huawei EVS keeps seven legacy snapshots per disk).
    snapshots_per_disk: int | None = None
    #: The run's live snapshots in the project (Cinder's default quota is ten).
    snapshots_per_project: int | None = None
    #: The most seconds to wait for one snapshot to settle, or to be gone once deleted.
    settle_timeout_s: float = 600.0
    #: Whether the target can be read and deleted from (off: a create-only target).
    lifecycle: bool = True
    #: Without reads: the seconds after the run's last create on a disk before a refused body is sent again.
    settle_time_s: float = 0.0

    @property
    def active(self) -> bool:
        """Whether any rule asks the scheduler to do something."""
        return (
            self.creating_per_disk is not None
            or self.snapshots_per_disk is not None
            or self.snapshots_per_project is not None
        )


@dataclass
class Tracked:
    """A snapshot of the run as the scheduler knows it."""

    id: str
    disk: str
    created_at: float
    state: State = "creating"
    note: str = ""
    #: DELETEs the target refused as if the snapshot were still being made, after it read as settled.
    early_deletes: int = 0


@dataclass
class _Disk:
    id: str
    last_create: float = float("-inf")
    picked: int = 0


@dataclass
class CreateScheduler:
    """Keeps the run's creates within ``rules`` on the disks it knows (see the module)."""

    contract: Contract
    rules: DiskRules
    available: tuple[str, ...]
    in_use: str | None
    clock: Callable[[], float] = time.monotonic
    sleep: Callable[[float], None] = time.sleep
    snapshots: dict[str, Tracked] = field(default_factory=dict)
    _disks: dict[str, _Disk] = field(default_factory=dict)
    _held: dict[str, int] = field(default_factory=dict)
    _lock: threading.RLock = field(default_factory=threading.RLock)

    def __post_init__(self) -> None:
        for disk in (*self.available, *([self.in_use] if self.in_use else [])):
            self._disks.setdefault(disk, _Disk(disk))

    # -- what Target.create asks -----------------------------------------------------------------------
    def before_create(self, target: Target, body: object, raw: bytes | None) -> object:
        """Make room for a create of ``body`` (or ``raw``) and return the body to send (its disk may change).

        Raises ``NotSent`` (``CapReached``, ``DeadlineReached``) when the create cannot go within the rules.
        """
        disk = disk_named(self.contract, body, raw)
        if disk is None or disk not in self._disks or not self.rules.active:
            return body
        with self._lock:
            if raw is None and disk in self.available and len(self.available) > 1:
                disk = self._pick()
                body = with_disk(self.contract, body, disk)
            self._prune(target)
            self._make_room(target, disk)
            self._disks[disk].last_create = self.clock()
            self._disks[disk].picked += 1
        return body

    def after_create(self, target: Target, record: CreateRecord) -> None:
        """Track the snapshot an accepted create made in the project, whatever disk it named: one made of a
        disk the run does not know (a target that should have refused it) still counts against the quota,
        and may be what keeps a disk busy."""
        if record.outcome != ACCEPTED or record.snapshot_id is None or record.path != target.collection_path:
            return
        with self._lock:
            self.snapshots[record.snapshot_id] = Tracked(record.snapshot_id, record.disk or "", self.clock())

    # -- what the run asks ----------------------------------------------------------------------------
    @contextlib.contextmanager
    def keep(self, snapshot_id: str) -> Iterator[None]:
        """Leave ``snapshot_id`` alone (no deletion) while a test still uses it."""
        with self._lock:
            self._held[snapshot_id] = self._held.get(snapshot_id, 0) + 1
        try:
            yield
        finally:
            with self._lock:
                self._held[snapshot_id] -= 1
                if not self._held[snapshot_id]:
                    del self._held[snapshot_id]

    def pending(self, target: Target) -> list[Tracked]:
        """The run's snapshots that may still be there (being created, settled, being deleted)."""
        with self._lock:
            self._prune(target)
            return [s for s in self.snapshots.values() if s.state in _LIVE]

    def make_idle(self, target: Target) -> str | None:
        """Settle and delete every snapshot of the run not held by a test, and see each gone.

        Returns None when nothing of the run is left, else why something is (stuck, or not deletable).
        Without reads and deletes, waits until ``settle_time_s`` has passed since the run's last create, and
        returns None: the run can do no more.
        """
        with self._lock:
            self._prune(target)
            if not self.rules.lifecycle:
                self._pause_until(max(d.last_create for d in self._disks.values()) + self.rules.settle_time_s)
                return None
            for snapshot in list(self.snapshots.values()):
                if snapshot.state in ("creating", "settled", "deleting") and snapshot.id not in self._held:
                    self._remove(target, snapshot)
            left = [s for s in self.snapshots.values() if s.state in _LIVE]
            if not left:
                return None
            shown = "; ".join(f"{s.id} {s.state}{f' ({s.note})' if s.note else ''}" for s in left[:3])
            more = f" and {len(left) - 3} more" if len(left) > 3 else ""
            return f"{len(left)} snapshot(s) of the run are still there: {shown}{more}"

    # -- the rules ------------------------------------------------------------------------------------
    def _pick(self) -> str:
        """The available disk that is free soonest: none being created, fewest live, least used."""

        def load(disk: str) -> tuple[int, int, int]:
            on = [s for s in self.snapshots.values() if s.disk == disk and s.state in _LIVE]
            creating = sum(1 for s in on if s.state == "creating")
            return creating, len(on), self._disks[disk].picked

        return min(self.available, key=load)

    def _make_room(self, target: Target, disk: str) -> None:
        rules = self.rules
        if not rules.lifecycle:
            self._check_caps_without_deletes(disk)
            return
        if rules.creating_per_disk is not None:
            while True:
                creating = self._on(disk, "creating")
                if len(creating) < rules.creating_per_disk:
                    break
                self._await_settled(target, creating[0])
        # Deleting as the run goes keeps it far from every cap; the deletions run while the next one settles.
        for snapshot in list(self.snapshots.values()):
            if snapshot.state == "settled" and snapshot.id not in self._held:
                self._start_delete(target, snapshot)
        while True:
            over = self._over_cap(disk)
            if over is None:
                return
            scope, cap = over
            victim = self._victim(scope)
            if victim is None:
                flag = "--snapshots-per-disk" if scope is not None else "--snapshots-per-project"
                where = f"disk {scope}" if scope is not None else "the project"
                raise CapReached(
                    f"the run's live snapshots on {where} reached {cap} ({flag}) and none of them can be "
                    f"deleted: {self._described(scope)}"
                )
            self._remove(target, victim)

    def _over_cap(self, disk: str) -> tuple[str | None, int] | None:
        """Which cap a create on ``disk`` would pass: (the disk, or None for the project; the cap)."""
        rules = self.rules
        live = [s for s in self.snapshots.values() if s.state in _LIVE]
        on_disk = sum(1 for s in live if s.disk == disk)
        if rules.snapshots_per_disk is not None and on_disk >= rules.snapshots_per_disk:
            return disk, rules.snapshots_per_disk
        if rules.snapshots_per_project is not None and len(live) >= rules.snapshots_per_project:
            return None, rules.snapshots_per_project
        return None

    def _victim(self, disk: str | None) -> Tracked | None:
        """The snapshot whose going frees room soonest: one being deleted, then settled, then creating."""
        order: tuple[State, ...] = ("deleting", "settled", "creating")
        candidates = [
            s
            for s in self.snapshots.values()
            if s.state in order and (disk is None or s.disk == disk) and s.id not in self._held
        ]
        if not candidates:
            return None
        return min(candidates, key=lambda s: (order.index(s.state), s.created_at))

    def _check_caps_without_deletes(self, disk: str) -> None:
        over = self._over_cap(disk)
        if over is not None:
            scope, cap = over
            where = f"disk {scope}" if scope is not None else "the project"
            raise CapReached(
                f"the run made {cap} snapshot(s) on {where}, its cap, and cannot delete any without "
                "reads and deletes (--no-lifecycle)"
            )

    def _on(self, disk: str, state: State) -> list[Tracked]:
        found = [s for s in self.snapshots.values() if s.disk == disk and s.state == state]
        return sorted(found, key=lambda s: s.created_at)

    def _described(self, disk: str | None) -> str:
        found = [s for s in self.snapshots.values() if s.state in _LIVE and (disk is None or s.disk == disk)]
        return "; ".join(f"{s.id} {s.state}{f' ({s.note})' if s.note else ''}" for s in found[:3]) or "none"

    # -- waiting on the target ------------------------------------------------------------------------
    def _remove(self, target: Target, snapshot: Tracked) -> None:
        """Settle (if need be), delete and see gone one snapshot; its state says how far that went."""
        if snapshot.state == "creating":
            self._await_settled(target, snapshot)
        if snapshot.state == "settled":
            self._start_delete(target, snapshot)
        if snapshot.state == "deleting":
            self._await_gone(target, snapshot)

    def _await_settled(self, target: Target, snapshot: Tracked) -> None:
        start = self.contract.snapshot_statuses[0]
        last = self._wait(
            target, snapshot, lambda e: not _readable(e) or status_of(e, self.contract) != start
        )
        if _gone(last):
            snapshot.state, snapshot.note = "gone", "read 404 before the run deleted it"
        elif not _readable(last):
            # A snapshot the run cannot read cannot be waited for: waiting again would only repeat the wait.
            snapshot.state, snapshot.note = "stuck", f"cannot be read: {_answer(last)}"
        elif status_of(last, self.contract) == start:
            snapshot.state = "stuck"
            snapshot.note = f"still {start} after {self.rules.settle_timeout_s:g} s"
        else:
            snapshot.state = "settled"

    def _start_delete(self, target: Target, snapshot: Tracked) -> None:
        delete = target.delete_snapshot(snapshot.id)
        response = delete.response
        if response is not None and response.status < HTTPStatus.MULTIPLE_CHOICES:
            snapshot.state = "deleting"
        elif response is not None and response.status == HTTPStatus.NOT_FOUND:
            snapshot.state, snapshot.note = "gone", "DELETE answered 404"
        elif limit_refusal(delete) is not None and snapshot.early_deletes < EARLY_DELETES:
            # Still being made after all (a read that lagged behind): wait for it again before the next try.
            snapshot.early_deletes += 1
            snapshot.state = "creating"
        else:
            snapshot.state, snapshot.note = "undeletable", f"DELETE refused: {_answer(delete)}"

    def _await_gone(self, target: Target, snapshot: Tracked) -> None:
        last = self._wait(target, snapshot, lambda e: not _readable(e))
        if _gone(last):
            snapshot.state = "gone"
        elif _readable(last):
            snapshot.state = "undeletable"
            snapshot.note = f"still there {self.rules.settle_timeout_s:g} s after its DELETE was accepted"
        else:
            snapshot.state, snapshot.note = "undeletable", f"cannot be read: {_answer(last)}"

    def _wait(self, target: Target, snapshot: Tracked, until: Callable[[Exchange], bool]) -> Exchange:
        """Read ``snapshot`` until ``until`` holds or the settle timeout passes; the last read."""
        waited = wait_for(
            lambda: target.get_snapshot(snapshot.id),
            until,
            timeout_s=self.rules.settle_timeout_s,
            clock=self.clock,
            sleep=self.sleep,
        )
        return waited.last

    def _pause_until(self, due: float) -> None:
        """Without reads: wait until ``due`` (the run's last create and the settle time)."""
        pause = due - self.clock()
        if pause > 0:
            self.sleep(pause)

    def _prune(self, target: Target) -> None:
        """Forget snapshots the target has seen gone (a test deleted them, or cleanup did)."""
        alive = set(target.created_ids)
        for snapshot in self.snapshots.values():
            if snapshot.state in _LIVE and snapshot.id not in alive:
                snapshot.state = "gone"


def _readable(exchange: Exchange) -> bool:
    response = exchange.response
    return response is not None and HTTPStatus.OK <= response.status < HTTPStatus.MULTIPLE_CHOICES


def _gone(exchange: Exchange) -> bool:
    return exchange.response is not None and exchange.response.status == HTTPStatus.NOT_FOUND


def _answer(exchange: Exchange) -> str:
    if exchange.response is None:
        return str(exchange.error)
    body = " ".join(exchange.response.body[:120].decode("utf-8", "replace").split())
    return f"{exchange.response.status} {body}".strip()


def disk_named(contract: Contract, body: object, raw: bytes | None) -> str | None:
    """The disk a create names: the body's ``volume_id``, or that of the JSON value ``raw`` starts with."""
    if raw is not None:
        try:
            body, _ = json.JSONDecoder().raw_decode(raw.decode("utf-8").lstrip())
        except (UnicodeDecodeError, ValueError, RecursionError):
            # Not JSON a reader can use (nesting deeper than the parser's stack included): no disk named.
            return None
    if body is NO_BODY or not isinstance(body, Mapping):
        return None
    snapshot = body.get(contract.snapshot_key)
    disk = snapshot.get("volume_id") if isinstance(snapshot, Mapping) else None
    return disk if isinstance(disk, str) else None


def with_disk(contract: Contract, body: object, disk: str) -> JSON:
    """``body`` naming ``disk`` instead of the disk it named."""
    assert isinstance(body, Mapping)
    key = contract.snapshot_key
    return {**body, key: {**body[key], "volume_id": disk}}


__all__ = [
    "CapReached",
    "CreateScheduler",
    "DiskRules",
    "Tracked",
    "disk_named",
    "with_disk",
]
