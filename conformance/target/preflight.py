"""Pre-flight: the disks a run was given exist on the target, in the state the run was told.

An answer in the contract's error envelope (404, or the status the contract refuses an unknown disk with)
means the disk does not exist; any other refusal (a 404 page, HTML, 405) means the target does not serve the
disk API at all, as a target exposing only the create operation. A run that needs nothing but the create
operation (``--no-lifecycle``) then goes on with the disks as stated, and says what it could not verify.

Example::

    disks = check_disks(target, available_id="disk-a", in_use_id="disk-b")
    disks[0].size     # GiB, for RSP-SIZE
    disks, unverified = verify_disks(target, "disk-a", None, disk_api_optional=True)
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from conformance.core.display import quoted
from conformance.core.errors import TargetError
from conformance.core.exchange import Exchange
from conformance.target.client import Target

#: The status of a disk a plain snapshot may be taken of (a disk API word; the contract lists busy ones).
AVAILABLE_DISK_STATUS: Final = "available"
_REDIRECTS: Final = frozenset(range(300, 400))
_NOT_FOUND: Final = 404
#: The refusals whose envelope a target that knows the disk API answers an unknown disk with.
_DISK_REFUSALS: Final = ("unknown-volume", "invalid-body")
#: How much of an unexpected answer a message shows.
_SHOWN_CHARS: Final = 120


@dataclass(frozen=True)
class Disk:
    """A disk of the project as the target describes it."""

    id: str
    status: str
    size: int


class DiskApiMissing(TargetError):
    """The target does not answer the disk read as the disk API would (an unknown route, HTML, 405)."""


def read_disk(target: Target, volume_id: str) -> Disk:
    """Read a disk's status and size; raises TargetError, one line, when the target cannot tell.

    Raises ``DiskApiMissing`` when the answer is not the disk API's (the route seems unknown to the target).
    """
    exchange = target.get_volume(volume_id)
    where = f"GET {exchange.request.url}"
    response = exchange.response
    if response is None:
        raise TargetError(f"{target.settings.base_url} is not reachable ({exchange.error})")
    if response.status in target.contract.auth_statuses:
        raise TargetError(f"the target refuses the token: {where} answered {response.status}")
    if response.status in _REDIRECTS:
        location = response.headers.get("location", "?")
        raise TargetError(
            f"{where} answered {response.status}, a redirect to {location} (not followed with the token; "
            "give the final base URL)"
        )
    if _is_disk_refusal(target, exchange):
        raise TargetError(
            f"disk {volume_id} does not exist in project {target.settings.project_id} ({where} answered "
            f"{answer_start(exchange)})"
        )
    if response.status >= 500:
        raise TargetError(f"cannot read disk {volume_id}: {where} answered {answer_start(exchange)}")
    if not 200 <= response.status < 300:
        raise DiskApiMissing(
            f"{where} answered {answer_start(exchange)}, not the contract's error envelope: the target does "
            "not seem to serve the disk API (an unknown route)"
        )
    try:
        document = response.json()
        disk = document.get("volume", document)
        status, size = disk["status"], disk["size"]
    except (ValueError, AttributeError, KeyError, TypeError):
        raise DiskApiMissing(
            f"{where} did not describe a disk (no status and size): {answer_start(exchange)}"
        ) from None
    if not isinstance(status, str) or not isinstance(size, int) or isinstance(size, bool):
        raise DiskApiMissing(f"{where} did not describe a disk (status {status!r}, size {size!r})")
    return Disk(volume_id, status, size)


def _is_disk_refusal(target: Target, exchange: Exchange) -> bool:
    """Whether the answer is the contract's refusal of an unknown disk: its status and error envelope."""
    response = exchange.response
    assert response is not None
    contract = target.contract
    refusals = [contract.refusal(kind) for kind in _DISK_REFUSALS]
    if response.status not in {_NOT_FOUND, *(r.status for r in refusals)}:
        return False
    try:
        body = response.json()
    except ValueError:
        return False
    return any(
        r.body_schema is not None and contract.fast_validator(r.status).is_valid(body) for r in refusals
    )


def answer_start(exchange: Exchange) -> str:
    """The status, the media type and the start of the body, on one line, hidden characters escaped."""
    response = exchange.response
    if response is None:
        return str(exchange.error)
    collapsed = " ".join(response.body[: _SHOWN_CHARS * 4].decode("utf-8", "replace").split())
    media = response.content_type or "no Content-Type"
    if not collapsed:
        return f"{response.status} ({media}, no body)"
    # The answer is the target's: control characters are shown as escapes, never sent to a terminal.
    return f"{response.status} ({media}) {quoted(collapsed, limit=_SHOWN_CHARS)}"


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


def verify_disks(
    target: Target, available_ids: tuple[str, ...], in_use_id: str | None, *, disk_api_optional: bool
) -> tuple[tuple[Disk, ...], str | None]:
    """``check_disks`` for every disk; with ``disk_api_optional``, a target without the disk API is no error.

    Returns the disks read, and what could not be verified (None when everything was): the run then goes on
    with the disks as stated, their sizes unknown.
    """
    try:
        disks = [d for disk in available_ids for d in check_disks(target, disk, None)]
        return (*disks, *check_disks(target, None, in_use_id)), None
    except DiskApiMissing as exc:
        if not disk_api_optional:
            raise
        return (), f"the disks could not be verified ({exc}); going on with them as stated"
