"""A limited cloud on demand: the limits a real service puts on snapshots, as data, and vendor presets.

Real services refuse valid creates for reasons of capacity, not of contract (``notes/cloud-limits.md``):
Huawei EVS makes one standard snapshot of a disk at a time and keeps at most seven legacy snapshots per
disk; Cinder holds a project to a quota of ten snapshots and will not delete one that is still being
created. ``Limits()`` refuses none of it, as the clean mock always did; a preset switches a vendor's on, and
each limit stays settable on its own.

Example::

    limits = limits_with("huawei", disk_snapshot_limit=UNLIMITED)   # one at a time, no count per disk
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from conformance.core.errors import UsageError

#: Lifts a preset's count limit (the value Cinder's quotas use for "no limit").
UNLIMITED = -1
#: The longest settle or deletion time the mock takes, in the cloud's seconds (a week).
MAX_SECONDS = 7 * 24 * 3600.0
#: The largest snapshot count a limit may state.
MAX_COUNT = 1_000_000


def check_seconds(what: str, value: object, *, positive: bool = False) -> float:
    """``value`` as seconds after checking it is finite, not negative (or positive) and at most a week."""
    rule = "a positive number of seconds" if positive else "a number of seconds from 0"
    problem = UsageError(f"{what} must be {rule} up to {MAX_SECONDS:g}, not {_shown(value)}")
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise problem
    # Every comparison with NaN is false, so NaN is refused with the values out of range.
    in_range = 0 < value <= MAX_SECONDS if positive else 0 <= value <= MAX_SECONDS
    if not in_range:
        raise problem
    return float(value)


def _shown(value: object) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:39] + "…"


def check_count(what: str, value: object) -> int | None:
    """A count limit: None or ``UNLIMITED`` for none, else a whole number from 0 to ``MAX_COUNT``."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise UsageError(f"{what} must be a whole number, not {_shown(value)}")
    if value == UNLIMITED:
        return None
    if not 0 <= value <= MAX_COUNT:
        raise UsageError(f"{what} must be from 0 to {MAX_COUNT} ({UNLIMITED}: no limit), not {value}")
    return value


def _check_flag(what: str, value: object) -> bool:
    if not isinstance(value, bool):
        raise UsageError(f"{what} must be true or false, not {_shown(value)}")
    return value


@dataclass(frozen=True)
class Limits:
    """What a limited cloud refuses; ``Limits()`` refuses nothing."""

    #: A create on a disk that has a snapshot still ``creating`` is refused.
    one_create_per_disk: bool = False
    #: At most this many snapshots per disk, counting every one not yet gone (None: no limit).
    disk_snapshot_limit: int | None = None
    #: At most this many snapshots per project, counting every one not yet gone (None: no quota).
    project_snapshot_quota: int | None = None
    #: A DELETE of a snapshot that is still ``creating`` is refused.
    refuse_delete_while_creating: bool = False

    def __post_init__(self) -> None:
        _check_flag("one create per disk", self.one_create_per_disk)
        _check_flag("refusing to delete a creating snapshot", self.refuse_delete_while_creating)
        for name in ("disk_snapshot_limit", "project_snapshot_quota"):
            # UNLIMITED is how a caller lifts a limit; stored, it is None like any other absent limit.
            object.__setattr__(self, name, check_count(name.replace("_", " "), getattr(self, name)))

    @property
    def active(self) -> bool:
        """Whether any limit is on (the create path skips the bookkeeping otherwise)."""
        return (
            self.one_create_per_disk
            or self.disk_snapshot_limit is not None
            or self.project_snapshot_quota is not None
            or self.refuse_delete_while_creating
        )


@dataclass(frozen=True)
class Preset:
    """A vendor's limits with the time its snapshots take to settle and to go, in the cloud's seconds."""

    limits: Limits
    settle_seconds: float
    delete_seconds: float
    #: Where the limits come from; the times are the mock's choice where the sources give no figure.
    sources: tuple[str, ...] = field(default=())


PRESETS: Mapping[str, Preset] = {
    "huawei": Preset(
        Limits(one_create_per_disk=True, disk_snapshot_limit=7, refuse_delete_while_creating=True),
        settle_seconds=180.0,
        delete_seconds=60.0,
        sources=(
            "one standard snapshot of a disk at a time (EVS user guide, Creating an EVS Snapshot)",
            "at most seven legacy snapshots per disk (same page)",
            "creating usually takes several minutes (same page): three here",
        ),
    ),
    "cinder": Preset(
        Limits(project_snapshot_quota=10, refuse_delete_while_creating=True),
        settle_seconds=30.0,
        delete_seconds=10.0,
        sources=(
            "quota_snapshots defaults to 10 per project; over it: 413 overLimit",
            "a creating snapshot cannot be deleted (it must be available or error)",
            "deletion is asynchronous (deleting, then gone)",
        ),
    ),
}


def check_preset(name: str | None) -> Preset | None:
    """The preset called ``name`` (None for none); an unknown name is a UsageError."""
    if name is None:
        return None
    if name not in PRESETS:
        raise UsageError(f"unknown limits preset {name!r} (choose from {', '.join(PRESETS)})")
    return PRESETS[name]


def limits_with(
    preset: str | None,
    *,
    one_create_per_disk: bool | None = None,
    disk_snapshot_limit: int | None = None,
    project_snapshot_quota: int | None = None,
    refuse_delete_while_creating: bool | None = None,
) -> Limits:
    """The preset's limits (none without one), each argument that is not None replacing the preset's."""
    chosen = check_preset(preset)
    base = chosen.limits if chosen is not None else Limits()
    return Limits(
        one_create_per_disk=base.one_create_per_disk if one_create_per_disk is None else one_create_per_disk,
        disk_snapshot_limit=base.disk_snapshot_limit if disk_snapshot_limit is None else disk_snapshot_limit,
        project_snapshot_quota=(
            base.project_snapshot_quota if project_snapshot_quota is None else project_snapshot_quota
        ),
        refuse_delete_while_creating=(
            base.refuse_delete_while_creating
            if refuse_delete_while_creating is None
            else refuse_delete_while_creating
        ),
    )
