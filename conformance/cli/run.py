"""``evs-conformance run``: run the shipped suite against an endpoint (or the embedded mock) and report.

The suite runs as ``pytest --pyargs conformance.suite`` in a child process (a fresh interpreter, so every run
imports the suite with its own Hypothesis settings), with the plugin's ``--evs-*`` options, Allure results,
JUnit XML and, with ``--workers N``, pytest-xdist. The verdict comes from the ``conformance.json`` it writes.
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import click

from conformance.auth import TokenSource
from conformance.cli import EXIT_FAILED, EXIT_OK
from conformance.contract import PROFILES, load_contract
from conformance.errors import ToolError, UsageError
from conformance.plugin import PASSWORD_VARIABLE, TOKEN_VARIABLE, run_settings
from conformance.plugin.redaction import Redactor, redact_exception
from conformance.plugin.runtime import identity_client
from conformance.report import json as json_report
from conformance.report import markdown
from conformance.settings import API_VERSIONS, DEFAULT_MAX_CREATES, RunSettings
from conformance.target import Target, check_disks

#: What a run writes into the reports directory; only these are removed before a run.
RESULTS = ("allure-results", "junit.xml", json_report.FILENAME, markdown.FILENAME, ".ledger")
SUITE = "conformance.suite"
INSECURE_WARNING = (
    "evs-conformance: WARNING: --insecure: TLS certificates are NOT verified; anyone on the path can read "
    "the token and forge the answers this run judges"
)


@dataclass(frozen=True)
class RunOptions:
    """The validated options of one ``run``."""

    base_url: str | None
    profile: str
    project_id: str | None
    token: str | None = field(repr=False)
    volume_id: str | None
    in_use_volume_id: str | None
    reports: Path
    examples: int
    seed: int | None
    workers: int
    lifecycle: bool
    max_creates: int | None
    api_version: str | None
    quirks: tuple[str, ...] = ()
    embedded_mock: bool = False
    iam_url: str | None = None
    username: str | None = None
    domain: str | None = None
    project_name: str | None = None
    password: str | None = field(default=None, repr=False)
    ca_bundle: Path | None = None
    insecure: bool = False
    allow_plain_http: bool = False
    timeout_s: float = 30.0
    deadline_s: float | None = None
    rate_limit: str | None = None
    retries: int = 2
    cleanup: bool = True
    cleanup_timeout_s: float = 60.0
    dry_run: bool = False
    waivers: Path | None = None

    def validate(self) -> None:
        """Raise UsageError, one line, for options that cannot work together."""
        if self.examples < 1:
            raise UsageError("--examples must be at least 1")
        if self.workers < 1:
            raise UsageError("--workers must be at least 1")
        if self.max_creates is not None and self.max_creates < 0:
            raise UsageError("--max-creates must be zero or more")
        if self.retries < 0:
            raise UsageError("--retries must be zero or more")
        for flag, seconds in (("--timeout", self.timeout_s), ("--deadline", self.deadline_s)):
            if seconds is not None and not seconds > 0:
                raise UsageError(f"{flag} must be a positive number of seconds")
        if self.cleanup_timeout_s < 0:
            raise UsageError("--cleanup-timeout must be zero or more")
        if self.base_url is None:
            given = [
                flag
                for flag, value in (
                    ("--project-id", self.project_id),
                    ("--volume-id", self.volume_id),
                    ("--in-use-volume-id", self.in_use_volume_id),
                    ("--iam-url", self.iam_url),
                )
                if value
            ]
            if given:
                raise UsageError(f"{', '.join(given)} need --base-url (the embedded mock has its own)")
            return
        if self.quirks:
            raise UsageError("--mock-quirk only applies to the embedded mock (drop --base-url)")
        if not self.base_url.startswith(("http://", "https://")):
            raise UsageError(f"--base-url {self.base_url!r} must start with http:// or https://")
        needed = (("--project-id", self.project_id), ("--volume-id", self.volume_id))
        missing = [flag for flag, value in needed if not value]
        if self.iam_url:
            missing += [f for f, v in (("--username", self.username), ("--domain", self.domain)) if not v]
        elif not self.token:
            missing.append(f"--token (or ${TOKEN_VARIABLE}) or --iam-url")
        if missing:
            raise UsageError(f"testing {self.base_url} needs {', '.join(missing)}")

    @property
    def secrets(self) -> tuple[str, ...]:
        return tuple(s for s in (self.token, self.password) if s)


def plugin_options(options: RunOptions) -> dict[str, Any]:
    """The plugin's option values (``--evs-*``) that a run hands its pytest child."""
    return {
        "evs_base_url": options.base_url,
        "evs_profile": options.profile,
        "evs_api_version": options.api_version,
        "evs_project_id": options.project_id,
        "evs_token": None,
        "evs_volume_id": options.volume_id,
        "evs_in_use_volume_id": options.in_use_volume_id,
        "evs_reports": str(options.reports),
        "evs_examples": options.examples,
        "evs_seed": options.seed,
        "evs_no_lifecycle": not options.lifecycle,
        "evs_max_creates": options.max_creates,
        "evs_settle_timeout": 30.0,
        "evs_no_shrink": False,
        "evs_mock_quirk": list(options.quirks),
        "evs_embedded_mock": options.embedded_mock,
        "evs_iam_url": options.iam_url,
        "evs_username": options.username,
        "evs_domain": options.domain,
        "evs_project_name": options.project_name,
        "evs_ca_bundle": None if options.ca_bundle is None else str(options.ca_bundle),
        "evs_insecure": options.insecure,
        "evs_allow_plain_http": options.allow_plain_http,
        "evs_timeout": options.timeout_s,
        "evs_deadline": options.deadline_s,
        "evs_rate_limit": options.rate_limit,
        "evs_retries": options.retries,
        "evs_no_cleanup": not options.cleanup,
        "evs_cleanup_timeout": options.cleanup_timeout_s,
        "evs_dry_run": options.dry_run,
        "evs_waivers": None if options.waivers is None else str(options.waivers),
    }


