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
from typing import Any

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import ClientDisconnect, Request
from starlette.responses import Response
from starlette.routing import Route

from conformance.mock.hooks import Answer, Behaviour, Deviations
from conformance.mock.models import SnapshotBackend
from conformance.mock.refusals import (
    DISK_SNAPSHOT_LIMIT,
    LIMIT_REFUSALS,
    SNAPSHOT_IN_PROGRESS,
    SNAPSHOT_NOT_DELETABLE,
    SNAPSHOT_QUOTA,
    ServiceError,
)

JSON = Any
Handler = Callable[[Request], Awaitable[Response]]

#: The mock's own error codes where the profile's envelope wants a string (the page documents only the type).
STRING_CODES = {
    "invalid-body": "EVS.2001",
    "unknown-volume": "EVS.2002",
    "null-volume-id": "EVS.2003",
    "volume-busy": "EVS.2004",
    SNAPSHOT_IN_PROGRESS: "EVS.2005",
    DISK_SNAPSHOT_LIMIT: "EVS.2006",
    SNAPSHOT_QUOTA: "EVS.2007",
    SNAPSHOT_NOT_DELETABLE: "EVS.2008",
    "unauthenticated": "EVS.1401",
    "forbidden": "EVS.1403",
    "not-found": "EVS.1404",
    "not-allowed": "EVS.1405",
    "too-large": "EVS.1413",
    "internal": "EVS.1500",
    "unavailable": "EVS.1503",
}
JSON_TYPE = "application/json"
#: OpenStack's fault names by status, the envelope key of a refusal made by a Cinder-like API itself. Used for
#: a limit refusal whose status the contract documents without a body, in a profile whose documented refusal
#: envelopes carry these names (Cinder's quota: 413 ``overLimit``).
OPENSTACK_FAULTS: dict[int, str] = {
    HTTPStatus.BAD_REQUEST: "badRequest",
    HTTPStatus.NOT_FOUND: "itemNotFound",
    HTTPStatus.REQUEST_ENTITY_TOO_LARGE: "overLimit",
}


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


