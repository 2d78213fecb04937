"""The record of every create a run sends, written as it goes so that nothing is lost if the process dies.

Each POST to the create operation is written (and flushed to disk) before it is sent, and its outcome once
known: accepted with an ID, accepted without a usable ID, outcome unknown (no answer, a timeout, a reset, a
5xx: the target may have acted), or refused. The first read that shows a snapshot is written (a snapshot once
shown and now read 404 is gone; one never shown proves nothing by a 404), and so are deletions the run (or
``evs-conformance cleanup``) saw through, so cleanup after a crash knows what is left. Every process of a
run appends to the same file, one JSON object a line; ``read_journal`` merges them.

Example::

    journal = Journal(reports / JOURNAL, run={"base_url": url, "project_id": p})
    entry = journal.sent(path="/v2/p/snapshots", disk="disk-a", test="test_x")
    journal.answered(entry, ACCEPTED, snapshot_id="9b1...", status=202)
    journal.gone("9b1...", how="deleted by the run")
    left = read_journal(reports / JOURNAL).outstanding()
"""

from __future__ import annotations

import json
import os
import threading
import time
import uuid
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

from conformance.core.errors import UsageError

JOURNAL: Final = "creates.jsonl"
ACCEPTED, ACCEPTED_NO_ID, UNKNOWN, REFUSED = "accepted", "accepted-no-id", "unknown", "refused"
OUTCOMES: Final = (ACCEPTED, ACCEPTED_NO_ID, UNKNOWN, REFUSED)
#: Longer than any snapshot ID a cloud hands out; a longer one is not used in a URL or shown whole.
MAX_ID_LENGTH: Final = 255
#: A journal is a few kilobytes a run; one far larger is not ours and is not read whole.
MAX_JOURNAL_BYTES: Final = 64 << 20


def usable_id(value: Any) -> str | None:
    """``value`` when it can name a snapshot in a URL and a report (a short printable string), else None."""
    if not isinstance(value, str) or not 0 < len(value) <= MAX_ID_LENGTH:
        return None
    return value if value.isprintable() and "/" not in value else None


def shown_id(value: Any) -> str:
    """A bounded, printable rendering of an ID a target gave, usable or not."""
    text = value if isinstance(value, str) else json.dumps(value, default=str)[:80]
    text = text.encode("unicode_escape").decode("ascii") if not text.isprintable() else text
    return text if len(text) <= 80 else f"{text[:40]}…({len(text)} characters)"


class Journal:
    """Appends a run's creates to a file shared by its processes; each line flushed and synced to disk."""

    def __init__(self, path: Path, *, run: Mapping[str, Any] | None = None, process: str = "main") -> None:
        self.path = path
        self.process = process
        self._lock = threading.Lock()
        self._seq = 0
        path.parent.mkdir(parents=True, exist_ok=True)
        # O_APPEND: lines from several processes land whole, one after the other.
        self._fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        if run is not None:
            self._write({"e": "run", "at": time.time(), **run})

    def sent(self, *, path: str, disk: str | None, test: str) -> str:
        """Record a create about to be sent; returns its entry key for ``answered``."""
        with self._lock:
            self._seq += 1
            key = f"{self.process}-{self._seq}-{uuid.uuid4().hex[:6]}"
        self._write({"e": "sent", "key": key, "path": path, "disk": disk, "test": test, "at": time.time()})
        return key

    def answered(
        self,
        key: str,
        outcome: str,
        *,
        snapshot_id: str | None = None,
        status: int | None = None,
        detail: str = "",
    ) -> None:
        """Record what came of a create."""
        assert outcome in OUTCOMES, outcome
        self._write(
            {
                "e": "answer",
                "key": key,
                "outcome": outcome,
                "id": snapshot_id,
                "status": status,
                "detail": detail,
            }
        )

    def seen(self, snapshot_id: str) -> None:
        """Record that a read showed a snapshot (once is enough: a later 404 then means it is gone)."""
        self._write({"e": "seen", "id": snapshot_id, "at": time.time()})

    def gone(self, snapshot_id: str, *, how: str) -> None:
        """Record that a snapshot was seen gone (after a DELETE, or already)."""
        self._write({"e": "gone", "id": snapshot_id, "how": how, "at": time.time()})

    def acknowledged(self, key: str) -> None:
        """Record that the user has dealt with a create whose snapshot has no known ID."""
        self._write({"e": "ack", "key": key, "at": time.time()})

    def close(self) -> None:
        with self._lock:
            if self._fd >= 0:
                os.close(self._fd)
                self._fd = -1

    def _write(self, line: Mapping[str, Any]) -> None:
        data = (json.dumps(line, ensure_ascii=True, default=str) + "\n").encode("ascii")
        with self._lock:
            if self._fd < 0:
                return
            os.write(self._fd, data)
            # A run may be killed at any moment: what was sent must be on disk before the next step.
            os.fsync(self._fd)


