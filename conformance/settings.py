"""Frozen settings for one run, built once by the command line or the pytest plugin and passed down."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from conformance.errors import UsageError

API_VERSIONS = ("v2", "v3")


@dataclass(frozen=True)
class HttpSettings:
    """How the target's HTTP client behaves: timeouts, pool size and how much of a response to read."""

    connect_timeout_s: float = 5.0
    read_timeout_s: float = 30.0
    max_connections: int = 8
    max_response_bytes: int = 1 << 20

    def __post_init__(self) -> None:
        if self.connect_timeout_s <= 0 or self.read_timeout_s <= 0:
            raise UsageError("HTTP timeouts must be positive")
        if self.max_connections < 1:
            raise UsageError("the HTTP pool needs at least one connection")
        if self.max_response_bytes < 1:
            raise UsageError("the response size cap must be positive")


@dataclass(frozen=True)
class TargetSettings:
    """Where the endpoint is and what the run may assume about it."""

    base_url: str
    project_id: str
    token: str | None
    available_volume_id: str | None
    in_use_volume_id: str | None = None
    embedded_mock: bool = False
    http: HttpSettings = field(default_factory=HttpSettings)

    def __post_init__(self) -> None:
        if not self.base_url.startswith(("http://", "https://")):
            raise UsageError(f"base URL {self.base_url!r} must start with http:// or https://")
        if not self.project_id:
            raise UsageError("a project ID is required")

    def public(self) -> dict[str, object]:
        """What a report may say about the target: everything but the token."""
        return {
            "base_url": self.base_url,
            "embedded_mock": self.embedded_mock,
            "project_id": self.project_id,
            "volume_id": self.available_volume_id,
            "in_use_volume_id": self.in_use_volume_id,
        }


@dataclass(frozen=True)
class RunSettings:
    """Everything one run of the suite is configured with; ``target`` is None until the embedded mock runs."""

    profile: str
    target: TargetSettings | None
    reports_dir: Path
    api_version: str | None = None
    examples: int = 50
    seed: int | None = None
    lifecycle: bool = True
    settle_timeout_s: float = 30.0
    mock_quirks: tuple[str, ...] = ()
    max_creates: int | None = None
    #: Shrink failing generated cases to minimal ones (slower when many requirements fail).
    shrink: bool = True

    def __post_init__(self) -> None:
        if self.api_version is not None and self.api_version not in API_VERSIONS:
            raise UsageError(
                f"unknown API version {self.api_version!r} (choose from {', '.join(API_VERSIONS)})"
            )
        if self.examples < 1:
            raise UsageError("--examples must be at least 1")
        if self.settle_timeout_s < 0:
            raise UsageError("--settle-timeout must be zero or more")
        if self.max_creates is not None and self.max_creates < 0:
            raise UsageError("--max-creates must be zero or more")
        if self.mock_quirks and self.target is not None and not self.target.embedded_mock:
            raise UsageError("mock quirks only apply to the embedded mock")

    @property
    def case_seed(self) -> int:
        """The seed for generators that need a number: ``seed``, or 0 for a derandomized run."""
        return 0 if self.seed is None else self.seed

    @property
    def api_prefix(self) -> str | None:
        """The path prefix that overrides the profile's, when an API version was given."""
        return None if self.api_version is None else f"/{self.api_version}"
