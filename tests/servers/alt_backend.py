"""State and rules of the alternative snapshot server, with no HTTP in sight.

This module restates the page's limits on purpose instead of reading the project's contract: the server
exists to cross-check the suite and the reference mock, so it must not share their source of truth.
"""

from __future__ import annotations

import json
import re
import threading
import unicodedata
import uuid
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import unquote

PROFILES = ("huawei", "cinder")
TIME_FORMAT = "%Y-%m-%dT%H:%M:%S.%f"

# OpenStack Cinder's exact list (cinder/api/validation/parameter_types.py, ``boolean``): no other case or
# spacing of these words is taken.
_TRUTHY = frozenset({"True", "TRUE", "true", "1", "ON", "On", "on", "YES", "Yes", "yes", "y", "t"})
_FALSY = frozenset({"False", "FALSE", "false", "0", "OFF", "Off", "off", "NO", "No", "no", "n", "f"})
_BUSY = frozenset({"in-use", "attaching"})
_ROUTE = re.compile(
    r"^/(?P<version>v\d+)/(?P<project>[^/]+)/(?P<kind>snapshots|volumes)(?:/(?P<item>[^/]+))?/?$"
)


def _require_printable(text: str, code: str) -> None:
    """Refuse text with a character Cinder's description check refuses: beyond the BMP, C*, Zl or Zp."""
    for char in text:
        category = unicodedata.category(char)
        if ord(char) >= 0xFFFF or category[0] == "C" or category in ("Zl", "Zp"):
            raise Refusal(400, code, f"snapshot.description holds U+{ord(char):04X}, which is not printable")


@dataclass(frozen=True)
class Rules:
    """What one profile of the page demands, spelt out independently of the project's spec files."""

    profile: str
    prefix: str
    name_max: int
    description_max: int
    unknown_volume_status: int
    boolean_strings: bool
    null_force_is_false: bool
    null_volume_is_unknown: bool
    trims_text: bool
    printable_description: bool
    metadata_key: str | None
    metadata_value_max: int | None
    stamps_updated_at: bool
    text_default: str | None

    @classmethod
    def for_profile(cls, profile: str) -> Rules:
        """The rules of ``huawei`` (the page as written) or ``cinder`` (OpenStack Block Storage v3)."""
        if profile == "huawei":
            # Where the page is silent (null force, null name) this server takes the lenient reading,
            # and an omitted name or description comes back as an empty string rather than null.
            return cls(
                profile="huawei",
                prefix="v2",
                name_max=64,
                description_max=85,
                unknown_volume_status=400,
                boolean_strings=False,
                null_force_is_false=True,
                null_volume_is_unknown=False,
                trims_text=False,
                printable_description=False,
                metadata_key=None,
                metadata_value_max=None,
                stamps_updated_at=True,
                text_default="",
            )
        if profile == "cinder":
            return cls(
                profile="cinder",
                prefix="v3",
                name_max=255,
                description_max=255,
                unknown_volume_status=404,
                boolean_strings=True,
                null_force_is_false=False,
                null_volume_is_unknown=True,
                trims_text=True,
                printable_description=True,
                # Cinder's metadata rule (parameter_types.metadata_allows_null): key shape, value length.
                metadata_key=r"^[a-zA-Z0-9-_:. /]{1,255}$",
                metadata_value_max=255,
                stamps_updated_at=False,
                text_default=None,
            )
        raise ValueError(f"unknown profile {profile!r}; choose from {', '.join(PROFILES)}")


