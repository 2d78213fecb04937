"""State and rules of the mock EVS snapshot service, with no HTTP: projects, disks, snapshots, tokens, users.

Every rule reads the profile's ``Contract``: the request schema, the refusal statuses, the busy disk statuses,
the ``force`` default and whether names are trimmed. Refusals are ``ServiceError`` exceptions carrying the
refusal kind, the status the contract gives it and a message saying what was wrong; the HTTP layer turns them
into the profile's error envelope.

Example::

    backend = SnapshotBackend(load_contract("huawei"), seed=1)
    backend.add_project("p1")
    backend.add_volume("p1", "vol-1", "available", 10)
    backend.create_snapshot("p1", {"snapshot": {"volume_id": "vol-1"}})["status"]   # "creating"
"""

from __future__ import annotations

import copy
import random
import threading
import uuid
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http import HTTPStatus
from typing import Any

import jsonschema
import jsonschema.exceptions
import jsonschema_rs

from conformance.contract import Contract
from conformance.errors import SpecError, UsageError
from conformance.mock.quirks import (
    CREATE_VIEW,
    EVERY_VIEW,
    INTERMITTENT_EVERY,
    READ_VIEW,
    SCHEMA_PATCHES,
    UNDOCUMENTED_STATUS,
    ViewPatch,
    check_quirks,
)

JSON = Any
Clock = Callable[[], datetime]

TIME_FORMAT = "%Y-%m-%dT%H:%M:%S.%f"
#: Disk statuses a seeded disk may have besides the contract's busy ones (the page names no others).
IDLE_VOLUME_STATUSES = ("available", "error")
IN_USE = "in-use"

# The snapshot lifecycle as data; __init__ checks each status against the contract's enum.
CREATING, AVAILABLE, DELETING = "creating", "available", "deleting"
SETTLES_TO: Mapping[str, str] = {CREATING: AVAILABLE}

_MESSAGE_LIMIT = 240
_TOKEN_LIFETIME = timedelta(hours=24)


def utc_now() -> datetime:
    """The default clock: the current UTC time."""
    return datetime.now(UTC)


class ServiceError(Exception):
    """A request the service refuses: ``kind`` names the refusal and ``status`` is its HTTP status."""

    def __init__(self, kind: str, status: int, message: str) -> None:
        super().__init__(message)
        self.kind = kind
        self.status = status
        self.message = message


@dataclass
class Volume:
    """A disk of a project."""

    id: str
    status: str
    size_gib: int


@dataclass
class Snapshot:
    """A stored snapshot; ``updated_at`` is None until something changes it (where the profile says so)."""

    id: str
    volume_id: str
    size: int
    name: str | None
    description: str | None
    metadata: dict[str, JSON]
    status: str
    created_at: datetime
    updated_at: datetime | None


@dataclass
class Project:
    """A tenant: its disks and its snapshots, in creation order."""

    id: str
    volumes: dict[str, Volume] = field(default_factory=dict)
    snapshots: dict[str, Snapshot] = field(default_factory=dict)
    #: IDs of the snapshots the clock may still move on (being created or deleted), so a request only
    #: looks at those rather than at every snapshot the project ever kept.
    changing: dict[str, None] = field(default_factory=dict)


def _clip(text: str) -> str:
    return text if len(text) <= _MESSAGE_LIMIT else text[: _MESSAGE_LIMIT - 1] + "…"


def _as_bool(value: JSON, meanings: Mapping[str, bool]) -> bool:
    """How the service reads a ``force`` value that validation let through, strings by the contract."""
    if isinstance(value, str) and value in meanings:
        return meanings[value]
    # Only a quirk lets any other value through: read it as Python does (a non-empty string is true).
    return bool(value)


def _stamp(moment: datetime | None) -> str | None:
    return None if moment is None else moment.astimezone(UTC).strftime(TIME_FORMAT)


