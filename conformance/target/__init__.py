"""The HTTP side of the suite: the target's client, its pacing, TLS, and the disk pre-flight.

``client`` sends and records exchanges (``Target``); ``pacing`` spaces requests and reads Retry-After; ``tls``
builds the verification every client of a run uses; ``preflight`` checks the disks a run was given;
``scheduler`` keeps a cloud's limits around every create and ``limited`` recognises its refusals for capacity.
"""

from __future__ import annotations

from conformance.target.client import (
    CONFIGURED_TOKEN,
    DEADLINE_REACHED,
    JSON_MEDIA_TYPE,
    NO_BODY,
    USER_AGENT,
    BudgetExhausted,
    Target,
)
from conformance.target.pacing import Pacer, retry_after_s
from conformance.target.preflight import (
    AVAILABLE_DISK_STATUS,
    Disk,
    DiskApiMissing,
    check_disks,
    read_disk,
    verify_disks,
)
from conformance.target.tls import tls_verification

__all__ = [
    "AVAILABLE_DISK_STATUS",
    "CONFIGURED_TOKEN",
    "DEADLINE_REACHED",
    "JSON_MEDIA_TYPE",
    "NO_BODY",
    "USER_AGENT",
    "BudgetExhausted",
    "Disk",
    "DiskApiMissing",
    "Pacer",
    "Target",
    "check_disks",
    "read_disk",
    "retry_after_s",
    "tls_verification",
    "verify_disks",
]
