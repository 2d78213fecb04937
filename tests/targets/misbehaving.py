"""Loopback servers that misbehave one way each: hang, reset, garbage, huge or broken bodies, 429, redirects.

Each speaks just enough HTTP/1.1 to read a request; what it answers is a *behaviour*, a function of the
socket and the request. With ``disks=True`` it describes any disk as available, so a run gets past its
pre-flight check and meets the misbehaviour on the creates.

Example::

    with serve(reset) as server:
        target_settings(server.base_url)   # every request is answered by a TCP reset
"""

from __future__ import annotations

import json
import socket
import socketserver
import ssl
import struct
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

import httpx

#: A disk size the servers report; any positive size does.
DISK_SIZE = 10
#: How much the enormous answer claims and streams (the client is expected to stop long before).
ENORMOUS_BYTES = 200 * 1024 * 1024
_CHUNK = 64 * 1024
_MAX_HEAD = 64 * 1024


@dataclass(frozen=True)
class RawRequest:
    """A request as the server read it (``at``: when, on the monotonic clock); header names lower-case."""

    method: str
    path: str
    headers: dict[str, str]
    body: bytes
    at: float = field(default_factory=time.monotonic)


#: What a server does with a request; returns whether the connection may carry another one.
Behaviour = Callable[[socket.socket, RawRequest, "Misbehaving"], bool]


class Misbehaving(socketserver.ThreadingTCPServer):
    """A threaded loopback server on a free port that answers every request with ``behaviour``."""

    daemon_threads = True
    block_on_close = False
    allow_reuse_address = True

    def __init__(
        self, behaviour: Behaviour, *, disks: bool = False, tls: ssl.SSLContext | None = None
    ) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.behaviour = behaviour
        self.disks = disks
        self.tls = tls
        #: Set when the server stops, so a hanging behaviour lets go at once.
        self.stopping = threading.Event()
        self.requests: list[RawRequest] = []
        self._lock = threading.Lock()

    @property
    def base_url(self) -> str:
        scheme = "http" if self.tls is None else "https"
        return f"{scheme}://127.0.0.1:{self.server_address[1]}"

    def get_request(self) -> tuple[socket.socket, object]:
        connection, address = super().get_request()
        if self.tls is not None:
            # Shake hands on the handler's thread: a client that never does so blocks no one.
            connection = self.tls.wrap_socket(connection, server_side=True, do_handshake_on_connect=False)
        return connection, address

    def record(self, request: RawRequest) -> None:
        with self._lock:
            self.requests.append(request)

    def handle_error(self, request: object, client_address: object) -> None:
        # A client that gives up mid-answer is exactly what these servers provoke; nothing to print.
        pass


class _Handler(socketserver.BaseRequestHandler):
    request: socket.socket
    server: Misbehaving

    def handle(self) -> None:
        reader = _Reader(self.request)
        while not self.server.stopping.is_set():
            raw = reader.read_request()
            if raw is None:
                return
            self.server.record(raw)
            if self.server.disks and raw.method == "GET" and "/volumes/" in raw.path:
                disk = {"id": raw.path.rsplit("/", 1)[1], "status": "available", "size": DISK_SIZE}
                respond(self.request, 200, json.dumps({"volume": disk}).encode())
                continue
            if not self.server.behaviour(self.request, raw, self.server):
                return


class _Reader:
    """Reads HTTP/1.1 requests (head and Content-Length body) off one connection."""

    def __init__(self, connection: socket.socket) -> None:
        self.connection = connection
        self.buffer = b""

    def read_request(self) -> RawRequest | None:
        while b"\r\n\r\n" not in self.buffer:
            if len(self.buffer) > _MAX_HEAD or not self._fill():
                return None
        head, self.buffer = self.buffer.split(b"\r\n\r\n", 1)
        request_line, *lines = head.decode("latin-1").split("\r\n")
        method, path, _ = request_line.split(" ", 2)
        headers = {}
        for line in lines:
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
        length = int(headers.get("content-length", "0"))
        while len(self.buffer) < length:
            if not self._fill():
                return None
        body, self.buffer = self.buffer[:length], self.buffer[length:]
        return RawRequest(method, path, headers, body)

    def _fill(self) -> bool:
        try:
            data = self.connection.recv(_CHUNK)
        except OSError:
            return False
        self.buffer += data
        return bool(data)


def respond(
    connection: socket.socket,
    status: int,
    body: bytes,
    *,
    headers: dict[str, str] | None = None,
    content_type: str = "application/json",
) -> None:
    """Write one complete response."""
    lines = [f"HTTP/1.1 {status} Status", f"Content-Type: {content_type}", f"Content-Length: {len(body)}"]
    lines += [f"{name}: {value}" for name, value in (headers or {}).items()]
    connection.sendall(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body)


