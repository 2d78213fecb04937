"""The HTTP side of the suite: one keep-alive client, every exchange recorded with the token masked.

Transport failures (timeouts, resets, garbage, a body cut short) come back as an ``Exchange`` with ``error``
set, never as an exception, so a check can say what the target did wrong. The target is talked to politely
and for a bounded time: an optional rate limit, a 429's ``Retry-After`` honoured, connection errors on GET
and DELETE retried with back-off (a create never is), a per-request timeout, an overall deadline, and
responses read up to a size cap.

Example::

    with Target(contract, settings.target) as target:
        exchange = target.create({"snapshot": {"volume_id": volume}})
        exchange = target.create(raw=b"{", token=None)     # malformed JSON, no token header
        safe = redact(log_text, target.secrets())
"""

from __future__ import annotations

import dataclasses
import enum
import functools
import importlib.metadata
import json
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from types import TracebackType
from typing import Any, Final, Protocol
from urllib.parse import quote

import httpx

from conformance.contract import JSON, Contract
from conformance.core.errors import TargetError
from conformance.core.exchange import MASK, Exchange, Received, SentRequest
from conformance.run.auth import TokenSource, is_loopback, redact
from conformance.run.journal import (
    ACCEPTED,
    ACCEPTED_NO_ID,
    REFUSED,
    UNKNOWN,
    CreateRecord,
    Journal,
    shown_id,
    usable_id,
)
from conformance.run.settings import TargetSettings
from conformance.target.pacing import Pacer, retry_after_s
from conformance.target.tls import tls_verification
from conformance.target.transport import BoundedTransport, bounded_until, ssl_context

JSON_MEDIA_TYPE: Final = "application/json"
#: The error of every exchange not sent because the run's overall deadline has passed.
DEADLINE_REACHED: Final = "overall deadline reached"
#: Methods repeated after a connection error: repeating them cannot create anything.
RETRIED_METHODS: Final = frozenset({"GET", "DELETE"})
# Timeouts are not among them: repeating a request to a target that hangs only multiplies the wait.
_CONNECTION_ERRORS: Final = (httpx.NetworkError, httpx.RemoteProtocolError)


def _user_agent() -> str:
    try:
        version = importlib.metadata.version("evs-conformance")
    except importlib.metadata.PackageNotFoundError:
        version = "dev"
    return f"evs-conformance/{version}"


#: Names the suite in a target's access log, so its traffic can be told apart from real clients'.
USER_AGENT: Final = _user_agent()


class _Default(enum.Enum):
    """Sentinels: the configured token, and "no JSON body" (JSON ``null`` is a body)."""

    TOKEN = "configured token"
    NO_BODY = "no body"


CONFIGURED_TOKEN: Final = _Default.TOKEN
NO_BODY: Final = _Default.NO_BODY


class NotSent(Exception):
    """A request the client did not send, and why; the run's own limit, never the target's fault."""


class BudgetExhausted(NotSent):
    """The run may not create another snapshot (``--max-creates``); the test is skipped, not failed."""


class DeadlineReached(NotSent):
    """The run's time is up (``--deadline``): what is left is not reached, and skipped with that reason."""


class TargetUnresponsive(NotSent):
    """The target stopped answering (several requests in a row got no answer): the run ends early."""


#: Requests in a row that get no answer at all (no status line) before the target counts as unresponsive.
BREAKER_FAILURES: Final = 5


class _BodyFailure(Exception):
    """The status line arrived but the body did not (the connection dropped, or the body was too slow)."""

    def __init__(
        self, status: int, size: int, cause: str, *, retriable: bool, timed_out: bool = False
    ) -> None:
        super().__init__(f"{cause} (after HTTP {status} and {size} bytes of body)")
        self.retriable = retriable
        self.timed_out = timed_out


class CreateGate(Protocol):
    """Asked before and after every create (``conformance.target.scheduler`` keeps a cloud's limits)."""

    def before_create(self, target: Target, body: Any, raw: bytes | None) -> Any:
        """Wait until the create may go; the body to send. Raises ``NotSent`` when it may not go."""
        ...

    def after_create(self, target: Target, record: CreateRecord) -> None: ...


@dataclass(frozen=True)
class _Delivery:
    received: Received | None
    error: str | None
    attempts: int