def secret_environment(options: RunOptions) -> dict[str, str]:
    """The secrets a pytest child reads from its environment (never from its command line)."""
    env: dict[str, str] = {}
    if options.iam_url:
        if options.password is not None:
            env[PASSWORD_VARIABLE] = options.password
    elif options.token is not None:
        env[TOKEN_VARIABLE] = options.token
    return env


def settings_of(options: RunOptions) -> RunSettings:
    """The settings the plugin will build from these options (every check it makes, made now)."""
    return run_settings(argparse.Namespace(**plugin_options(options)), secret_environment(options))


def pytest_args(options: RunOptions) -> list[str]:
    """The pytest command line (after ``python -m pytest``) for a run; secrets go by environment."""
    reports = options.reports
    args = [
        "--pyargs",
        SUITE,
        "-q",
        "-p",
        "no:cacheprovider",
        # The user's own pytest configuration must not change what the suite does.
        "-c",
        os.devnull,
        "--rootdir",
        str(reports),
        f"--evs-reports={reports}",
        f"--evs-profile={options.profile}",
        f"--evs-examples={options.examples}",
    ]
    optional = {
        "--evs-base-url": options.base_url,
        "--evs-project-id": options.project_id,
        "--evs-volume-id": options.volume_id,
        "--evs-in-use-volume-id": options.in_use_volume_id,
        "--evs-api-version": options.api_version,
        "--evs-seed": options.seed,
        "--evs-max-creates": options.max_creates,
        "--evs-iam-url": options.iam_url,
        "--evs-username": options.username,
        "--evs-domain": options.domain,
        "--evs-project-name": options.project_name,
        "--evs-ca-bundle": options.ca_bundle,
        "--evs-deadline": options.deadline_s,
        "--evs-rate-limit": options.rate_limit,
        "--evs-waivers": options.waivers,
    }
    args += [f"{flag}={value}" for flag, value in optional.items() if value is not None]
    if not options.dry_run:
        args += [f"--alluredir={reports / 'allure-results'}", f"--junitxml={reports / 'junit.xml'}"]
    if options.base_url is not None:
        args += [f"--evs-timeout={options.timeout_s}", f"--evs-retries={options.retries}"]
    args += [f"--evs-cleanup-timeout={options.cleanup_timeout_s}"]
    args += [f"--evs-mock-quirk={quirk}" for quirk in options.quirks]
    flags = {
        "--evs-no-lifecycle": not options.lifecycle,
        "--evs-embedded-mock": options.embedded_mock,
        "--evs-insecure": options.insecure,
        "--evs-allow-plain-http": options.allow_plain_http,
        "--evs-no-cleanup": not options.cleanup,
        "--evs-dry-run": options.dry_run,
    }
    args += [flag for flag, on in flags.items() if on]
    if options.workers > 1 and not options.dry_run:
        args += ["-n", str(options.workers)]
    return args


def clean_reports(reports: Path) -> None:
    """Remove what an earlier run left in the reports directory (and nothing else)."""
    for name in RESULTS:
        path = reports / name
        if path.is_dir():
            shutil.rmtree(path)
        elif path.exists():
            path.unlink()


