"""A tiny Keystone v3 stand-in on loopback: enough identity for keystonemiddleware to guard a real Cinder.

It answers version discovery, issues tokens for its configured users (``POST /v3/auth/tokens``) and
validates them for a caller holding an admin token (``GET /v3/auth/tokens``). Unknown or missing tokens are
refused as Keystone refuses them, so the API behind keystonemiddleware answers 401 like a real cloud.

Example::

    identity = KeystoneStandIn(project=Project("p-id", "audit"), users=[User("auditor", "pw", ("admin",))])
    with identity.serving() as url:   # http://127.0.0.1:<free port>
        ...
"""

from __future__ import annotations

import contextlib
import datetime
import json
import secrets
import threading
import urllib.request
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

DOMAIN = {"id": "default", "name": "Default"}
TOKEN_LIFETIME = datetime.timedelta(hours=12)
ADMIN_ROLE = "admin"


@dataclass(frozen=True)
class Project:
    """The one project every user of the stand-in is scoped to."""

    id: str
    name: str


@dataclass(frozen=True)
class User:
    """A user that can log in with a password; the roles are granted on the project."""

    name: str
    password: str
    roles: tuple[str, ...]

    @property
    def id(self) -> str:
        return f"user-{self.name}"


@dataclass
class KeystoneStandIn:
    """Identity state (users, issued tokens) and the HTTP server that exposes it."""

    project: Project
    users: Sequence[User]
    host: str = "127.0.0.1"
    _tokens: dict[str, dict[str, Any]] = field(default_factory=dict, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)
    base_url: str = ""

    # -- the identity rules, no HTTP ------------------------------------------------------------------
    def issue(self, name: str, password: str) -> tuple[str, dict[str, Any]] | None:
        """A new token and its body for a user whose password matches, else None."""
        user = next((u for u in self.users if u.name == name and u.password == password), None)
        if user is None:
            return None
        now = datetime.datetime.now(datetime.UTC)
        body = {
            "token": {
                "methods": ["password"],
                "user": {"id": user.id, "name": user.name, "domain": DOMAIN, "password_expires_at": None},
                "project": {"id": self.project.id, "name": self.project.name, "domain": DOMAIN},
                "roles": [{"id": f"role-{role}", "name": role} for role in user.roles],
                "catalog": self._catalog(),
                "issued_at": _keystone_time(now),
                "expires_at": _keystone_time(now + TOKEN_LIFETIME),
                "audit_ids": [secrets.token_urlsafe(16)],
                "is_domain": False,
            }
        }
        token = secrets.token_hex(32)
        with self._lock:
            self._tokens[token] = body
        return token, body

    def validate(self, caller_token: str | None, subject_token: str | None) -> tuple[int, dict[str, Any]]:
        """The status and body Keystone gives when ``caller_token`` asks about ``subject_token``."""
        with self._lock:
            caller = self._tokens.get(caller_token or "")
            subject = self._tokens.get(subject_token or "")
        if caller is None:
            return _error(HTTPStatus.UNAUTHORIZED, "The request you have made requires authentication.")
        if ADMIN_ROLE not in {role["name"] for role in caller["token"]["roles"]}:
            return _error(HTTPStatus.FORBIDDEN, "You are not authorized to perform the requested action.")
        if subject is None:
            return _error(HTTPStatus.NOT_FOUND, f"Could not find token: {subject_token}.")
        return HTTPStatus.OK, subject

    def _catalog(self) -> list[dict[str, Any]]:
        # keystonemiddleware finds the validation endpoint in its own token's catalog, so identity is listed.
        return [
            {
                "type": "identity",
                "name": "keystone",
                "id": "identity-service",
                "endpoints": [
                    {
                        "id": f"identity-{iface}",
                        "interface": iface,
                        "region": "RegionOne",
                        "region_id": "RegionOne",
                        "url": self.base_url + "/v3",
                    }
                    for iface in ("public", "internal", "admin")
                ],
            }
        ]

    def version_document(self) -> dict[str, Any]:
        """The v3 version entry that version discovery returns."""
        return {
            "id": "v3.14",
            "status": "stable",
            "updated": "2020-04-07T00:00:00Z",
            "links": [{"rel": "self", "href": self.base_url + "/v3/"}],
            "media-types": [
                {"base": "application/json", "type": "application/vnd.openstack.identity-v3+json"}
            ],
        }

    # -- serving ---------------------------------------------------------------------------------------
    @contextlib.contextmanager
    def serving(self) -> Iterator[str]:
        """Serve on a free loopback port in a background thread; yields the base URL."""
        server = ThreadingHTTPServer((self.host, 0), _handler_for(self))
        server.daemon_threads = True
        self.base_url = f"http://{self.host}:{server.server_address[1]}"
        thread = threading.Thread(target=server.serve_forever, name="keystone-standin", daemon=True)
        thread.start()
        try:
            yield self.base_url
        finally:
            server.shutdown()
            server.server_close()
            thread.join(timeout=5)


