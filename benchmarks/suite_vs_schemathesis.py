#!/usr/bin/env python3
"""Checked create requests per second: the suite's fuzzing against ``schemathesis run``, on one mock.

Both sides fuzz ``POST /v2/{project_id}/snapshots`` of the committed huawei contract against one clean mock
(a child process, as a real target would be), with the same number of cases, valid and invalid bodies, the
configured token, project and available disk. Schemathesis is timed as a whole command, the way a user runs
it; the suite's loop is timed from the first draw to the last check, and the shipped suite under pytest by
its session time. The sides run in paired rounds, each round with its own seed and the first side
alternating, and the median ratio over the rounds is judged: this machine's speed drifts from minute to
minute, and a ratio of one pair is at its mercy.

    python benchmarks/suite_vs_schemathesis.py                 # 5 rounds of 500 cases, then the default run
    python benchmarks/suite_vs_schemathesis.py --cases 20 --rounds 1 --no-default-run
    python benchmarks/suite_vs_schemathesis.py --profile-suite # where the suite's time goes (cProfile)

Targets: the suite at least 5x Schemathesis's CLI rate; the default ``evs-conformance run`` at least 1,000
checked exchanges in under 30 s.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import json
import multiprocessing
import pstats
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import hypothesis
from hypothesis import HealthCheck, Phase, given, settings

from conformance.contract import Contract, load_contract, spec_path
from conformance.mock import MockConfig, RunningMock, serve_in_subprocess
from conformance.rules.checks import check_create
from conformance.rules.checks.model import CheckContext
from conformance.rules.oracle import Volumes, expect
from conformance.rules.strategies import create_bodies, invalid_create_bodies
from conformance.run.settings import TargetSettings
from conformance.target import Target

PROFILE = "huawei"
TARGET_RATIO = 5.0
DEFAULT_RUN_CASES = 1000
DEFAULT_RUN_SECONDS = 30.0

#: What each side judges per exchange, side by side (Schemathesis name -> the suite's requirement IDs).
CHECK_MAP = (
    ("not_a_server_error", "RSP-NO-5XX"),
    ("status_code_conformance", "RSP-STATUS-CODES"),
    ("content_type_conformance", "RSP-CONTENT-TYPE"),
    ("response_schema_conformance", "RSP-202-SCHEMA / RSP-400-SCHEMA (+ RSP-TIME-FORMAT, RSP-STATUS)"),
    ("positive_data_acceptance", "OP-ACCEPT (exactly the documented 202, not any 2xx)"),
    ("negative_data_rejection", "REQ-* (the documented refusal status, per requirement)"),
    ("(none)", "RSP-ECHO, RSP-SIZE, RSP-ID-UNIQUE"),
)


@dataclass
class Figures:
    """How many cases one side ran and how long it took."""

    name: str
    cases: int
    seconds: float
    checks: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def rate(self) -> float:
        return self.cases / self.seconds if self.seconds > 0 else 0.0

    def line(self) -> str:
        return f"{self.name}: {self.cases} cases in {self.seconds:.2f} s = {self.rate:.1f} cases/s"


# -- (a) schemathesis run ------------------------------------------------------------------------------
def schemathesis_config(mock: RunningMock, workdir: Path) -> Path:
    """A schemathesis.toml that pins the project and sends the available disk as ``volume_id``.

    Without the disk, every valid body names no disk and is refused, which would stop Schemathesis at the
    first "valid data rejected" failure; with it both sides send the same kind of traffic.
    """
    path = workdir / "schemathesis.toml"
    path.write_text(
        "[parameters]\n"
        f'"path.project_id" = {json.dumps(mock.project_id)}\n'
        '"body.snapshot.volume_id" = { dictionary = "disks" }\n'
        "[dictionaries.disks]\n"
        f"values = [{json.dumps(mock.available_volume_id)}]\n",
        encoding="utf-8",
    )
    return path


def run_schemathesis(mock: RunningMock, cases: int, seed: int, workdir: Path, *, workers: int = 1) -> Figures:
    """``schemathesis run --checks all`` on the committed spec: fuzzing only, no shrinking."""
    report = workdir / "schemathesis.json"
    events = workdir / "schemathesis.ndjson"
    command = [
        sys.executable,
        "-m",
        "schemathesis.cli",
        "--config-file",
        str(schemathesis_config(mock, workdir)),
        "run",
        str(spec_path(PROFILE)),
        "--url",
        mock.base_url,
        "--header",
        f"{load_contract(PROFILE).token_header}: {mock.token}",
        "--checks",
        "all",
        "--phases",
        "fuzzing",
        "--mode",
        "all",
        "--max-examples",
        str(cases),
        "--seed",
        str(seed),
        "--workers",
        str(workers),
        # Every generated case runs (a failure would otherwise end the scenario) and none is replayed.
        "--continue-on-failure",
        "--no-shrink",
        "--generation-database",
        "none",
        "--report",
        "json,ndjson",
        "--report-json-path",
        str(report),
        "--report-ndjson-path",
        str(events),
        "--no-color",
    ]
    started = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True, cwd=workdir, check=False)
    elapsed = time.perf_counter() - started
    if not report.exists():
        raise SystemExit(f"schemathesis run wrote no report (exit {done.returncode}):\n{done.stdout[-2000:]}")
    document = json.loads(report.read_text(encoding="utf-8"))
    generated = int(document["test_cases"]["generated"])
    name = "schemathesis run" if workers == 1 else f"schemathesis run --workers {workers}"
    figures = Figures(name, generated, elapsed, checks=_schemathesis_checks(events))
    engine = float(document.get("running_time") or 0.0)
    if engine > 0:
        figures.notes.append(
            f"engine time alone {engine:.2f} s = {generated / engine:.1f} cases/s "
            f"(the rest is start-up, schema loading and probing)"
        )
    failures = int(document["test_cases"]["with_failures"])
    if failures:
        figures.notes.append(f"{failures} case(s) Schemathesis judged failing (exit {done.returncode})")
    return figures


def _schemathesis_checks(events: Path) -> list[str]:
    """The checks Schemathesis recorded per case, from its NDJSON event stream, most frequent first."""
    counted: Counter[str] = Counter()
    cases = 0
    for line in events.read_text(encoding="utf-8").splitlines():
        event = json.loads(line)
        finished = event.get("ScenarioFinished")
        if not finished:
            continue
        for results in finished["recorder"]["checks"].values():
            cases += 1
            counted.update({result["name"] for result in results})
    return [f"{name} ({count}/{cases})" for name, count in counted.most_common()]


# -- (b) the suite's fuzzing ---------------------------------------------------------------------------
def suite_volumes(mock: RunningMock) -> Volumes:
    available = mock.available_volume_id
    sizes = {volume.id: volume.size_gib for volume in mock.config.volumes}
    return Volumes(
        available_id=available, in_use_id=None, busy_status=None, unknown_id=str(uuid.uuid4()), sizes=sizes
    )


def run_suite_fuzzing(mock: RunningMock, contract: Contract, cases: int, seed: int) -> Figures:
    """The suite's fuzzing loop: Hypothesis bodies (valid and invalid), one keep-alive client, all checks.

    Like the shipped suite, valid and invalid bodies come from two property tests, half of the cases each
    (Schemathesis's ``--mode all`` also splits its cases between positive and negative).
    """
    volumes = suite_volumes(mock)
    available = mock.available_volume_id
    target_settings = TargetSettings(
        base_url=mock.base_url,
        project_id=mock.project_id,
        token=mock.token,
        available_volume_id=available,
    )
    seen: set[str] = set()
    checked: Counter[str] = Counter()
    count = 0
    violations = 0
    halves = [
        (create_bodies(contract, volume_id=available), (cases + 1) // 2),
        (invalid_create_bodies(contract, volume_id=available), cases // 2),
    ]
    elapsed = 0.0
    with Target(contract, target_settings) as target:
        for bodies, examples in halves:
            if not examples:
                continue

            @settings(
                max_examples=examples,
                database=None,
                deadline=None,
                # Like Schemathesis's --no-shrink: every case is a fresh draw, none a replay.
                phases=(Phase.generate,),
                suppress_health_check=list(HealthCheck),
            )
            @given(body=bodies)
            def fuzz(body: Any) -> None:
                nonlocal count, violations
                exchange = target.create(body)
                expectation = expect(contract, body, volumes)
                context = CheckContext(contract, expectation, volumes.sizes.get(available), seen)
                outcome = check_create(exchange, context)
                count += 1
                violations += len(outcome.violations)
                checked.update(outcome.checked)

            started = time.perf_counter()
            hypothesis.seed(seed)(fuzz)()
            elapsed += time.perf_counter() - started
    figures = Figures(
        "evs-conformance fuzzing",
        count,
        elapsed,
        checks=[f"{requirement} ({n}/{count})" for requirement, n in checked.most_common()],
    )
    if violations:
        figures.notes.append(
            f"{violations} violation(s) found on the clean mock: a bug in the suite or the mock"
        )
    return figures


def _fuzz_in_worker(
    mock: RunningMock, cases: int, seed: int, start: Any, results: Any
) -> None:  # pragma: no cover - runs in a child process
    contract = load_contract(PROFILE)
    start.wait()
    results.put(run_suite_fuzzing(mock, contract, cases, seed))


def run_suite_fuzzing_parallel(mock: RunningMock, cases: int, seed: int, workers: int) -> Figures:
    """The same loop in ``workers`` processes at once, the cases split between them, each with its own seed.

    Timed from the moment every process is ready (imports done, as for the single loop) until the last
    one has reported; this is how the suite's ``--workers`` uses the machine's cores.
    """
    context = multiprocessing.get_context("spawn")
    start = context.Barrier(workers + 1)
    results = context.Queue()
    shares = [cases // workers + (1 if index < cases % workers else 0) for index in range(workers)]
    processes = [
        context.Process(target=_fuzz_in_worker, args=(mock, share, seed + 1000 * index, start, results))
        for index, share in enumerate(shares)
    ]
    for process in processes:
        process.start()
    start.wait()
    started = time.perf_counter()
    parts: list[Figures] = [results.get(timeout=600) for _ in processes]
    elapsed = time.perf_counter() - started
    for process in processes:
        process.join()
    count = sum(part.cases for part in parts)
    figures = Figures(f"evs-conformance fuzzing, {workers} processes", count, elapsed)
    figures.checks.append("the same create checks as the loop above, in every process")
    figures.notes.extend(note for part in parts for note in part.notes)
    return figures


def profile_suite(mock: RunningMock, contract: Contract, cases: int, seed: int) -> str:
    """The top of a cProfile of the suite's loop, by cumulative and by own time."""
    profiler = cProfile.Profile()
    profiler.enable()
    run_suite_fuzzing(mock, contract, cases, seed)
    profiler.disable()
    out = io.StringIO()
    stats = pstats.Stats(profiler, stream=out).strip_dirs()
    stats.sort_stats("cumulative").print_stats(25)
    stats.sort_stats("tottime").print_stats(15)
    return out.getvalue()


# -- (b') the same fuzzing as shipped: the suite's property tests under pytest ------------------------
#: The two property tests that fuzz whole bodies, valid and invalid; each gets half of the cases.
FUZZ_TESTS = "test_fuzzed_valid_body_is_accepted_and_echoed or test_fuzzed_invalid_body_is_refused"


def run_suite_pytest(mock: RunningMock, cases: int, seed: int, workdir: Path) -> Figures | str:
    """``pytest --pyargs conformance.suite -k <fuzz tests>`` on the same mock, read from its report."""
    reports = workdir / "pytest-run"
    command = [
        sys.executable,
        "-m",
        "pytest",
        "--pyargs",
        "conformance.suite",
        "-q",
        "-p",
        "no:cacheprovider",
        # pytest rewrites the assertions of every plugin's package on import (Schemathesis's too), which is
        # not cached where PYTHONDONTWRITEBYTECODE is set; the suite reports through its checks, not asserts.
        "--assert=plain",
        "-k",
        FUZZ_TESTS,
        "--evs-base-url",
        mock.base_url,
        "--evs-project-id",
        mock.project_id,
        "--evs-token",
        mock.token,
        "--evs-volume-id",
        mock.available_volume_id,
        "--evs-examples",
        str(max(1, (cases + 1) // 2)),
        "--evs-seed",
        str(seed),
        "--evs-reports",
        str(reports),
        # A base URL makes the mock an "endpoint" with a small default create budget; lift it to compare.
        "--evs-max-creates",
        str(cases * 10),
        # Schemathesis leaves what it created; so does this leg, which times checking, not deleting.
        "--evs-no-cleanup",
    ]
    started = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True, cwd=workdir, check=False)
    wall = time.perf_counter() - started
    result = reports / "conformance.json"
    if not result.exists():
        tail = (done.stdout + done.stderr).strip().splitlines()[-3:]
        return f"suite under pytest: no conformance.json (exit {done.returncode}): {' | '.join(tail)}"
    stats = json.loads(result.read_text(encoding="utf-8"))["stats"]
    figures = Figures("evs-conformance pytest", int(stats["cases"]), float(stats["duration_s"]))
    figures.notes.append(f"session time from conformance.json; the whole command took {wall:.2f} s")
    if done.returncode != 0:
        figures.notes.append(f"pytest exited {done.returncode}: the clean mock failed a check")
    figures.checks.append("the same create checks as the loop above (evs_verify -> check_create)")
    return figures


# -- the default run -----------------------------------------------------------------------------------
def default_run(workdir: Path) -> str | None:
    """Cases, duration and rate of a default ``evs-conformance run`` (None when there is no ``run``)."""
    executable = shutil.which("evs-conformance") or str(Path(sys.executable).with_name("evs-conformance"))
    if not Path(executable).exists():
        return None
    probe = subprocess.run([executable, "run", "--help"], capture_output=True, text=True, check=False)
    if probe.returncode != 0:
        return None
    reports = workdir / "default-run"
    started = time.perf_counter()
    # The defaults are the point; the report directory only keeps the working tree clean.
    done = subprocess.run(
        [executable, "run", "--reports", str(reports)],
        capture_output=True,
        text=True,
        cwd=workdir,
        check=False,
    )
    wall = time.perf_counter() - started
    result = reports / "conformance.json"
    if not result.exists():
        return f"default run: no conformance.json (exit {done.returncode}): {done.stderr.strip()[-300:]}"
    stats = json.loads(result.read_text(encoding="utf-8"))["stats"]
    cases, duration = int(stats["cases"]), float(stats["duration_s"])
    met = cases >= DEFAULT_RUN_CASES and duration < DEFAULT_RUN_SECONDS
    return (
        f"default run: {cases} checked exchanges in {duration:.2f} s = {cases / duration:.1f} cases/s "
        f"(command {wall:.2f} s, exit {done.returncode}; target >= {DEFAULT_RUN_CASES} in "
        f"< {DEFAULT_RUN_SECONDS:.0f} s: {'met' if met else 'NOT met'})"
    )


# -- main ----------------------------------------------------------------------------------------------
def _print(figures: Figures) -> None:
    print(figures.line())
    for note in figures.notes:
        print(f"  {note}")
    print(f"  checks per exchange: {', '.join(figures.checks) or '(none recorded)'}")


def _ratio(ours: Figures, theirs: Figures, label: str) -> float:
    ratio = ours.rate / theirs.rate if theirs.rate else float("inf")
    verdict = "met" if ratio >= TARGET_RATIO else "NOT met"
    print(f"ratio ({label}): {ratio:.1f}x {theirs.name} (target >= {TARGET_RATIO:.0f}x: {verdict})")
    return ratio


def _summary(label: str, ratios: list[float]) -> bool:
    """One line for a leg over every round: the median ratio decides, each round's ratio is shown."""
    middle = statistics.median(ratios)
    met = middle >= TARGET_RATIO
    shown = ", ".join(f"{r:.1f}x" for r in ratios)
    print(
        f"median ratio ({label}) over {len(ratios)} round(s): {middle:.1f}x (rounds: {shown}; "
        f"target >= {TARGET_RATIO:.0f}x: {'met' if met else 'NOT met'})"
    )
    return met


@dataclass(frozen=True)
class Options:
    cases: int
    seed: int
    rounds: int
    workers: int
    pytest: bool
    default_run: bool
    profile: bool


def parse(argv: list[str]) -> Options:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    add = parser.add_argument
    add("--cases", type=int, default=500, help="cases each side runs per round (default 500)")
    add("--seed", type=int, default=1, help="seed of the first round's generators (default 1)")
    add("--rounds", type=int, default=5, help="paired rounds, each with its own seed (default 5)")
    add(
        "--workers",
        type=int,
        default=2,
        help="processes of the parallel leg, and Schemathesis's --workers there (default 2; 1 skips the leg)",
    )
    add("--no-pytest", dest="pytest", action="store_false", help="skip the suite's run under pytest")
    add("--no-default-run", dest="default_run", action="store_false", help="skip evs-conformance run")
    add("--profile-suite", dest="profile", action="store_true", help="print a profile of the suite's loop")
    args = parser.parse_args(argv)
    if args.cases < 1:
        parser.error("--cases must be at least 1")
    if args.rounds < 1:
        parser.error("--rounds must be at least 1")
    if args.workers < 1:
        parser.error("--workers must be at least 1")
    return Options(
        args.cases, args.seed, args.rounds, args.workers, args.pytest, args.default_run, args.profile
    )


def main(argv: list[str]) -> int:
    options = parse(argv)
    contract = load_contract(PROFILE)
    parallel = f"suite loop in {options.workers} processes"
    ratios: dict[str, list[float]] = {"suite loop": [], "suite under pytest": [], parallel: []}
    with tempfile.TemporaryDirectory(prefix="evs-bench-") as tmp, _mock() as mock:
        workdir = Path(tmp)
        print(
            f"mock: {mock.base_url} ({PROFILE}, clean), {options.cases} cases each, "
            f"{options.rounds} round(s) from seed {options.seed}"
        )
        # A busy neighbour slows whichever side runs at that moment: which side goes first alternates
        # between rounds, and the median over rounds is what is judged.
        for index in range(options.rounds):
            seed = options.seed + index
            print(f"-- round {index + 1} (seed {seed})")
            if index % 2:
                ours = run_suite_fuzzing(mock, contract, options.cases, seed)
                theirs = run_schemathesis(mock, options.cases, seed, workdir)
            else:
                theirs = run_schemathesis(mock, options.cases, seed, workdir)
                ours = run_suite_fuzzing(mock, contract, options.cases, seed)
            _print(theirs)
            _print(ours)
            ratios["suite loop"].append(_ratio(ours, theirs, "suite loop"))
            if options.pytest:
                shipped = run_suite_pytest(mock, options.cases, seed, workdir)
                if isinstance(shipped, Figures):
                    _print(shipped)
                    ratios["suite under pytest"].append(_ratio(shipped, theirs, "suite under pytest"))
                else:
                    print(shipped)
            if options.workers > 1:
                wide = run_suite_fuzzing_parallel(mock, options.cases, seed, options.workers)
                theirs_wide = run_schemathesis(mock, options.cases, seed, workdir, workers=options.workers)
                _print(theirs_wide)
                _print(wide)
                ratios[parallel].append(_ratio(wide, theirs_wide, parallel))
        print("-- summary")
        met = all([_summary(label, found) for label, found in ratios.items() if found])
        print("checks compared (schemathesis -> suite):")
        for theirs_name, ours_name in CHECK_MAP:
            print(f"  {theirs_name:<28} -> {ours_name}")
        if options.profile or not met:
            print(profile_suite(mock, contract, options.cases, options.seed))
        if options.default_run:
            print(default_run(workdir) or "default run: `evs-conformance run` is not available yet")
    return 0


def _mock() -> Any:
    return serve_in_subprocess(MockConfig(profile=PROFILE))


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
