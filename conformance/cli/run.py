"""``evs-conformance run``: run the shipped suite against an endpoint (or the embedded mock) and report.

The suite runs as ``pytest --pyargs conformance.suite`` in a child process (a fresh interpreter, so every run
imports the suite with its own Hypothesis settings), with the plugin's ``--evs-*`` options, Allure results,
JUnit XML and, with ``--workers N``, pytest-xdist. The verdict comes from the ``conformance.json`` it writes.
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import click

from conformance.cli import EXIT_FAILED, EXIT_OK
from conformance.contract import PROFILES, load_contract
from conformance.errors import ToolError, UsageError
from conformance.plugin import TOKEN_VARIABLE
from conformance.report import json as json_report
from conformance.report import markdown
from conformance.settings import API_VERSIONS, TargetSettings
from conformance.target import Target, check_disks

#: What a run writes into the reports directory; only these are removed before a run.
RESULTS = ("allure-results", "junit.xml", json_report.FILENAME, markdown.FILENAME, ".ledger")
SUITE = "conformance.suite"


@dataclass(frozen=True)
class RunOptions:
    """The validated options of one ``run``."""

    base_url: str | None
    profile: str
    project_id: str | None
    token: str | None
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

    def validate(self) -> None:
        """Raise UsageError, one line, for options that cannot work together."""
        if self.examples < 1:
            raise UsageError("--examples must be at least 1")
        if self.workers < 1:
            raise UsageError("--workers must be at least 1")
        if self.max_creates is not None and self.max_creates < 0:
            raise UsageError("--max-creates must be zero or more")
        if self.base_url is None:
            given = [
                flag
                for flag, value in (
                    ("--project-id", self.project_id),
                    ("--volume-id", self.volume_id),
                    ("--in-use-volume-id", self.in_use_volume_id),
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
        if not self.token:
            missing.append(f"--token (or ${TOKEN_VARIABLE})")
        if missing:
            raise UsageError(f"testing {self.base_url} needs {', '.join(missing)}")


def pytest_args(options: RunOptions) -> list[str]:
    """The pytest command line (after ``python -m pytest``) for a run; the token goes by environment."""
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
        f"--alluredir={reports / 'allure-results'}",
        f"--junitxml={reports / 'junit.xml'}",
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
    }
    args += [f"{flag}={value}" for flag, value in optional.items() if value is not None]
    args += [f"--evs-mock-quirk={quirk}" for quirk in options.quirks]
    if not options.lifecycle:
        args.append("--evs-no-lifecycle")
    if options.embedded_mock:
        args.append("--evs-embedded-mock")
    if options.workers > 1:
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


def preflight(options: RunOptions) -> None:
    """Check an external target answers and its disks exist in the stated state; TargetError if not."""
    if options.base_url is None or options.project_id is None:
        raise UsageError("an external target needs --base-url and --project-id")
    contract = load_contract(options.profile, api_prefix=_prefix(options.api_version))
    settings = TargetSettings(
        base_url=options.base_url,
        project_id=options.project_id,
        token=options.token,
        available_volume_id=options.volume_id,
        in_use_volume_id=options.in_use_volume_id,
    )
    with Target(contract, settings) as target:
        check_disks(target, options.volume_id, options.in_use_volume_id)


def _prefix(api_version: str | None) -> str | None:
    return None if api_version is None else f"/{api_version}"


@contextlib.contextmanager
def shared_mock(options: RunOptions) -> Iterator[RunOptions]:
    """For a parallel run on the embedded mock: one mock process that every worker tests."""
    from conformance.mock.server import MockConfig, serve_in_subprocess

    config = MockConfig(
        profile=options.profile,
        quirks=frozenset(options.quirks),
        seed=options.seed or 0,
        api_prefix=_prefix(options.api_version),
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
    options.validate()
    if options.base_url is not None:
        preflight(options)
    options.reports.mkdir(parents=True, exist_ok=True)
    clean_reports(options.reports)
    with contextlib.ExitStack() as stack:
        if options.base_url is None and options.workers > 1:
            options = stack.enter_context(shared_mock(options))
        status = _pytest(pytest_args(options), options.token, echo=echo)
    report_path = options.reports / json_report.FILENAME
    if status not in (0, 1) or not report_path.exists():
        raise ToolError(f"the suite did not complete (pytest exit status {status}); see the output above")
    report = json_report.read(report_path)
    if report["verdict"] == "fail" or status == 1:
        return EXIT_FAILED
    return EXIT_OK


def _pytest(args: Sequence[str], token: str | None, *, echo: bool) -> int:
    env = dict(os.environ)
    env.pop("PYTEST_ADDOPTS", None)
    if token is not None:
        # The token reaches the child by environment, never on a command line that others can list.
        env[TOKEN_VARIABLE] = token
    output = None if echo else subprocess.DEVNULL
    completed = subprocess.run([sys.executable, "-m", "pytest", *args], env=env, stdout=output, check=False)
    return completed.returncode


@click.command("run")
@click.option("--base-url", help="Endpoint to test. Default: start the embedded mock.")
@click.option("--profile", type=click.Choice(PROFILES), default=PROFILES[0], show_default=True)
@click.option("--project-id", help="Project ID of the target.")
@click.option("--token", envvar=TOKEN_VARIABLE, help=f"Token for the target (default: ${TOKEN_VARIABLE}).")
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
@click.option("--max-creates", type=int, help="Most snapshots the run may create (default: no limit).")
@click.option("--api-version", type=click.Choice(API_VERSIONS), help="Override the profile's path prefix.")
@click.option("--mock-quirk", "quirks", multiple=True, hidden=True, help="For testing the suite itself.")
def run(
    base_url: str | None,
    profile: str,
    project_id: str | None,
    token: str | None,
    volume_id: str | None,
    in_use_volume_id: str | None,
    reports: Path,
    examples: int,
    seed: int | None,
    workers: int,
    no_lifecycle: bool,
    max_creates: int | None,
    api_version: str | None,
    quirks: tuple[str, ...],
) -> None:
    """Run the conformance suite and write the reports.

    Exit status: 0 every requirement passed (or was skipped or informational), 1 at least one failed,
    2 usage or tool error (bad options, unreachable target, missing disks, unusable spec).
    """
    options = RunOptions(
        base_url=base_url,
        profile=profile,
        project_id=project_id,
        token=token,
        volume_id=volume_id,
        in_use_volume_id=in_use_volume_id,
        reports=reports,
        examples=examples,
        seed=seed,
        workers=workers,
        lifecycle=not no_lifecycle,
        max_creates=max_creates,
        api_version=api_version,
        quirks=quirks,
    )
    sys.exit(execute(options))
