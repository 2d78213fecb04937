"""Frozen settings for one run, built once from resolved options (``build``) and passed down.

Values arrive already checked one by one (``conformance.run.options``); ``build`` checks how they fit
together, fills the defaults that depend on the target, and is the only place that does.

Example::

    resolved = config.resolve(given, os.environ, cwd=Path.cwd(), spell=lambda o: o.flag)
    settings = build(resolved, spell=lambda o: o.flag)
    settings.target.base_url if settings.target else "the embedded mock"
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from conformance.core.errors import UsageError
from conformance.run.options import (
    DEFAULT_CREATING_PER_DISK,
    DEFAULT_DEADLINE_S,
    DEFAULT_MAX_CREATES,
    DEFAULT_SETTLE_TIME_S,
    DEFAULT_SETTLE_TIMEOUT_S,
    DEFAULT_SNAPSHOTS_PER_DISK,
    DEFAULT_SNAPSHOTS_PER_PROJECT,
    MOCK_SETTLE_TIMEOUT_S,
    OPTIONS,
    Option,
)

if TYPE_CHECKING:
    from conformance.run.auth import PasswordCredentials, TokenSource
    from conformance.run.config import Resolved
    from conformance.run.waivers import Waiver

Spell = Callable[[Option], str]


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
    timeout_s: float = OPTIONS["timeout"].default
    #: Seconds from the target's opening after which nothing more is sent (None: no limit).
    deadline_s: float | None = None
    #: Most requests per second (None: as fast as the target answers).
    rate_limit_per_s: float | None = None
    #: Repeats of a GET or DELETE after a connection error, and of any request after a 429.
    retries: int = OPTIONS["retries"].default
    #: The first pause before a repeat; each further one doubles it.
    retry_backoff_s: float = 0.25
    #: A 429 asking for a longer pause than this is recorded as the answer instead of waited out.
    max_retry_after_s: float = 30.0
    #: How much of a response body is read; the rest is dropped and the response marked truncated.
    max_response_bytes: int = 1 << 20
    max_connections: int = 8

    #: More available disks beside ``available_volume_id``: creates are spread over all of them.
    extra_volume_ids: tuple[str, ...] = ()
    #: The config file's name for this target (``--target eu-west``), shown in reports and matrices.
    name: str | None = None

    def __post_init__(self) -> None:
        # Values are checked where they are read (conformance.run.options); this only guards what code builds.
        if self.token is not None and self.token_source is not None:
            raise UsageError("give a token or a token source, not both")

    @property
    def available_volume_ids(self) -> tuple[str, ...]:
        """Every available disk the run may snapshot, the first one first."""
        first = () if self.available_volume_id is None else (self.available_volume_id,)
        return (*first, *self.extra_volume_ids)

    @property
    def has_credentials(self) -> bool:
        """Whether requests carry a token (a fixed one or one from the token source)."""
        return self.token is not None or self.token_source is not None

    def public(self) -> dict[str, object]:
        """What a report may say about the target: everything but the token."""
        return {
            "name": self.name,
            "base_url": self.base_url,
            "embedded_mock": self.embedded_mock,
            "project_id": self.project_id,
            "volume_id": self.available_volume_id,
            "volume_ids": list(self.available_volume_ids),
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
    examples: int = OPTIONS["examples"].default
    seed: int | None = None
    lifecycle: bool = OPTIONS["lifecycle"].default
    settle_timeout_s: float = MOCK_SETTLE_TIMEOUT_S
    mock_quirks: tuple[str, ...] = ()
    max_creates: int | None = None
    #: Shrink failing generated cases to minimal ones (slower when many requirements fail).
    shrink: bool = OPTIONS["shrink"].default
    #: Password credentials for a token from an identity service (instead of the target's fixed token).
    credentials: PasswordCredentials | None = field(default=None, repr=False, compare=False)
    #: Accepted failures, already parsed and validated against the catalogue.
    waivers: tuple[Waiver, ...] = ()
    #: Delete what the run created and did not delete, at the end of the run.
    cleanup: bool = OPTIONS["cleanup"].default
    #: The most seconds cleanup waits, in all, for snapshots to leave their initial status and be gone.
    cleanup_timeout_s: float = OPTIONS["cleanup_timeout"].default
    #: Print the plan and send nothing.
    dry_run: bool = False
    #: The run's snapshots being created at once on one disk (None: no limit).
    creating_per_disk: int | None = None
    #: The run's snapshots alive at once on one disk, and in the project (None: no cap).
    snapshots_per_disk: int | None = None
    snapshots_per_project: int | None = None
    #: What a snapshot usually takes to settle on the target (estimates; pauses without lifecycle reads).
    settle_time_s: float = 0.0
    #: pytest-xdist worker processes.
    workers: int = OPTIONS["workers"].default
    #: Only these requirements (IDs or shell patterns); empty: every one.
    requirements: tuple[str, ...] = ()
    #: A skipped requirement fails the run.
    fail_on_skip: bool = False
    #: The share of the selected requirements the run must reach (0 to 1), or None for no such gate.
    min_reached: float | None = None
    #: When the run began (``time.monotonic()``, system-wide): the deadline counts from here in every process.
    started_at: float | None = None
    #: The front end that made these settings, so messages name options as the user typed them.
    front_end: str = "cli"

    def flag(self, name: str) -> str:
        """An option's flag as the user's front end spells it (``--deadline`` or ``--evs-deadline``)."""
        option = OPTIONS[name]
        return option.plugin_flag if self.front_end == "plugin" else option.flag

    def __post_init__(self) -> None:
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


def build(resolved: Resolved, *, spell: Spell, front_end: str = "cli") -> RunSettings:
    """The run's settings from resolved options; raises UsageError (one line) for options that clash.

    ``spell`` names an option as the user's front end writes it (``--max-creates`` or
    ``--evs-max-creates``). Waiver files are read and checked here, before anything is sent.
    """
    values = resolved.values

    def flag(name: str) -> str:
        return spell(OPTIONS[name])

    base_url: str | None = values["base_url"]
    iam_url: str | None = values["iam_url"]
    token: str | None = values["token"]
    if iam_url and token is not None:
        if resolved.sources["token"].startswith("environment"):
            # A token left in the environment must not clash with an explicit choice of password auth.
            token = None
        else:
            raise UsageError(f"give {flag('token')} or password authentication ({flag('iam_url')}), not both")
    if values["insecure"] and values["ca_bundle"] is not None:
        raise UsageError(f"{flag('ca_bundle')} and {flag('insecure')} contradict each other")
    target: TargetSettings | None = None
    credentials = None
    if base_url is None:
        stray = [flag(n) for n in ("project_id", "volume_id", "in_use_volume_id", "iam_url") if values[n]]
        if stray:
            raise UsageError(f"{', '.join(stray)} need {flag('base_url')} (the embedded mock has its own)")
    else:
        if values["mock_quirk"]:
            raise UsageError(
                f"{flag('mock_quirk')} only applies to the embedded mock (drop {flag('base_url')})"
            )
        missing = [flag(n) for n in ("project_id", "volume_id") if not values[n]]
        if iam_url:
            missing += [flag(n) for n in ("username", "domain") if not values[n]]
            if not missing and not values["password"] and not values["dry_run"]:
                missing.append(f"${OPTIONS['password'].env}")
        elif not token:
            missing.append(f"{flag('token')} (or ${OPTIONS['token'].env}) or {flag('iam_url')}")
        if missing:
            raise UsageError(f"testing {base_url} needs {', '.join(missing)}")
        if iam_url and values["password"]:
            credentials = credentials_of(values)
        disks: tuple[str, ...] = values["volume_id"]
        target = TargetSettings(
            base_url=base_url,
            project_id=values["project_id"],
            token=token,
            available_volume_id=disks[0],
            extra_volume_ids=disks[1:],
            in_use_volume_id=values["in_use_volume_id"],
            ca_bundle=values["ca_bundle"],
            insecure=values["insecure"],
            allow_plain_http=values["allow_plain_http"],
            timeout_s=values["timeout"],
            deadline_s=DEFAULT_DEADLINE_S if values["deadline"] is None else values["deadline"],
            rate_limit_per_s=values["rate_limit"],
            retries=values["retries"],
            name=resolved.target,
        )
    max_creates = values["max_creates"]
    if max_creates is None and target is not None:
        max_creates = DEFAULT_MAX_CREATES
    limits = _limits(values, endpoint=target is not None)
    return RunSettings(
        profile=values["profile"],
        target=target,
        reports_dir=values["reports"],
        api_version=values["api_version"],
        examples=values["examples"],
        seed=values["seed"],
        lifecycle=values["lifecycle"],
        settle_timeout_s=limits["settle_timeout"],
        mock_quirks=values["mock_quirk"],
        max_creates=max_creates,
        shrink=values["shrink"],
        credentials=credentials,
        waivers=read_waivers(values["waivers"]),
        cleanup=values["cleanup"],
        cleanup_timeout_s=values["cleanup_timeout"],
        dry_run=values["dry_run"],
        creating_per_disk=limits["creating_per_disk"],
        snapshots_per_disk=limits["snapshots_per_disk"],
        snapshots_per_project=limits["snapshots_per_project"],
        settle_time_s=limits["settle_time"],
        workers=values["workers"],
        requirements=_selected(values["requirements"], spell(OPTIONS["requirements"])),
        fail_on_skip=values["fail_on_skip"],
        min_reached=values["min_reached"],
        front_end=front_end,
    )


def _limits(values: Mapping[str, Any], *, endpoint: bool) -> dict[str, Any]:
    """The target's limits the run keeps: those given (0 lifts one), else the defaults for where it runs.

    An endpoint gets limits that fit Huawei EVS and Cinder; the embedded mock, which refuses nothing for
    capacity, none. Without reads and deletes (``--no-lifecycle``) the run cannot delete to stay under a
    cap, so only caps given explicitly are kept (each then bounds the run's creates).
    """
    defaults = {
        "creating_per_disk": DEFAULT_CREATING_PER_DISK if endpoint else None,
        "snapshots_per_disk": DEFAULT_SNAPSHOTS_PER_DISK if endpoint and values["lifecycle"] else None,
        "snapshots_per_project": DEFAULT_SNAPSHOTS_PER_PROJECT if endpoint and values["lifecycle"] else None,
    }
    chosen: dict[str, Any] = {
        name: default if values[name] is None else (values[name] or None)
        for name, default in defaults.items()
    }
    chosen["settle_time"] = (
        values["settle_time"]
        if values["settle_time"] is not None
        else DEFAULT_SETTLE_TIME_S
        if endpoint
        else 0.0
    )
    timeout = values["settle_timeout"]
    chosen["settle_timeout"] = (
        timeout if timeout is not None else DEFAULT_SETTLE_TIMEOUT_S if endpoint else MOCK_SETTLE_TIMEOUT_S
    )
    return chosen


def _selected(patterns: tuple[str, ...], flag: str) -> tuple[str, ...]:
    """The requirement IDs a selection names (every one when empty); UsageError for one naming nothing."""
    if not patterns:
        return ()
    from conformance.contract.requirements import load_requirements, select_requirements

    known = [r.id for r in load_requirements()]
    try:
        chosen = select_requirements(",".join(patterns), known)
    except UsageError as exc:
        raise UsageError(str(exc).replace("--requirements", flag)) from None
    return tuple(rid for rid in known if rid in chosen)


def credentials_of(values: Mapping[str, Any]) -> PasswordCredentials:
    """Password credentials from resolved option values (the password already among them)."""
    from conformance.run.auth import PasswordCredentials

    # The token's scope: the project by name when one is given, else the target's project.
    return PasswordCredentials(
        iam_url=values["iam_url"],
        username=values["username"],
        password=values["password"],
        domain=values["domain"],
        project_id=None if values["project_name"] else values["project_id"],
        project_name=values["project_name"] or None,
        allow_plain_http=values["allow_plain_http"],
    )


def read_waivers(path: Path | None) -> tuple[Waiver, ...]:
    """The waivers of a file, checked against the catalogue; raises UsageError (one line) when bad."""
    if path is None:
        return ()
    from datetime import date

    from conformance.contract.requirements import load_requirements
    from conformance.run.waivers import load_waivers

    known = {r.id for r in load_requirements()}
    return load_waivers(str(path), known_ids=known, today=date.today())


def to_wire(settings: RunSettings) -> dict[str, Any]:
    """The settings as plain data for another process of the run (pytest-xdist workers; never a file).

    Secrets travel too (through the workers' pipe, never a command line); a token source does not: each
    process fetches its own from the credentials.
    """
    data = {f.name: getattr(settings, f.name) for f in dataclasses.fields(settings)}
    data["reports_dir"] = str(settings.reports_dir)
    data["waivers"] = [w.as_dict() for w in settings.waivers]
    data["credentials"] = None if settings.credentials is None else dataclasses.asdict(settings.credentials)
    if settings.target is not None:
        target = {f.name: getattr(settings.target, f.name) for f in dataclasses.fields(settings.target)}
        target["token_source"] = None
        target["ca_bundle"] = None if settings.target.ca_bundle is None else str(settings.target.ca_bundle)
        data["target"] = target
    return data


def from_wire(data: dict[str, Any]) -> RunSettings:
    """The settings ``to_wire`` described."""
    from datetime import date

    from conformance.run.auth import PasswordCredentials
    from conformance.run.waivers import Waiver

    values = dict(data)
    target = values.pop("target")
    if target is not None:
        target = dict(target)
        target["ca_bundle"] = None if target["ca_bundle"] is None else Path(target["ca_bundle"])
        target = TargetSettings(**{**target, "extra_volume_ids": tuple(target["extra_volume_ids"])})
    credentials = values.pop("credentials")
    waivers = tuple(
        Waiver(w["id"], w["reason"], None if w["expires"] is None else date.fromisoformat(w["expires"]))
        for w in values.pop("waivers")
    )
    values["mock_quirks"] = tuple(values["mock_quirks"])
    values["requirements"] = tuple(values["requirements"])
    reports = Path(values.pop("reports_dir"))
    return RunSettings(
        **values,
        target=target,
        reports_dir=reports,
        credentials=None if credentials is None else PasswordCredentials(**credentials),
        waivers=waivers,
    )
