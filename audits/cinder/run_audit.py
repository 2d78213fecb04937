#!/usr/bin/env python3
"""Audit a complete OpenStack Cinder with ``evs-conformance run``; check each verdict against expected.yaml.

Steps: build (or reuse) a virtual environment with cinder==29.0.0; start a private RabbitMQ and PostgreSQL, a
Keystone v3 stand-in, ``cinder-volume`` (Cinder's fake driver), ``cinder-scheduler`` and ``cinder-api``;
create an available and an in-use volume through the API; run the suite once per profile; compare each
requirement's verdict with ``expected.yaml``; stop everything and check that nothing is left.

    python audits/cinder/run_audit.py                 # both profiles, reports under reports/
    python audits/cinder/run_audit.py --run-defaults  # the suite with evs-conformance run's own defaults
    python audits/cinder/run_audit.py --profile cinder --examples 10 --keep

Exit codes: 0 every verdict as expected; 1 at least one differs; 2 the harness could not do its job
(install, start, seeding, the suite itself erred, or a process or folder of the run was left behind);
130 interrupted. Processes and temporary files are removed in every case.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType

import audit_expectations as expectations
import cinder_deploy as deploy
import cinder_seed
import keystone_standin as keystone
from cinder_client import CinderApiError, CinderClient
from postgresql_server import DatabaseConfig, DatabaseError, DatabaseServer, open_passage, server_account
from processes import ChildProcess, RunMarker, free_port, signals_held
from rabbitmq_broker import Broker, BrokerConfig, BrokerError

SERVICE_USER = "cinder"
AUDIT_USER = "auditor"
PROJECT_NAME = "evs-audit"
# The project's own interpreter runs the suite, so the tool and Cinder never share an environment.
SUITE_COMMAND = (sys.executable, "-c", "from conformance.cli import main; main()", "run")
EXIT_MATCH, EXIT_DIFFERENT, EXIT_HARNESS, EXIT_INTERRUPTED = 0, 1, 2, 130
SUITE_OK_EXITS = (0, 1)
STATE_PREFIX = "evs-cinder-audit-"
# The audit's own budget: few examples per property keep it quick, and enough creates that no requirement
# is skipped for want of budget.
AUDIT_EXAMPLES, AUDIT_MAX_CREATES = 5, 600
IDENTITY_THREAD = "keystone-standin"


class HarnessError(Exception):
    """The audit could not be carried out; the message says which step failed."""


@dataclass
class Timings:
    """Seconds spent per step, printed at the end so CI logs show where the time goes."""

    steps: list[tuple[str, float]] = field(default_factory=list)

    @contextlib.contextmanager
    def step(self, name: str) -> Iterator[None]:
        started = time.monotonic()
        try:
            yield
        finally:
            seconds = time.monotonic() - started
            self.steps.append((name, seconds))
            print(f"[{seconds:6.1f} s] {name}", flush=True)

    def render(self) -> str:
        total = sum(seconds for _, seconds in self.steps)
        lines = [f"  {name:<36} {seconds:7.1f} s" for name, seconds in self.steps]
        return "\n".join([*lines, f"  {'total':<36} {total:7.1f} s"])


@dataclass
class RunFootprint:
    """What one run put on the machine: its process mark, temporary folders and loopback ports."""

    marker: RunMarker = field(default_factory=RunMarker)
    folders: list[Path] = field(default_factory=list)
    ports: list[int] = field(default_factory=list)

    def leftovers(self) -> list[str]:
        """What is still there: marked processes, folders, listening ports, the identity thread."""
        found = [f"process {p.describe()}" for p in self.marker.processes()]
        found += [f"folder {folder}" for folder in self.folders if folder.exists()]
        found += [
            f"port 127.0.0.1:{port} still accepts connections" for port in self.ports if _listening(port)
        ]
        found += [f"thread {t.name}" for t in threading.enumerate() if t.name == IDENTITY_THREAD]
        return found

    def remove_leftovers(self) -> None:
        """End marked processes by their IDs and remove the run's folders (after a failed cleanup)."""
        self.marker.sweep()
        for folder in self.folders:
            shutil.rmtree(folder, ignore_errors=True)


@dataclass(frozen=True)
class Deployment:
    """The running Cinder: its API's base URL and the service processes behind it."""

    base_url: str
    services: Sequence[ChildProcess]

    def check_running(self) -> None:
        """A DeployError naming the first service that has exited (and its log)."""
        for service in self.services:
            if service.exited() is not None:
                raise deploy.DeployError(f"{service.name} exited with {service.exited()}; see {service.log}")


