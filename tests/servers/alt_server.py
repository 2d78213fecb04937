"""A second, independently written snapshot server on the standard library's threading HTTP server.

Example::

    with serve_alt(profile="cinder") as server:
        httpx.post(f"{server.base_url}/v3/{server.project_id}/snapshots", ...)
"""

from __future__ import annotations

import json
import re
import socket
import threading
import uuid
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from .alt_backend import Backend, Refusal, Reply, Rules, Volume, envelope

MAX_BODY_BYTES = 1 << 20
DEFAULT_PROJECT_ID = "5e1f0c2a9b7d4e3f8a6c1b0d2e4f6a8c"
DEFAULT_TOKEN = "alt-token-0b5c7e9d"
FOREIGN_PROJECT_ID = "0000aaaa1111bbbb2222cccc3333dddd"
FOREIGN_TOKEN = "alt-token-of-another-project"
DEFAULT_VOLUMES = (
    ("0d3c8f7e-5b1a-4c2d-9e8f-7a6b5c4d3e2f", "available", 40),
    ("7f6e5d4c-3b2a-4190-8f7e-6d5c4b3a2910", "in-use", 20),
    ("a1b2c3d4-e5f6-4a7b-8c9d-0e1f2a3b4c5d", "attaching", 8),
)

# A refused upload is drained this far (and no longer than this) before the socket closes, so that the
# client reads the 413 instead of a reset; nothing drained is kept.
_DRAIN_BYTES = 64 << 20
_DRAIN_SECONDS = 2.0
_CHUNK = 64 << 10
_DECIMAL = re.compile(r"[0-9]{1,20}")
_HEXADECIMAL = re.compile(rb"[0-9a-fA-F]{1,16}")


class _TooLarge(Exception):
    """The request body is over the size this server reads."""


class _BadFraming(Exception):
    """The request's framing headers make its body unreadable."""


class _Server(ThreadingHTTPServer):
    """The HTTP server, holding the backend and counting accepted connections."""

    daemon_threads = True

    def __init__(self, backend: Backend) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.backend = backend
        self.connections = 0
        self._count_lock = threading.Lock()

    def get_request(self) -> tuple[socket.socket, Any]:
        accepted = super().get_request()
        with self._count_lock:
            self.connections += 1
        return accepted


class _Handler(BaseHTTPRequestHandler):
    """Turns each HTTP request into one backend call and writes its reply with a Content-Length."""

    protocol_version = "HTTP/1.1"
    # Headers and body leave in separate writes; with Nagle on, each keep-alive reply would wait for an ACK.
    disable_nagle_algorithm = True
    server: _Server
    _remaining = 0
    # An idle keep-alive connection is dropped after this many seconds instead of holding a thread for ever.
    timeout = 60

    def __getattr__(self, name: str) -> Callable[[], None]:
        # Every method, standard or invented, goes through one dispatcher, so none is met with 501.
        if name.startswith("do_"):
            return self._dispatch
        raise AttributeError(name)

    def _dispatch(self) -> None:
        backend = self.server.backend
        try:
            body = self._read_body()
        except _TooLarge:
            refusal = Refusal(413, "EVS.1413", f"request bodies are limited to {MAX_BODY_BYTES} bytes")
            self._write(Reply(413, envelope(backend.rules, refusal)), closing=True)
            self._drain()
            return
        except _BadFraming as exc:
            refusal = Refusal(400, "EVS.1099", str(exc))
            self._write(Reply(400, envelope(backend.rules, refusal)), closing=True)
            return
        method = "GET" if self.command == "HEAD" else self.command
        path = self.path.split("?", 1)[0]
        reply = backend.handle(method, path, self.headers.get("X-Auth-Token"), body)
        self._write(reply, closing=False)

    def _read_body(self) -> bytes:
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            return self._read_chunked()
        lengths = self.headers.get_all("Content-Length") or []
        if not lengths:
            return b""
        if len(set(lengths)) != 1 or not _DECIMAL.fullmatch(lengths[0].strip()):
            raise _BadFraming("Content-Length must be one non-negative integer")
        length = int(lengths[0])
        if length > MAX_BODY_BYTES:
            self._remaining = length
            raise _TooLarge
        return self.rfile.read(length)

    def _read_chunked(self) -> bytes:
        parts: list[bytes] = []
        total = 0
        while True:
            field = self.rfile.readline(1024).split(b";", 1)[0].strip()
            if not _HEXADECIMAL.fullmatch(field):
                raise _BadFraming("a chunk size line is not hexadecimal")
            size = int(field, 16)
            if size == 0:
                while self.rfile.readline(1024) not in (b"\r\n", b"\n", b""):
                    pass
                return b"".join(parts)
            total += size
            if total > MAX_BODY_BYTES:
                self._remaining = _DRAIN_BYTES
                raise _TooLarge
            parts.append(self.rfile.read(size))
            self.rfile.readline(1024)

    def _drain(self) -> None:
        self.wfile.flush()
        remaining = min(self._remaining, _DRAIN_BYTES)
        self.connection.settimeout(_DRAIN_SECONDS)
        try:
            while remaining > 0:
                chunk = self.rfile.read1(min(remaining, _CHUNK))
                if not chunk:
                    break
                remaining -= len(chunk)
        except OSError:
            # The client gave up sending; the 413 is already on the wire.
            pass

    def _write(self, reply: Reply, *, closing: bool) -> None:
        data = b"" if reply.payload is None else json.dumps(reply.payload).encode("ascii")
        self.send_response(reply.status)
        if data:
            self.send_header("Content-Type", self._media_type())
        self.send_header("Content-Length", str(len(data)))
        for key, value in reply.headers.items():
            self.send_header(key, value)
        if closing:
            self.send_header("Connection", "close")
            self.close_connection = True
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)

    def _media_type(self) -> str:
        # A charset parameter is still application/json; the huawei profile sends one to keep clients honest.
        if self.server.backend.rules.profile == "huawei":
            return "application/json; charset=UTF-8"
        return "application/json"

    def handle_expect_100(self) -> bool:
        """Refuse an announced oversized body before the client sends it."""
        length = self.headers.get("Content-Length", "")
        if _DECIMAL.fullmatch(length.strip()) and int(length) > MAX_BODY_BYTES:
            refusal = Refusal(413, "EVS.1413", f"request bodies are limited to {MAX_BODY_BYTES} bytes")
            self._write(Reply(413, envelope(self.server.backend.rules, refusal)), closing=True)
            return False
        return super().handle_expect_100()

    def send_error(self, code: int, message: str | None = None, explain: str | None = None) -> None:
        """Answer a request the parser rejected with a JSON error, and never with a 5xx."""
        status = code if code < 500 else 400
        # The parser bails out before recording the version of a request it rejects, which would
        # otherwise suppress the status line.
        if self.request_version == "HTTP/0.9":
            self.request_version = self.protocol_version
        refusal = Refusal(status, "EVS.1098", message or "the request could not be parsed")
        self.close_connection = True
        self._write(Reply(status, envelope(self.server.backend.rules, refusal)), closing=True)

    def log_message(self, format: str, *args: Any) -> None:
        """Stay quiet: test output is no place for an access log."""


