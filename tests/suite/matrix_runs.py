"""The mutation matrix's runs: every quirk once, in the first profile where it is a deviation, and the clean
mock in each profile, spread over child processes that each import the suite once.

Each child runs this module (``python -m tests.suite.matrix_runs JOBS``) and calls ``pytest.main`` per run:
against the embedded mock, or against a mock it serves from a thread with the config the job gives, as an
endpoint (the run's scheduler and its handling of limit refusals then take part). Generated cases are
derandomized, so every run draws the same ones, and not shrunk (catching is what counts here).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypedDict

from conformance.contract import PROFILES, load_contract
from conformance.mock.quirks import QUIRKS
from tests.runs import SECRET_VARIABLES

#: Child processes the runs are spread over (the machine's two cores).
PROCESSES = 2
#: Cases per property test: enough for every quirk to show, few enough for a matrix of runs.
EXAMPLES = 5
#: The project's folder, from which a child imports this module.
_REPO = Path(__file__).resolve().parents[2]
#: The file a run against a served mock leaves beside its reports: the snapshots the mock still holds.
LEFT_FILE = "left-on-mock.json"

#: A run of the matrix: a profile, and the quirk switched on (None: the clean mock).
Run = tuple[str, str | None]


class Job(TypedDict):
    """One run as a child is given it."""

    profile: str
    quirk: str | None
    reports: str
    #: ``MockConfig`` fields of the mock to serve (None: the embedded mock).
    mock: dict[str, Any] | None


def profile_of(quirk: str) -> str:
    """The first profile in which ``quirk`` is a deviation."""
    return next(p for p in PROFILES if QUIRKS[quirk].applies_to(load_contract(p)))


def matrix_runs() -> list[Run]:
    """The clean mock in each profile, then each quirk in its first profile."""
    return [(p, None) for p in PROFILES] + [(profile_of(q), q) for q in QUIRKS]


@dataclass(frozen=True)
class RunResult:
    """What one run left: its report (None if the suite did not finish) and, for a served mock, the
    snapshots the mock still held after the run (None on the embedded mock)."""

    report: dict[str, Any] | None
    left: list[dict[str, Any]] | None

    def verdicts(self) -> dict[str, str]:
        """The verdict per requirement; the run must have finished."""
        assert self.report is not None, "the suite did not complete (no conformance.json)"
        return {row["id"]: row["verdict"] for row in self.report["requirements"]}

    def failed(self) -> set[str]:
        """The requirements the run failed."""
        return {rid for rid, verdict in self.verdicts().items() if verdict == "fail"}


def run_matrix(
    root: Path,
    runs: Sequence[Run],
    *,
    options: Sequence[str] = (),
    mock: Mapping[str, Any] | None = None,
    timeout_s: float = 1200,
) -> dict[Run, RunResult]:
    """Run the suite once per run of ``runs`` with ``--evs-*`` ``options``, reports under ``root``.

    ``mock`` None: against the embedded mock. Else each run serves a mock made with ``MockConfig(profile=,
    quirks=, **mock)`` and tests it as an endpoint.
    """
    jobs = [
        Job(
            profile=profile,
            quirk=quirk,
            reports=str(root / f"{profile}-{quirk or 'clean'}"),
            mock=None if mock is None else dict(mock),
        )
        for profile, quirk in runs
    ]
    for job in jobs:
        Path(job["reports"]).mkdir(parents=True)
    chunks = [jobs[i::PROCESSES] for i in range(PROCESSES)]
    spec = {"examples": EXAMPLES, "options": list(options)}
    children = [
        subprocess.Popen(
            [sys.executable, "-m", "tests.suite.matrix_runs", json.dumps({**spec, "jobs": chunk})],
            cwd=_REPO,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            env={k: v for k, v in os.environ.items() if k not in ("PYTEST_ADDOPTS", *SECRET_VARIABLES)},
        )
        for chunk in chunks
        if chunk
    ]
    try:
        for child in children:
            child.wait(timeout=timeout_s)
    finally:
        for child in children:
            if child.poll() is None:
                child.kill()
                child.wait()
    return {(job["profile"], job["quirk"]): _result(Path(job["reports"])) for job in jobs}


def _result(reports: Path) -> RunResult:
    path, left = reports / "conformance.json", reports / LEFT_FILE
    return RunResult(
        json.loads(path.read_text(encoding="utf-8")) if path.exists() else None,
        json.loads(left.read_text(encoding="utf-8")) if left.exists() else None,
    )


def _suite_args(profile: str, reports: str, examples: int, options: Sequence[str]) -> list[str]:
    return [
        "--pyargs", "conformance.suite", "-qq", "--no-header", "-p", "no:cacheprovider",
        "-c", os.devnull, "--rootdir", reports, "--evs-reports=" + reports, "--evs-profile=" + profile,
        f"--evs-examples={examples}", "--evs-no-shrink", *options,
    ]  # fmt: skip


def _run_job(job: Job, examples: int, options: Sequence[str]) -> None:
    import pytest

    profile, quirk, reports = job["profile"], job["quirk"], job["reports"]
    args = _suite_args(profile, reports, examples, options)
    if job["mock"] is None:
        if quirk:
            args.append("--evs-mock-quirk=" + quirk)
        pytest.main(args)
        return
    from conformance.mock.server import MockConfig, serve_in_thread

    config = MockConfig(profile=profile, quirks=frozenset({quirk} if quirk else ()), **job["mock"])
    with serve_in_thread(config) as mock:
        endpoint = [
            "--evs-base-url=" + mock.base_url,
            "--evs-project-id=" + mock.project_id,
            "--evs-volume-id=" + mock.available_volume_id,
            "--evs-in-use-volume-id=" + mock.in_use_volume_id,
        ]
        # The token goes where a user's would, never on a command line; the next run gets its own.
        os.environ["EVS_TOKEN"] = mock.token
        try:
            pytest.main([*args, *endpoint])
        finally:
            del os.environ["EVS_TOKEN"]
        assert mock.backend is not None
        left = mock.backend.list_snapshots(mock.project_id)
    Path(reports, LEFT_FILE).write_text(json.dumps(left), encoding="utf-8")


def main(argv: Sequence[str]) -> None:
    """Run one chunk of a matrix: ``argv[0]`` is JSON with ``examples``, ``options`` and ``jobs``."""
    spec = json.loads(argv[0])
    for job in spec["jobs"]:
        _run_job(job, int(spec["examples"]), list(spec["options"]))


if __name__ == "__main__":
    main(sys.argv[1:])
