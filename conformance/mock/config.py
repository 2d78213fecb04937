"""The settings a mock is started with: one frozen record, checked field by field when it is made.

Example::

    MockConfig(profile="cinder", limits="cinder", time_scale=60)   # Cinder's quota, a minute a second
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from conformance.contract import PROFILES
from conformance.core.errors import UsageError
from conformance.mock.clock import check_time_scale
from conformance.mock.limits import Limits, Preset, check_preset, check_seconds, limits_with
from conformance.mock.models import AVAILABLE, IN_USE, MAX_DISK_GIB

#: The largest request body limit the mock takes: it holds a body in memory before parsing it.
MAX_BODY_BYTES = 64 * 1024 * 1024


@dataclass(frozen=True)
class VolumeSeed:
    """A disk the mock starts with."""

    id: str
    status: str
    size_gib: int


@dataclass(frozen=True)
class MockConfig:
    """Everything a mock server is started with; ``MockConfig()`` is the deterministic default.

    Every field is checked when the config is made (a bad one is a UsageError naming it). ``limits`` names a
    preset of ``limits.PRESETS`` whose limits and times apply where the fields below leave them None; a count
    of ``limits.UNLIMITED`` lifts a preset's limit. Times are in the cloud's seconds and run ``time_scale``
    times faster than real time.
    """

    profile: str = "huawei"
    host: str = "127.0.0.1"
    port: int = 0
    project_id: str = "0b6c3e1f9a2d4e57a1c8f3b2d6e94a70"
    token: str = "mock-token-0b6c3e1f9a2d4e57"
    volumes: tuple[VolumeSeed, ...] = (
        VolumeSeed("5aa119a8-d25b-45a7-8d1b-88e127885635", AVAILABLE, 40),
        VolumeSeed("7c9d2e40-3b1f-4a6e-9f58-2d0c7b1e4a93", IN_USE, 20),
    )
    users: tuple[tuple[str, str], ...] = (("evs-tester", "mock-password"),)
    quirks: frozenset[str] = frozenset()
    #: Seconds from creating to available (None: the preset's, else 0).
    settle_seconds: float | None = None
    seed: int = 0
    # Cinder's default limit on a request body (osapi_max_request_body_size); the page states none.
    max_body_bytes: int = 114688
    api_prefix: str | None = None
    #: Seconds a token from the token endpoint stays valid (None: a day); seeded tokens never expire.
    token_ttl_s: float | None = None
    #: A vendor's limits and times (``huawei`` or ``cinder``), or None for an unlimited cloud.
    limits: str | None = None
    #: Refuse a create on a disk that has a snapshot still creating (None: the preset's, else no).
    one_create_per_disk: bool | None = None
    #: Snapshots a disk may hold (None: the preset's, else no limit; UNLIMITED: no limit).
    disk_snapshot_limit: int | None = None
    #: Snapshots the project may hold (None: the preset's, else no quota; UNLIMITED: no quota).
    project_snapshot_quota: int | None = None
    #: Refuse to delete a snapshot that is still creating (None: the preset's, else no).
    refuse_delete_while_creating: bool | None = None
    #: Seconds from deleting to gone (None: the preset's, else the settle time).
    delete_seconds: float | None = None
    #: How many times faster than real time every time of the mock runs.
    time_scale: float = 1.0

    def __post_init__(self) -> None:
        check_config(self)

    @property
    def preset(self) -> Preset | None:
        return check_preset(self.limits)

    def limits_in_force(self) -> Limits:
        """The limits the mock applies: the preset's, each field that is set replacing the preset's."""
        return limits_with(
            self.limits,
            one_create_per_disk=self.one_create_per_disk,
            disk_snapshot_limit=self.disk_snapshot_limit,
            project_snapshot_quota=self.project_snapshot_quota,
            refuse_delete_while_creating=self.refuse_delete_while_creating,
        )

    def settle_in_force(self) -> float:
        """The settle time the mock applies, in the cloud's seconds."""
        if self.settle_seconds is not None:
            return self.settle_seconds
        return self.preset.settle_seconds if self.preset is not None else 0.0

    def delete_in_force(self) -> float | None:
        """The deletion time the mock applies (None: the settle time)."""
        if self.delete_seconds is not None:
            return self.delete_seconds
        return self.preset.delete_seconds if self.preset is not None else None

    def to_json(self) -> dict[str, Any]:
        data = dataclasses.asdict(self)
        data["quirks"] = sorted(self.quirks)
        return data

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> MockConfig:
        """The inverse of ``to_json``."""
        values = dict(data)
        values["volumes"] = tuple(VolumeSeed(**v) for v in values.get("volumes", ()))
        values["users"] = tuple(tuple(u) for u in values.get("users", ()))
        values["quirks"] = frozenset(values.get("quirks", ()))
        return cls(**values)


