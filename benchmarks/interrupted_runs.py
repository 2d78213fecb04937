"""Print, for runs interrupted at random points, the snapshots created, cleaned up, listed and left unlisted.

Run: ``python benchmarks/interrupted_runs.py [--runs N] [--seed S] [--settle-seconds S]``. Each round starts
``evs-conformance run`` in its own session against the mock (in a child process, snapshots settling after a
while, so an interrupt finds some still being created), waits a random time after its first create and stops
it one of these ways: SIGINT or SIGTERM to the command, SIGTERM to its process group, SIGINT twice (the
second skips the cleanup), or SIGKILL followed by ``evs-conformance cleanup``; some rounds use two workers.
Created counts the creates the journal says the target accepted (or may have acted on); cleaned, those no
longer on the mock; listed, those the report's cleanup section (or, after a kill, the journal) names as left,
a create killed in flight without its ID; unlisted, snapshots on the mock that nothing names. Unlisted must be
0: it is what a user would pay for without knowing.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from conformance.mock import MockConfig, serve_in_subprocess
from conformance.mock.server import RunningMock
from conformance.run.journal import JOURNAL, read_journal, shown_id

#: The ways a round stops its run.
STOPS = ("SIGINT", "SIGTERM", "SIGTERM to the group", "SIGINT twice", "SIGKILL, then cleanup")
#: A budget that reaches every requirement and keeps a round short.
BUDGET = 25
#: How a report names a create whose snapshot ID is unknown.
NO_ID = "(no ID;"


@dataclass
class Round:
    stop: str
    workers: int
    after_s: float
    exit_code: int | None = None
    created: int = 0
    cleaned: int = 0
    listed: int = 0
    unlisted: int = 0
    left_after_cleanup: int | None = None


def snapshots_on(mock: RunningMock) -> set[str]:
    answer = httpx.get(f"{mock.api_url}/snapshots", headers={"X-Auth-Token": mock.token}, timeout=10)
    answer.raise_for_status()
    return {str(s["id"]) for s in answer.json()["snapshots"]}


def environment(token: str) -> dict[str, str]:
    clean = {k: v for k, v in os.environ.items() if k not in ("EVS_TOKEN", "EVS_PASSWORD", "PYTEST_ADDOPTS")}
    return {**clean, "EVS_TOKEN": token}


def first_create_seen(reports: Path) -> bool:
    path = reports / JOURNAL
    return path.is_file() and '"outcome": "accepted"' in path.read_text(errors="replace")


def play(mock: RunningMock, reports: Path, chosen: Round) -> None:
    """Start a run, stop it as ``chosen`` says, and fill in what it left."""
    before = snapshots_on(mock)
    argv = [
        sys.executable, "-m", "conformance", "run",
        "--base-url", mock.base_url, "--project-id", mock.project_id,
        "--volume-id", mock.available_volume_id, "--in-use-volume-id", mock.in_use_volume_id,
        "--reports", str(reports), "--examples", "3", "--max-creates", str(BUDGET),
        "--cleanup-timeout", "60", "--workers", str(chosen.workers),
    ]  # fmt: skip
    run = subprocess.Popen(
        argv,
        env=environment(mock.token),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    give_up_at = time.monotonic() + 120
    while not first_create_seen(reports) and run.poll() is None and time.monotonic() < give_up_at:
        time.sleep(0.05)
    time.sleep(chosen.after_s)
    if run.poll() is None:
        if chosen.stop == "SIGTERM to the group":
            os.killpg(run.pid, signal.SIGTERM)
        elif chosen.stop.startswith("SIGKILL"):
            run.send_signal(signal.SIGKILL)
        else:
            run.send_signal(signal.SIGTERM if chosen.stop == "SIGTERM" else signal.SIGINT)
            if chosen.stop == "SIGINT twice":
                time.sleep(0.5)
                if run.poll() is None:
                    run.send_signal(signal.SIGINT)
    chosen.exit_code = run.wait(timeout=300)
    _count(mock, reports, chosen, before)


def _count(mock: RunningMock, reports: Path, chosen: Round, before: set[str]) -> None:
    view = read_journal(reports / JOURNAL)
    made = [r for r in view.creates if r.outcome != "refused"]
    # The workers of a killed run clean up on their own for a few seconds after their controller is gone.
    time.sleep(3 if chosen.stop.startswith("SIGKILL") else 0)
    on_mock = snapshots_on(mock) - before
    chosen.created = len(made)
    chosen.cleaned = sum(1 for r in made if r.snapshot_id is not None and r.snapshot_id not in on_mock)
    report_path = reports / "conformance.json"
    if report_path.is_file():
        report: dict[str, Any] = json.loads(report_path.read_text())
        named = [str(entry["id"]) for entry in report["cleanup"]["left"]]
    else:
        named = [_label(r.snapshot_id, r.key) for r in read_journal(reports / JOURNAL).outstanding()]
    chosen.listed = len(named)
    # A create killed in flight is listed without an ID: it may account for one snapshot on the mock.
    without_id = sum(1 for label in named if label.startswith(NO_ID))
    chosen.unlisted = max(0, len({s for s in on_mock if shown_id(s) not in set(named)}) - without_id)
    if chosen.stop.startswith("SIGKILL"):
        cleanup = [sys.executable, "-m", "conformance", "cleanup", str(reports)]
        subprocess.run(cleanup, env=environment(mock.token), capture_output=True, timeout=300, check=False)
        chosen.left_after_cleanup = len(snapshots_on(mock) - before)


def _label(snapshot_id: str | None, key: str) -> str:
    return shown_id(snapshot_id) if snapshot_id else f"{NO_ID} create {key})"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    parser.add_argument("--runs", type=int, default=10)
    parser.add_argument("--seed", type=int, default=None, help="repeat the same rounds")
    parser.add_argument("--settle-seconds", type=float, default=1.0)
    parser.add_argument("--max-wait", type=float, default=8.0, help="longest wait after the first create")
    options = parser.parse_args()
    rng = random.Random(options.seed)
    rounds = [
        Round(rng.choice(STOPS), rng.choice((1, 2)), round(rng.uniform(0, options.max_wait), 1))
        for _ in range(options.runs)
    ]
    print(f"{'#':>2}  {'stop':<22} {'workers':>7} {'after':>6} {'exit':>5} {'created':>7} {'cleaned':>7} "
          f"{'listed':>6} {'unlisted':>8}  after cleanup")  # fmt: skip
    with serve_in_subprocess(MockConfig(settle_seconds=options.settle_seconds)) as mock:
        for number, chosen in enumerate(rounds, 1):
            with tempfile.TemporaryDirectory(prefix="evs-interrupted-") as folder:
                play(mock, Path(folder) / "reports", chosen)
            after = "" if chosen.left_after_cleanup is None else f"{chosen.left_after_cleanup} left"
            print(
                f"{number:>2}  {chosen.stop:<22} {chosen.workers:>7} {chosen.after_s:>5.1f}s "
                f"{chosen.exit_code!s:>5} {chosen.created:>7} {chosen.cleaned:>7} {chosen.listed:>6} "
                f"{chosen.unlisted:>8}  {after}",
                flush=True,
            )
    total = {
        name: sum(getattr(r, name) for r in rounds) for name in ("created", "cleaned", "listed", "unlisted")
    }
    killed = [r.left_after_cleanup for r in rounds if r.left_after_cleanup is not None]
    print(
        f"total: {total['created']} created, {total['cleaned']} cleaned, {total['listed']} listed, "
        f"{total['unlisted']} left unlisted (must be 0)"
    )
    if killed:
        print(f"after evs-conformance cleanup of the {len(killed)} killed run(s): {sum(killed)} left")


if __name__ == "__main__":
    main()
