#!/usr/bin/env python3
"""Audit a real OpenStack Cinder with ``evs-conformance run`` and check every verdict against expected.yaml.

Steps: build (or reuse) a virtual environment with cinder==29.0.0, start a Keystone v3 stand-in and
``cinder-api`` on loopback (SQLite, ``fake://`` transport), seed an available and an in-use volume, run the
suite once per profile, and compare each requirement's verdict with ``expected.yaml``.

    python audits/cinder/run_audit.py                 # both profiles, reports under reports/
    python audits/cinder/run_audit.py --profile cinder --examples 10 --keep

Exit codes: 0 every verdict as expected; 1 at least one differs; 2 the harness could not do its job
(install, start, seeding, or the suite itself erred); 130 interrupted. Processes and temporary files are
removed in every case.
"""

from __future__ import annotations

import argparse
import contextlib
import secrets
import signal
import subprocess
import sys
import tempfile
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

SERVICE_USER = "cinder"
AUDIT_USER = "auditor"
PROJECT_NAME = "evs-audit"
# The project's own interpreter runs the suite, so the tool and Cinder never share an environment.
SUITE_COMMAND = (sys.executable, "-c", "from conformance.cli import main; main()", "run")
EXIT_MATCH, EXIT_DIFFERENT, EXIT_HARNESS, EXIT_INTERRUPTED = 0, 1, 2, 130
SUITE_OK_EXITS = (0, 1)


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
            self.steps.append((name, time.monotonic() - started))

    def render(self) -> str:
        total = sum(seconds for _, seconds in self.steps)
        lines = [f"  {name:<32} {seconds:7.1f} s" for name, seconds in self.steps]
        return "\n".join([*lines, f"  {'total':<32} {total:7.1f} s"])