def _accepts_json(accept: str | None) -> bool:
    """Whether an ``Accept`` header (None: absent) admits a JSON answer."""
    if not accept or not accept.strip():
        return True
    ranges = (part.split(";", 1)[0].strip().lower() for part in accept.split(","))
    return any(r in ("*/*", "application/*", JSON_TYPE) or r.endswith("+json") for r in ranges)


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
        project = f"{self.contract.api_prefix}/{{project_id}}"
        # The routing table: path, then the handler of each method. HEAD is a GET without its body, never
        # anything else (Starlette serves HEAD wherever GET is routed).
        table: dict[str, dict[str, Handler]] = {
            "/v3/auth/tokens": {"POST": self.issue_token},
            f"{project}/snapshots": {"GET": self.list_snapshots, "POST": self.create_snapshot},
            f"{project}/snapshots/detail": {"GET": self.list_snapshots},
            f"{project}/snapshots/{{snapshot_id}}": {
                "GET": self.show_snapshot,
                "DELETE": self.delete_snapshot,
            },
            f"{project}/volumes/{{volume_id}}": {"GET": self.show_volume},
        }
        routes = [
            Route(path, self._dispatch(handlers), methods=list(handlers)) for path, handlers in table.items()
        ]
        self.asgi = Starlette(
            routes=routes,
            exception_handlers={HTTPException: self._routing_error, Exception: self._crash},
        )

    @property
    def _deviations(self) -> Deviations:
        return self.backend.deviations

    # -- handlers ---------------------------------------------------------------------------------------
    async def create_snapshot(self, request: Request) -> Response:
        project_id = self._authenticated(request)
        if self._deviations.on(Behaviour.CRASH_ON_FOREIGN_ACCEPT) and not _accepts_json(
            request.headers.get("accept")
        ):
            raise ServiceError("internal", HTTPStatus.INTERNAL_SERVER_ERROR, "internal error")
        if self.backend.create_attempt_fails():
            raise ServiceError(
                "unavailable", HTTPStatus.SERVICE_UNAVAILABLE, "the service is busy; try again"
            )
        body = self._parsed(await self._body(request), self._deviations)
        summary = self.backend.create_snapshot(project_id, body)
        return self._accepted(summary)

    async def list_snapshots(self, request: Request) -> Response:
        project_id = self._authenticated(request)
        listed = self.backend.list_snapshots(project_id)
        return self._json(HTTPStatus.OK, {f"{self.contract.summary_key}s": listed})

    async def show_snapshot(self, request: Request) -> Response:
        project_id = self._authenticated(request)
        summary = self.backend.get_snapshot(project_id, request.path_params["snapshot_id"])
        return self._json(HTTPStatus.OK, {self.contract.summary_key: summary})

    async def delete_snapshot(self, request: Request) -> Response:
        project_id = self._authenticated(request)
        self.backend.delete_snapshot(project_id, request.path_params["snapshot_id"])
        return Response(status_code=self._deviations.status(Answer.ACCEPTED_DELETE))

    async def show_volume(self, request: Request) -> Response:
        project_id = self._authenticated(request)
        volume = self.backend.get_volume(project_id, request.path_params["volume_id"])
        return self._json(HTTPStatus.OK, {"volume": volume})

    async def issue_token(self, request: Request) -> Response:
        """Keystone v3 password authentication scoped to a project; the token comes in X-Subject-Token."""
        # The catalogue's quirks are about the snapshot API; token acquisition stays clean.
        body = self._parsed(await self._body(request), None)
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

    def _parsed(self, raw: bytes, deviations: Deviations | None) -> JSON:
        """The JSON value of a body (whatever its Content-Type: the page does not constrain it).

        ``deviations`` are the quirks' changes to parsing, None where they do not apply.
        """

        def on(behaviour: Behaviour) -> bool:
            return deviations is not None and deviations.on(behaviour)

        malformed = self._invalid_status if deviations is None else deviations.status(Answer.MALFORMED_BODY)
        if not raw.strip():
            if on(Behaviour.CRASH_ON_EMPTY_BODY):
                raise ServiceError("internal", HTTPStatus.INTERNAL_SERVER_ERROR, "internal error")
            raise ServiceError("invalid-body", malformed, "the body is empty")
        try:
            text = raw.decode("utf-8")
            if on(Behaviour.IGNORE_TRAILING_TEXT):
                value, _ = json.JSONDecoder(parse_constant=_reject_constant).raw_decode(text.lstrip())
            else:
                value = json.loads(text, parse_constant=_reject_constant)
        except RecursionError as exc:
            # Deep nesting exhausts the parser's stack: the body may be JSON, but too deep to read.
            if on(Behaviour.CRASH_ON_DEEP_NESTING):
                raise ServiceError("internal", HTTPStatus.INTERNAL_SERVER_ERROR, "internal error") from exc
            # Refused as an invalid body, not as one that is not JSON: quirks of the latter leave it be.
            raise ServiceError(
                "invalid-body", self._invalid_status, "the body is nested too deeply to read"
            ) from exc
        except ValueError as exc:
            # Undecodable bytes and bad JSON raise ValueErrors.
            if on(Behaviour.CRASH_ON_MALFORMED_BODY):
                raise ServiceError("internal", HTTPStatus.INTERNAL_SERVER_ERROR, "internal error") from exc
            raise ServiceError("invalid-body", malformed, f"the body is not JSON: {str(exc)[:120]}") from exc
        if on(Behaviour.CRASH_ON_NON_ASCII) and _has_non_ascii(value):
            raise ServiceError("internal", HTTPStatus.INTERNAL_SERVER_ERROR, "internal error")
        return value

    @property
    def _invalid_status(self) -> int:
        return self.contract.refusal("invalid-body").status

    # -- answer side ------------------------------------------------------------------------------------
    def _accepted(self, summary: dict[str, JSON]) -> Response:
        deviations = self._deviations
        status = deviations.status(Answer.ACCEPTED_CREATE)
        if deviations.on(Behaviour.EMPTY_ACCEPTED_BODY):
            return Response(status_code=status)
        unwrapped = deviations.on(Behaviour.UNWRAPPED_SUMMARY)
        return self._json(status, summary if unwrapped else {self.contract.summary_key: summary})

    def _json(self, status: int, body: JSON) -> Response:
        deviations = self._deviations
        media_type = JSON_TYPE
        if deviations.on(Behaviour.JSON_LABELLED_TEXT):
            media_type = "text/plain"
        elif deviations.on(Behaviour.ERRORS_LABELLED_HTML) and status >= HTTPStatus.BAD_REQUEST:
            media_type = "text/html"
        return Response(_encode(body), status_code=status, media_type=media_type)

    def _error(self, error: ServiceError) -> Response:
        """The profile's envelope: the status's documented single key and code type, else ``error``."""
        deviations = self._deviations
        key, code_type = self._envelope_shape(error)
        if deviations.on(Behaviour.INTEGER_ERROR_CODES):
            code_type = "integer"
        elif deviations.on(Behaviour.STRING_ERROR_CODES):
            code_type = "string"
        code: JSON = int(error.status) if code_type == "integer" else STRING_CODES.get(error.kind, "EVS.1000")
        fault: dict[str, JSON] = {"code": code, "message": error.message}
        if deviations.on(Behaviour.NO_ERROR_MESSAGE):
            del fault["message"]
        retry = error.retry_after is not None and error.status == HTTPStatus.REQUEST_ENTITY_TOO_LARGE
        if retry:
            # As OpenStack's fault wrapper does for 413: the header's value, repeated in the fault.
            fault["retryAfter"] = str(error.retry_after)
        body = fault if deviations.on(Behaviour.FLAT_ERROR_ENVELOPE) else {key: fault}
        response = self._json(error.status, body)
        if retry:
            response.headers["Retry-After"] = str(error.retry_after)
        return response

    def _envelope_shape(self, error: ServiceError) -> tuple[str, str]:
        """The envelope key and code type for an error's status."""
        documented = self.contract.response_schema(error.status)
        if documented is not None and len(documented.get("properties", {})) == 1:
            ((key, fault),) = documented["properties"].items()
            return str(key), str(fault["properties"]["code"]["type"])
        # Statuses without a documented body (401, 403, 413, ...) use Keystone's and the page's key, "error",
        # with the code type of the profile's invalid-body envelope; a limit refusal, which the API itself
        # makes, uses the API's fault name where the profile's envelopes are named that way.
        fallback = self.contract.refusal("invalid-body")
        assert fallback.body_schema is not None
        ((invalid_key, fault),) = fallback.body_schema["properties"].items()
        code_type = str(fault["properties"]["code"]["type"])
        named = OPENSTACK_FAULTS.get(fallback.status) == invalid_key
        if error.kind in LIMIT_REFUSALS and named and error.status in OPENSTACK_FAULTS:
            return OPENSTACK_FAULTS[error.status], code_type
        return "error", code_type

    def _dispatch(self, handlers: dict[str, Handler]) -> Handler:
        """One route's handler: the method's, with service errors answered in the profile's envelope."""
        handlers = {**handlers, "HEAD": handlers["GET"]} if "GET" in handlers else handlers

        async def dispatch(request: Request) -> Response:
            try:
                return await handlers[request.method](request)
            except ServiceError as error:
                response = self._error(error)
                if error.status == HTTPStatus.REQUEST_ENTITY_TOO_LARGE and error.kind == "too-large":
                    # Closing is what stops the rest of the body: kept alive, the server would drain it.
                    response.headers["Connection"] = "close"
                return response

        return dispatch

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
