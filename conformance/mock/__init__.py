"""The reference EVS snapshot service: a mock with deliberate deviations and, on demand, a cloud's limits."""

from __future__ import annotations

from conformance.mock.identity import Identity
from conformance.mock.limits import PRESETS, UNLIMITED, Limits
from conformance.mock.models import SnapshotBackend
from conformance.mock.quirks import QUIRKS, Quirk
from conformance.mock.refusals import LIMIT_WORDING, ServiceError
from conformance.mock.server import (
    MockConfig,
    RunningMock,
    VolumeSeed,
    build_backend,
    serve_in_subprocess,
    serve_in_thread,
)

__all__ = [
    "LIMIT_WORDING",
    "PRESETS",
    "QUIRKS",
    "UNLIMITED",
    "Identity",
    "Limits",
    "MockConfig",
    "Quirk",
    "RunningMock",
    "ServiceError",
    "SnapshotBackend",
    "VolumeSeed",
    "build_backend",
    "serve_in_subprocess",
    "serve_in_thread",
]
