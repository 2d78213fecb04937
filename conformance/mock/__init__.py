"""The reference EVS snapshot service: a faithful mock with a catalogue of deliberate deviations."""

from __future__ import annotations

from conformance.mock.models import ServiceError, SnapshotBackend
from conformance.mock.quirks import QUIRKS, Quirk
from conformance.mock.server import (
    MockConfig,
    RunningMock,
    VolumeSeed,
    build_backend,
    serve_in_subprocess,
    serve_in_thread,
)

__all__ = [
    "QUIRKS",
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
