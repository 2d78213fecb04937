"""What the mock refuses and with which status: the service error, and the refusals of a limited cloud.

The request refusals the page documents (``invalid-body``, ``unknown-volume``, ``null-volume-id``,
``volume-busy``) take their status from the contract. A limited cloud refuses a few more things that the
page does not name; each of those takes the contract's status for its kind when the contract names the kind,
else the status it prefers when the contract documents that status (Cinder's 413 for its snapshot quota),
else the status of an invalid body (400 in both profiles).
"""

from __future__ import annotations

from collections.abc import Mapping
from http import HTTPStatus

from conformance.contract import Contract

_MESSAGE_LIMIT = 240

#: A create on a disk whose previous snapshot is still being created (Huawei EVS: one at a time per disk).
SNAPSHOT_IN_PROGRESS = "snapshot-in-progress"
#: A create on a disk that already holds as many snapshots as the disk may have.
DISK_SNAPSHOT_LIMIT = "disk-snapshot-limit"
#: A create in a project that already holds as many snapshots as its quota allows.
SNAPSHOT_QUOTA = "snapshot-quota"
#: A delete of a snapshot that is still being created (Cinder: it must be available or error).
SNAPSHOT_NOT_DELETABLE = "snapshot-not-deletable"

#: Each limit refusal and the status it prefers where the contract documents that status (None: none).
LIMIT_REFUSALS: Mapping[str, int | None] = {
    SNAPSHOT_IN_PROGRESS: None,
    DISK_SNAPSHOT_LIMIT: None,
    SNAPSHOT_QUOTA: HTTPStatus.REQUEST_ENTITY_TOO_LARGE,
    SNAPSHOT_NOT_DELETABLE: None,
}

#: The start of each limit refusal's message: words a client can look for to tell a limit from a defect.
LIMIT_WORDING: Mapping[str, str] = {
    SNAPSHOT_IN_PROGRESS: "a snapshot of this disk is being created",
    DISK_SNAPSHOT_LIMIT: "snapshot limit of the disk reached",
    SNAPSHOT_QUOTA: "quota exceeded",
    SNAPSHOT_NOT_DELETABLE: "the snapshot is being created and cannot be deleted",
}


class ServiceError(Exception):
    """A request the service refuses: ``kind`` names the refusal and ``status`` is its HTTP status.

    ``retry_after`` (seconds) is set on refusals that time may lift, such as an exhausted quota.
    """

    def __init__(self, kind: str, status: int, message: str, *, retry_after: int | None = None) -> None:
        super().__init__(message)
        self.kind = kind
        self.status = status
        self.message = message
        self.retry_after = retry_after


def clip(text: str) -> str:
    """``text`` cut to a length that keeps an error message readable."""
    return text if len(text) <= _MESSAGE_LIMIT else text[: _MESSAGE_LIMIT - 1] + "…"


def refusal_status(contract: Contract, kind: str) -> int:
    """The status the mock refuses ``kind`` with in this profile (see the module's docstring)."""
    if kind in contract.semantics["refusals"]:
        return contract.refusal(kind).status
    preferred = LIMIT_REFUSALS[kind]
    if preferred is not None and preferred in contract.documented_statuses:
        return preferred
    return contract.refusal("invalid-body").status


def limit_refusal(
    contract: Contract, kind: str, detail: str, *, retry_after: int | None = None
) -> ServiceError:
    """A limit refusal with its recognisable wording followed by ``detail``."""
    message = clip(f"{LIMIT_WORDING[kind]}: {detail}")
    return ServiceError(kind, refusal_status(contract, kind), message, retry_after=retry_after)
