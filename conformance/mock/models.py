"""State and rules of the mock EVS snapshot service, with no HTTP: projects, disks, snapshots, limits.

Every rule reads the profile's ``Contract``: the request schema, the refusal statuses, the busy disk statuses,
the ``force`` default and whether names are trimmed. Refusals are ``ServiceError`` exceptions carrying the
refusal kind, its status and a message saying what was wrong; the HTTP layer turns them into the profile's
error envelope. Tokens and users live in ``identity.py``; the backend asks it before acting on a project.
Quirks reach the rules only as compiled ``Deviations`` (``quirks.py``), limits as ``Limits`` (``limits.py``).

Example::

    backend = SnapshotBackend(load_contract("huawei"), seed=1)
    backend.add_project("p1")
    backend.add_volume("p1", "vol-1", "available", 10)
    backend.create_snapshot("p1", {"snapshot": {"volume_id": "vol-1"}})["status"]   # "creating"
"""

from __future__ import annotations

import copy
import math
import random
import threading
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from http import HTTPStatus
from typing import Any

import jsonschema
import jsonschema.exceptions
import jsonschema_rs

from conformance.contract import Contract
from conformance.core.errors import SpecError, UsageError
from conformance.mock.clock import Clock, TimeScale, stamp, utc_now
from conformance.mock.hooks import Answer, Deviations, Rule, ViewPatch
from conformance.mock.identity import Identity
from conformance.mock.limits import Limits, check_seconds
from conformance.mock.quirks import INTERMITTENT_EVERY, compile_deviations
from conformance.mock.refusals import (
    DISK_SNAPSHOT_LIMIT,
    SNAPSHOT_IN_PROGRESS,
    SNAPSHOT_NOT_DELETABLE,
    SNAPSHOT_QUOTA,
    ServiceError,
    clip,
    limit_refusal,
    refusal_status,
)

__all__ = ["AVAILABLE", "CREATING", "DELETING", "IN_USE", "ServiceError", "SnapshotBackend"]

JSON = Any

#: Disk statuses a seeded disk may have besides the contract's busy ones (the page names no others).
IDLE_VOLUME_STATUSES = ("available", "error")
IN_USE = "in-use"
#: The largest disk the mock seeds: a pebibyte, far beyond any cloud disk.
MAX_DISK_GIB = 1024 * 1024

# The snapshot lifecycle as data; __init__ checks each status against the contract's enum.
CREATING, AVAILABLE, DELETING = "creating", "available", "deleting"
SETTLES_TO: Mapping[str, str] = {CREATING: AVAILABLE}

_INVALID_BODY = "invalid-body"
#: The refusal kinds whose status a quirk may replace, and the point it replaces them at.
_ANSWERS: Mapping[str, Answer] = {
    "unknown-volume": Answer.UNKNOWN_VOLUME,
    "null-volume-id": Answer.NULL_VOLUME_ID,
    "volume-busy": Answer.VOLUME_BUSY,
}
_BYTE_COUNTED = (("name", Rule.COUNT_NAME_BYTES), ("description", Rule.COUNT_DESCRIPTION_BYTES))


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
    #: The disk it was made of, which a quirk may show under another volume_id.
    disk_id: str
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
    #: How many stored snapshots each disk has, for the per-disk limit.
    per_disk: dict[str, int] = field(default_factory=dict)

    def store(self, snapshot: Snapshot) -> None:
        replaced = self.snapshots.get(snapshot.id)
        if replaced is not None:
            self.per_disk[replaced.disk_id] -= 1
        self.snapshots[snapshot.id] = snapshot
        self.per_disk[snapshot.disk_id] = self.per_disk.get(snapshot.disk_id, 0) + 1

    def remove(self, snapshot: Snapshot) -> None:
        del self.snapshots[snapshot.id]
        self.per_disk[snapshot.disk_id] -= 1

    def clear(self) -> None:
        self.snapshots.clear()
        self.changing.clear()
        self.per_disk.clear()


def _as_bool(value: JSON, meanings: Mapping[str, bool]) -> bool:
    """How the service reads a ``force`` value that validation let through, strings by the contract."""
    if isinstance(value, str) and value in meanings:
        return meanings[value]
    # Only a quirk lets any other value through: read it as Python does (a non-empty string is true).
    return bool(value)