class Target:
    """The endpoint under test, seen through one keep-alive ``httpx`` transport (a connection pool).

    ``deadline_at`` is a ``time.monotonic()`` instant after which nothing is sent (default: the settings'
    ``deadline_s`` from now); the monotonic clock is system-wide, so processes of one run can share it.
    Raises TargetError before any request when a token would go over plain HTTP to another machine.
    """

    def __init__(
        self,
        contract: Contract,
        settings: TargetSettings,
        *,
        max_creates: int | None = None,
        transport: httpx.BaseTransport | None = None,
        deadline_at: float | None = None,
        journal: Journal | None = None,
        pacer: Pacer | None = None,
    ) -> None:
        _refuse_plain_http(settings)
        self.contract = contract
        self.settings = settings
        self.max_creates = max_creates
        self.journal = journal
        #: The test the next requests serve (for the journal and the reports).
        self.current_test = ""
        self.exchanges = 0
        #: Creates counted against the budget: accepted ones and those whose outcome is unknown.
        self.creates = 0
        #: Why the target is taken to have stopped answering (None while it answers).
        self.unresponsive: str | None = None
        self._failures_in_a_row = 0
        self._counting = threading.Lock()
        self._delete_accepted: set[str] = set()
        #: Every create this client sent, in order, with its outcome (the journal's in-memory twin).
        self.records: list[CreateRecord] = []
        #: Told of every exchange once it is complete (the run's HAR recording).
        self.on_exchange: Callable[[Exchange], None] | None = None
        #: Asked before and after every create (a limited cloud's rules), if set.
        self.scheduler: CreateGate | None = None
        if deadline_at is None and settings.deadline_s is not None:
            deadline_at = time.monotonic() + settings.deadline_s
        self.deadline_at = deadline_at
        self._created: dict[str, None] = {}  # insertion-ordered set of snapshot IDs not yet deleted
        self._tokens = _token_source(settings)
        if pacer is None and settings.rate_limit_per_s is not None:
            pacer = Pacer(settings.rate_limit_per_s)
        self._pacer = pacer
        self._transport = _transport(settings) if transport is None else transport
        self._timeout = httpx.Timeout(settings.timeout_s).as_dict()
        self._token_header = contract.token_header.lower()
        self._base_url = settings.base_url.rstrip("/")
        project = quote(settings.project_id, safe="")
        self.collection_path = contract.path_template.replace("{project_id}", project)
        self._volumes_path = f"{contract.api_prefix}/{project}/volumes"

    # -- the operation and its neighbours ------------------------------------------------------------
    def create(
        self,
        body: JSON | _Default = NO_BODY,
        *,
        raw: bytes | None = None,
        token: str | _Default | None = CONFIGURED_TOKEN,
        content_type: str | None = JSON_MEDIA_TYPE,
        path: str | None = None,
        headers: Mapping[str, str | None] | None = None,
    ) -> Exchange:
        """POST a snapshot: ``body`` serialised as JSON, or ``raw`` bytes as they are.

        Every create goes through here, whatever the test or probe (``path`` names another project's
        collection; ``headers`` add to or replace the usual ones, a None value leaving one out): it is
        counted against the budget before it is sent, written to the journal, and its outcome recorded.
        Raises ``BudgetExhausted`` before sending once the budget is spent. With a ``scheduler`` set, it is
        asked first: it may wait for room on the disk the body names, or send the body to another available
        disk.
        """
        self._check_sendable()
        if self.scheduler is not None:
            # No waiting for room on the disk when the create could not go anyway.
            self._check_budget()
            body = self.scheduler.before_create(self, body, raw)
            self._check_sendable()
        with self._counting:
            self._check_budget()
            # Counted before it goes, so threads of one process never overshoot; given back when refused.
            self.creates += 1
        target_path = self.collection_path if path is None else path
        record = CreateRecord(
            key="",
            path=target_path,
            disk=_disk_of(body, self.contract),
            test=self.current_test,
            sent_at=time.time(),
        )
        self.records.append(record)
        key = None
        if self.journal is not None:
            key = self.journal.sent(path=target_path, disk=record.disk, test=record.test)
            record.key = key
        try:
            exchange = self._send_request(
                "POST",
                target_path,
                body=body,
                raw=raw,
                token=token,
                content_type=content_type,
                headers=headers,
            )
        except BaseException as exc:
            # An interrupt or the deadline while the create was on its way: it may have been acted on.
            self._settle_create(record, key, UNKNOWN, None, None, f"not answered: {type(exc).__name__}")
            raise
        outcome, snapshot_id, detail = classify_create(exchange, self.contract)
        self._settle_create(record, key, outcome, snapshot_id, exchange, detail)
        if outcome == ACCEPTED and snapshot_id is not None and path is None:
            self._created[snapshot_id] = None
        if self.scheduler is not None:
            self.scheduler.after_create(self, record)
        return exchange

    def _check_budget(self) -> None:
        if self.max_creates is not None and self.creates >= self.max_creates:
            raise BudgetExhausted(f"the create budget ({self.max_creates} snapshots) is spent")

    def _settle_create(
        self,
        record: CreateRecord,
        key: str | None,
        outcome: str,
        snapshot_id: str | None,
        exchange: Exchange | None,
        detail: str,
    ) -> None:
        record.outcome, record.snapshot_id, record.detail = outcome, snapshot_id, detail
        record.status = exchange.response.status if exchange is not None and exchange.response else None
        if outcome == REFUSED:
            record.gone = "refused"
            with self._counting:
                self.creates -= 1
        if self.journal is not None and key is not None:
            status = exchange.response.status if exchange is not None and exchange.response else None
            self.journal.answered(key, outcome, snapshot_id=snapshot_id, status=status, detail=detail)

    def get_snapshot(self, snapshot_id: str, *, collection: str | None = None) -> Exchange:
        """Read a snapshot (of this project, or of the ``collection`` path a create was sent to)."""
        exchange = self.request("GET", self.snapshot_path(snapshot_id, collection))
        if exchange.response is not None and 200 <= exchange.response.status < 300:
            for record in self.records:
                if record.snapshot_id == snapshot_id and not record.seen:
                    record.seen = True
                    if self.journal is not None:
                        self.journal.seen(snapshot_id)
        if (
            snapshot_id in self._delete_accepted
            and exchange.response is not None
            and exchange.response.status == httpx.codes.NOT_FOUND
        ):
            self._delete_accepted.discard(snapshot_id)
            # Gone only when a DELETE of ours was accepted and a read then found nothing; a target that never
            # showed the snapshot answers its reads 404 anyway, so that proves nothing (cleanup lists it).
            if any(r.seen for r in self.records if r.snapshot_id == snapshot_id):
                self.mark_gone(snapshot_id, "deleted by the run, then read 404")
        return exchange

    def delete_snapshot(self, snapshot_id: str, *, collection: str | None = None) -> Exchange:
        exchange = self.request("DELETE", self.snapshot_path(snapshot_id, collection))
        if exchange.response is not None and 200 <= exchange.response.status < 300:
            self._delete_accepted.add(snapshot_id)
        return exchange

    def mark_gone(self, snapshot_id: str, how: str) -> None:
        """Record that a snapshot of the run was seen gone (and how), in memory and in the journal."""
        self._created.pop(snapshot_id, None)
        for record in self.records:
            if record.snapshot_id == snapshot_id and record.gone is None:
                record.gone = how
        if self.journal is not None:
            self.journal.gone(snapshot_id, how=how)

    def outstanding(self) -> list[CreateRecord]:
        """Creates of this client that may have left a snapshot behind and were not seen gone."""
        return [record for record in self.records if record.needs_cleanup]

    def list_snapshots(self) -> Exchange:
        return self.request("GET", self.collection_path)

    def get_volume(self, volume_id: str) -> Exchange:
        return self.request("GET", f"{self._volumes_path}/{quote(volume_id, safe='')}")

    def snapshot_path(self, snapshot_id: str, collection: str | None = None) -> str:
        return f"{collection or self.collection_path}/{quote(snapshot_id, safe='')}"

    @property
    def created_ids(self) -> tuple[str, ...]:
        """Snapshots this run created and has not seen deleted yet."""
        return tuple(self._created)

    def forget(self, snapshot_id: str) -> None:
        """Stop tracking a snapshot (cleanup has dealt with it, one way or another)."""
        self._created.pop(snapshot_id, None)

    def secrets(self) -> tuple[str, ...]:
        """Every value no artefact may hold: each token handed out and the password, if any."""
        return () if self._tokens is None else self._tokens.secrets()

    def remaining_s(self) -> float | None:
        """Seconds left before the overall deadline (None without one; zero or less once it passed)."""
        return None if self.deadline_at is None else self.deadline_at - time.monotonic()

    # -- the generic request ------------------------------------------------------------------------
    def request(
        self,
        method: str,
        path: str,
        *,
        body: JSON | _Default = NO_BODY,
        raw: bytes | None = None,
        token: str | _Default | None = CONFIGURED_TOKEN,
        content_type: str | None = JSON_MEDIA_TYPE,
        headers: Mapping[str, str | None] | None = None,
    ) -> Exchange:
        """Send one request to ``path`` (relative to the base URL) and record the exchange.

        With the configured token, a 401 makes the token source renew the token (at most as often as it
        allows) and the request is sent once more with the fresh one. A POST goes through ``create``, so that
        every create is counted and journaled. Raises ``NotSent`` when the run's time is up or the target
        stopped answering.
        """
        if method.upper() == "POST":
            raise ValueError("a POST creates a snapshot: send it with Target.create")
        self._check_sendable()
        return self._send_request(
            method, path, body=body, raw=raw, token=token, content_type=content_type, headers=headers
        )

    def _check_sendable(self) -> None:
        if self.unresponsive is not None:
            raise TargetUnresponsive(self.unresponsive)
        remaining = self.remaining_s()
        if remaining is not None and remaining <= 0:
            raise DeadlineReached(DEADLINE_REACHED)

    def _send_request(
        self,
        method: str,
        path: str,
        *,
        body: JSON | _Default = NO_BODY,
        raw: bytes | None = None,
        token: str | _Default | None = CONFIGURED_TOKEN,
        content_type: str | None = JSON_MEDIA_TYPE,
        headers: Mapping[str, str | None] | None = None,
    ) -> Exchange:
        has_json = raw is None and body is not NO_BODY
        content = raw if raw is not None else _serialise(body) if has_json else None
        json_body = body if has_json else None
        content_type = content_type if content is not None else None
        configured = token is CONFIGURED_TOKEN
        sent = self._current_token() if configured else token
        assert not isinstance(sent, _Default)
        self.exchanges += 1
        exchange = self._exchange(method, path, content, json_body, has_json, sent, content_type, headers)
        response = exchange.response
        if not (configured and sent is not None and self._tokens is not None):
            return exchange
        if response is None or response.status != httpx.codes.UNAUTHORIZED:
            return exchange
        try:
            fresh = self._tokens.renew(rejected=sent)
        except TargetError as exc:
            error = f"HTTP {response.status} and the token could not be renewed: {exc}"
            return dataclasses.replace(exchange, response=None, error=redact(error, self.secrets()))
        if fresh is None:
            return exchange
        again = self._exchange(method, path, content, json_body, has_json, fresh, content_type, headers)
        return dataclasses.replace(
            again, elapsed_s=exchange.elapsed_s + again.elapsed_s, attempts=exchange.attempts + again.attempts
        )

    def _exchange(
        self,
        method: str,
        path: str,
        content: bytes | None,
        json_body: JSON,
        has_json: bool,
        token: str | None,
        content_type: str | None,
        extra: Mapping[str, str | None] | None,
    ) -> Exchange:
        url = self._base_url + path
        # Read once: the token source takes a lock and copies its list on every call.
        secrets = self.secrets()
        request = httpx.Request(
            method,
            _parsed_url(url),
            content=content,
            headers=self._headers(token, content_type, extra),
            extensions={"timeout": self._timeout},
        )
        recorded = SentRequest(
            method=method,
            url=url,
            headers=self._recorded_headers(request.headers, secrets),
            body=content,
            json_body=json_body,
            has_json_body=has_json,
        )
        started = time.perf_counter()
        delivery = self._deliver(request, secrets)
        error = None if delivery.error is None else redact(delivery.error, secrets)
        self._count_failure(delivery)
        exchange = Exchange(
            recorded,
            delivery.received,
            error,
            time.perf_counter() - started,
            delivery.attempts,
            received_at=time.time() if delivery.received is not None else None,
        )
        if self.on_exchange is not None:
            self.on_exchange(exchange)
        return exchange

    def _count_failure(self, delivery: _Delivery) -> None:
        """Trip the breaker once several requests in a row got no answer at all."""
        if delivery.received is not None:
            self._failures_in_a_row = 0
            return
        self._failures_in_a_row += 1
        if self._failures_in_a_row >= BREAKER_FAILURES and self.unresponsive is None:
            self.unresponsive = (
                f"the target stopped answering: {self._failures_in_a_row} requests in a row got no answer "
                f"(the last: {delivery.error})"
            )

    def reopen(self, *, seconds: float) -> None:
        """Give the target a fresh time window (for cleanup after the deadline, or after the breaker)."""
        self.deadline_at = time.monotonic() + seconds
        self.unresponsive = None
        self._failures_in_a_row = 0

    def _deliver(self, request: httpx.Request, secrets: tuple[str, ...]) -> _Delivery:
        """Send ``request``; repeat it, within bounds, after a 429 or (GET, DELETE) a connection error."""
        settings = self.settings
        retriable = request.method in RETRIED_METHODS
        attempts = 0
        while True:
            if self._pacer is not None and not self._pacer.wait(until=self.deadline_at):
                raise DeadlineReached(DEADLINE_REACHED)
            remaining = self.remaining_s()
            if remaining is not None and remaining <= 0:
                raise DeadlineReached(DEADLINE_REACHED)
            attempts += 1
            pause = settings.retry_backoff_s * 2 ** (attempts - 1)
            try:
                received = self._send(request, remaining, secrets)
            except _BodyFailure as exc:
                if self._cut_by_deadline(remaining) and exc.timed_out:
                    raise DeadlineReached(f"{DEADLINE_REACHED} while the body was arriving") from exc
                if not (retriable and exc.retriable and attempts <= settings.retries and self._pause(pause)):
                    return _Delivery(None, str(exc), attempts)
                continue
            except httpx.HTTPError as exc:
                if self._cut_by_deadline(remaining) and isinstance(exc, httpx.TimeoutException):
                    raise DeadlineReached(f"{DEADLINE_REACHED} while waiting for the answer") from exc
                repeat = retriable and isinstance(exc, _CONNECTION_ERRORS) and attempts <= settings.retries
                if not (repeat and self._pause(pause)):
                    return _Delivery(None, _describe(exc), attempts)
                continue
            if received.status == httpx.codes.TOO_MANY_REQUESTS and attempts <= settings.retries:
                asked = retry_after_s(received.headers.get("retry-after"))
                wait = pause if asked is None else asked
                # A target asking for a longer pause than allowed gets its 429 recorded as the answer.
                if wait <= settings.max_retry_after_s and self._pause(wait):
                    continue
            return _Delivery(received, None, attempts)

    def _cut_by_deadline(self, remaining: float | None) -> bool:
        """Whether the run's deadline, not the request's own timeout, bounded an attempt that timed out."""
        return (
            remaining is not None and remaining < self.settings.timeout_s and (self.remaining_s() or 0) <= 0
        )

    def _pause(self, seconds: float) -> bool:
        """Sleep before a repeat; False (and no sleep) when the pause would run past the deadline."""
        remaining = self.remaining_s()
        if remaining is not None and seconds >= remaining:
            return False
        if seconds > 0:
            time.sleep(seconds)
        return True

    def _send(self, request: httpx.Request, remaining: float | None, secrets: tuple[str, ...]) -> Received:
        budget = self.settings.timeout_s
        if remaining is not None and remaining < budget:
            # Near the deadline every phase of the request gets only what is left.
            budget = remaining
            request.extensions["timeout"] = httpx.Timeout(remaining).as_dict()
        limit = self.settings.max_response_bytes
        # Every network operation of the request (connect, TLS, the headers, the body) shares one limit, so a
        # target that trickles bytes cannot stretch it; the body loop checks it too for mock transports.
        give_up_at = time.monotonic() + budget
        with bounded_until(give_up_at):
            response = self._transport.handle_request(request)
            chunks: list[bytes] = []
            size = 0
            truncated = False
            try:
                for chunk in response.iter_bytes():
                    chunks.append(chunk)
                    size += len(chunk)
                    if size > limit:
                        truncated = True
                        break
                    if time.monotonic() > give_up_at:
                        cause = f"ReadTimeout: the body took longer than {budget:g} s"
                        raise _BodyFailure(response.status_code, size, cause, retriable=False, timed_out=True)
            except httpx.HTTPError as exc:
                retriable = isinstance(exc, _CONNECTION_ERRORS)
                timed_out = isinstance(exc, httpx.TimeoutException)
                raise _BodyFailure(
                    response.status_code, size, _describe(exc), retriable=retriable, timed_out=timed_out
                ) from exc
            finally:
                response.close()
        body = b"".join(chunks)[:limit]
        # Names come lower-cased; a target that echoes the token back must not get it into a report.
        headers = {name: redact(value, secrets) for name, value in response.headers.items()}
        return Received(response.status_code, headers, body, truncated)

    def _current_token(self) -> str | None:
        return None if self._tokens is None else self._tokens.token()

    def _headers(
        self, token: str | None, content_type: str | None, extra: Mapping[str, str | None] | None
    ) -> dict[str, str]:
        # No Accept-Encoding: bodies come as the target stores them, so the size cap also bounds the wire.
        headers = {"Accept": JSON_MEDIA_TYPE, "User-Agent": USER_AGENT}
        if content_type is not None:
            headers["Content-Type"] = content_type
        if token is not None:
            headers[self.contract.token_header] = token
        if extra:
            # Header names are case-insensitive: a caller's header replaces ours instead of doubling it, and
            # None leaves it out altogether (a request without Accept, say).
            replaced = {name.lower() for name in extra}
            headers = {name: value for name, value in headers.items() if name.lower() not in replaced}
            headers.update({name: value for name, value in extra.items() if value is not None})
        return headers

    def _recorded_headers(self, sent: httpx.Headers, secrets: tuple[str, ...]) -> dict[str, str]:
        if not secrets:
            return dict(sent.items())
        token_header = self._token_header
        recorded: dict[str, str] = {}
        for name, value in sent.items():  # names come lower-cased
            # A deliberately invalid token is no secret and stays readable, so a reproduction can repeat it.
            if name == token_header and value in secrets:
                recorded[name] = MASK
            else:
                recorded[name] = redact(value, secrets)
        return recorded

    # -- lifetime -----------------------------------------------------------------------------------
    def close(self) -> None:
        self._transport.close()

    def __enter__(self) -> Target:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()