# -- the behaviours -------------------------------------------------------------------------------------
def hang(connection: socket.socket, request: RawRequest, server: Misbehaving) -> bool:
    """Read the request and never answer (until the server stops)."""
    server.stopping.wait()
    return False


def reset(connection: socket.socket, request: RawRequest, server: Misbehaving) -> bool:
    """Abort the connection: with a zero linger time, closing sends a TCP reset instead of a FIN."""
    connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    connection.close()
    return False


def garbage(connection: socket.socket, request: RawRequest, server: Misbehaving) -> bool:
    """Answer bytes that are not HTTP at all, then close."""
    connection.sendall(b"\x16\x03\x01\x00\xff this is not HTTP \x00\xfe\xfd\r\n\r\n")
    return False


def enormous(connection: socket.socket, request: RawRequest, server: Misbehaving) -> bool:
    """Answer an accepted create whose JSON body is 200 MB long, streamed until the client stops reading."""
    head = (
        f"HTTP/1.1 202 Accepted\r\nContent-Type: application/json\r\nContent-Length: {ENORMOUS_BYTES}\r\n\r\n"
    )
    prefix = b'{"snapshot": {"id": "'
    try:
        connection.sendall(head.encode("latin-1") + prefix)
        sent = len(prefix)
        filler = b"x" * _CHUNK
        while sent + _CHUNK <= ENORMOUS_BYTES and not server.stopping.is_set():
            connection.sendall(filler)
            sent += _CHUNK
    except OSError:
        pass  # the client stopped reading and closed: the point of the exercise
    return False


def not_json(connection: socket.socket, request: RawRequest, server: Misbehaving) -> bool:
    """Answer 200, labelled JSON, with a body that is not JSON."""
    respond(connection, 200, b"<html><body>Service temporarily unavailable</body></html>")
    return True


def throttled(times: int) -> Behaviour:
    """Answer 429 with ``Retry-After: 1`` to the first ``times`` requests, then 200 with a JSON body."""
    left = [times]
    lock = threading.Lock()

    def behaviour(connection: socket.socket, request: RawRequest, server: Misbehaving) -> bool:
        with lock:
            refuse = left[0] > 0
            left[0] -= 1
        if refuse:
            respond(connection, 429, b'{"error": "slow down"}', headers={"Retry-After": "1"})
        else:
            respond(connection, 200, b'{"ok": true}')
        return True

    return behaviour


def drop_mid_body(connection: socket.socket, request: RawRequest, server: Misbehaving) -> bool:
    """Promise a 1000-byte body, send 100 bytes of it, and close."""
    head = b"HTTP/1.1 202 Accepted\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n"
    connection.sendall(head + b'{"snapshot": {"id": "' + b"x" * 79)
    return False


def redirect_to(base_url: str) -> Behaviour:
    """Answer 307 to the same path on ``base_url``."""

    def behaviour(connection: socket.socket, request: RawRequest, server: Misbehaving) -> bool:
        respond(connection, 307, b"", headers={"Location": base_url + request.path})
        return True

    return behaviour


def ok(connection: socket.socket, request: RawRequest, server: Misbehaving) -> bool:
    """Answer 200 with an empty JSON object (a well-behaved place to be redirected to)."""
    respond(connection, 200, b"{}")
    return True


NOT_FOUND_PAGE = b"<html><head><title>404 Not Found</title></head><body><h1>Not Found</h1></body></html>"


def passed_on(upstream: str) -> Behaviour:
    """Pass every request on to ``upstream`` (a base URL) and its answer back: a server that only records."""
    client = httpx.Client(timeout=30)
    passed = ("content-type", "x-auth-token")

    def behaviour(connection: socket.socket, request: RawRequest, server: Misbehaving) -> bool:
        headers = {name: value for name, value in request.headers.items() if name in passed}
        answer = client.request(
            request.method, upstream + request.path, content=request.body, headers=headers
        )
        media = answer.headers.get("content-type", "application/json")
        respond(connection, answer.status_code, answer.content, content_type=media)
        return True

    return behaviour


def creates_only(upstream: str) -> Behaviour:
    """Serve only the create operation, passed on to ``upstream`` (a base URL); a GET of anything gets an
    HTML 404 page, any other method 405: a target that exposes nothing but POST .../snapshots."""
    client = httpx.Client(timeout=30)
    passed = ("content-type", "x-auth-token")

    def behaviour(connection: socket.socket, request: RawRequest, server: Misbehaving) -> bool:
        if request.method == "POST" and request.path.split("?")[0].endswith("/snapshots"):
            headers = {name: value for name, value in request.headers.items() if name in passed}
            answer = client.post(upstream + request.path, content=request.body, headers=headers)
            media = answer.headers.get("content-type", "application/json")
            respond(connection, answer.status_code, answer.content, content_type=media)
        elif request.method == "GET":
            respond(connection, 404, NOT_FOUND_PAGE, content_type="text/html")
        else:
            respond(connection, 405, b"", headers={"Allow": "POST"}, content_type="text/plain")
        return True

    return behaviour