@dataclass(frozen=True)
class Target:
    """What the suite needs to reach the seeded Cinder."""

    base_url: str
    project_id: str
    token: str
    volumes: cinder_seed.SeededVolumes


@dataclass(frozen=True)
class CinderUnderTest:
    """A seeded, running Cinder: what a client needs, and the processes (and logs) behind it."""

    target: Target
    deployment: Deployment


@dataclass(frozen=True)
class DeploySettings:
    """Where Cinder, RabbitMQ and PostgreSQL come from (None: the Debian packages' programs)."""

    venv: Path
    rabbitmq_server: Path | None = None
    postgresql_bin: Path | None = None


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="run_audit.py", description=__doc__.split("\n\n")[0] if __doc__ else None
    )
    parser.add_argument(
        "--venv",
        type=Path,
        default=deploy.default_venv_dir(),
        help="virtual environment for Cinder (reused when complete; default: %(default)s)",
    )
    parser.add_argument(
        "--rabbitmq-server",
        type=Path,
        help="RabbitMQ's start script (default: the Debian package's /usr/lib/rabbitmq/bin/rabbitmq-server)",
    )
    parser.add_argument(
        "--postgresql-bin",
        type=Path,
        metavar="DIR",
        help="the folder holding PostgreSQL's initdb and postgres (default: the Debian package's "
        "/usr/lib/postgresql/<newest version>/bin)",
    )
    parser.add_argument(
        "--reports",
        type=Path,
        default=Path("reports"),
        help="reports go to DIR/cinder-<profile>/ and DIR/cinder-audit.md (default: %(default)s)",
    )
    parser.add_argument(
        "--examples",
        type=int,
        help=f"Hypothesis examples per property (default: {AUDIT_EXAMPLES})",
    )
    parser.add_argument(
        "--max-creates",
        type=int,
        help=f"upper bound on snapshots the suite may create per profile (default: {AUDIT_MAX_CREATES})",
    )
    parser.add_argument(
        "--run-defaults",
        action="store_true",
        help="pass neither --examples nor --max-creates: the suite runs with evs-conformance run's defaults",
    )
    parser.add_argument(
        "--profile",
        action="append",
        dest="profiles",
        help="audit only this profile (repeatable; default: every profile of expected.yaml)",
    )
    parser.add_argument(
        "--expected",
        type=Path,
        default=expectations.EXPECTED_FILE,
        help="expected verdicts (default: expected.yaml beside this script)",
    )
    parser.add_argument(
        "--keep",
        action="store_true",
        help="after the runs, leave Cinder running (printing how to reach it) until Ctrl-C",
    )
    args = parser.parse_args(argv)
    if args.run_defaults and (args.examples is not None or args.max_creates is not None):
        parser.error("--run-defaults leaves --examples and --max-creates to evs-conformance run")
    args.examples = AUDIT_EXAMPLES if args.examples is None else args.examples
    args.max_creates = AUDIT_MAX_CREATES if args.max_creates is None else args.max_creates
    if args.examples < 1 or args.max_creates < 0:
        parser.error("--examples must be at least 1 and --max-creates zero or more")
    return args


def suite_command(
    target: Target,
    profile: str,
    reports: Path,
    budget: tuple[int, int] | None,
    extra: Sequence[str],
) -> list[str]:
    """The ``evs-conformance run`` command line for one profile; ``budget`` is (examples, max creates)."""
    command = [
        *SUITE_COMMAND,
        "--base-url",
        target.base_url,
        "--profile",
        profile,
        "--project-id",
        target.project_id,
        "--token",
        target.token,
        "--volume-id",
        target.volumes.available_id,
        "--in-use-volume-id",
        target.volumes.in_use_id,
        "--reports",
        str(reports),
    ]
    if budget is not None:
        examples, max_creates = budget
        command += ["--examples", str(examples), "--max-creates", str(max_creates)]
    return [*command, *extra]


def masked(command: Sequence[str], secret: str) -> str:
    return " ".join("****" if part == secret else part for part in command)