def preflight(settings: RunSettings) -> tuple[str, ...]:
    """Check an external target answers and its disks exist in the stated state; TargetError if not.

    Returns the secrets the check handled (a token it was issued), for masking messages.
    """
    target_settings = settings.target
    if target_settings is None:
        raise UsageError("an external target needs --base-url and --project-id")
    contract = load_contract(settings.profile, api_prefix=settings.api_prefix)
    with contextlib.ExitStack() as stack:
        if settings.credentials is not None:
            client = stack.enter_context(identity_client(target_settings))
            tokens = TokenSource.from_password(client, settings.credentials)
            target_settings = dataclasses.replace(target_settings, token_source=tokens)
        target = stack.enter_context(Target(contract, target_settings))
        try:
            check_disks(target, target_settings.available_volume_id, target_settings.in_use_volume_id)
        except ToolError as exc:
            _mask(exc, target.secrets())
            raise
        return target.secrets()


def _mask(exc: BaseException, secrets: Sequence[str]) -> None:
    redact_exception(exc, Redactor(lambda: secrets))


@contextlib.contextmanager
def shared_mock(options: RunOptions) -> Iterator[RunOptions]:
    """For a parallel run on the embedded mock: one mock process that every worker tests."""
    from conformance.mock.server import MockConfig, serve_in_subprocess

    config = MockConfig(
        profile=options.profile,
        quirks=frozenset(options.quirks),
        seed=options.seed or 0,
        api_prefix=None if options.api_version is None else f"/{options.api_version}",
    )
    with serve_in_subprocess(config) as mock:
        yield dataclasses.replace(
            options,
            base_url=mock.base_url,
            project_id=mock.project_id,
            token=mock.token,
            volume_id=mock.available_volume_id,
            in_use_volume_id=mock.in_use_volume_id,
            quirks=(),
            embedded_mock=True,
        )


def execute(options: RunOptions, *, echo: bool = True) -> int:
    """Run the suite; returns the exit code (0 pass, 1 fail, 2 tool error)."""
    try:
        return _execute(options, echo=echo)
    except ToolError as exc:
        _mask(exc, options.secrets)
        raise


def _execute(options: RunOptions, *, echo: bool) -> int:
    options.validate()
    settings = settings_of(options)
    if options.insecure:
        click.echo(INSECURE_WARNING, err=True)
    options.reports.mkdir(parents=True, exist_ok=True)
    if options.dry_run:
        status = _pytest(pytest_args(options), secret_environment(options), echo=echo)
        if status != 0:
            raise ToolError(f"the plan could not be made (pytest exit status {status}); see the output above")
        return EXIT_OK
    secrets: tuple[str, ...] = options.secrets
    if options.base_url is not None:
        secrets += preflight(settings)
    clean_reports(options.reports)
    with contextlib.ExitStack() as stack:
        if options.base_url is None and options.workers > 1:
            options = stack.enter_context(shared_mock(options))
        status = _pytest(pytest_args(options), secret_environment(options), echo=echo)
    report_path = options.reports / json_report.FILENAME
    if status not in (0, 1) or not report_path.exists():
        raise ToolError(f"the suite did not complete (pytest exit status {status}); see the output above")
    report = json_report.read(report_path)
    # The verdict after waivers decides: a waived failure fails its test but not the run.
    return EXIT_FAILED if report["verdict"] == "fail" else EXIT_OK


def _pytest(args: Sequence[str], secrets: Mapping[str, str], *, echo: bool) -> int:
    env = {k: v for k, v in os.environ.items() if k not in (TOKEN_VARIABLE, PASSWORD_VARIABLE)}
    env.pop("PYTEST_ADDOPTS", None)
    # Secrets reach the child by environment, never on a command line that others can list.
    env.update(secrets)
    output = None if echo else subprocess.DEVNULL
    completed = subprocess.run([sys.executable, "-m", "pytest", *args], env=env, stdout=output, check=False)
    return completed.returncode


def _password(iam_url: str | None, username: str | None, dry_run: bool) -> str | None:
    """The identity service password: from ``$EVS_PASSWORD``, else asked for on the terminal."""
    if not iam_url or dry_run:
        return None
    password = os.environ.get(PASSWORD_VARIABLE)
    if password:
        return password
    try:
        answer: str = click.prompt(f"Password for {username or 'the user'} at {iam_url}", hide_input=True)
    except click.Abort:
        raise UsageError(
            f"password authentication needs ${PASSWORD_VARIABLE} or a terminal to ask on"
        ) from None
    return answer