# -- a hostile cloud: it acts on every create, then answers badly ------------------------------------------
#: Nesting deep enough to exhaust a recursive JSON parser.
DEEP_JSON = b"[" * 100_000 + b"]" * 100_000
#: A snapshot ID no cloud hands out.
LONG_ID = "x" * 100_000
#: A pause no client should wait for.
FAR_RETRY_AFTER = "86400"


def is_create(request: RawRequest) -> bool:
    return request.method == "POST" and request.path.split("?")[0].endswith("/snapshots")


def acting(
    on_create: Behaviour, *, on_read: Behaviour | None = None, on_delete: Behaviour | None = None
) -> Behaviour:
    """A cloud that acts on every create and answers it with ``on_create``; a read of a snapshot gets
    ``on_read``, a DELETE ``on_delete`` (a 404 in the error envelope when not given)."""

    def behaviour(connection: socket.socket, request: RawRequest, server: Misbehaving) -> bool:
        if is_create(request):
            return on_create(connection, request, server)
        chosen = {"GET": on_read, "DELETE": on_delete}.get(request.method)
        if chosen is not None:
            return chosen(connection, request, server)
        respond(connection, 404, b'{"error": {"code": "EVS.1404", "message": "no such snapshot"}}')
        return True

    return behaviour


def summary(snapshot_id: str) -> bytes:
    """An accepted create's body in the contract's shape, naming ``snapshot_id``."""
    fields = {"id": snapshot_id, "status": "creating", "size": DISK_SIZE, "name": "", "description": ""}
    return json.dumps({"snapshot": fields}).encode()


def trickled_headers(connection: socket.socket, request: RawRequest, server: Misbehaving) -> bool:
    """Send the head of a 202 one byte a second, for as long as the client listens."""
    head = b"HTTP/1.1 202 Accepted\r\nContent-Type: application/json\r\nX-Padding: " + b"x" * 10_000
    for byte in head:
        if server.stopping.wait(1.0):
            break
        try:
            connection.sendall(bytes([byte]))
        except OSError:
            break
    return False


def server_error(connection: socket.socket, request: RawRequest, server: Misbehaving) -> bool:
    """Answer 500 (after acting on the request)."""
    respond(connection, 500, b'{"error": {"code": "EVS.9999", "message": "internal error"}}')
    return True


def accepted_as(body: bytes, content_type: str = "application/json") -> Behaviour:
    """Answer 202 with ``body`` as it is."""

    def behaviour(connection: socket.socket, request: RawRequest, server: Misbehaving) -> bool:
        respond(connection, 202, body, content_type=content_type)
        return True

    return behaviour


def absurd_length(connection: socket.socket, request: RawRequest, server: Misbehaving) -> bool:
    """Claim a body of a petabyte, send its first bytes, and stall."""
    head = (
        b"HTTP/1.1 202 Accepted\r\nContent-Type: application/json\r\nContent-Length: 1000000000000000\r\n\r\n"
    )
    connection.sendall(head + b'{"snapshot": {"id": "')
    server.stopping.wait()
    return False


def accepted_with_fresh_ids(connection: socket.socket, request: RawRequest, server: Misbehaving) -> bool:
    """Answer 202 naming a new snapshot (numbered by the creates the server has seen)."""
    number = sum(1 for r in server.requests if is_create(r))
    respond(connection, 202, summary(f"snap-{number:04d}"))
    return True


def deep_json(status: int) -> Behaviour:
    """Answer ``status`` with JSON nested 100,000 levels deep."""

    def behaviour(connection: socket.socket, request: RawRequest, server: Misbehaving) -> bool:
        respond(connection, status, DEEP_JSON)
        return True

    return behaviour


def retry_much_later(connection: socket.socket, request: RawRequest, server: Misbehaving) -> bool:
    """Answer 429 asking for a pause of a day (nothing was created)."""
    headers = {"Retry-After": FAR_RETRY_AFTER}
    respond(connection, 429, b'{"error": {"code": "EVS.0429", "message": "slow down"}}', headers=headers)
    return True


@contextmanager
def serve(
    behaviour: Behaviour, *, disks: bool = False, tls: ssl.SSLContext | None = None
) -> Iterator[Misbehaving]:
    """Run a misbehaving server in a thread for the duration of the block."""
    server = Misbehaving(behaviour, disks=disks, tls=tls)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.stopping.set()
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
