"""``evs-conformance run``: run the shipped suite against an endpoint (or the embedded mock) and report.

The options come from the one option table (``conformance.run.options``), resolved with the environment and
the config file; the settings object they make is handed to the pytest plugin, and pytest runs in this very
process (``pytest.main``), so there is no child to orphan and one settings object serves the whole run. With
``--workers N`` pytest-xdist starts worker processes, which get the same settings from it.
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
import signal
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import click

from conformance.cli import EXIT_OK
from conformance.cli.options import given, spell, table_options
from conformance.cli.progress import Progress
from conformance.contract import load_contract
from conformance.core.errors import TargetError, ToolError, UsageError
from conformance.plugin.hooks import Provided
from conformance.plugin.redaction import Redactor, redact_exception
from conformance.report import console
from conformance.report import json as json_report
from conformance.report.coverage import gate
from conformance.run import config as config_file
from conformance.run.options import OPTIONS
from conformance.run.reportsdir import ReportsDir
from conformance.run.settings import RunSettings, TargetSettings, build
from conformance.target import DiskApiMissing, Target, verify_disks
from conformance.target.identity import identity_client

SUITE = "conformance.suite"
INSECURE_WARNING = (
    "evs-conformance: WARNING: --insecure: TLS certificates are NOT verified; anyone on the path can read "
    "the token and forge the answers this run judges"
)
#: Environment variables through which pytest would take options or plugins the suite did not ask for.
_PYTEST_VARIABLES = ("PYTEST_ADDOPTS", "PYTEST_PLUGINS")


def secrets_of(settings: RunSettings) -> tuple[str, ...]:
    """The secrets the settings hold (the token, the password)."""
    token = settings.target.token if settings.target is not None else None
    password = settings.credentials.password if settings.credentials is not None else None
    return tuple(s for s in (token, password) if s)


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
            from conformance.run.auth import TokenSource

            client = stack.enter_context(identity_client(target_settings))
            tokens = TokenSource.from_password(client, settings.credentials)
            target_settings = dataclasses.replace(target_settings, token_source=tokens)
        target = stack.enter_context(Target(contract, target_settings))
        try:
            _, unverified = verify_disks(
                target,
                target_settings.available_volume_ids,
                target_settings.in_use_volume_id,
                disk_api_optional=not settings.lifecycle,
            )
        except DiskApiMissing as exc:
            flag = OPTIONS["lifecycle"].flag
            error = TargetError(
                f"{exc}; a target that serves only the create operation is tested with {flag}"
            )
            redact_exception(error, Redactor(target.secrets))
            raise error from None
        except ToolError as exc:
            redact_exception(exc, Redactor(target.secrets))
            raise
        if unverified is not None:
            click.echo(f"evs-conformance: WARNING: {Redactor(target.secrets)(unverified)}", err=True)
        return target.secrets()


@contextlib.contextmanager
def shared_mock(settings: RunSettings) -> Iterator[RunSettings]:
    """For a parallel run on the embedded mock: one mock process that every worker tests."""
    from conformance.mock.server import MockConfig, serve_in_subprocess

    config = MockConfig(
        profile=settings.profile,
        quirks=frozenset(settings.mock_quirks),
        seed=settings.case_seed,
        api_prefix=settings.api_prefix,
    )
    with serve_in_subprocess(config) as mock:
        target = TargetSettings(
            base_url=mock.base_url,
            project_id=mock.project_id,
            token=mock.token,
            available_volume_id=mock.available_volume_id,
            in_use_volume_id=mock.in_use_volume_id,
            embedded_mock=True,
        )
        yield dataclasses.replace(settings, target=target, mock_quirks=())


def pytest_args(settings: RunSettings, *, verbose: bool) -> list[str]:
    """The arguments of the in-process pytest: the suite, our plugin, and nothing of the user's setup."""
    reports = settings.reports_dir
    args = [
        "--pyargs",
        SUITE,
        "-p",
        "conformance.plugin",
        "-p",
        "no:cacheprovider",
        # The user's own pytest configuration must not change what the suite does.
        "-c",
        os.devnull,
        "--rootdir",
        str(reports),
    ]
    args += ["-v"] if verbose else ["-p", "no:terminal"]
    # Allure results and junit.xml are views of conformance.json, written by the plugin from the one result.
    if not settings.dry_run and settings.workers > 1:
        # loadgroup keeps the planned creates, which share what they found, on one worker.
        args += ["-p", "xdist.plugin", "-n", str(settings.workers), "--dist", "loadgroup"]
    return args


@contextlib.contextmanager
def _pytest_environment() -> Iterator[None]:
    """Only the plugins the suite names load, whatever is installed or set in the environment."""
    saved = {name: os.environ.get(name) for name in (*_PYTEST_VARIABLES, "PYTEST_DISABLE_PLUGIN_AUTOLOAD")}
    for name in _PYTEST_VARIABLES:
        os.environ.pop(name, None)
    os.environ["PYTEST_DISABLE_PLUGIN_AUTOLOAD"] = "1"
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def run_pytest(settings: RunSettings, *, verbose: bool, progress: Any = None) -> tuple[int, Provided]:
    """Run the suite in this process with ``settings``; the pytest exit status and what the plugin left.

    SIGINT and SIGTERM stop the tests (the current request is abandoned); the plugin then cleans up within
    the cleanup time and writes the reports marked incomplete. A second signal skips the cleanup, but the
    list of what is left is still written.
    """
    import pytest
    from hypothesis import settings as hypothesis_settings

    provided = Provided(settings, observer=progress)
    # The suite loads its own Hypothesis profile; whoever called us gets theirs back.
    profile = hypothesis_settings.get_current_profile_name()
    try:
        with _pytest_environment(), _interrupts(provided):
            status = pytest.main(pytest_args(settings, verbose=verbose), plugins=[provided])
    finally:
        hypothesis_settings.load_profile(profile)
    return int(status), provided