@click.command("run")
@click.option("--base-url", help="Endpoint to test. Default: start the embedded mock.")
@click.option("--profile", type=click.Choice(PROFILES), default=PROFILES[0], show_default=True)
@click.option("--project-id", help="Project ID of the target (and the token's scope).")
@click.option("--token", envvar=TOKEN_VARIABLE, help=f"Token for the target (default: ${TOKEN_VARIABLE}).")
@click.option("--iam-url", help="Identity service v3 base for password auth; tokens from {url}/auth/tokens.")
@click.option("--username", help="User name for password auth.")
@click.option("--domain", help="The user's domain for password auth.")
@click.option("--project-name", help="Scope the token by project name instead of --project-id.")
@click.option("--volume-id", help="An available disk of the project.")
@click.option("--in-use-volume-id", help="A disk attached to a server (force rules are skipped without it).")
@click.option(
    "--reports",
    type=click.Path(path_type=Path, file_okay=False),
    default=Path("reports"),
    show_default=True,
    help="Where conformance.json/.md, junit.xml and allure-results/ go.",
)
@click.option("--examples", type=int, default=100, show_default=True, help="Cases per property test.")
@click.option("--seed", type=int, help="Seed for generated cases (default: fixed, derandomized).")
@click.option("--workers", type=int, default=1, show_default=True, help="Parallel pytest-xdist workers.")
@click.option("--no-lifecycle", is_flag=True, help="Skip read-back/settle/delete (create-only targets).")
@click.option(
    "--max-creates",
    type=int,
    help=f"Most snapshots the run may create. Default on an endpoint: {DEFAULT_MAX_CREATES}, enough to reach "
    "every requirement (about 30) with room for generated cases, while a mistake stays cheap; no limit on "
    "the embedded mock.",
)
@click.option(
    "--ca-bundle",
    type=click.Path(path_type=Path, exists=True, dir_okay=False),
    help="PEM file of CA certificates to trust.",
)
@click.option("--insecure", is_flag=True, help="Do not verify TLS certificates (unsafe; warns).")
@click.option("--allow-plain-http", is_flag=True, help="Allow the token over http:// to a non-loopback host.")
@click.option(
    "--timeout", "timeout_s", type=float, default=30.0, show_default=True, help="Seconds per request."
)
@click.option("--deadline", "deadline_s", type=float, help="Seconds after which nothing more is sent.")
@click.option("--rate-limit", help="Most requests per second, e.g. 5/s (default: no limit).")
@click.option("--retries", type=int, default=2, show_default=True, help="Repeats of GET/DELETE on errors.")
@click.option(
    "--no-cleanup", is_flag=True, help="Leave the snapshots the run created (the report lists them)."
)
@click.option(
    "--cleanup-timeout",
    "cleanup_timeout_s",
    type=float,
    default=60.0,
    show_default=True,
    help="Seconds cleanup may wait in all for snapshots to settle and be gone.",
)
@click.option(
    "--dry-run", is_flag=True, help="Print the plan (requirements, requests, creates); send nothing."
)
@click.option(
    "--waivers",
    type=click.Path(path_type=Path, dir_okay=False),
    help="YAML of accepted failures: waivers: [{id, reason, expires}].",
)
@click.option("--api-version", type=click.Choice(API_VERSIONS), help="Override the profile's path prefix.")
@click.option("--mock-quirk", "quirks", multiple=True, hidden=True, help="For testing the suite itself.")
@click.pass_context
def run(ctx: click.Context, /, **values: Any) -> None:
    """Run the conformance suite and write the reports.

    The token comes from --token or $EVS_TOKEN; for password authentication give --iam-url, --username,
    --domain and the project, and the password in $EVS_PASSWORD (or type it when asked).

    Exit status: 0 every requirement passed (or was waived, skipped or informational), 1 at least one
    failed, 2 usage or tool error (bad options, unreachable target, missing disks, unusable spec).
    """
    if values["iam_url"] and ctx.get_parameter_source("token") is click.core.ParameterSource.ENVIRONMENT:
        # A token left in the environment must not clash with an explicit choice of password auth.
        values["token"] = None
    if values["iam_url"] and values["token"]:
        raise UsageError("give --token or password authentication (--iam-url), not both")
    values["lifecycle"] = not values.pop("no_lifecycle")
    values["cleanup"] = not values.pop("no_cleanup")
    options = RunOptions(**values)
    # Ask for a password only once the options are known to make sense.
    options.validate()
    password = _password(options.iam_url, options.username, options.dry_run)
    sys.exit(execute(dataclasses.replace(options, password=password)))
