"""Frozen settings for one run, built once by the command line or the pytest plugin and passed down."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from conformance.errors import UsageError

if TYPE_CHECKING:
    from conformance.auth import PasswordCredentials, TokenSource
    from conformance.waivers import Waiver

API_VERSIONS = ("v2", "v3")


@dataclass(frozen=True)
class TargetSettings:
    """Where the endpoint is, how to authenticate, and how politely and how long to talk to it.

    Give ``token`` (a fixed token) or ``token_source`` (one that can be renewed after a 401), not both.
    """

    base_url: str
    project_id: str
    token: str | None = field(repr=False)
    available_volume_id: str | None
    in_use_volume_id: str | None = None
    embedded_mock: bool = False
    token_source: TokenSource | None = field(default=None, repr=False, compare=False)
    #: CA certificates to trust instead of the system's (a PEM file).
    ca_bundle: Path | None = None
    #: Skip TLS certificate verification (the command line warns loudly).
    insecure: bool = False
    #: Send the token over plain http:// to a host that is not this machine.
    allow_plain_http: bool = False
    #: Bound on each request: connecting, each read, and reading the whole body.
    timeout_s: float = 30.0
    #: Seconds from the target's opening after which nothing more is sent (None: no limit).
    deadline_s: float | None = None
    #: Most requests per second (None: as fast as the target answers).
    rate_limit_per_s: float | None = None
    #: Repeats of a GET or DELETE after a connection error, and of any request after a 429.
    retries: int = 2
    #: The first pause before a repeat; each further one doubles it.
    retry_backoff_s: float = 0.25
    #: A 429 asking for a longer pause than this is recorded as the answer instead of waited out.
    max_retry_after_s: float = 30.0
    #: How much of a response body is read; the rest is dropped and the response marked truncated.
    max_response_bytes: int = 1 << 20
    max_connections: int = 8

    def __post_init__(self) -> None:
        if not self.base_url.startswith(("http://", "https://")):
            raise UsageError(f"base URL {self.base_url!r} must start with http:// or https://")
        if not self.project_id:
            raise UsageError("a project ID is required")
        if self.token is not None and self.token_source is not None:
            raise UsageError("give a token or a token source, not both")
        if self.insecure and self.ca_bundle is not None:
            raise UsageError("a CA bundle and skipping TLS verification contradict each other")
        if self.timeout_s <= 0:
            raise UsageError("the request timeout must be positive")
        if self.deadline_s is not None and self.deadline_s <= 0:
            raise UsageError("the overall deadline must be positive")
        if self.rate_limit_per_s is not None and self.rate_limit_per_s <= 0:
            raise UsageError("the rate limit must be positive")
        if self.retries < 0 or self.retry_backoff_s < 0 or self.max_retry_after_s < 0:
            raise UsageError("retries, back-off and the longest Retry-After wait must be zero or more")
        if self.max_response_bytes < 1:
            raise UsageError("the response size cap must be positive")
        if self.max_connections < 1:
            raise UsageError("the HTTP pool needs at least one connection")

    @property
    def has_credentials(self) -> bool:
        """Whether requests carry a token (a fixed one or one from the token source)."""
        return self.token is not None or self.token_source is not None

    def public(self) -> dict[str, object]:
        """What a report may say about the target: everything but the token."""
        return {
            "base_url": self.base_url,
            "embedded_mock": self.embedded_mock,
            "project_id": self.project_id,
            "volume_id": self.available_volume_id,
            "in_use_volume_id": self.in_use_volume_id,
            # An audit shows how the target was reached: unverified TLS or tight limits change what it proves.
            "tls_verified": not self.insecure,
            "timeout_s": self.timeout_s,
            "deadline_s": self.deadline_s,
            "rate_limit_per_s": self.rate_limit_per_s,
            "max_response_bytes": self.max_response_bytes,
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
    #: Password credentials for a token from an identity service (instead of the target's fixed token).
    credentials: PasswordCredentials | None = field(default=None, repr=False, compare=False)
    #: Accepted failures, already parsed and validated against the catalogue.
    waivers: tuple[Waiver, ...] = ()
    #: Delete what the run created and did not delete, at the end of the run.
    cleanup: bool = True
    #: The most seconds cleanup waits, in all, for snapshots to leave their initial status and be gone.
    cleanup_timeout_s: float = 60.0
    #: Print the plan and send nothing.
    dry_run: bool = False

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
        if self.cleanup_timeout_s < 0:
            raise UsageError("--cleanup-timeout must be zero or more")

    @property
    def case_seed(self) -> int:
        """The seed for generators that need a number: ``seed``, or 0 for a derandomized run."""
        return 0 if self.seed is None else self.seed

    @property
    def api_prefix(self) -> str | None:
        """The path prefix that overrides the profile's, when an API version was given."""
        return None if self.api_version is None else f"/{self.api_version}"


#: The create budget of a run against a real endpoint when none is given: every requirement is reached with
#: about 30 creates (the deterministic cases and the lifecycle), which leaves as many again for generated
#: valid bodies, while a mistake costs at most 60 billable snapshots.
DEFAULT_MAX_CREATES = 60


def parse_rate_limit(text: str) -> float:
    """Requests per second from ``"5/s"`` or ``"5"`` (fractions allowed: ``"0.5/s"``); raises UsageError."""
    value = text.strip().removesuffix("/s").strip()
    try:
        rate = float(value)
    except ValueError:
        raise UsageError(f"--rate-limit {text!r} is not a rate such as 5/s") from None
    if not rate > 0 or rate == float("inf"):
        raise UsageError(f"--rate-limit {text!r} must be a positive number of requests per second")
    return rate
