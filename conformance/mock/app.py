"""The mock's HTTP layer: parses requests, calls the backend, formats answers and the error envelopes.

Built on Starlette (ASGI) and served by uvicorn: both are small and well kept, uvicorn speaks real HTTP/1.1
with keep-alive (so a client's connection pool behaves as against a cloud endpoint), and ASGI hands the
request body over as a stream, so a body over the limit is refused with 413 after reading at most the limit,
never the whole of it.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from http import HTTPStatus
from typing import Any, NoReturn

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import ClientDisconnect, Request
from starlette.responses import Response
from starlette.routing import Route

from conformance.mock.models import ServiceError, SnapshotBackend
from conformance.mock.quirks import UNDOCUMENTED_STATUS

JSON = Any
Handler = Callable[[Request], Awaitable[Response]]

#: The mock's own error codes where the profile's envelope wants a string (the page documents only the type).
STRING_CODES = {
    "invalid-body": "EVS.2001",
    "unknown-volume": "EVS.2002",
    "null-volume-id": "EVS.2003",
    "volume-busy": "EVS.2004",
    "unauthenticated": "EVS.1401",
    "forbidden": "EVS.1403",
    "not-found": "EVS.1404",
    "not-allowed": "EVS.1405",
    "too-large": "EVS.1413",
    "internal": "EVS.1500",
    "unavailable": "EVS.1503",
}
JSON_TYPE = "application/json"


def _reject_constant(name: str) -> JSON:
    # Python's json module takes NaN and Infinity, which are not JSON (RFC 8259).
    raise ValueError(f"{name} is not a JSON value")


def _has_non_ascii(value: JSON) -> bool:
    """Whether any string (key or value) in a parsed JSON value holds a non-ASCII character."""
    pending = [value]
    while pending:
        item = pending.pop()
        if isinstance(item, str):
            if not item.isascii():
                return True
        elif isinstance(item, dict):
            pending.extend(item.keys())
            pending.extend(item.values())
        elif isinstance(item, list):
            pending.extend(item)
    return False


def _encode(body: JSON) -> bytes:
    try:
        return json.dumps(body, ensure_ascii=False).encode("utf-8")
    except UnicodeEncodeError:
        # A lone surrogate sent as a \\u escape cannot be UTF-8; escaped JSON still carries it faithfully.
        return json.dumps(body).encode("ascii")


class MockApp:
    """The ASGI application of one backend; ``asgi`` is what a server runs."""

    def __init__(self, backend: SnapshotBackend, *, max_body_bytes: int) -> None:
        self.backend = backend
        self.contract = backend.contract
        self.max_body_bytes = max_body_bytes
        snapshots = f"{self.contract.api_prefix}/{{project_id}}/snapshots"
        routes = [
            Route("/v3/auth/tokens", self._guarded(self.issue_token), methods=["POST"]),
            Route(snapshots, self._guarded(self.snapshots), methods=["GET", "POST"]),
            Route(f"{snapshots}/detail", self._guarded(self.list_snapshots), methods=["GET"]),
            Route(f"{snapshots}/{{snapshot_id}}", self._guarded(self.snapshot), methods=["GET", "DELETE"]),
            Route(
                f"{self.contract.api_prefix}/{{project_id}}/volumes/{{volume_id}}",
                self._guarded(self.volume),
                methods=["GET"],
            ),
        ]
        self.asgi = Starlette(
            routes=routes,
            exception_handlers={HTTPException: self._routing_error, Exception: self._crash},
        )

    # -- handlers ---------------------------------------------------------------------------------------
    async def snapshots(self, request: Request) -> Response:
        if request.method == "GET":
            return await self.list_snapshots(request)
        project_id = self._authenticated(request)
        if self.backend.create_attempt_fails():
            raise ServiceError(
                "unavailable", HTTPStatus.SERVICE_UNAVAILABLE, "the service is busy; try again"
            )
        body = self._parsed(await self._body(request), self.backend.quirks)
        summary = self.backend.create_snapshot(project_id, body)
        return self._accepted(summary)

    async def list_snapshots(self, request: Request) -> Response:
        project_id = self._authenticated(request)
        listed = self.backend.list_snapshots(project_id)
        return self._json(HTTPStatus.OK, {f"{self.contract.summary_key}s": listed})

    async def snapshot(self, request: Request) -> Response:
        project_id = self._authenticated(request)
        snapshot_id = request.path_params["snapshot_id"]
        if request.method == "GET":
            summary = self.backend.get_snapshot(project_id, snapshot_id)
            return self._json(HTTPStatus.OK, {self.contract.summary_key: summary})
        self.backend.delete_snapshot(project_id, snapshot_id)
        if "delete-wrong-status" in self.backend.quirks:
            return Response(status_code=HTTPStatus.NO_CONTENT)
        return Response(status_code=HTTPStatus.ACCEPTED)

    async def volume(self, request: Request) -> Response:
        project_id = self._authenticated(request)
        volume = self.backend.get_volume(project_id, request.path_params["volume_id"])
        return self._json(HTTPStatus.OK, {"volume": volume})

    async def issue_token(self, request: Request) -> Response:
        """Keystone v3 password authentication scoped to a project; the token comes in X-Subject-Token."""
        # The catalogue's quirks are about the snapshot API; token acquisition stays clean.
        body = self._parsed(await self._body(request), frozenset())
        try:
            auth = body["auth"]
            if "password" not in auth["identity"]["methods"]:
                raise ValueError("only the password method is supported")
            user = auth["identity"]["password"]["user"]
            name, password, project_id = user["name"], user["password"], auth["scope"]["project"]["id"]
            if not all(isinstance(v, str) for v in (name, password, project_id)):
                raise ValueError("user name, password and project id must be strings")
        except (KeyError, TypeError, ValueError) as exc:
            message = f"not a password authentication scoped to a project ({exc})"
            raise ServiceError("invalid-body", HTTPStatus.BAD_REQUEST, message) from exc
        token, grant = self.backend.issue_token(name, password, project_id)
        response = self._json(HTTPStatus.CREATED, grant)
        response.headers["X-Subject-Token"] = token
        return response

    # -- request side -----------------------------------------------------------------------------------
    def _authenticated(self, request: Request) -> str:
        project_id = str(request.path_params["project_id"])
        self.backend.authenticate(project_id, request.headers.get(self.contract.token_header))
        return project_id

    async def _body(self, request: Request) -> bytes:
        """The request body, refused with 413 as soon as it is known to exceed the limit."""
        limit = self.max_body_bytes
        too_large = ServiceError(
            "too-large", HTTPStatus.REQUEST_ENTITY_TOO_LARGE, f"the body is over {limit} bytes"
        )
        declared = request.headers.get("content-length", "")
        if declared.isdigit() and int(declared) > limit:
            raise too_large
        chunks: list[bytes] = []
        received = 0
        try:
            async for chunk in request.stream():
                received += len(chunk)
                if received > limit:
                    raise too_large
                chunks.append(chunk)
        except ClientDisconnect as exc:
            raise ServiceError("invalid-body", self._invalid_status, "the body ended early") from exc
        return b"".join(chunks)

    def _parsed(self, raw: bytes, quirks: frozenset[str]) -> JSON:
        """The JSON value of a body (whatever its Content-Type: the page does not constrain it)."""
        if not raw.strip():
            if "500-on-empty-body" in quirks:
                raise ServiceError("internal", HTTPStatus.INTERNAL_SERVER_ERROR, "internal error")
            self._refuse_malformed("the body is empty", quirks)
        try:
            text = raw.decode("utf-8")
            if "json-trailing-garbage-accepted" in quirks:
                value, _ = json.JSONDecoder(parse_constant=_reject_constant).raw_decode(text.lstrip())
            else:
                value = json.loads(text, parse_constant=_reject_constant)
        except (ValueError, RecursionError) as exc:
            # Undecodable bytes and bad JSON raise ValueErrors; deep nesting exhausts the parser's stack.
            if "500-on-malformed-json" in quirks:
                raise ServiceError("internal", HTTPStatus.INTERNAL_SERVER_ERROR, "internal error") from exc
            self._refuse_malformed(f"the body is not JSON: {str(exc)[:120]}", quirks)
        if "500-on-non-ascii" in quirks and _has_non_ascii(value):
            raise ServiceError("internal", HTTPStatus.INTERNAL_SERVER_ERROR, "internal error")
        return value

    def _refuse_malformed(self, message: str, quirks: frozenset[str]) -> NoReturn:
        status = self._invalid_status
        if "malformed-json-422" in quirks:
            status = UNDOCUMENTED_STATUS
        raise ServiceError("invalid-body", status, message)

    @property
    def _invalid_status(self) -> int:
        return self.contract.refusal("invalid-body").status

    # -- answer side ------------------------------------------------------------------------------------
    def _accepted(self, summary: dict[str, JSON]) -> Response:
        quirks = self.backend.quirks
        status = HTTPStatus.OK if "wrong-accepted-status" in quirks else self.contract.accepted_status
        if "accepted-empty-body" in quirks:
            return Response(status_code=status)
        body = summary if "summary-not-wrapped" in quirks else {self.contract.summary_key: summary}
        return self._json(status, body)

    def _json(self, status: int, body: JSON) -> Response:
        quirks = self.backend.quirks
        media_type = JSON_TYPE
        if "text-plain-content-type" in quirks:
            media_type = "text/plain"
        elif "error-html-content-type" in quirks and status >= HTTPStatus.BAD_REQUEST:
            media_type = "text/html"
        return Response(_encode(body), status_code=status, media_type=media_type)

    def _error(self, error: ServiceError) -> Response:
        """The profile's envelope: the status's documented single key and code type, else ``error``."""
        quirks = self.backend.quirks
        key, code_type = self._envelope_shape(error.status)
        if "error-code-integer" in quirks:
            code_type = "integer"
        elif "error-code-string" in quirks:
            code_type = "string"
        code: JSON = int(error.status) if code_type == "integer" else STRING_CODES.get(error.kind, "EVS.1000")
        fault: dict[str, JSON] = {"code": code, "message": error.message}
        if "error-message-missing" in quirks:
            del fault["message"]
        body = fault if "error-envelope-flat" in quirks else {key: fault}
        return self._json(error.status, body)

    def _envelope_shape(self, status: int) -> tuple[str, str]:
        documented = self.contract.response_schema(status)
        fallback = self.contract.refusal("invalid-body").body_schema
        if documented is not None and len(documented.get("properties", {})) == 1:
            ((key, fault),) = documented["properties"].items()
            return str(key), str(fault["properties"]["code"]["type"])
        # Statuses without a documented body (401, 403, 413, ...) use Keystone's and the page's key, "error",
        # with the code type of the profile's invalid-body envelope.
        assert fallback is not None
        ((_, fault),) = fallback["properties"].items()
        return "error", str(fault["properties"]["code"]["type"])

    def _guarded(self, handler: Handler) -> Handler:
        async def guarded(request: Request) -> Response:
            try:
                return await handler(request)
            except ServiceError as error:
                response = self._error(error)
                if error.status == HTTPStatus.REQUEST_ENTITY_TOO_LARGE:
                    # Closing is what stops the rest of the body: kept alive, the server would drain it.
                    response.headers["Connection"] = "close"
                return response

        return guarded

    async def _routing_error(self, request: Request, exc: Exception) -> Response:
        assert isinstance(exc, HTTPException)
        kind = "not-allowed" if exc.status_code == HTTPStatus.METHOD_NOT_ALLOWED else "not-found"
        message = f"{request.method} {request.url.path} is not served here"
        response = self._error(ServiceError(kind, exc.status_code, message))
        if exc.headers:
            response.headers.update(exc.headers)
        return response

    async def _crash(self, request: Request, exc: Exception) -> Response:
        # A defect of the mock still answers in JSON; the robustness tests make sure none is reachable.
        return self._error(ServiceError("internal", HTTPStatus.INTERNAL_SERVER_ERROR, "internal error"))
