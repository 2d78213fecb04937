"""Pre-flight: the disks a run was given exist on the target, in the state the run was told.

Example::

    disks = check_disks(target, available_id="disk-a", in_use_id="disk-b")
    disks[0].size     # GiB, for RSP-SIZE
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from conformance.errors import TargetError
from conformance.target.client import Target

#: The status of a disk a plain snapshot may be taken of (a disk API word; the contract lists busy ones).
AVAILABLE_DISK_STATUS: Final = "available"
_REDIRECTS: Final = frozenset(range(300, 400))


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
    if response.status in _REDIRECTS:
        location = response.headers.get("location", "?")
        raise TargetError(
            f"{where} answered {response.status}, a redirect to {location} (not followed with the token; "
            "give the final base URL)"
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