@dataclass
class CreateRecord:
    """One create as the journal tells it."""

    key: str
    path: str
    disk: str | None
    test: str
    sent_at: float
    outcome: str = UNKNOWN
    snapshot_id: str | None = None
    status: int | None = None
    detail: str = "no answer was recorded (the process stopped while it waited)"
    gone: str | None = None
    #: Whether a read showed the snapshot.
    seen: bool = False

    @property
    def needs_cleanup(self) -> bool:
        return self.outcome in (ACCEPTED, ACCEPTED_NO_ID, UNKNOWN) and self.gone is None

    def describe(self) -> str:
        """One line: what is known of this create and why it may still exist."""
        where = f"disk {self.disk}" if self.disk else "no disk named"
        when = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(self.sent_at))
        if self.outcome == ACCEPTED:
            return f"snapshot {self.snapshot_id} ({where}, created {when} by {self.test or 'the run'})"
        what = (
            "accepted, but its ID could not be read" if self.outcome == ACCEPTED_NO_ID else "outcome unknown"
        )
        return f"a create of {when} ({where}, {self.test or 'the run'}): {what}: {self.detail}"


@dataclass
class JournalView:
    """A journal read back: the run it belongs to, and every create in the order sent."""

    run: dict[str, Any] = field(default_factory=dict)
    creates: list[CreateRecord] = field(default_factory=list)

    def outstanding(self) -> list[CreateRecord]:
        """Creates that may have left a snapshot behind and were not seen gone."""
        return [record for record in self.creates if record.needs_cleanup]

    def counts(self) -> dict[str, int]:
        found = {outcome: 0 for outcome in OUTCOMES}
        for record in self.creates:
            found[record.outcome] += 1
        return found


def settle_previous_journal(path: Path) -> None:
    """Make way for a new run's journal: remove an earlier one that leaves nothing behind; refuse otherwise.

    An earlier run against a real target whose snapshots were not all seen gone keeps its journal: it is the
    only list of them. Raises UsageError saying how to proceed.
    """
    if not path.exists():
        return
    try:
        view = read_journal(path)
    except (OSError, ValueError) as exc:
        raise UsageError(f"{path}: an earlier run's journal cannot be read ({exc}); move it away") from None
    outstanding = [] if view.run.get("embedded_mock") else view.outstanding()
    if outstanding:
        raise UsageError(
            f"{path} lists {len(outstanding)} create(s) of an earlier run against {view.run.get('base_url')} "
            f"that were not seen gone: run `evs-conformance cleanup {path.parent}` first, or choose another "
            "reports folder"
        )
    path.unlink()


def _lines(path: Path) -> Iterator[dict[str, Any]]:
    if path.stat().st_size > MAX_JOURNAL_BYTES:
        raise ValueError(f"{path} is larger than {MAX_JOURNAL_BYTES >> 20} MiB: not a journal of this tool")
    with path.open("rb") as handle:
        for raw in handle:
            try:
                line = json.loads(raw)
            except (ValueError, RecursionError):
                continue  # a line cut short when the process died
            if isinstance(line, dict):
                yield line


def read_journal(path: Path) -> JournalView:
    """Every create of a journal file with its outcome and whether it was seen gone."""
    view = JournalView()
    by_key: dict[str, CreateRecord] = {}
    gone: dict[str, str] = {}
    seen: set[str] = set()
    for line in _lines(path):
        kind = line.get("e")
        if kind == "run" and not view.run:
            view.run = {k: v for k, v in line.items() if k not in ("e", "at")}
        elif kind == "sent":
            record = CreateRecord(
                key=str(line.get("key")),
                path=str(line.get("path", "")),
                disk=line.get("disk"),
                test=str(line.get("test", "")),
                sent_at=float(line.get("at", 0.0)),
            )
            by_key[record.key] = record
            view.creates.append(record)
        elif kind == "answer" and line.get("key") in by_key:
            record = by_key[str(line["key"])]
            record.outcome = str(line.get("outcome", UNKNOWN))
            record.snapshot_id = line.get("id")
            record.status = line.get("status")
            record.detail = str(line.get("detail", ""))
        elif kind == "gone" and line.get("id"):
            gone[str(line["id"])] = str(line.get("how", "gone"))
        elif kind == "seen" and line.get("id"):
            seen.add(str(line["id"]))
        elif kind == "ack" and line.get("key") in by_key:
            by_key[str(line["key"])].gone = "acknowledged by the user (evs-conformance cleanup)"
    for record in view.creates:
        record.seen = record.snapshot_id is not None and record.snapshot_id in seen
        if record.gone is not None:
            continue
        if record.snapshot_id is not None and record.snapshot_id in gone:
            record.gone = gone[record.snapshot_id]
        elif record.outcome == REFUSED:
            record.gone = "refused"
    return view