class SnapshotBackend:
    """The service's state and rules for one profile; every public method is safe to call from any thread."""

    def __init__(
        self,
        contract: Contract,
        *,
        seed: int = 0,
        settle_seconds: float = 0.0,
        quirks: Iterable[str] = (),
        clock: Clock = utc_now,
    ) -> None:
        missing = [s for s in (CREATING, AVAILABLE, DELETING) if s not in contract.snapshot_statuses]
        if missing:
            raise SpecError(f"the contract's snapshot statuses lack {', '.join(missing)}")
        self.contract = contract
        self._lock = threading.RLock()
        self._clock = clock
        self._projects: dict[str, Project] = {}
        self._tokens: dict[str, str] = {}
        self._seeded_tokens: frozenset[str] = frozenset()
        #: When each issued token stops being accepted; seeded tokens never expire.
        self._token_expiry: dict[str, datetime] = {}
        self._issued_tokens: list[str] = []
        self.token_ttl_s = None
        self._users: dict[str, tuple[str, str]] = {}
        self._force_field = str(contract.semantics["force-field"])
        # A missing default would be a spec defect; the page states false.
        self._force_default = bool(contract.field(self._force_field).default)
        self._force_strings = contract.field(self._force_field).boolean_like_strings
        # Real Cinder leaves updated_at null until the first change; the page's example sets it at creation.
        self._stamps_update_on_create = contract.profile != "cinder"
        self.settle_seconds = settle_seconds
        self.set_quirks(quirks)
        self.reset(seed=seed)

    # -- control settings ---------------------------------------------------------------------------------
    @property
    def quirks(self) -> frozenset[str]:
        return self._quirks

    @property
    def settle_seconds(self) -> float:
        return self._settle

    @settle_seconds.setter
    def settle_seconds(self, seconds: float) -> None:
        if seconds < 0:
            raise UsageError(f"settle time must be 0 or more seconds, not {seconds}")
        self._settle = float(seconds)

    @property
    def token_ttl_s(self) -> float | None:
        """Seconds an issued token stays valid (None: a day, as Keystone's default)."""
        return self._token_ttl_s

    @token_ttl_s.setter
    def token_ttl_s(self, seconds: float | None) -> None:
        if seconds is not None and not seconds > 0:
            raise UsageError(f"token lifetime must be a positive number of seconds, not {seconds}")
        self._token_ttl_s = None if seconds is None else float(seconds)

    @property
    def issued_tokens(self) -> tuple[str, ...]:
        """Every token the token endpoint issued since the last reset, oldest first."""
        with self._lock:
            return tuple(self._issued_tokens)

    def expire_tokens(self) -> int:
        """Revoke every token issued so far, as if each expired now (seeded ones stay); returns how many."""
        with self._lock:
            revoked = [token for token in self._token_expiry if token in self._tokens]
            for token in revoked:
                del self._tokens[token]
            return len(revoked)

    def set_quirks(self, names: Iterable[str]) -> None:
        """Switch the given quirks on (and every other off); unknown names raise UsageError."""
        chosen = check_quirks(names, self.contract)
        validator = self._compile(chosen)
        # The compiled Rust validator answers the common "valid" case quickly; jsonschema (Python regex
        # semantics, as Cinder's own validation) still decides every body it does not pass.
        fast = jsonschema_rs.Draft202012Validator(validator.schema)
        with self._lock:
            self._quirks = chosen
            self._validator = validator
            self._fast_validator = fast

    def reset(self, *, seed: int | None = None) -> None:
        """Forget every snapshot and issued token, and restart the ID source (from ``seed`` if given)."""
        with self._lock:
            if seed is not None:
                self._seed = seed
            self._ids = random.Random(self._seed)
            self._token_source = random.Random(f"tokens-{self._seed}")
            self._first_id: str | None = None
            self._create_attempts = 0
            for project in self._projects.values():
                project.snapshots.clear()
                project.changing.clear()
            self._tokens = {t: p for t, p in self._tokens.items() if t in self._seeded_tokens}
            self._token_expiry.clear()
            self._issued_tokens.clear()

    def add_project(self, project_id: str) -> None:
        with self._lock:
            self._projects.setdefault(project_id, Project(project_id))

    def add_volume(self, project_id: str, volume_id: str, status: str, size_gib: int) -> None:
        """Seed a disk of ``size_gib`` GiB in ``status`` (available, error or one of the busy statuses)."""
        self._check_volume(status, size_gib)
        with self._lock:
            self._project(project_id).volumes[volume_id] = Volume(volume_id, status, size_gib)

    def set_volume_status(self, project_id: str, volume_id: str, status: str) -> None:
        self._check_volume(status, 1)
        with self._lock:
            self._volume(self._project(project_id), volume_id).status = status

    def add_token(self, token: str, project_id: str) -> None:
        """Seed a token bound to a project; it survives ``reset``."""
        with self._lock:
            self._project(project_id)
            self._tokens[token] = project_id
            self._seeded_tokens = self._seeded_tokens | {token}

    def add_user(self, name: str, password: str, project_id: str) -> None:
        """Seed an IAM user who may get tokens scoped to ``project_id``."""
        with self._lock:
            self._project(project_id)
            self._users[name] = (password, project_id)

    @property
    def volume_statuses(self) -> tuple[str, ...]:
        return (*IDLE_VOLUME_STATUSES, *sorted(self.contract.busy_volume_statuses))

    # -- identity ---------------------------------------------------------------------------------------
    def authenticate(self, project_id: str, token: str | None) -> None:
        """Check that ``token`` may act on ``project_id``: 401 without a valid token, 403 for another."""
        with self._lock:
            if not token:
                if "accepts-missing-token" in self._quirks:
                    return
                raise ServiceError("unauthenticated", HTTPStatus.UNAUTHORIZED, "no token was sent")
            owner = self._tokens.get(token)
            expiry = self._token_expiry.get(token)
            if owner is None or (expiry is not None and self._clock() >= expiry):
                if "accepts-invalid-token" in self._quirks:
                    return
                problem = "is not valid" if owner is None else "has expired"
                raise ServiceError("unauthenticated", HTTPStatus.UNAUTHORIZED, f"the token {problem}")
            if owner != project_id and "accepts-other-project-token" not in self._quirks:
                raise ServiceError(
                    "forbidden", HTTPStatus.FORBIDDEN, f"the token may not act on project {_clip(project_id)}"
                )

    def issue_token(self, user: str, password: str, project_id: str) -> tuple[str, dict[str, JSON]]:
        """A new token for a user's password, scoped to a project: the token and a Keystone v3 token body."""
        with self._lock:
            entry = self._users.get(user)
            if entry is None or entry[0] != password:
                raise ServiceError("unauthenticated", HTTPStatus.UNAUTHORIZED, "wrong user name or password")
            if entry[1] != project_id:
                raise ServiceError(
                    "unauthenticated", HTTPStatus.UNAUTHORIZED, f"the user has no role on {_clip(project_id)}"
                )
            token = f"{self._token_source.getrandbits(256):064x}"
            self._tokens[token] = project_id
            issued = self._clock()
            ttl = self._token_ttl_s
            expires = issued + (_TOKEN_LIFETIME if ttl is None else timedelta(seconds=ttl))
            self._token_expiry[token] = expires
            self._issued_tokens.append(token)
        body = {
            "methods": ["password"],
            "user": {"id": uuid.uuid5(uuid.NAMESPACE_URL, user).hex, "name": user},
            "project": {"id": project_id, "name": project_id},
            "roles": [{"name": "member"}],
            "issued_at": _stamp(issued),
            "expires_at": _stamp(expires),
        }
        return token, {"token": body}

    # -- snapshots --------------------------------------------------------------------------------------
    def create_attempt_fails(self) -> bool:
        """Count one create request; True when ``intermittent-503`` makes this one fail."""
        with self._lock:
            self._create_attempts += 1
            return "intermittent-503" in self._quirks and self._create_attempts % INTERMITTENT_EVERY == 0

    def create_snapshot(self, project_id: str, body: JSON) -> dict[str, JSON]:
        """Validate a parsed create body and store a new snapshot; returns it as the 202 shows it."""
        with self._lock:
            project = self._project(project_id)
            fields = self._validated(body)
            volume, shown_volume_id = self._source_volume(project, fields)
            self._check_busy(volume, fields)
            now = self._clock()
            metadata = fields.get("metadata")
            snapshot = Snapshot(
                id=self._new_id(),
                volume_id=shown_volume_id,
                size=volume.size_gib,
                name=self._trimmed(fields.get("name")),
                description=self._trimmed(fields.get("description")),
                metadata=dict(metadata) if isinstance(metadata, dict) else {},
                status=CREATING,
                created_at=now,
                updated_at=now if self._stamps_update_on_create else None,
            )
            project.snapshots[snapshot.id] = snapshot
            project.changing[snapshot.id] = None
            return self._view(snapshot, CREATE_VIEW)

    def get_snapshot(self, project_id: str, snapshot_id: str) -> dict[str, JSON]:
        with self._lock:
            project = self._settled(project_id)
            snapshot = project.snapshots.get(snapshot_id)
            if snapshot is None or "read-back-404" in self._quirks:
                raise self._not_found("snapshot", snapshot_id)
            return self._view(snapshot, READ_VIEW)

    def list_snapshots(self, project_id: str) -> list[dict[str, JSON]]:
        with self._lock:
            project = self._settled(project_id)
            return [self._view(s, READ_VIEW) for s in project.snapshots.values()]

    def delete_snapshot(self, project_id: str, snapshot_id: str) -> None:
        """Start deleting a snapshot: it shows ``deleting`` for the settle time, then is gone."""
        with self._lock:
            project = self._settled(project_id)
            snapshot = project.snapshots.get(snapshot_id)
            if snapshot is None:
                raise self._not_found("snapshot", snapshot_id)
            if "cannot-delete" in self._quirks:
                raise self._refusal("invalid-body", f"snapshot {snapshot_id} cannot be deleted")
            if "delete-leaves-snapshot" in self._quirks:
                return
            if snapshot.status != DELETING:
                snapshot.status = DELETING
                snapshot.updated_at = self._clock()
                project.changing[snapshot.id] = None
            self._settled(project_id)

    def get_volume(self, project_id: str, volume_id: str) -> dict[str, JSON]:
        with self._lock:
            volume = self._volume(self._project(project_id), volume_id)
            return {"id": volume.id, "size": volume.size_gib, "status": volume.status}

    # -- rule points ------------------------------------------------------------------------------------
    def _compile(self, quirks: frozenset[str]) -> jsonschema.protocols.Validator:
        patches = [SCHEMA_PATCHES[name] for name in sorted(quirks) if name in SCHEMA_PATCHES]
        if not patches:
            return self.contract.validator("request")
        schema = copy.deepcopy(dict(self.contract.request_schema))
        fields = schema["properties"][self.contract.snapshot_key]["properties"]
        for patch in patches:
            patch(schema, fields)
        return jsonschema.Draft202012Validator(schema)

    def _validated(self, body: JSON) -> dict[str, JSON]:
        """The snapshot object of a body that passes the request schema (empty where a quirk let one in)."""
        key = self.contract.snapshot_key
        snapshot = body.get(key) if isinstance(body, dict) else None
        if isinstance(snapshot, dict) and "volume_id" in snapshot and snapshot["volume_id"] is None:
            # A null volume_id is its own refusal kind (404 for cinder), but only once the rest is valid.
            self._check_schema({**body, key: {**snapshot, "volume_id": ""}})
            raise self._refusal("null-volume-id", f"{key}.volume_id is null")
        self._check_schema(body)
        if not isinstance(snapshot, dict):
            return {}
        self._check_byte_lengths(snapshot)
        return snapshot

    def _check_schema(self, body: JSON) -> None:
        # Unknown extra fields: the page is silent and the schema allows them, so the clean mock accepts them.
        if self._fast_validator.is_valid(body):
            return
        error = jsonschema.exceptions.best_match(self._validator.iter_errors(body))
        if error is None:
            return
        path = [str(p) for p in error.absolute_path]
        where = ".".join(path) or "the body"
        if error.validator in ("maxLength", "minLength"):
            bound = "at most" if error.validator == "maxLength" else "at least"
            message = (
                f"{where} is {len(error.instance)} characters long; {bound} {error.validator_value} allowed"
            )
        else:
            message = f"{where}: {error.message}"
        field_name = path[1] if len(path) > 1 and path[0] == self.contract.snapshot_key else None
        raise self._refusal("invalid-body", message, field_name)

    def _check_byte_lengths(self, snapshot: dict[str, JSON]) -> None:
        for name, quirk in (("name", "name-counts-bytes"), ("description", "description-counts-bytes")):
            value = snapshot.get(name)
            limit = self.contract.field(name).max_length
            if quirk not in self._quirks or not isinstance(value, str) or limit is None:
                continue
            size = len(value.encode("utf-8", "surrogatepass"))
            if size > limit:
                raise self._refusal(
                    "invalid-body",
                    f"{self.contract.snapshot_key}.{name} is {size} bytes long; at most {limit}",
                    name,
                )

    def _refusal(self, kind: str, message: str, field_name: str | None = None) -> ServiceError:
        """The refusal of ``kind``, with the contract's status unless a quirk changes it."""
        status = self.contract.refusal(kind).status
        invalid_body = self.contract.refusal("invalid-body").status
        quirks = self._quirks
        if kind == "unknown-volume" and "unknown-volume-404" in quirks:
            status = HTTPStatus.NOT_FOUND
        elif kind == "unknown-volume" and "unknown-volume-400" in quirks:
            status = invalid_body
        elif kind == "null-volume-id" and "null-volume-id-404" in quirks:
            status = HTTPStatus.NOT_FOUND
        elif kind == "null-volume-id" and "null-volume-id-400" in quirks:
            status = invalid_body
        elif kind == "volume-busy" and "busy-volume-409" in quirks:
            status = HTTPStatus.CONFLICT
        elif field_name == "name" and "undocumented-status-code" in quirks:
            status = UNDOCUMENTED_STATUS
        return ServiceError(kind, status, _clip(message))

    def _source_volume(self, project: Project, fields: Mapping[str, JSON]) -> tuple[Volume, str]:
        """The disk to snapshot and the volume_id to show for it."""
        volume_id = fields.get("volume_id")
        if isinstance(volume_id, str):
            volume = project.volumes.get(volume_id)
            if volume is not None:
                return volume, volume_id
            if "unknown-volume-accepted" not in self._quirks or not project.volumes:
                raise self._refusal("unknown-volume", f"no disk {_clip(volume_id)!r} in project {project.id}")
            return next(iter(project.volumes.values())), volume_id
        # Only quirks let a body without a string volume_id get this far: they fall back to the first disk.
        if not project.volumes:
            raise self._refusal("unknown-volume", f"project {project.id} has no disk")
        first = next(iter(project.volumes.values()))
        return first, first.id

    def _check_busy(self, volume: Volume, fields: Mapping[str, JSON]) -> None:
        sent = self._force_field in fields
        force = _as_bool(fields[self._force_field], self._force_strings) if sent else self._force_default
        if not sent and "force-default-true" in self._quirks:
            force = True
        if volume.status not in self.contract.busy_volume_statuses:
            return
        if force and "force-true-refused" not in self._quirks:
            return
        if not force and "busy-volume-ignored" in self._quirks:
            return
        raise self._refusal(
            "volume-busy",
            f"disk {volume.id} is {volume.status}; a snapshot of it needs {self._force_field} set to true",
        )

    def _new_id(self) -> str:
        fresh = str(uuid.UUID(int=self._ids.getrandbits(128), version=4))
        if self._first_id is None:
            self._first_id = fresh
        return self._first_id if "reused-ids" in self._quirks else fresh

    def _trimmed(self, value: JSON) -> JSON:
        if self.contract.trims_whitespace and isinstance(value, str):
            return value.strip()
        return value

    def _settled(self, project_id: str) -> Project:
        """The project after every lifecycle step that the clock says is due."""
        project = self._project(project_id)
        now = self._clock()
        settle = timedelta(seconds=self._settle)
        for snapshot_id in list(project.changing):
            snapshot = project.snapshots.get(snapshot_id)
            if snapshot is None:
                del project.changing[snapshot_id]
            elif snapshot.status == DELETING:
                assert snapshot.updated_at is not None
                if now >= snapshot.updated_at + settle:
                    del project.snapshots[snapshot.id]
                    del project.changing[snapshot_id]
            elif snapshot.status not in SETTLES_TO:
                del project.changing[snapshot_id]
            elif "never-settles" not in self._quirks and now >= snapshot.created_at + settle:
                snapshot.status = SETTLES_TO[snapshot.status]
                snapshot.updated_at = snapshot.created_at + settle
        return project

    def _view(self, snapshot: Snapshot, extra: Mapping[str, ViewPatch]) -> dict[str, JSON]:
        view: dict[str, JSON] = {
            "id": snapshot.id,
            "name": snapshot.name,
            "description": snapshot.description,
            "volume_id": snapshot.volume_id,
            "size": snapshot.size,
            "status": snapshot.status,
            "metadata": dict(snapshot.metadata),
            "created_at": _stamp(snapshot.created_at),
            "updated_at": _stamp(snapshot.updated_at),
        }
        for name in sorted(self._quirks):
            for patches in (EVERY_VIEW, extra):
                if name in patches:
                    patches[name](view)
        return view

    # -- lookups ----------------------------------------------------------------------------------------
    def _project(self, project_id: str) -> Project:
        project = self._projects.get(project_id)
        if project is None:
            raise self._not_found("project", project_id)
        return project

    def _volume(self, project: Project, volume_id: str) -> Volume:
        volume = project.volumes.get(volume_id)
        if volume is None:
            raise self._not_found("disk", volume_id)
        return volume

    def _not_found(self, what: str, ident: str) -> ServiceError:
        return ServiceError("not-found", HTTPStatus.NOT_FOUND, f"no {what} {_clip(ident)!r}")

    def _check_volume(self, status: str, size_gib: int) -> None:
        if status not in self.volume_statuses:
            raise UsageError(f"disk status {status!r} is not one of {', '.join(self.volume_statuses)}")
        if size_gib < 1:
            raise UsageError(f"disk size must be at least 1 GiB, not {size_gib}")
