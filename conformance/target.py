"""The HTTP side of the suite: one keep-alive client, every exchange recorded with the token masked.

Transport failures (timeouts, resets, garbage) come back as an ``Exchange`` with ``error`` set, never as an
exception, so a check can say what the target did wrong.

Example::

    with Target(contract, settings.target) as target:
        exchange = target.create({"snapshot": {"volume_id": volume}})
        exchange = target.create(raw=b"{", token=None)     # malformed JSON, no token header
"""

from __future__ import annotations

import enum
import json
import time
from collections.abc import Mapping
from dataclasses import dataclass
from types import TracebackType
from typing import Final
from urllib.parse import quote

import httpx

from conformance.contract import JSON, Contract
from conformance.errors import TargetError
from conformance.exchange import MASK, Exchange, Received, SentRequest
from conformance.settings import HttpSettings, TargetSettings

JSON_MEDIA_TYPE: Final = "application/json"
#: The status of a disk a plain snapshot may be taken of (a disk API word; the contract lists busy ones).
AVAILABLE_DISK_STATUS: Final = "available"


class _Default(enum.Enum):
    """Sentinels: the configured token, and "no JSON body" (JSON ``null`` is a body)."""

    TOKEN = "configured token"
    NO_BODY = "no body"


CONFIGURED_TOKEN: Final = _Default.TOKEN
NO_BODY: Final = _Default.NO_BODY


class BudgetExhausted(Exception):
    """The run may not create another snapshot (``--max-creates``); the test is skipped, not failed."""


class Target:
    """The endpoint under test, seen through one keep-alive ``httpx.Client``."""

    def __init__(
        self,
        contract: Contract,
        settings: TargetSettings,
        *,
        max_creates: int | None = None,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.contract = contract
        self.settings = settings
        self.max_creates = max_creates
        self.exchanges = 0
        self.creates = 0
        self._created: dict[str, None] = {}  # insertion-ordered set of snapshot IDs not yet deleted
        self._client = _client(settings.http, transport)
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
    ) -> Exchange:
        """POST a snapshot: ``body`` serialised as JSON, or ``raw`` bytes as they are.

        Raises ``BudgetExhausted`` before sending once the run's create budget is spent.
        """
        if self.max_creates is not None and self.creates >= self.max_creates:
            raise BudgetExhausted(f"the create budget ({self.max_creates} snapshots) is spent")
        exchange = self.request(
            "POST", self.collection_path, body=body, raw=raw, token=token, content_type=content_type
        )
        if exchange.response is not None and 200 <= exchange.response.status < 300:
            self.creates += 1
            created = _created_id(exchange.response, self.contract)
            if created is not None:
                self._created[created] = None
        return exchange

    def get_snapshot(self, snapshot_id: str) -> Exchange:
        return self.request("GET", self.snapshot_path(snapshot_id))

    def delete_snapshot(self, snapshot_id: str) -> Exchange:
        exchange = self.request("DELETE", self.snapshot_path(snapshot_id))
        if exchange.response is not None and (
            200 <= exchange.response.status < 300 or exchange.response.status == 404
        ):
            self._created.pop(snapshot_id, None)
        return exchange

    def list_snapshots(self) -> Exchange:
        return self.request("GET", self.collection_path)

    def get_volume(self, volume_id: str) -> Exchange:
        return self.request("GET", f"{self._volumes_path}/{quote(volume_id, safe='')}")

    def snapshot_path(self, snapshot_id: str) -> str:
        return f"{self.collection_path}/{quote(snapshot_id, safe='')}"

    @property
    def created_ids(self) -> tuple[str, ...]:
        """Snapshots this run created and has not seen deleted yet."""
        return tuple(self._created)

    def forget(self, snapshot_id: str) -> None:
        """Stop tracking a snapshot (a lifecycle test has dealt with it)."""
        self._created.pop(snapshot_id, None)

    def cleanup(self) -> list[Exchange]:
        """Delete every snapshot this run created and still tracks; returns the delete exchanges."""
        return [self.delete_snapshot(snapshot_id) for snapshot_id in self.created_ids]

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
        headers: Mapping[str, str] | None = None,
    ) -> Exchange:
        """Send one request to ``path`` (relative to the base URL) and record the exchange."""
        has_json = raw is None and body is not NO_BODY
        content = raw if raw is not None else _serialise(body) if has_json else None
        sent_headers = self._headers(token, content_type if content is not None else None, headers)
        url = self.settings.base_url.rstrip("/") + path
        request = self._client.build_request(method, url, content=content, headers=sent_headers)
        recorded = SentRequest(
            method=method,
            url=url,
            headers={name: self._masked(name, value) for name, value in request.headers.items()},
            body=content,
            json_body=body if has_json else None,
            has_json_body=has_json,
        )
        self.exchanges += 1
        started = time.perf_counter()
        try:
            received = self._send(request)
        except httpx.HTTPError as exc:
            error = f"{type(exc).__name__}: {exc}".replace("\n", " ").strip()
            return Exchange(recorded, None, error, time.perf_counter() - started)
        return Exchange(recorded, received, None, time.perf_counter() - started)

    def _send(self, request: httpx.Request) -> Received:
        limit = self.settings.http.max_response_bytes
        response = self._client.send(request, stream=True)
        try:
            chunks: list[bytes] = []
            size = 0
            truncated = False
            for chunk in response.iter_bytes():
                chunks.append(chunk)
                size += len(chunk)
                if size > limit:
                    truncated = True
                    break
            body = b"".join(chunks)[:limit]
        finally:
            response.close()
        headers = {name.lower(): value for name, value in response.headers.items()}
        return Received(response.status_code, headers, body, truncated)

    def _headers(
        self, token: str | _Default | None, content_type: str | None, extra: Mapping[str, str] | None
    ) -> dict[str, str]:
        headers = {"Accept": JSON_MEDIA_TYPE}
        if content_type is not None:
            headers["Content-Type"] = content_type
        chosen = self.settings.token if token is CONFIGURED_TOKEN else token
        if isinstance(chosen, str):
            headers[self.contract.token_header] = chosen
        headers.update(extra or {})
        return headers

    def _masked(self, name: str, value: str) -> str:
        secret = self.settings.token
        if secret and secret in value:
            return MASK
        if name.lower() == self.contract.token_header.lower() and value == secret:
            return MASK
        return value

    # -- lifetime -----------------------------------------------------------------------------------
    def close(self) -> None:
        self._client.close()

    def __enter__(self) -> Target:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()