def _refuse_plain_http(settings: TargetSettings) -> None:
    url = httpx.URL(settings.base_url)
    if url.scheme != "http" or not settings.has_credentials or settings.allow_plain_http:
        return
    if not is_loopback(url.host):
        raise TargetError(
            f"refusing to send the token over plain HTTP to {url.host}; use https:// "
            "(or allow plain HTTP explicitly)"
        )


def _token_source(settings: TargetSettings) -> TokenSource | None:
    if settings.token_source is not None:
        return settings.token_source
    return None if settings.token is None else TokenSource.from_token(settings.token)


def _transport(settings: TargetSettings) -> httpx.BaseTransport:
    # Requests go to the transport directly, without an httpx.Client: the client's per-request work (cookie
    # jar, redirects, auth flow, hooks) costs as much client CPU as the exchange itself and none of it is
    # wanted. No redirect is followed (a token must not travel on; a 3xx is the recorded answer), no cookie
    # is kept, and no proxy is taken from the environment.
    return BoundedTransport(
        ssl_context=ssl_context(tls_verification(settings)), max_connections=settings.max_connections
    )


@functools.lru_cache(maxsize=256)
def _parsed_url(url: str) -> httpx.URL:
    # Parsing costs about as much as building the rest of a request, and the create path repeats one URL.
    return httpx.URL(url)