@contextlib.contextmanager
def running_cinder(
    settings: DeploySettings,
    state_dir: Path,
    identity_url: str,
    service_password: str,
    footprint: RunFootprint,
    timings: Timings,
) -> Iterator[Deployment]:
    """RabbitMQ, PostgreSQL with Cinder's tables, and Cinder's volume service, scheduler and API."""
    marker = footprint.marker
    broker_config = BrokerConfig.fresh(state_dir / "rabbitmq")
    database_config = DatabaseConfig(state_dir / "postgresql")
    port = free_port()
    footprint.ports += [port, broker_config.amqp_port, broker_config.dist_port, broker_config.epmd_port]
    config = deploy.CinderConfig(
        api_paste_config=settings.venv / "etc" / "cinder" / "api-paste.ini",
        port=port,
        state_dir=state_dir,
        identity_url=identity_url,
        service_user=SERVICE_USER,
        service_password=service_password,
        project_name=PROJECT_NAME,
        transport_url=broker_config.transport_url,
        database_url=database_config.connection_url,
    )
    conf = state_dir / "cinder.conf"
    # It holds the service password, and the database's account may pass through the folder.
    conf.touch(mode=0o600)
    conf.write_text(deploy.render_config(config), encoding="utf-8")
    started: list[ChildProcess] = []
    broker: Broker | None = None
    database: DatabaseServer | None = None
    try:
        # Each start is held from Ctrl-C until its process is remembered here: one interrupted in between
        # would be left running, unstopped (the sweep would end it, but as a leftover).
        with timings.step("rabbitmq start"):
            with signals_held():
                broker = Broker.start(broker_config, marker, _harness_env(), settings.rabbitmq_server)
            broker.wait_ready()
        print(f"RabbitMQ {broker.config.node_name} at {broker.transport_url}", flush=True)
        with timings.step("postgresql initdb and start"):
            account = server_account()
            open_passage(state_dir, account)
            with signals_held():
                database = DatabaseServer.start(
                    database_config, marker, _harness_env(), account, settings.postgresql_bin
                )
            database.wait_ready()
        print(f"PostgreSQL on {database_config.socket} (no TCP port)", flush=True)
        with timings.step("cinder-manage db sync"):
            deploy.db_sync(settings.venv, conf, state_dir / "cinder-manage.log", marker)
        base_url = f"http://127.0.0.1:{port}"
        with timings.step("cinder services start (api answers)"):
            # The volume service first: the scheduler asks for capabilities when it starts.
            for service in ("cinder-volume", "cinder-scheduler", "cinder-api"):
                log = state_dir / f"{service}.log"
                with signals_held():
                    started.append(deploy.start_service(service, settings.venv, conf, log, marker, state_dir))
            deploy.wait_for_api(started[-1], base_url + "/")
        yield Deployment(base_url, tuple(started))
    except Exception:
        # What went wrong is in a log inside the state folder, which is about to be removed.
        for process in started:
            print(f"--- last lines of {process.log} ---\n{_tail(process.log)}", file=sys.stderr)
        if broker is not None:
            print(f"--- last lines of {broker.log} ---\n{_tail(broker.log)}", file=sys.stderr)
        if database_config.log.exists():
            database_log = database_config.log
            print(f"--- last lines of {database_log} ---\n{_tail(database_log)}", file=sys.stderr)
        raise
    finally:
        with signals_held(), timings.step("stop services"):
            # The API first, so nothing new arrives; bus and database last, so the services leave them tidy.
            for process in reversed(started):
                process.stop()
            try:
                if broker is not None:
                    broker.stop()
            finally:
                if database is not None:
                    database.stop()


def run_profile(
    plan: expectations.ProfilePlan,
    target: Target,
    args: argparse.Namespace,
    timings: Timings,
    marker: RunMarker,
) -> tuple[list[expectations.Difference], Sequence[tuple[str, str, str, str]]]:
    reports = args.reports / f"cinder-{plan.profile}"
    discard_earlier_journal(reports, target)
    budget = None if args.run_defaults else (args.examples, args.max_creates)
    command = suite_command(target, plan.profile, reports, budget, plan.run_options)
    print(f"\n== profile {plan.profile}: {masked(command, target.token)}", flush=True)
    with timings.step(f"suite, profile {plan.profile}"):
        code = run_to_completion(command, marker)
    if code not in SUITE_OK_EXITS:
        raise HarnessError(f"evs-conformance run (profile {plan.profile}) exited with {code}")
    reported = expectations.read_report(reports / "conformance.json")
    return expectations.compare(plan, reported), expectations.summary_rows(plan, reported)