def _text(what: str, value: object, *, forbidden: str = "", secret: bool = False) -> str:
    if not isinstance(value, str) or not value or any(c in value for c in forbidden):
        rule = f" without {' or '.join(repr(c) for c in forbidden)}" if forbidden else ""
        # A secret is never repeated, not even a malformed one.
        shown = f"a value of type {type(value).__name__}" if secret and value else f"{value!r:.60}"
        raise UsageError(f"{what} must be a non-empty text{rule}, not {shown}")
    return value


def _whole(what: str, value: object, low: int, high: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise UsageError(f"{what} must be a whole number from {low} to {high}, not {value!r:.40}")
    return value


def check_config(config: MockConfig) -> None:
    """Check every field of a MockConfig that needs no contract; a bad one is a UsageError naming it."""
    if config.profile not in PROFILES:
        raise UsageError(f"unknown profile {config.profile!r:.40} (choose from {', '.join(PROFILES)})")
    _text("the host", config.host)
    _whole("the port", config.port, 0, 65535)
    _text("the project id", config.project_id, forbidden="/?#")
    _text("the token", config.token, secret=True)
    if not isinstance(config.volumes, tuple) or not all(isinstance(v, VolumeSeed) for v in config.volumes):
        raise UsageError("the disks must be VolumeSeed records")
    for volume in config.volumes:
        _text("a disk id", volume.id, forbidden="/?#")
        _text("a disk status", volume.status)
        _whole(f"the size of disk {volume.id}", volume.size_gib, 1, MAX_DISK_GIB)
    ids = [v.id for v in config.volumes]
    if len(set(ids)) != len(ids):
        raise UsageError(
            f"a disk id is seeded twice: {', '.join(sorted({i for i in ids if ids.count(i) > 1}))}"
        )
    for user in config.users:
        if not isinstance(user, tuple) or len(user) != 2:
            # Not shown: it may hold a password.
            raise UsageError("a user must be a pair of a name and a password")
        _text("a user name", user[0])
        _text(f"the password of {user[0]}", user[1], secret=True)
    if not isinstance(config.quirks, frozenset) or not all(isinstance(q, str) for q in config.quirks):
        raise UsageError("the quirks must be a set of names")
    # Any whole number seeds Python's random source, so the seed has no range to keep to.
    if isinstance(config.seed, bool) or not isinstance(config.seed, int):
        raise UsageError(f"the seed must be a whole number, not {config.seed!r:.40}")
    _whole("the body limit (bytes)", config.max_body_bytes, 1, MAX_BODY_BYTES)
    if config.api_prefix is not None:
        prefix = _text("the API prefix", config.api_prefix, forbidden=" ?#{}")
        if not prefix.startswith("/") or prefix.endswith("/"):
            raise UsageError(f"the API prefix must start with / and not end with one, not {prefix!r:.60}")
    for name, seconds in (("settle time", config.settle_seconds), ("deletion time", config.delete_seconds)):
        if seconds is not None:
            check_seconds(name, seconds)
    if config.token_ttl_s is not None:
        check_seconds("token lifetime", config.token_ttl_s, positive=True)
    check_time_scale(config.time_scale)
    # Resolving the limits checks the preset's name, each count and each flag.
    config.limits_in_force()