@dataclass(frozen=True)
class Target:
    """What the suite needs to reach the seeded Cinder."""

    base_url: str
    project_id: str
    token: str
    volumes: cinder_seed.SeededVolumes


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
        "--reports",
        type=Path,
        default=Path("reports"),
        help="reports go to DIR/cinder-<profile>/ and DIR/cinder-audit.md (default: %(default)s)",
    )
    parser.add_argument(
        "--examples", type=int, default=5, help="Hypothesis examples per property (default: %(default)s)"
    )
    parser.add_argument(
        "--max-creates",
        type=int,
        default=600,
        help="upper bound on snapshots the suite may create per profile (default: %(default)s)",
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
    if args.examples < 1 or args.max_creates < 0:
        parser.error("--examples must be at least 1 and --max-creates zero or more")
    return args


def suite_command(
    target: Target, profile: str, reports: Path, examples: int, max_creates: int, extra: Sequence[str]
) -> list[str]:
    """The ``evs-conformance run`` command line for one profile against the seeded target."""
    return [
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
        "--examples",
        str(examples),
        "--max-creates",
        str(max_creates),
        *extra,
    ]


def masked(command: Sequence[str], secret: str) -> str:
    return " ".join("****" if part == secret else part for part in command)


@contextlib.contextmanager
def running_cinder(
    venv: Path, state_dir: Path, identity_url: str, service_password: str, timings: Timings
) -> Iterator[str]:
    """A migrated database and a cinder-api answering on loopback; yields its base URL."""
    port = deploy.free_port()
    config = deploy.ApiConfig(
        api_paste_config=venv / "etc" / "cinder" / "api-paste.ini",
        port=port,
        state_dir=state_dir,
        identity_url=identity_url,
        service_user=SERVICE_USER,
        service_password=service_password,
        project_name=PROJECT_NAME,
    )
    conf = state_dir / "cinder.conf"
    conf.write_text(deploy.render_config(config), encoding="utf-8")
    log = state_dir / "cinder.log"
    with timings.step("cinder-manage db sync"):
        deploy.db_sync(venv, conf, log)
    base_url = f"http://127.0.0.1:{port}"
    api = deploy.ApiProcess(venv, conf, log)
    try:
        with timings.step("cinder-api start"):
            api.wait_ready(base_url + "/")
        yield base_url
    except BaseException:
        print(f"--- last lines of {log} ---\n{_tail(log)}", file=sys.stderr)
        raise
    finally:
        api.stop()


def run_profile(
    plan: expectations.ProfilePlan, target: Target, args: argparse.Namespace, timings: Timings
) -> tuple[list[expectations.Difference], Sequence[tuple[str, str, str, str]]]:
    reports = args.reports / f"cinder-{plan.profile}"
    command = suite_command(target, plan.profile, reports, args.examples, args.max_creates, plan.run_options)
    print(f"\n== profile {plan.profile}: {masked(command, target.token)}", flush=True)
    with timings.step(f"suite, profile {plan.profile}"):
        code = run_to_completion(command)
    if code not in SUITE_OK_EXITS:
        raise HarnessError(f"evs-conformance run (profile {plan.profile}) exited with {code}")
    reported = expectations.read_report(reports / "conformance.json")
    return expectations.compare(plan, reported), expectations.summary_rows(plan, reported)


def run_to_completion(command: Sequence[str], grace_s: float = 10.0) -> int:
    """Run ``command`` and return its exit code; if we are interrupted first, stop it before unwinding."""
    process = subprocess.Popen(command, stdin=subprocess.DEVNULL)
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


def audit(args: argparse.Namespace, timings: Timings) -> int:
    plans = expectations.load_plans(args.expected)
    chosen = args.profiles or list(plans)
    unknown = [p for p in chosen if p not in plans]
    if unknown:
        raise HarnessError(f"no expectations for profile(s) {', '.join(unknown)} in {args.expected}")

    with timings.step("cinder venv (install or reuse)"):
        print(f"Cinder environment: {args.venv}", flush=True)
        built = deploy.ensure_venv(args.venv, args.venv.parent / f"{args.venv.name}-install.log")
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
    results: dict[str, tuple[list[expectations.Difference], Sequence[tuple[str, str, str, str]]]] = {}
    with (
        tempfile.TemporaryDirectory(prefix="evs-cinder-audit-") as state,
        identity.serving() as identity_url,
        running_cinder(args.venv, Path(state), identity_url, service_password, timings) as base_url,
    ):
        try:
            token = keystone.login(identity_url, AUDIT_USER, audit_password)
        except OSError as exc:
            raise HarnessError(f"logging in to the identity stand-in failed: {exc}") from exc
        with timings.step("seeding"):
            client = cinder_seed.CinderClient(base_url, project.id, token)
            volumes = cinder_seed.seed(client, Path(state) / "cinder.sqlite")
        print(
            f"Cinder API {base_url}/v3/{project.id}: available volume {volumes.available_id}, "
            f"in-use volume {volumes.in_use_id}",
            flush=True,
        )
        target = Target(base_url, project.id, token, volumes)
        for profile in chosen:
            results[profile] = run_profile(plans[profile], target, args, timings)
        if args.keep:
            _hold(target)

    report = args.reports / "cinder-audit.md"
    report.parent.mkdir(parents=True, exist_ok=True)
    report.write_text(render_summary(results, timings), encoding="utf-8")
    failures = 0
    for profile, (differences, _) in results.items():
        if differences:
            failures += len(differences)
            print(f"\nprofile {profile}: {len(differences)} verdict(s) differ from {args.expected.name}:")
            for difference in differences:
                print("  " + difference.describe().replace("\n", "\n  "))
        else:
            print(f"\nprofile {profile}: every verdict as expected")
    print(f"\nsummary: {report}\ntimings:\n{timings.render()}")
    return EXIT_DIFFERENT if failures else EXIT_MATCH


def render_summary(
    results: dict[str, tuple[list[expectations.Difference], Sequence[tuple[str, str, str, str]]]],
    timings: Timings,
) -> str:
    """A Markdown page with every profile's expected and reported verdicts, and the timings."""
    lines = [f"# Audit of OpenStack Cinder ({deploy.CINDER_REQUIREMENT})", ""]
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
    try:
        return audit(args, timings)
    except KeyboardInterrupt:
        print("\nrun_audit.py: interrupted; processes and temporary files removed", file=sys.stderr)
        return EXIT_INTERRUPTED
    except (HarnessError, deploy.DeployError, cinder_seed.SeedError, expectations.ExpectationError) as exc:
        print(f"run_audit.py: error: {exc}", file=sys.stderr)
        return EXIT_HARNESS


if __name__ == "__main__":
    sys.exit(main())
