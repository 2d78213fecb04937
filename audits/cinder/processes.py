"""The audit's child processes: each started marked and in a session of its own, and a sweep for any left.

Every process the audit starts carries one environment variable whose value is unique to the run, and so
does everything those processes start in turn (RabbitMQ's ``epmd``, Erlang port programs, Cinder's
workers), even a daemon that left its parent's session. ``RunMarker.processes`` finds them by reading
``/proc/<pid>/environ``; nothing is matched by name. A program that writes its process titles over its
environment (PostgreSQL's workers do) is given the run's ``title`` to show in them instead.

Example::

    marker = RunMarker()
    broker = ChildProcess("rabbitmq", ["rabbitmq-server"], log, marker.environ(env), cwd=state)
    ...
    broker.stop()
    assert marker.processes() == []
"""

from __future__ import annotations

import contextlib
import os
import secrets
import signal
import socket
import subprocess
import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

MARKER_VARIABLE = "EVS_CONFORMANCE_AUDIT_RUN"
PROC = Path("/proc")


@dataclass(frozen=True)
class LeftProcess:
    """A marked process still alive: its ID and command line."""

    pid: int
    command: str

    def describe(self) -> str:
        return f"pid {self.pid}: {self.command}"


class RunMarker:
    """The environment mark of one audit run, and the processes that carry it."""

    def __init__(self, value: str | None = None, proc: Path = PROC) -> None:
        self.value = value or secrets.token_hex(8)
        self._needle = f"{MARKER_VARIABLE}={self.value}".encode()
        self._proc = proc

    @property
    def title(self) -> str:
        """The mark as a process shows it in its command line when its environment is overwritten."""
        return f"evs-audit-run-{self.value}"

    def environ(self, base: Mapping[str, str]) -> dict[str, str]:
        """``base`` with this run's mark added."""
        return {**base, MARKER_VARIABLE: self.value}

    def processes(self) -> list[LeftProcess]:
        """Every live process with the mark in its environment or title (zombies have neither)."""
        found = []
        title = self.title.encode()
        for entry in self._proc.iterdir():
            if not entry.name.isdigit() or int(entry.name) == os.getpid():
                continue
            try:
                command = (entry / "cmdline").read_bytes()
                if title not in command and self._needle not in (entry / "environ").read_bytes().split(b"\0"):
                    continue
            except OSError:
                # Gone meanwhile, or not ours to read (another user's process cannot carry our mark).
                continue
            found.append(
                LeftProcess(int(entry.name), command.replace(b"\0", b" ").decode(errors="replace").strip())
            )
        return found

    def sweep(self, grace_s: float = 5.0) -> list[LeftProcess]:
        """End every marked process, each by its ID (TERM, then KILL); returns those that were found."""
        left = self.processes()
        for process in left:
            _signal(process.pid, signal.SIGTERM)
        deadline = time.monotonic() + grace_s
        while time.monotonic() < deadline and self.processes():
            time.sleep(0.1)
        for process in self.processes():
            _signal(process.pid, signal.SIGKILL)
        return left


@dataclass(frozen=True)
class Account:
    """An unprivileged system account a child runs as, with its primary group and no other."""

    name: str
    uid: int
    gid: int


class ChildProcess:
    """A command run in a session of its own with its output in a log, stopped with its process group."""

    def __init__(
        self,
        name: str,
        command: Sequence[str],
        log: Path,
        env: Mapping[str, str],
        cwd: Path | None = None,
        account: Account | None = None,
    ) -> None:
        self.name = name
        self.log = log
        self._out = log.open("a", encoding="utf-8")
        try:
            self.process = subprocess.Popen(
                list(command),
                stdout=self._out,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                env=dict(env),
                cwd=cwd,
                # Its own session: a Ctrl-C at the terminal reaches the harness only, which then stops
                # the children in order; and the group ID names every worker the child forks.
                start_new_session=True,
                user=None if account is None else account.uid,
                group=None if account is None else account.gid,
                extra_groups=None if account is None else [],
            )
        except OSError:
            self._out.close()
            raise

    @property
    def pid(self) -> int:
        return self.process.pid

    def exited(self) -> int | None:
        """The exit code if the process has ended, else None."""
        return self.process.poll()

    def stop(self, grace_s: float = 15.0, ask: signal.Signals | None = None) -> None:
        """Stop the group: SIGTERM to all, or ``ask`` to a child that stops its own workers; then KILL."""
        try:
            if self.process.poll() is None:
                if ask is None:
                    _signal_group(self.process.pid, signal.SIGTERM)
                else:
                    _signal(self.process.pid, ask)
                with contextlib.suppress(subprocess.TimeoutExpired):
                    self.process.wait(timeout=grace_s)
            # Workers forked by the child may outlive it; the group still names them.
            _signal_group(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=grace_s)
        finally:
            self._out.close()


def free_port(host: str = "127.0.0.1") -> int:
    """A TCP port free on ``host`` now, for a child to listen on."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


def read_exactly(sock: socket.socket, size: int) -> bytes:
    """``size`` bytes from ``sock``; ConnectionError when the peer closes first (probing a child's port)."""
    data = b""
    while len(data) < size:
        chunk = sock.recv(size - len(data))
        if not chunk:
            raise ConnectionError(f"the server closed the connection after {len(data)} of {size} bytes")
        data += chunk
    return data


@contextlib.contextmanager
def signals_held(reraise: bool = True) -> Iterator[None]:
    """Hold Ctrl-C and SIGTERM while cleanup runs, so one cannot cut it short; raised after if ``reraise``."""
    received: list[int] = []

    def remember(signum: int, frame: object) -> None:
        received.append(signum)

    previous = {sig: signal.signal(sig, remember) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    if received and reraise:
        raise KeyboardInterrupt


def _signal(pid: int, sig: signal.Signals) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.kill(pid, sig)


def _signal_group(pgid: int, sig: signal.Signals) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, sig)