def discard_earlier_journal(reports: Path, target: Target) -> None:
    """Remove the create journal an earlier audit left in ``reports``: its Cinder, database and snapshots
    were torn down with that audit, so nothing it lists can still exist (``evs-conformance run`` would
    otherwise refuse to start over creates it cannot see gone). A journal of this very deployment is kept.
    """
    journal = reports / "creates.jsonl"
    try:
        with journal.open(encoding="utf-8") as handle:
            header = json.loads(handle.readline() or "{}")
    except FileNotFoundError:
        return
    except (OSError, ValueError):
        header = {}
    if (header.get("base_url"), header.get("project_id")) == (target.base_url, target.project_id):
        return
    journal.unlink()
    print(f"removed {journal}: it lists creates of an earlier audit's Cinder, gone with it", flush=True)


def run_to_completion(command: Sequence[str], marker: RunMarker, grace_s: float = 10.0) -> int:
    """Run ``command`` and return its exit code; if we are interrupted first, stop it before unwinding."""
    process = subprocess.Popen(command, stdin=subprocess.DEVNULL, env=marker.environ(os.environ))
    try:
        return process.wait()
    finally:
        # A SIGTERM aimed at the harness alone must not leave the suite probing a Cinder that is gone.
        if process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout=grace_s)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


@contextlib.contextmanager
def seeded_cinder(
    settings: DeploySettings, timings: Timings, footprint: RunFootprint
) -> Iterator[CinderUnderTest]:
    """A complete Cinder with an available and an in-use disk; everything is stopped and removed after."""
    with timings.step("cinder venv (install or reuse)"):
        print(f"Cinder environment: {settings.venv}", flush=True)
        built = deploy.ensure_venv(settings.venv, settings.venv.parent / f"{settings.venv.name}-install.log")
    print("  installed now" if built else "  reused", flush=True)

    project = keystone.Project(uuid.uuid4().hex, PROJECT_NAME)
    service_password, audit_password = secrets.token_urlsafe(16), secrets.token_urlsafe(16)
    identity = keystone.KeystoneStandIn(
        project,
        [
            keystone.User(SERVICE_USER, service_password, ("admin", "service")),
            keystone.User(AUDIT_USER, audit_password, ("admin", "member")),
        ],
    )
    with signals_held():
        state = Path(tempfile.mkdtemp(prefix=STATE_PREFIX))
        footprint.folders.append(state)
    try:
        with identity.serving() as identity_url:
            footprint.ports.append(int(identity_url.rsplit(":", 1)[1]))
            with running_cinder(
                settings, state, identity_url, service_password, footprint, timings
            ) as cinder:
                try:
                    token = keystone.login(identity_url, AUDIT_USER, audit_password)
                except OSError as exc:
                    raise HarnessError(f"logging in to the identity stand-in failed: {exc}") from exc
                client = CinderClient(cinder.base_url, project.id, token)
                with timings.step("scheduler and volume service ready"):
                    pool = cinder_seed.wait_for_backend(client, cinder.check_running)
                print(f"Cinder backend up: pool {pool}", flush=True)
                with timings.step("seeding through the API"):
                    volumes = cinder_seed.seed(client)
                print(
                    f"Cinder API {cinder.base_url}/v3/{project.id}: available volume {volumes.available_id}, "
                    f"in-use volume {volumes.in_use_id}",
                    flush=True,
                )
                yield CinderUnderTest(Target(cinder.base_url, project.id, token, volumes), cinder)
    finally:
        with signals_held():
            shutil.rmtree(state, ignore_errors=True)


def audit(args: argparse.Namespace, timings: Timings, footprint: RunFootprint) -> int:
    plans = expectations.load_plans(args.expected)
    chosen = args.profiles or list(plans)
    unknown = [p for p in chosen if p not in plans]
    if unknown:
        raise HarnessError(f"no expectations for profile(s) {', '.join(unknown)} in {args.expected}")

    results: dict[str, tuple[list[expectations.Difference], Sequence[tuple[str, str, str, str]]]] = {}
    settings = DeploySettings(args.venv, args.rabbitmq_server, args.postgresql_bin)
    with seeded_cinder(settings, timings, footprint) as cinder:
        for profile in chosen:
            results[profile] = run_profile(plans[profile], cinder.target, args, timings, footprint.marker)
        if args.keep:
            _hold(cinder.target)

    report = args.reports / "cinder-audit.md"
    report.parent.mkdir(parents=True, exist_ok=True)
    budget = None if args.run_defaults else (args.examples, args.max_creates)
    report.write_text(render_summary(results, timings, budget), encoding="utf-8")
    failures = 0
    for profile, (differences, _) in results.items():
        if differences:
            failures += len(differences)
            print(f"\nprofile {profile}: {len(differences)} verdict(s) differ from {args.expected.name}:")
            for difference in differences:
                print("  " + difference.describe().replace("\n", "\n  "))
        else:
            print(f"\nprofile {profile}: every verdict as expected")
    print(f"\nsummary: {report}")
    return EXIT_DIFFERENT if failures else EXIT_MATCH


