"""Running the mock on loopback: a seeded backend, uvicorn in a thread or a child process, until stopped.

Example::

    with serve_in_thread(MockConfig(profile="cinder")) as mock:
        httpx.post(f"{mock.api_url}/snapshots", headers={"X-Auth-Token": mock.token},
                   json={"snapshot": {"volume_id": mock.available_volume_id}})
"""

from __future__ import annotations

import contextlib
import json
import os
import selectors
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from types import FrameType
from typing import Any

import uvicorn

from conformance.contract import PROFILES, Contract, load_contract
from conformance.core.errors import TargetError, UsageError
from conformance.mock.app import MockApp
from conformance.mock.config import MockConfig, VolumeSeed
from conformance.mock.models import AVAILABLE, IN_USE, SnapshotBackend

__all__ = [
    "MockConfig",
    "RunningMock",
    "VolumeSeed",
    "build_backend",
    "ready_line",
    "serve_in_subprocess",
    "serve_in_thread",
    "serve_until_stopped",
]

_READY_TIMEOUT = 20.0


@dataclass(frozen=True)
class RunningMock:
    """A mock that is serving: where it is, what it was seeded with, and (in-process only) its backend."""

    base_url: str
    config: MockConfig
    api_prefix: str
    backend: SnapshotBackend | None = None

    @property
    def project_id(self) -> str:
        return self.config.project_id

    @property
    def token(self) -> str:
        return self.config.token

    @property
    def api_url(self) -> str:
        """The project's root, e.g. ``http://127.0.0.1:8000/v2/<project_id>``."""
        return f"{self.base_url}{self.api_prefix}/{self.project_id}"

    @property
    def available_volume_id(self) -> str:
        return self._first_volume(AVAILABLE)

    @property
    def in_use_volume_id(self) -> str:
        return self._first_volume(IN_USE)

    def _first_volume(self, status: str) -> str:
        for volume in self.config.volumes:
            if volume.status == status:
                return volume.id
        raise UsageError(f"the mock was seeded with no {status} disk")


def mock_contract(config: MockConfig) -> Contract:
    if config.profile not in PROFILES:
        raise UsageError(f"unknown profile {config.profile!r} (choose from {', '.join(PROFILES)})")
    return load_contract(config.profile, api_prefix=config.api_prefix)


def build_backend(config: MockConfig) -> SnapshotBackend:
    """A backend seeded from ``config``: one project with its disks, token and users."""
    backend = SnapshotBackend(
        mock_contract(config),
        seed=config.seed,
        settle_seconds=config.settle_in_force(),
        delete_seconds=config.delete_in_force(),
        time_scale=config.time_scale,
        limits=config.limits_in_force(),
        quirks=config.quirks,
    )
    backend.token_ttl_s = config.token_ttl_s
    backend.add_project(config.project_id)
    for volume in config.volumes:
        backend.add_volume(config.project_id, volume.id, volume.status, volume.size_gib)
    backend.add_token(config.token, config.project_id)
    for name, password in config.users:
        backend.add_user(name, password, config.project_id)
    return backend


def _listen(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        raise UsageError(f"cannot listen on {host} port {port}: {exc.strerror or exc}") from exc
    return sock


def _base_url(sock: socket.socket) -> str:
    host, port = sock.getsockname()[:2]
    shown = f"[{host}]" if ":" in host else host
    return f"http://{shown}:{port}"


@contextlib.contextmanager
def serve_in_thread(config: MockConfig) -> Iterator[RunningMock]:
    """Serve the mock from a background thread of this process until the block ends."""
    backend = build_backend(config)
    app = MockApp(backend, max_body_bytes=config.max_body_bytes)
    sock = _listen(config.host, config.port)
    server = uvicorn.Server(
        uvicorn.Config(
            app.asgi, lifespan="off", log_config=None, access_log=False, timeout_graceful_shutdown=2
        )
    )
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, name="evs-mock", daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + _READY_TIMEOUT
        while not server.started:
            if not thread.is_alive() or time.monotonic() > deadline:
                raise TargetError(f"the mock server did not start on {config.host} port {config.port}")
            time.sleep(0.01)
        yield RunningMock(_base_url(sock), config, backend.contract.api_prefix, backend)
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()


@contextlib.contextmanager
def serve_in_subprocess(config: MockConfig) -> Iterator[RunningMock]:
    """Serve the mock from a ``python -m conformance.mock`` child process, stopped when the block ends."""
    mock_contract(config)
    with tempfile.TemporaryFile() as errors:
        child = subprocess.Popen(
            [sys.executable, "-m", "conformance.mock", json.dumps(config.to_json())],
            stdout=subprocess.PIPE,
            stderr=errors,
            # Never written: the child stops when it closes, so a parent killed outright leaves no mock.
            stdin=subprocess.PIPE,
        )
        try:
            ready = _ready_line(child)
            if ready is None:
                errors.seek(0)
                lines = errors.read().decode("utf-8", "replace").strip().splitlines()
                raise TargetError(
                    f"the mock child process did not start: {lines[-1] if lines else 'no output'}"
                )
            yield RunningMock(ready["base_url"], config, ready["api_prefix"])
        finally:
            _stop(child)


def _ready_line(child: subprocess.Popen[bytes]) -> dict[str, Any] | None:
    assert child.stdout is not None
    with selectors.DefaultSelector() as selector:
        selector.register(child.stdout, selectors.EVENT_READ)
        if not selector.select(timeout=_READY_TIMEOUT):
            return None
    line = child.stdout.readline()
    try:
        ready = json.loads(line)
    except ValueError:
        return None
    return ready if isinstance(ready, dict) and "base_url" in ready else None


def _stop(child: subprocess.Popen[bytes]) -> None:
    if child.stdin is not None:
        child.stdin.close()
    if child.poll() is None:
        child.send_signal(signal.SIGTERM)
        try:
            child.wait(timeout=10)
        except subprocess.TimeoutExpired:
            child.kill()
            child.wait()
    if child.stdout is not None:
        child.stdout.close()


def _stop_on_sigterm(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt


def serve_until_stopped(config: MockConfig, announce: Callable[[RunningMock], None]) -> None:
    """Serve ``config`` in this process, call ``announce`` once ready, and return on SIGINT or SIGTERM."""
    previous = signal.signal(signal.SIGTERM, _stop_on_sigterm)
    try:
        with serve_in_thread(config) as mock:
            announce(mock)
            threading.Event().wait()
    except KeyboardInterrupt:
        return
    finally:
        signal.signal(signal.SIGTERM, previous)


def ready_line(mock: RunningMock) -> str:
    """The one JSON line a child process prints once it serves."""
    return json.dumps({"base_url": mock.base_url, "api_prefix": mock.api_prefix, "pid": os.getpid()})
