#!/usr/bin/env python3
"""Requests per second against a complete OpenStack Cinder: `evs-conformance run` and `schemathesis run`.

The Cinder audit's harness deploys the whole service on loopback (API, scheduler, volume service, RabbitMQ,
PostgreSQL) with an available and an in-use disk. Both tools are then run as a user runs them, each as one
command, against that one deployment: ``evs-conformance run`` with its own defaults (the ``cinder``
profile), and ``schemathesis run --checks all --continue-on-failure`` with its defaults otherwise, on
the committed ``cinder`` contract, given the same token, project and available disk. Each side's wall
time is that of its command; its requests are those Cinder's API logged while it ran, counted the same
way for both. Rounds alternate which side goes first; the median ratio is printed. Figures only:
nothing is asserted.

    python benchmarks/cinder_vs_schemathesis.py                 # one round
    python benchmarks/cinder_vs_schemathesis.py --rounds 3 --suite-option=--examples=5
"""

from __future__ import annotations

import argparse
import json
import re
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from conformance.contract import load_contract, spec_path

AUDIT_DIR = Path(__file__).resolve().parents[1] / "audits" / "cinder"
sys.path.insert(0, str(AUDIT_DIR))

import cinder_deploy as deploy  # noqa: E402
import run_audit  # noqa: E402
from cinder_client import CinderApiError  # noqa: E402
from postgresql_server import DatabaseError  # noqa: E402
from rabbitmq_broker import BrokerError  # noqa: E402

PROFILE = "cinder"
# One line per request in the log of Cinder's WSGI server: ... "POST /v3/... HTTP/1.1" status: 202 ...
REQUEST_LINE = re.compile(rb'"([A-Z]+) (/\S*) HTTP/1\.[01]" status: \d{3}')


@dataclass
class Figures:
    """One command's run against the deployment: wall time, requests Cinder served, and what it reported."""

    name: str
    seconds: float
    requests: int
    creates: int
    exit_code: int
    own_count: str

    @property
    def rate(self) -> float:
        return self.requests / self.seconds if self.seconds > 0 else 0.0

    @property
    def create_rate(self) -> float:
        return self.creates / self.seconds if self.seconds > 0 else 0.0

    def line(self) -> str:
        return (
            f"{self.name}: {self.requests} requests in {self.seconds:.1f} s = {self.rate:.1f} requests/s; "
            f"{self.creates} of them POST .../snapshots = {self.create_rate:.1f}/s "
            f"({self.own_count}; exit {self.exit_code})"
        )


def served_requests(api_log: Path) -> tuple[int, int]:
    """How many requests Cinder's API has logged so far, and how many of them were snapshot creates."""
    requests = REQUEST_LINE.findall(api_log.read_bytes())
    creates = sum(1 for method, path in requests if method == b"POST" and path.endswith(b"/snapshots"))
    return len(requests), creates


def _count_since(api_log: Path, before: tuple[int, int]) -> tuple[int, int]:
    now = served_requests(api_log)
    return now[0] - before[0], now[1] - before[1]


def run_suite(target: run_audit.Target, api_log: Path, workdir: Path, extra: Sequence[str]) -> Figures:
    """``evs-conformance run`` with its defaults against the deployment (plus any ``--suite-option``)."""
    reports = workdir / f"suite-{time.monotonic_ns()}"
    command = run_audit.suite_command(target, PROFILE, reports, None, extra)
    before = served_requests(api_log)
    started = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    seconds = time.perf_counter() - started
    requests, creates = _count_since(api_log, before)
    result = reports / "conformance.json"
    if result.exists():
        stats = json.loads(result.read_text(encoding="utf-8"))["stats"]
        own = f"{stats['cases']} checked exchanges, {stats['creates']} snapshots created"
    else:
        own = f"no report: {done.stderr.strip()[-300:]}"
    return Figures("evs-conformance run", seconds, requests, creates, done.returncode, own)


def schemathesis_config(target: run_audit.Target, workdir: Path) -> Path:
    """Pins the project and sends the available disk as ``volume_id``, as the suite is told to."""
    path = workdir / "schemathesis.toml"
    path.write_text(
        "[parameters]\n"
        f'"path.project_id" = {json.dumps(target.project_id)}\n'
        '"body.snapshot.volume_id" = { dictionary = "disks" }\n'
        "[dictionaries.disks]\n"
        f"values = [{json.dumps(target.volumes.available_id)}]\n",
        encoding="utf-8",
    )
    return path