def render_summary(
    results: dict[str, tuple[list[expectations.Difference], Sequence[tuple[str, str, str, str]]]],
    timings: Timings,
    budget: tuple[int, int] | None = None,
) -> str:
    """A Markdown page with every profile's expected and reported verdicts, and the timings."""
    if budget is None:
        settings = "evs-conformance run's own defaults (`--run-defaults`)"
    else:
        settings = f"the audit's settings (`--examples {budget[0]} --max-creates {budget[1]}`)"
    lines = [
        f"# Audit of OpenStack Cinder ({deploy.CINDER_REQUIREMENT})",
        "",
        "Deployment: cinder-api (keystonemiddleware, Keystone v3 stand-in), cinder-scheduler and",
        f"cinder-volume (driver `{deploy.FAKE_DRIVER}`) with a private",
        f"RabbitMQ and PostgreSQL. The suite ran with {settings}.",
        "",
    ]
    for profile, (differences, rows) in results.items():
        outcome = "every verdict as expected" if not differences else f"{len(differences)} difference(s)"
        lines += [
            f"## Profile `{profile}`: {outcome}",
            "",
            "| Requirement | Expected | Reported | Why |",
            "|---|---|---|---|",
        ]
        for requirement, expected, reported, reason in rows:
            mark = "" if expected == reported else " **(differs)**"
            lines.append(f"| {requirement} | {expected} | {reported}{mark} | {reason.replace('|', '/')} |")
        lines.append("")
    lines += ["## Timings", "", "```", timings.render(), "```", ""]
    return "\n".join(lines)


def check_clean(footprint: RunFootprint) -> list[str]:
    """What the run left behind (after removing it, so the machine is clean either way)."""
    left = footprint.leftovers()
    if left:
        footprint.remove_leftovers()
    return left


def _harness_env() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if not k.startswith("PYTHON") and k != "VIRTUAL_ENV"}


def _listening(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.settimeout(1.0)
        return sock.connect_ex(("127.0.0.1", port)) == 0


def _hold(target: Target) -> None:
    print(
        "\nCinder keeps running (Ctrl-C stops it and cleans up):\n"
        f"  base URL        {target.base_url}  (path /v3/{target.project_id}/snapshots)\n"
        f"  X-Auth-Token    {target.token}\n"
        f"  volumes         available {target.volumes.available_id}, in-use {target.volumes.in_use_id}",
        flush=True,
    )
    while True:
        time.sleep(3600)


def _tail(path: Path, lines: int = 40) -> str:
    try:
        return "\n".join(path.read_text(encoding="utf-8", errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"


def _terminate(signum: int, frame: FrameType | None) -> None:
    # A CI cancellation sends SIGTERM: turn it into the same unwinding as Ctrl-C so cleanup runs.
    raise KeyboardInterrupt


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    signal.signal(signal.SIGTERM, _terminate)
    timings = Timings()
    footprint = RunFootprint()
    try:
        code = audit(args, timings, footprint)
    except KeyboardInterrupt:
        print("\nrun_audit.py: interrupted", file=sys.stderr)
        code = EXIT_INTERRUPTED
    except (
        HarnessError,
        deploy.DeployError,
        BrokerError,
        DatabaseError,
        CinderApiError,
        expectations.ExpectationError,
    ) as exc:
        print(f"run_audit.py: error: {exc}", file=sys.stderr)
        code = EXIT_HARNESS
    with signals_held(reraise=False):
        left = check_clean(footprint)
    if left:
        print("run_audit.py: error: the run left these behind (now removed):", file=sys.stderr)
        for item in left:
            print(f"  {item}", file=sys.stderr)
        code = max(code, EXIT_HARNESS) if code != EXIT_INTERRUPTED else code
    else:
        print("cleanup: no process, folder, port or thread of this run is left", flush=True)
    print(f"timings:\n{timings.render()}", flush=True)
    return code


if __name__ == "__main__":
    sys.exit(main())