class SnapshotBackend:
    """The service's state and rules for one profile; every public method is safe to call from any thread.

    Times are in the cloud's seconds: ``settle_seconds`` from creating to available, ``delete_seconds``
    from deleting to gone (None: the settle time), both run ``time_scale`` times faster than real time.
    """

    def __init__(
        self,
        contract: Contract,
        *,
        seed: int = 0,
        settle_seconds: float = 0.0,
        delete_seconds: float | None = None,
        time_scale: float = 1.0,
        limits: Limits | None = None,
        quirks: Iterable[str] = (),
        clock: Clock = utc_now,
    ) -> None:
        missing = [s for s in (CREATING, AVAILABLE, DELETING) if s not in contract.snapshot_statuses]
        if missing:
            raise SpecError(f"the contract's snapshot statuses lack {', '.join(missing)}")
        self.contract = contract
        self._lock = threading.RLock()
        self._clock = clock
        self._time = TimeScale(time_scale)
        self.identity = Identity(clock=clock, time_scale=self._time, seed=seed)
        self._projects: dict[str, Project] = {}
        self._force_field = "force"
        # A missing default would be a spec defect; the page states false.
        self._force_default = bool(contract.field(self._force_field).default)
        self._force_strings = contract.field(self._force_field).boolean_like_strings
        # The contract says what a new snapshot's updated_at is: its created_at (the page's example), or null.
        self._stamps_update_on_create = contract.semantics.get("updated-at-on-create") == "created-at"
        self.settle_seconds = settle_seconds
        self.delete_seconds = delete_seconds
        self.limits = limits if limits is not None else Limits()
        self.set_quirks(quirks)
        self.reset(seed=seed)

    # -- control settings ---------------------------------------------------------------------------------
    @property
    def quirks(self) -> frozenset[str]:
        return self._deviations.names

    @property
    def deviations(self) -> Deviations:
        """What the quirks switched on change, for the HTTP layer."""
        return self._deviations

    @property
    def settle_seconds(self) -> float:
        return self._settle

    @settle_seconds.setter
    def settle_seconds(self, seconds: float) -> None:
        self._settle = check_seconds("settle time", seconds)

    @property
    def delete_seconds(self) -> float | None:
        """The cloud's seconds from deleting to gone (None: the settle time)."""
        return self._delete

    @delete_seconds.setter
    def delete_seconds(self, seconds: float | None) -> None:
        self._delete = None if seconds is None else check_seconds("deletion time", seconds)

    @property
    def time_scale(self) -> float:
        """How many times faster than real time the mock's times run (settle, deletion, token lifetimes)."""
        return self._time.factor

    @time_scale.setter
    def time_scale(self, factor: float) -> None:
        self._time.factor = factor

    @property
    def limits(self) -> Limits:
        return self._limits

    @limits.setter
    def limits(self, limits: Limits) -> None:
        if not isinstance(limits, Limits):
            raise UsageError(f"limits must be a Limits, not {type(limits).__name__}")
        self._limits = limits

    @property
    def token_ttl_s(self) -> float | None:
        """Seconds an issued token stays valid (None: a day, as Keystone's default)."""
        return self.identity.token_ttl_s

    @token_ttl_s.setter
    def token_ttl_s(self, seconds: float | None) -> None:
        self.identity.token_ttl_s = seconds

    @property
    def issued_tokens(self) -> tuple[str, ...]:
        """Every token the token endpoint issued since the last reset, oldest first."""
        return self.identity.issued_tokens

    def expire_tokens(self) -> int:
        """Revoke every token issued so far, as if each expired now (seeded ones stay); returns how many."""
        return self.identity.expire_tokens()

    def set_quirks(self, names: Iterable[str]) -> None:
        """Switch the given quirks on (and every other off); unknown names raise UsageError."""
        deviations = compile_deviations(names, self.contract)
        validator = self._compile(deviations)
        # The compiled Rust validator answers the common "valid" case quickly; jsonschema (Python regex
        # semantics, as Cinder's own validation) still decides every body it does not pass.
        fast = jsonschema_rs.Draft202012Validator(validator.schema)
        with self._lock:
            self._deviations = deviations
            self._validator = validator
            self._fast_validator = fast

    def reset(self, *, seed: int | None = None) -> None:
        """Forget every snapshot and issued token, and restart the ID source (from ``seed`` if given)."""
        with self._lock:
            if seed is not None:
                self._seed = seed
            self._ids = random.Random(self._seed)
            self._first_id: str | None = None
            self._create_attempts = 0
            for project in self._projects.values():
                project.clear()
            self.identity.reset(seed=self._seed)

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
        self.identity.add_token(token, project_id)

    def add_user(self, name: str, password: str, project_id: str) -> None:
        """Seed an IAM user who may get tokens scoped to ``project_id``."""
        with self._lock:
            self._project(project_id)
        self.identity.add_user(name, password, project_id)

    @property
    def volume_statuses(self) -> tuple[str, ...]:
        return (*IDLE_VOLUME_STATUSES, *sorted(self.contract.busy_volume_statuses))

    # -- identity ---------------------------------------------------------------------------------------
    def authenticate(self, project_id: str, token: str | None) -> None:
        """Check that ``token`` may act on ``project_id``: 401 without a valid token, 403 for another."""
        self.identity.authenticate(project_id, token, self._deviations)

    def issue_token(self, user: str, password: str, project_id: str) -> tuple[str, dict[str, JSON]]:
        """A new token for a user's password, scoped to a project: the token and a Keystone v3 token body."""
        return self.identity.issue_token(user, password, project_id)

    # -- snapshots --------------------------------------------------------------------------------------
    def create_attempt_fails(self) -> bool:
        """Count one create request; True when ``intermittent-503`` makes this one fail."""
        with self._lock:
            self._create_attempts += 1
            failing = self._deviations.on(Rule.FAIL_EVERY_NTH_CREATE)
            return failing and self._create_attempts % INTERMITTENT_EVERY == 0

    def create_snapshot(self, project_id: str, body: JSON) -> dict[str, JSON]:
        """Validate a parsed create body and store a new snapshot; returns it as the 202 shows it."""
        with self._lock:
            limits = self._limits
            # Limits count what is still there, so due lifecycle steps are taken first.
            project = self._settled(project_id) if limits.active else self._project(project_id)
            for reading in self._deviations.request_rewrites:
                body = reading(body, self.contract.snapshot_key)
            fields = self._validated(body)
            volume, shown_volume_id = self._source_volume(project, fields)
            self._check_busy(volume, fields)
            if limits.active:
                self._check_limits(project, volume, limits)
            now = self._clock()
            metadata = fields.get("metadata")
            snapshot = Snapshot(
                id=self._new_id(),
                disk_id=volume.id,
                volume_id=shown_volume_id,
                size=volume.size_gib,
                name=self._trimmed(fields.get("name")),
                description=self._trimmed(fields.get("description")),
                metadata=dict(metadata) if isinstance(metadata, dict) else {},
                status=CREATING,
                created_at=now,
                updated_at=now if self._stamps_update_on_create else None,
            )
            project.store(snapshot)
            project.changing[snapshot.id] = None
            return self._view(snapshot, self._deviations.create_view)

    def get_snapshot(self, project_id: str, snapshot_id: str) -> dict[str, JSON]:
        with self._lock:
            project = self._settled(project_id)
            snapshot = project.snapshots.get(snapshot_id)
            if snapshot is None or self._deviations.on(Rule.HIDE_SNAPSHOTS_FROM_READS):
                raise self._not_found("snapshot", snapshot_id)
            return self._view(snapshot, self._deviations.read_view)

    def list_snapshots(self, project_id: str) -> list[dict[str, JSON]]:
        with self._lock:
            project = self._settled(project_id)
            rewrites = self._deviations.read_view
            return [self._view(s, rewrites) for s in project.snapshots.values()]

    def delete_snapshot(self, project_id: str, snapshot_id: str) -> None:
        """Start deleting a snapshot: it shows ``deleting`` for the deletion time, then is gone."""
        with self._lock:
            project = self._settled(project_id)
            snapshot = project.snapshots.get(snapshot_id)
            if snapshot is None:
                raise self._not_found("snapshot", snapshot_id)
            if self._deviations.on(Rule.REFUSE_EVERY_DELETE):
                raise self._refusal(_INVALID_BODY, f"snapshot {snapshot_id} cannot be deleted")
            if snapshot.status == CREATING and self._limits.refuse_delete_while_creating:
                raise limit_refusal(
                    self.contract,
                    SNAPSHOT_NOT_DELETABLE,
                    f"snapshot {snapshot.id} is {CREATING}; it can be deleted once {AVAILABLE} or in error",
                )
            if self._deviations.on(Rule.KEEP_DELETED_SNAPSHOTS):
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
    def _compile(self, deviations: Deviations) -> jsonschema.protocols.Validator:
        if not deviations.schema_rewrites:
            return self.contract.validator("request")
        schema = copy.deepcopy(dict(self.contract.request_schema))
        fields = schema["properties"][self.contract.snapshot_key]["properties"]
        for rewrite in deviations.schema_rewrites:
            rewrite(schema, fields)
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
        raise self._refusal(_INVALID_BODY, message, field_name)

    def _check_byte_lengths(self, snapshot: dict[str, JSON]) -> None:
        for name, rule in _BYTE_COUNTED:
            value = snapshot.get(name)
            limit = self.contract.field(name).max_length
            if not self._deviations.on(rule) or not isinstance(value, str) or limit is None:
                continue
            size = len(value.encode("utf-8", "surrogatepass"))
            if size > limit:
                raise self._refusal(
                    _INVALID_BODY,
                    f"{self.contract.snapshot_key}.{name} is {size} bytes long; at most {limit}",
                    name,
                )

    def _refusal(self, kind: str, message: str, field_name: str | None = None) -> ServiceError:
        """The refusal of ``kind``, with the status its answer point has (a quirk may have replaced it)."""
        point = Answer.INVALID_NAME if kind == _INVALID_BODY and field_name == "name" else _ANSWERS.get(kind)
        status = refusal_status(self.contract, kind) if point is None else self._deviations.status(point)
        return ServiceError(kind, status, clip(message))

    def _source_volume(self, project: Project, fields: Mapping[str, JSON]) -> tuple[Volume, str]:
        """The disk to snapshot and the volume_id to show for it."""
        volume_id = fields.get("volume_id")
        if isinstance(volume_id, str):
            volume = project.volumes.get(volume_id)
            if volume is not None:
                return volume, volume_id
            if not self._deviations.on(Rule.ACCEPT_UNKNOWN_VOLUME) or not project.volumes:
                raise self._refusal("unknown-volume", f"no disk {clip(volume_id)!r} in project {project.id}")
            return next(iter(project.volumes.values())), volume_id
        # Only quirks let a body without a string volume_id get this far: they fall back to the first disk.
        if not project.volumes:
            raise self._refusal("unknown-volume", f"project {project.id} has no disk")
        first = next(iter(project.volumes.values()))
        return first, first.id

    def _check_busy(self, volume: Volume, fields: Mapping[str, JSON]) -> None:
        sent = self._force_field in fields
        force = _as_bool(fields[self._force_field], self._force_strings) if sent else self._force_default
        if not sent and self._deviations.on(Rule.FORCE_BY_DEFAULT):
            force = True
        if volume.status not in self.contract.busy_volume_statuses:
            return
        if force and not self._deviations.on(Rule.REFUSE_FORCED_BUSY_VOLUME):
            return
        if not force and self._deviations.on(Rule.IGNORE_BUSY_VOLUME):
            return
        raise self._refusal(
            "volume-busy",
            f"disk {volume.id} is {volume.status}; a snapshot of it needs {self._force_field} set to true",
        )

    def _check_limits(self, project: Project, volume: Volume, limits: Limits) -> None:
        """Refuse a create that a limited cloud would: disk busy with a snapshot, disk full, quota used."""
        if limits.one_create_per_disk:
            for snapshot_id in project.changing:
                pending = project.snapshots.get(snapshot_id)
                if pending is not None and pending.disk_id == volume.id and pending.status == CREATING:
                    raise limit_refusal(
                        self.contract,
                        SNAPSHOT_IN_PROGRESS,
                        f"snapshot {pending.id} of disk {volume.id} is still {CREATING}; the next one can be "
                        "created once it is available",
                    )
        held = project.per_disk.get(volume.id, 0)
        if limits.disk_snapshot_limit is not None and held >= limits.disk_snapshot_limit:
            raise limit_refusal(
                self.contract,
                DISK_SNAPSHOT_LIMIT,
                f"disk {volume.id} holds {held} snapshots, at most {limits.disk_snapshot_limit} are allowed",
            )
        quota = limits.project_snapshot_quota
        if quota is not None and len(project.snapshots) >= quota:
            raise limit_refusal(
                self.contract,
                SNAPSHOT_QUOTA,
                f"maximum number of snapshots allowed ({quota}) exceeded in project {project.id}",
                retry_after=self._quota_frees_in(project),
            )

    def _quota_frees_in(self, project: Project) -> int:
        """Whole real seconds until a snapshot of the project is gone: the next deletion due, else one."""
        deletion = self._deletion_time()
        now = self._clock()
        due = [
            s.updated_at + deletion - now
            for s in (project.snapshots.get(i) for i in project.changing)
            if s is not None and s.status == DELETING and s.updated_at is not None
        ]
        wait = min(due) if due else deletion
        return max(1, math.ceil(wait.total_seconds()))

    def _new_id(self) -> str:
        fresh = str(uuid.UUID(int=self._ids.getrandbits(128), version=4))
        if self._first_id is None:
            self._first_id = fresh
        return self._first_id if self._deviations.on(Rule.REUSE_FIRST_ID) else fresh

    def _trimmed(self, value: JSON) -> JSON:
        if self.contract.trims_whitespace and isinstance(value, str):
            return value.strip()
        return value

    def _deletion_time(self) -> timedelta:
        return self._time.real(self._settle if self._delete is None else self._delete)

    def _settled(self, project_id: str) -> Project:
        """The project after every lifecycle step that the clock says is due."""
        project = self._project(project_id)
        if not project.changing:
            return project
        now = self._clock()
        settle = self._time.real(self._settle)
        deletion = self._deletion_time()
        never_settles = self._deviations.on(Rule.NEVER_SETTLE)
        for snapshot_id in list(project.changing):
            snapshot = project.snapshots.get(snapshot_id)
            if snapshot is None:
                del project.changing[snapshot_id]
            elif snapshot.status == DELETING:
                assert snapshot.updated_at is not None
                if now >= snapshot.updated_at + deletion:
                    project.remove(snapshot)
                    del project.changing[snapshot_id]
            elif snapshot.status not in SETTLES_TO:
                del project.changing[snapshot_id]
            elif not never_settles and now >= snapshot.created_at + settle:
                snapshot.status = SETTLES_TO[snapshot.status]
                snapshot.updated_at = snapshot.created_at + settle
        return project

    def _view(self, snapshot: Snapshot, rewrites: tuple[ViewPatch, ...]) -> dict[str, JSON]:
        view: dict[str, JSON] = {
            "id": snapshot.id,
            "name": snapshot.name,
            "description": snapshot.description,
            "volume_id": snapshot.volume_id,
            "size": snapshot.size,
            "status": snapshot.status,
            "metadata": dict(snapshot.metadata),
            "created_at": stamp(snapshot.created_at),
            "updated_at": stamp(snapshot.updated_at),
        }
        for rewrite in rewrites:
            rewrite(view)
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
        return ServiceError("not-found", HTTPStatus.NOT_FOUND, f"no {what} {clip(ident)!r}")

    def _check_volume(self, status: str, size_gib: int) -> None:
        if status not in self.volume_statuses:
            raise UsageError(f"disk status {status!r} is not one of {', '.join(self.volume_statuses)}")
        if isinstance(size_gib, bool) or not isinstance(size_gib, int) or not 1 <= size_gib <= MAX_DISK_GIB:
            raise UsageError(
                f"disk size must be a whole number from 1 to {MAX_DISK_GIB} GiB, not {size_gib!r}"
            )