def run_schemathesis(target: run_audit.Target, api_log: Path, workdir: Path, extra: Sequence[str]) -> Figures:
    """``schemathesis run --checks all --continue-on-failure`` on the committed cinder contract."""
    report = workdir / f"schemathesis-{time.monotonic_ns()}.json"
    command = [
        sys.executable,
        "-m",
        "schemathesis.cli",
        "--config-file",
        str(schemathesis_config(target, workdir)),
        "run",
        str(spec_path(PROFILE)),
        "--url",
        target.base_url,
        "--header",
        f"{load_contract(PROFILE).token_header}: {target.token}",
        "--checks",
        "all",
        # Without it Schemathesis ends the operation at its first failure, and Cinder's 500s come early.
        "--continue-on-failure",
        "--report",
        "json",
        "--report-json-path",
        str(report),
        "--no-color",
        *extra,
    ]
    before = served_requests(api_log)
    started = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True, cwd=workdir, check=False)
    seconds = time.perf_counter() - started
    requests, creates = _count_since(api_log, before)
    if report.exists():
        cases = json.loads(report.read_text(encoding="utf-8"))["test_cases"]
        own = f"{cases['generated']} test cases, {cases['with_failures']} judged failing"
    else:
        own = f"no report: {done.stdout.strip()[-300:]}"
    return Figures("schemathesis run", seconds, requests, creates, done.returncode, own)


def parse(argv: Sequence[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument(
        "--rounds", type=int, default=1, help="rounds, the first side alternating (default 1)"
    )
    parser.add_argument("--venv", type=Path, default=deploy.default_venv_dir(), help="Cinder's virtualenv")
    parser.add_argument(
        "--suite-option", action="append", default=[], help="extra evs-conformance run option (repeatable)"
    )
    parser.add_argument(
        "--schemathesis-option",
        action="append",
        default=[],
        help="extra schemathesis run option (repeatable)",
    )
    options = parser.parse_args(argv)
    if options.rounds < 1:
        parser.error("--rounds must be at least 1")
    return options


def main(argv: Sequence[str]) -> int:
    options = parse(argv)
    timings = run_audit.Timings()
    footprint = run_audit.RunFootprint()
    rounds: list[tuple[Figures, Figures]] = []
    ratios: list[tuple[float, float]] = []
    try:
        with (
            tempfile.TemporaryDirectory(prefix="evs-cinder-bench-") as scratch,
            run_audit.seeded_cinder(run_audit.DeploySettings(options.venv), timings, footprint) as cinder,
        ):
            api_log = next(s.log for s in cinder.deployment.services if s.name == "cinder-api")
            workdir = Path(scratch)
            for index in range(options.rounds):
                sides = {
                    "suite": lambda: run_suite(cinder.target, api_log, workdir, options.suite_option),
                    "schemathesis": lambda: run_schemathesis(
                        cinder.target, api_log, workdir, options.schemathesis_option
                    ),
                }
                order = ["suite", "schemathesis"] if index % 2 == 0 else ["schemathesis", "suite"]
                ran = {}
                for side in order:
                    with timings.step(f"round {index + 1}: {side}"):
                        ran[side] = sides[side]()
                rounds.append((ran["suite"], ran["schemathesis"]))
    except (run_audit.HarnessError, deploy.DeployError, BrokerError, DatabaseError, CinderApiError) as exc:
        print(f"cinder_vs_schemathesis.py: the deployment failed: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("cinder_vs_schemathesis.py: interrupted", file=sys.stderr)
        return 130
    finally:
        left = run_audit.check_clean(footprint)
        if left:
            print("left behind (now removed): " + "; ".join(left), file=sys.stderr)

    print(f"\n-- against a complete Cinder ({deploy.CINDER_REQUIREMENT}), profile {PROFILE}")
    for index, (ours, theirs) in enumerate(rounds, start=1):
        print(f"round {index}")
        print("  " + ours.line())
        print("  " + theirs.line())
        ratio = ours.rate / theirs.rate if theirs.rate > 0 else float("inf")
        create_ratio = ours.create_rate / theirs.create_rate if theirs.create_rate > 0 else float("inf")
        ratios.append((ratio, create_ratio))
        print(
            f"  ratio: {ratio:.2f}x schemathesis run's requests/s ({create_ratio:.2f}x its creates/s); "
            f"wall time {ours.seconds:.1f} s vs {theirs.seconds:.1f} s"
        )
    requests_ratio = statistics.median(r for r, _ in ratios)
    creates_ratio = statistics.median(c for _, c in ratios)
    print(
        f"median ratio over {len(ratios)} round(s): {requests_ratio:.2f}x requests/s, "
        f"{creates_ratio:.2f}x creates/s"
    )
    print(f"timings:\n{timings.render()}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