@dataclass(frozen=True)
class AltServer:
    """A running alternative server and what a client needs to call it."""

    base_url: str
    profile: str
    api_prefix: str
    project_id: str
    token: str
    foreign_token: str
    available_volume_id: str
    in_use_volume_id: str | None
    _server: _Server

    @property
    def connections_accepted(self) -> int:
        """How many TCP connections the server has accepted so far."""
        return self._server.connections

    def url(self, *parts: str) -> str:
        """The absolute URL of a path under this project, e.g. ``url("snapshots", snapshot_id)``."""
        return "/".join((self.base_url, self.api_prefix, self.project_id, *parts))


@contextmanager
def serve_alt(
    *,
    profile: str = "huawei",
    project_id: str = DEFAULT_PROJECT_ID,
    token: str = DEFAULT_TOKEN,
    volumes: Iterable[tuple[str, str, int]] = DEFAULT_VOLUMES,
    settle_seconds: float = 0.0,
) -> Iterator[AltServer]:
    """Run the alternative server on a free loopback port for the duration of a ``with`` block."""
    disks = [Volume(volume_id, status, size) for volume_id, status, size in volumes]
    _check_volumes(disks)
    if settle_seconds < 0:
        raise ValueError("settle_seconds must not be negative")
    rules = Rules.for_profile(profile)
    tokens: Mapping[str, str] = {token: project_id, FOREIGN_TOKEN: FOREIGN_PROJECT_ID}
    backend = Backend(
        rules, project_id=project_id, tokens=tokens, volumes=disks, settle_seconds=settle_seconds
    )
    server = _Server(backend)
    thread = threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.05}, name=f"alt-server-{uuid.uuid4().hex[:6]}"
    )
    thread.daemon = True
    thread.start()
    port: int = server.socket.getsockname()[1]
    try:
        yield AltServer(
            base_url=f"http://127.0.0.1:{port}",
            profile=profile,
            api_prefix=rules.prefix,
            project_id=project_id,
            token=token,
            foreign_token=FOREIGN_TOKEN,
            available_volume_id=_first(disks, "available") or "",
            in_use_volume_id=_first(disks, "in-use") or _first(disks, "attaching"),
            _server=server,
        )
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def _check_volumes(disks: list[Volume]) -> None:
    if len({disk.id for disk in disks}) != len(disks):
        raise ValueError("volume IDs must be unique")
    if any(isinstance(disk.size, bool) or not isinstance(disk.size, int) or disk.size < 1 for disk in disks):
        raise ValueError("volume sizes are whole GiB, at least 1")
    if not any(disk.status == "available" for disk in disks):
        raise ValueError("at least one volume must be available")


def _first(disks: list[Volume], status: str) -> str | None:
    return next((disk.id for disk in disks if disk.status == status), None)