def _client(settings: HttpSettings, transport: httpx.BaseTransport | None) -> httpx.Client:
    return httpx.Client(
        timeout=httpx.Timeout(settings.read_timeout_s, connect=settings.connect_timeout_s),
        limits=httpx.Limits(
            max_connections=settings.max_connections, max_keepalive_connections=settings.max_connections
        ),
        # A token must never follow a redirect to another place.
        follow_redirects=False,
        transport=transport,
        trust_env=False,
    )


def _serialise(body: JSON) -> bytes:
    # NaN and infinities are not JSON; refusing them keeps "sent JSON" honest.
    return json.dumps(body, ensure_ascii=False, separators=(",", ":"), allow_nan=False).encode("utf-8")


def _created_id(response: Received, contract: Contract) -> str | None:
    """The ID of the snapshot an accepted create made, when the response names one."""
    try:
        summary = response.json()[contract.summary_key]
        snapshot_id = summary["id"]
    except (ValueError, KeyError, TypeError):
        return None
    return snapshot_id if isinstance(snapshot_id, str) and snapshot_id else None


@dataclass(frozen=True)
class Disk:
    """A disk of the project as the target describes it."""

    id: str
    status: str
    size: int


def read_disk(target: Target, volume_id: str) -> Disk:
    """Read a disk's status and size; raises TargetError, one line, when the target cannot tell."""
    exchange = target.get_volume(volume_id)
    where = f"GET {exchange.request.url}"
    response = exchange.response
    if response is None:
        raise TargetError(f"{target.settings.base_url} is not reachable ({exchange.error})")
    if response.status in target.contract.auth_statuses:
        raise TargetError(f"the target refuses the token: {where} answered {response.status}")
    if response.status == 404:
        raise TargetError(
            f"disk {volume_id} does not exist in project {target.settings.project_id} ({where})"
        )
    if not 200 <= response.status < 300:
        raise TargetError(f"cannot read disk {volume_id}: {where} answered {response.status}")
    try:
        document = response.json()
        disk = document.get("volume", document)
        status, size = disk["status"], disk["size"]
    except (ValueError, AttributeError, KeyError, TypeError):
        raise TargetError(f"{where} did not describe a disk (no status and size)") from None
    if not isinstance(status, str) or not isinstance(size, int) or isinstance(size, bool):
        raise TargetError(f"{where} did not describe a disk (status {status!r}, size {size!r})")
    return Disk(volume_id, status, size)


def check_disks(target: Target, available_id: str | None, in_use_id: str | None) -> tuple[Disk, ...]:
    """Read the named disks and check each is in the state the run was told; raises TargetError if not."""
    disks: list[Disk] = []
    if available_id is not None:
        disk = read_disk(target, available_id)
        if disk.status != AVAILABLE_DISK_STATUS:
            raise TargetError(f"disk {available_id} is {disk.status!r}, not {AVAILABLE_DISK_STATUS!r}")
        disks.append(disk)
    if in_use_id is not None:
        disk = read_disk(target, in_use_id)
        busy = sorted(target.contract.busy_volume_statuses)
        if disk.status not in busy:
            raise TargetError(f"disk {in_use_id} is {disk.status!r}, not one of {', '.join(busy)}")
        disks.append(disk)
    return tuple(disks)
