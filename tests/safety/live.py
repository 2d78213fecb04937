"""A real ``evs-conformance run`` in a child process of its own session, watched while it runs and signalled.

Example::

    with serve_in_thread(MockConfig(settle_seconds=2)) as mock:
        run = LiveRun.start(mock, tmp_path / "reports")
        run.wait_for_creates(1)
        run.signal(signal.SIGINT)
        assert run.finish() == 130
        assert snapshots_on(mock) == []
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any, Protocol

import httpx

from conformance.run.journal import JOURNAL, read_journal
from tests.runs import SECRET_VARIABLES, Endpoint
from tests.targets.misbehaving import Misbehaving

#: Long enough for a run on a busy 2-core machine to reach any point it is waited for.
WAIT_S = 90.0


class Mock(Endpoint, Protocol):
    """An endpoint whose snapshots can be listed (the reference mock)."""

    @property
    def token(self) -> str: ...
    @property
    def api_url(self) -> str: ...


def snapshots_on(mock: Mock) -> list[str]:
    """The IDs of every snapshot the mock holds, listed over HTTP."""
    answer = httpx.get(f"{mock.api_url}/snapshots", headers={"X-Auth-Token": mock.token}, timeout=10)
    answer.raise_for_status()
    return [str(s["id"]) for s in answer.json()["snapshots"]]


def run_env(token: str, extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """This process's environment without its secrets, with the run's token (never on a command line)."""
    clean = {k: v for k, v in os.environ.items() if k not in SECRET_VARIABLES and k != "PYTEST_ADDOPTS"}
    return {**clean, "EVS_TOKEN": token, **(extra or {})}


def descendants(pid: int) -> set[int]:
    """Every process below ``pid`` (children, their children, ...), from /proc."""
    found: set[int] = set()
    todo = [pid]
    while todo:
        parent = todo.pop()
        for task in Path(f"/proc/{parent}/task").glob("*"):
            try:
                children = {int(c) for c in (task / "children").read_text().split()}
            except OSError:
                continue
            todo += sorted(children - found)
            found |= children
    return found


def alive(pid: int) -> bool:
    """Whether ``pid`` is a running process (a zombie waiting to be reaped counts as gone)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return state != "Z"


@dataclass(frozen=True)
class Front:
    """A loopback server in front of the mock, named with the mock's project and disks (a run's target)."""

    base_url: str
    project_id: str
    available_volume_id: str
    in_use_volume_id: str

    @classmethod
    def of(cls, server: Misbehaving, mock: Endpoint) -> Front:
        return cls(server.base_url, mock.project_id, mock.available_volume_id, mock.in_use_volume_id)


class LiveRun:
    """A run started in its own session; its output is collected as it comes."""

    def __init__(self, process: subprocess.Popen[str], reports: Path) -> None:
        self.process = process
        self.reports = reports
        self.started = time.monotonic()
        self.stdout: list[str] = []
        self.stderr: list[str] = []
        self._readers = [
            threading.Thread(target=_collect, args=(process.stdout, self.stdout), daemon=True),
            threading.Thread(target=_collect, args=(process.stderr, self.stderr), daemon=True),
        ]
        for reader in self._readers:
            reader.start()

    @classmethod
    def start(
        cls, server: Endpoint | None, reports: Path, *extra: str, token: str, examples: int = 3
    ) -> LiveRun:
        """Start a run against ``server`` with its disks, or against the embedded mock when it is None."""
        argv = [
            sys.executable,
            "-m",
            "conformance",
            "run",
            "--reports",
            str(reports),
            "--examples",
            str(examples),
        ]
        if server is not None:
            argv += [
                "--base-url", server.base_url,
                "--project-id", server.project_id,
                "--volume-id", server.available_volume_id,
                "--in-use-volume-id", server.in_use_volume_id,
            ]  # fmt: skip
        process = subprocess.Popen(
            [*argv, *extra],
            env=run_env(token),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            start_new_session=True,
        )
        return cls(process, reports)

    # -- watching -----------------------------------------------------------------------------------
    def journal(self) -> list[dict[str, Any]]:
        path = self.reports / JOURNAL
        if not path.is_file():
            return []
        lines = []
        for raw in path.read_text(errors="replace").splitlines():
            try:
                lines.append(json.loads(raw))
            except ValueError:
                continue  # a line being written
        return lines

    def accepted(self) -> int:
        return sum(1 for line in self.journal() if line.get("outcome") == "accepted")

    def unnamed_creates(self) -> int:
        """Creates the journal lists without an ID: in flight when their process was killed."""
        return sum(1 for r in read_journal(self.reports / JOURNAL).outstanding() if r.snapshot_id is None)

    def wait_until(self, condition: Callable[[], bool], what: str, timeout_s: float = WAIT_S) -> None:
        give_up_at = time.monotonic() + timeout_s
        while not condition():
            if self.process.poll() is not None:
                raise AssertionError(f"the run ended before {what}: {self.output()[-3000:]}")
            if time.monotonic() > give_up_at:
                raise AssertionError(f"the run did not reach {what} in {timeout_s:g} s")
            time.sleep(0.05)

    def wait_for_creates(self, count: int) -> None:
        self.wait_until(lambda: self.accepted() >= count, f"{count} accepted creates")

    def wait_for_output(self, text: str) -> None:
        self.wait_until(lambda: text in "".join(self.stderr), f"printing {text!r}")

    def output(self) -> str:
        return "".join(self.stdout) + "".join(self.stderr)

    def children(self) -> set[int]:
        return descendants(self.process.pid)

    # -- stopping -----------------------------------------------------------------------------------
    def signal(self, sent: signal.Signals, *, group: bool = False) -> None:
        if group:
            os.killpg(self.process.pid, sent)
        else:
            self.process.send_signal(sent)

    def finish(self, timeout_s: float = WAIT_S) -> int:
        """Wait for the run to end (killing its session if it does not); its exit code."""
        try:
            code = self.process.wait(timeout=timeout_s)
        except subprocess.TimeoutExpired:
            self.kill_session()
            raise AssertionError(f"the run did not end within {timeout_s:g} s") from None
        for reader in self._readers:
            reader.join(timeout=10)
        return code

    def kill_session(self) -> None:
        """Leave nothing running: kill every process of the run's session."""
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=30)

    def report(self) -> dict[str, Any]:
        loaded: dict[str, Any] = json.loads((self.reports / "conformance.json").read_text())
        return loaded


def _collect(stream: IO[str] | None, into: list[str]) -> None:
    assert stream is not None
    for line in stream:
        into.append(line)


def cleanup_command(reports: Path, token: str, *extra: str) -> subprocess.CompletedProcess[str]:
    """``evs-conformance cleanup REPORTS``: what a user runs after a run that was killed."""
    argv = [sys.executable, "-m", "conformance", "cleanup", str(reports), *extra]
    return subprocess.run(argv, env=run_env(token), capture_output=True, text=True, timeout=WAIT_S)


def assert_every_snapshot_named(on_target: Collection[str], listed: Collection[str]) -> None:
    """Each snapshot left on the target is listed by its ID, or is one of the creates listed without one (a
    create in flight when its process was killed: the target acted, the journal could not learn the ID)."""
    unnamed = sum(1 for entry in listed if entry.startswith("(no ID"))
    missing = set(on_target) - set(listed)
    assert len(missing) <= unnamed, f"left on the target and listed nowhere: {sorted(missing)}"