@contextlib.contextmanager
def _interrupts(provided: Provided) -> Iterator[None]:
    """SIGINT and SIGTERM answered as the plugin's ``Interrupts`` decides, said on the console."""
    provided.interrupts.say = _say
    with provided.interrupts.installed():
        yield


def _say(line: str) -> None:
    # Straight to the descriptor: a signal handler must not re-enter a buffered stream being written.
    with contextlib.suppress(OSError):
        os.write(sys.stderr.fileno(), f"\nevs-conformance: {line}\n".encode())


def execute(settings: RunSettings, *, verbose: bool = False) -> int:
    """Run the suite; returns the exit code (0 pass, 1 fail, 2 tool error)."""
    try:
        return _execute(settings, verbose=verbose)
    except ToolError as exc:
        redact_exception(exc, Redactor(lambda: secrets_of(settings)))
        raise


def _execute(settings: RunSettings, *, verbose: bool) -> int:
    if settings.target is not None and settings.target.insecure:
        click.echo(INSECURE_WARNING, err=True)
    reports = settings.reports_dir
    if settings.dry_run:
        status, provided = run_pytest(settings, verbose=verbose)
        if status != 0:
            raise ToolError(f"the plan could not be made (pytest exit status {status})")
        for line in provided.summary or ():
            click.echo(line)
        return EXIT_OK
    # Before anything is sent: a reports folder that holds the user's files stops the run here.
    ReportsDir.prepare(reports, flag=OPTIONS["reports"].flag)
    if settings.target is not None:
        preflight(settings)
    with contextlib.ExitStack() as stack:
        if settings.target is None and settings.workers > 1:
            settings = stack.enter_context(shared_mock(settings))
        progress = stack.enter_context(Progress(budget=settings.max_creates))
        status, provided = run_pytest(settings, verbose=verbose, progress=progress)
    report_path = reports / json_report.FILENAME
    # 2 is pytest's "interrupted", which a run that stopped early also ends with; its report says why.
    if status not in (0, 1, 2) or not report_path.exists():
        if provided.error:
            raise ToolError(provided.error)
        raise ToolError(
            f"the suite did not complete (pytest exit status {status}); run again with -v to see why"
        )
    report = provided.report or json_report.read(report_path)
    _closing(report, reports)
    if provided.interrupted is not None:
        return 128 + signal.Signals[provided.interrupted].value
    # The verdict after waivers decides: a waived failure fails no gate.
    decision = gate(report, fail_on_skip=settings.fail_on_skip, min_reached=settings.min_reached)
    for reason in decision.reasons:
        click.echo(f"evs-conformance: {reason}", err=True)
    return decision.exit_code


def _closing(report: dict[str, Any], reports: Path) -> None:
    """The requirement table and the figures, the verdict line last: coloured on a terminal."""
    click.echo(f"evs-conformance: reports in {reports}")
    if sys.stdout.isatty():
        from rich.console import Console

        screen = Console()
        for renderable in console.closing_renderables(report):
            screen.print(renderable)
    else:
        for line in console.closing_lines(report):
            click.echo(line)


def _password(values: dict[str, Any]) -> str | None:
    """The identity service password: from the environment already, else asked for on the terminal."""
    password: str | None = values["password"]
    if not values["iam_url"] or values["dry_run"] or password:
        return password
    if not values["username"] or not values["domain"]:
        return None  # the settings say what is missing
    try:
        answer: str = click.prompt(
            f"Password for {values['username']} at {values['iam_url']}", hide_input=True, err=True
        )
    except click.Abort:
        raise UsageError(
            f"password authentication needs ${OPTIONS['password'].env} or a terminal to ask on"
        ) from None
    checked: str = OPTIONS["password"].parse(answer, "the password")
    return checked


@click.command("run")
@table_options
def run(**values: Any) -> None:
    """Run the conformance suite and write the reports.

    Options may also come from the environment (EVS_<OPTION>, e.g. EVS_MAX_CREATES) and from a config file
    (evs-conformance.toml, or [tool.evs-conformance] in pyproject.toml; --target picks one of its
    [targets.NAME]); the command line wins over the environment, which wins over the file.

    The token comes from --token or $EVS_TOKEN; for password authentication give --iam-url, --username,
    --domain and the project, and the password in $EVS_PASSWORD (or type it when asked).

    Exit status: 0 every requirement passed (or was waived, skipped or informational), 1 at least one
    failed, 2 usage or tool error (bad options, unreachable target, missing disks, unusable spec).
    """
    resolved = config_file.resolve(given(values), os.environ, cwd=Path.cwd(), spell=spell)
    if resolved.values["show_config"]:
        click.echo("\n".join(config_file.show(resolved, spell=spell)))
        return
    password = _password(dict(resolved.values))
    if password is not None:
        resolved = dataclasses.replace(resolved, values={**resolved.values, "password": password})
    settings = build(resolved, spell=spell)
    sys.exit(execute(settings, verbose=bool(resolved.values["verbose"])))