def login(base_url: str, user: str, password: str, timeout_s: float = 10.0) -> str:
    """Log in over HTTP as Keystone clients do; returns the token from ``X-Subject-Token``."""
    body = {
        "auth": {
            "identity": {
                "methods": ["password"],
                "password": {"user": {"name": user, "domain": DOMAIN, "password": password}},
            }
        }
    }
    request = urllib.request.Request(
        base_url + "/v3/auth/tokens",
        data=json.dumps(body).encode(),
        method="POST",
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=timeout_s) as response:
        return str(response.headers["X-Subject-Token"])


def password_login(body: Mapping[str, Any]) -> tuple[str, str] | None:
    """The user name and password of a v3 password auth request, or None if it is not one."""
    try:
        user = body["auth"]["identity"]["password"]["user"]
        return str(user["name"]), str(user["password"])
    except (KeyError, TypeError):
        return None


def _keystone_time(moment: datetime.datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S.%f") + "Z"


def _error(status: HTTPStatus, message: str) -> tuple[int, dict[str, Any]]:
    return status, {"error": {"code": int(status), "title": status.phrase, "message": message}}


def _handler_for(identity: KeystoneStandIn) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_GET(self) -> None:
            path = self.path.split("?", 1)[0].rstrip("/")
            if path == "":
                document = {"versions": {"values": [identity.version_document()]}}
                self._send(HTTPStatus.MULTIPLE_CHOICES, document)
            elif path == "/v3":
                self._send(HTTPStatus.OK, {"version": identity.version_document()})
            elif path == "/v3/auth/tokens":
                subject = self.headers.get("X-Subject-Token")
                status, body = identity.validate(self.headers.get("X-Auth-Token"), subject)
                self._send(
                    status, body, {"X-Subject-Token": subject or ""} if status == HTTPStatus.OK else {}
                )
            else:
                self._send(*_error(HTTPStatus.NOT_FOUND, "The resource could not be found."))

        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length)
            if self.path.split("?", 1)[0].rstrip("/") != "/v3/auth/tokens":
                self._send(*_error(HTTPStatus.NOT_FOUND, "The resource could not be found."))
                return
            try:
                login = password_login(json.loads(raw or b"null"))
            except json.JSONDecodeError:
                login = None
            if login is None:
                self._send(*_error(HTTPStatus.BAD_REQUEST, "Expecting a password login."))
                return
            issued = identity.issue(*login)
            if issued is None:
                self._send(
                    *_error(HTTPStatus.UNAUTHORIZED, "The request you have made requires authentication.")
                )
                return
            token, body = issued
            self._send(HTTPStatus.CREATED, body, {"X-Subject-Token": token})

        def _send(
            self, status: int, body: Mapping[str, Any], headers: Mapping[str, str] | None = None
        ) -> None:
            payload = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            for name, value in (headers or {}).items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(payload)

        def log_message(self, format: str, *args: Any) -> None:
            # Token validations would flood the harness output; failures surface through Cinder's answers.
            pass

    return Handler