class Refusal(Exception):
    """A request the server turns down: HTTP status, a code of this server's own numbering and a message."""

    def __init__(
        self, status: int, code: str, message: str, headers: Mapping[str, str] | None = None
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.headers = dict(headers or {})


@dataclass(frozen=True)
class Volume:
    """A disk the project owns."""

    id: str
    status: str
    size: int


@dataclass
class Snapshot:
    """A stored snapshot; its status is derived from the clock so that settling needs no background work."""

    id: str
    volume_id: str
    name: str | None
    description: str | None
    metadata: dict[str, str]
    size: int
    created: datetime


@dataclass(frozen=True)
class Reply:
    """What the HTTP layer must send: status, a JSON-able payload (or nothing) and extra headers."""

    status: int
    payload: object = None
    headers: Mapping[str, str] = field(default_factory=dict)


def envelope(rules: Rules, refusal: Refusal) -> dict[str, Any]:
    """The error body of a profile: Huawei's ``error`` object, or a Cinder fault named after the status."""
    if rules.profile == "huawei":
        return {"error": {"code": refusal.code, "message": refusal.message}}
    if refusal.status == 401:
        return {"error": {"code": 401, "title": "Unauthorized", "message": refusal.message}}
    fault = {
        400: "badRequest",
        403: "forbidden",
        404: "itemNotFound",
        405: "badMethod",
        413: "requestEntityTooLarge",
    }.get(refusal.status, "badRequest")
    return {fault: {"code": refusal.status, "message": refusal.message}}


class Backend:
    """One project's disks and snapshots, plus the create rules of a profile."""

    def __init__(
        self,
        rules: Rules,
        *,
        project_id: str,
        tokens: Mapping[str, str],
        volumes: Iterable[Volume],
        settle_seconds: float = 0.0,
        clock: Callable[[], datetime] | None = None,
    ) -> None:
        self.rules = rules
        self.project_id = project_id
        self._tokens = dict(tokens)
        self._volumes = {volume.id: volume for volume in volumes}
        self._settle = timedelta(seconds=settle_seconds)
        self._clock = clock or (lambda: datetime.now(UTC).replace(tzinfo=None))
        self._snapshots: dict[str, Snapshot] = {}
        self._lock = threading.Lock()

    def handle(self, method: str, path: str, token: str | None, body: bytes) -> Reply:
        """Route one request and answer it; every refusal becomes the profile's error envelope."""
        try:
            return self._route(method, path, token, body)
        except Refusal as refusal:
            return Reply(refusal.status, envelope(self.rules, refusal), refusal.headers)

    def _route(self, method: str, path: str, token: str | None, body: bytes) -> Reply:
        match = _ROUTE.match(path)
        if match is None or match["version"] != self.rules.prefix:
            raise Refusal(404, "EVS.2001", "no such resource on this server")
        self._authorise(unquote(match["project"]), token)
        kind, item = match["kind"], match["item"]
        if kind == "volumes":
            if item is None:
                raise Refusal(404, "EVS.2001", "disk listing is not offered here")
            _require(method, ("GET",))
            return Reply(200, {"volume": self._volume_view(unquote(item))})
        if item is None or item == "detail":
            _require(method, ("GET", "POST") if item is None else ("GET",))
            if method == "POST":
                return Reply(202, {"snapshot": self._create(body)})
            return Reply(200, {"snapshots": self._listing()})
        _require(method, ("GET", "DELETE"))
        if method == "DELETE":
            self._delete(unquote(item))
            return Reply(202)
        return Reply(200, {"snapshot": self._read(unquote(item))})

    def _authorise(self, project_id: str, token: str | None) -> None:
        if not token:
            raise Refusal(401, "EVS.0401", "authentication required: send X-Auth-Token")
        owner = self._tokens.get(token)
        if owner is None:
            raise Refusal(401, "EVS.0402", "the token presented is not recognised")
        if owner != project_id or project_id != self.project_id:
            raise Refusal(403, "EVS.0403", "the token is not scoped to this project")

    def _create(self, body: bytes) -> dict[str, Any]:
        option = _snapshot_option(body)
        volume_id = option.get("volume_id")
        null_allowed = volume_id is None and self.rules.null_volume_is_unknown
        if "volume_id" not in option or not (isinstance(volume_id, str) or null_allowed):
            raise Refusal(400, "EVS.1103", "snapshot.volume_id is required and must be a string")
        name = self._text(option, "name", self.rules.name_max, "EVS.1104")
        description = self._text(option, "description", self.rules.description_max, "EVS.1105")
        if self.rules.printable_description and isinstance(option.get("description"), str):
            # Judged on what was sent, before trimming, as Cinder validates before it strips.
            _require_printable(option["description"], "EVS.1105")
        force = self._force(option)
        metadata = _metadata(option.get("metadata"), self.rules)
        with self._lock:
            volume = self._volumes.get(volume_id) if isinstance(volume_id, str) else None
            if volume is None:
                status = self.rules.unknown_volume_status
                raise Refusal(status, "EVS.1108", f"no disk {volume_id!r} in this project")
            if volume.status in _BUSY and not force:
                raise Refusal(400, "EVS.1109", f"disk is {volume.status}; set force to snapshot it anyway")
            if volume.status != "available" and volume.status not in _BUSY:
                raise Refusal(400, "EVS.1110", f"a disk in state {volume.status} cannot be snapshotted")
            snapshot = Snapshot(
                id=self._new_id(),
                volume_id=volume.id,
                name=name,
                description=description,
                metadata=metadata,
                size=volume.size,
                created=self._clock(),
            )
            self._snapshots[snapshot.id] = snapshot
        return self._view(snapshot, settled=False)

    def _text(self, option: Mapping[str, Any], key: str, limit: int, code: str) -> str | None:
        if key not in option:
            return self.rules.text_default
        value = option[key]
        if value is None:
            return None
        if not isinstance(value, str):
            raise Refusal(400, code, f"snapshot.{key} must be text")
        # Length is judged on what was sent; trimming only shapes what is stored.
        if len(value) > limit:
            raise Refusal(400, code, f"snapshot.{key} is {len(value)} characters, over the {limit} allowed")
        return value.strip() if self.rules.trims_text else value

    def _force(self, option: Mapping[str, Any]) -> bool:
        value = option.get("force")
        if "force" not in option or (value is None and self.rules.null_force_is_false):
            return False
        if isinstance(value, bool):
            return value
        if self.rules.boolean_strings and isinstance(value, str) and (value in _TRUTHY or value in _FALSY):
            return value in _TRUTHY
        raise Refusal(400, "EVS.1106", "snapshot.force accepts true or false only")

    def _new_id(self) -> str:
        # Deliberately unlike the usual dashed UUID4, so a target-neutral suite must not depend on the shape.
        return uuid.uuid4().hex if self.rules.profile == "huawei" else str(uuid.uuid1())

    def _read(self, snapshot_id: str) -> dict[str, Any]:
        with self._lock:
            snapshot = self._snapshots.get(snapshot_id)
        if snapshot is None:
            raise Refusal(404, "EVS.2002", f"snapshot {snapshot_id} does not exist")
        return self._view(snapshot, settled=None)

    def _delete(self, snapshot_id: str) -> None:
        with self._lock:
            if self._snapshots.pop(snapshot_id, None) is None:
                raise Refusal(404, "EVS.2002", f"snapshot {snapshot_id} does not exist")

    def _listing(self) -> list[dict[str, Any]]:
        with self._lock:
            snapshots = list(self._snapshots.values())
        return [self._view(snapshot, settled=None) for snapshot in snapshots]

    def _volume_view(self, volume_id: str) -> dict[str, Any]:
        volume = self._volumes.get(volume_id)
        if volume is None:
            raise Refusal(404, "EVS.2003", f"disk {volume_id} does not exist")
        return {"id": volume.id, "size": volume.size, "status": volume.status}

    def _view(self, snapshot: Snapshot, *, settled: bool | None) -> dict[str, Any]:
        settle_at = snapshot.created + self._settle
        if settled is None:
            settled = self._clock() >= settle_at
        if settled:
            updated: str | None = settle_at.strftime(TIME_FORMAT)
        elif self.rules.stamps_updated_at:
            updated = snapshot.created.strftime(TIME_FORMAT)
        else:
            updated = None
        return {
            "created_at": snapshot.created.strftime(TIME_FORMAT),
            "description": snapshot.description,
            "id": snapshot.id,
            "metadata": dict(snapshot.metadata),
            "name": snapshot.name,
            "size": snapshot.size,
            "status": "available" if settled else "creating",
            "updated_at": updated,
            "volume_id": snapshot.volume_id,
        }


def _snapshot_option(body: bytes) -> Mapping[str, Any]:
    if not body.strip():
        raise Refusal(400, "EVS.1100", "the request body is empty; a JSON object is expected")
    try:
        document = json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:
        raise Refusal(400, "EVS.1101", f"the request body is not JSON: {type(exc).__name__}") from exc
    if not isinstance(document, dict):
        raise Refusal(400, "EVS.1102", "the request body must be a JSON object")
    option = document.get("snapshot")
    if not isinstance(option, dict):
        raise Refusal(400, "EVS.1102", "a 'snapshot' object is required in the body")
    return option


def _metadata(value: object, rules: Rules) -> dict[str, str]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise Refusal(400, "EVS.1107", "snapshot.metadata must be an object")
    for key, item in value.items():
        if not isinstance(item, str):
            raise Refusal(400, "EVS.1107", f"snapshot.metadata[{key!r}] must be a string")
        if rules.metadata_key is not None and not re.search(rules.metadata_key, key):
            raise Refusal(400, "EVS.1107", f"snapshot.metadata key {key!r} is not allowed")
        if rules.metadata_value_max is not None and len(item) > rules.metadata_value_max:
            raise Refusal(
                400, "EVS.1107", f"snapshot.metadata[{key!r}] is over {rules.metadata_value_max} characters"
            )
    return dict(value)


def _require(method: str, allowed: tuple[str, ...]) -> None:
    if method not in allowed:
        listed = ", ".join(allowed)
        raise Refusal(405, "EVS.2004", f"{method} is not supported here; use {listed}", {"Allow": listed})