def _describe(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}".replace("\n", " ").strip()


def _serialise(body: JSON) -> bytes:
    # NaN and infinities are not JSON; refusing them keeps "sent JSON" honest.
    return json.dumps(body, ensure_ascii=False, separators=(",", ":"), allow_nan=False).encode("utf-8")


def classify_create(exchange: Exchange, contract: Contract) -> tuple[str, str | None, str]:
    """What came of a create: (outcome, the snapshot's ID when usable, a detail for the journal).

    A 2xx made a snapshot, whether or not its ID can be read; a 5xx, a timeout or a connection dropped after
    sending leaves the outcome unknown (the target may have acted); a connection never opened, a 3xx or a
    4xx made nothing.
    """
    response = exchange.response
    if response is None:
        error = exchange.error or "no answer"
        never_sent = error.startswith(("ConnectError", "ConnectTimeout", "PoolTimeout"))
        return (REFUSED if never_sent else UNKNOWN), None, error
    if response.status >= 500:
        return UNKNOWN, None, f"HTTP {response.status}: the target may have acted"
    if not 200 <= response.status < 300:
        return REFUSED, None, f"HTTP {response.status}"
    try:
        raw_id = response.json()[contract.summary_key]["id"]
    except (ValueError, KeyError, TypeError, IndexError):
        return ACCEPTED_NO_ID, None, f"HTTP {response.status}, but the body names no snapshot ID"
    snapshot_id = usable_id(raw_id)
    if snapshot_id is None:
        return ACCEPTED_NO_ID, None, f"HTTP {response.status}, but the ID is unusable: {shown_id(raw_id)}"
    return ACCEPTED, snapshot_id, f"HTTP {response.status}"


def _disk_of(body: JSON | _Default, contract: Contract) -> str | None:
    snapshot = body.get(contract.snapshot_key) if isinstance(body, Mapping) else None
    disk = snapshot.get("volume_id") if isinstance(snapshot, Mapping) else None
    return usable_id(disk)
