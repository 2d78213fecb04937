"""A real run interrupted at any point leaves nothing on the target, or lists what it leaves.

Each test starts ``evs-conformance run`` in its own session against a mock whose snapshots take a while to
settle (so there is something to wait for and clean up), signals it, and lists the mock's snapshots over
HTTP afterwards.
"""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from conformance.mock.server import MockConfig, RunningMock, serve_in_thread
from conformance.plugin.runtime import NO_CLEANUP_RECORD, SKIPPED_BY_SIGNAL
from tests.safety.live import LiveRun, alive, assert_every_snapshot_named, cleanup_command, snapshots_on

pytestmark = pytest.mark.slow

#: Seconds a snapshot stays ``creating``: the end of the run has snapshots to wait for before deleting.
SETTLE_S = 1.0
#: Creates after which a run is well under way.
MID_RUN = 8
#: A budget that reaches every requirement and keeps each run short.
BUDGET = "25"
#: How long the processes of a stopped run may take to go away.
GONE_WITHIN_S = 5.0

POINTS: dict[str, Callable[[LiveRun], None]] = {
    "after-the-first-create": lambda run: run.wait_for_creates(1),
    "mid-run": lambda run: run.wait_for_creates(MID_RUN),
    "during-cleanup": lambda run: run.wait_for_output("cleaning up"),
}
#: How each interrupt is sent: the signal, to the whole process group or not, the exit code it must give.
SENDS = {
    "SIGINT": (signal.SIGINT, False, 130),
    "SIGTERM": (signal.SIGTERM, False, 143),
    "SIGTERM-to-the-group": (signal.SIGTERM, True, 143),
}


@pytest.fixture
def mock() -> Iterator[RunningMock]:
    with serve_in_thread(MockConfig(settle_seconds=SETTLE_S)) as running:
        yield running


def start(mock: RunningMock, reports: Path, *extra: str) -> LiveRun:
    return LiveRun.start(
        mock, reports, "--cleanup-timeout", "60", "--max-creates", BUDGET, *extra, token=mock.token
    )


def assert_reported_interrupted(run: LiveRun, signal_name: str) -> dict[str, object]:
    report = run.report()
    assert report["verdict"] == "incomplete"
    assert f"interrupted ({signal_name})" in str(report["incomplete_reason"])
    assert "Traceback" not in run.output()
    return report


#: Every signal at two points, every point with two signals (the whole grid holds, but costs a minute more).
CASES = [
    ("SIGINT", "after-the-first-create"),
    ("SIGINT", "during-cleanup"),
    ("SIGTERM", "after-the-first-create"),
    ("SIGTERM", "mid-run"),
    ("SIGTERM-to-the-group", "mid-run"),
    ("SIGTERM-to-the-group", "during-cleanup"),
]


@pytest.mark.parametrize(("send", "point"), CASES)
def test_an_interrupted_run_cleans_up_and_reports_incomplete(
    mock: RunningMock, tmp_path: Path, point: str, send: str
) -> None:
    sent, group, code = SENDS[send]
    run = start(mock, tmp_path / "reports")
    POINTS[point](run)
    run.signal(sent, group=group)
    assert run.finish() == code, run.output()[-3000:]
    assert snapshots_on(mock) == []
    report = assert_reported_interrupted(run, sent.name)
    cleanup = report["cleanup"]
    assert isinstance(cleanup, dict)
    assert cleanup["left"] == []
    assert cleanup["deleted"] + cleanup["already_gone"] >= 1


def test_a_killed_run_leaves_a_journal_that_cleanup_works_from(mock: RunningMock, tmp_path: Path) -> None:
    reports = tmp_path / "reports"
    run = start(mock, reports)
    run.wait_for_creates(MID_RUN)
    run.signal(signal.SIGKILL)
    assert run.finish() == -signal.SIGKILL
    left = snapshots_on(mock)
    assert left, "the kill came after creates that had not been cleaned up"
    assert not (reports / "conformance.json").exists()
    assert_cleanup_from_the_journal_leaves_nothing_it_can_name(run, mock)
    again = cleanup_command(reports, mock.token)
    if not run.unnamed_creates():
        assert again.returncode == 0
        assert "nothing left by the run" in again.stdout


def assert_cleanup_from_the_journal_leaves_nothing_it_can_name(run: LiveRun, mock: RunningMock) -> None:
    """``evs-conformance cleanup`` deletes every snapshot the journal names; a create killed in flight (no
    ID) is listed for the user, and is all that may remain."""
    unnamed = run.unnamed_creates()
    cleaned = cleanup_command(run.reports, mock.token)
    assert cleaned.returncode == (1 if unnamed else 0), cleaned.stdout + cleaned.stderr
    assert cleaned.stdout.count("LEFT (no ID") == unnamed
    assert len(snapshots_on(mock)) <= unnamed


def test_a_second_signal_skips_the_cleanup_but_lists_what_is_left(tmp_path: Path) -> None:
    # Snapshots take longer to settle than the second signal takes to come: cleanup is still waiting.
    with serve_in_thread(MockConfig(settle_seconds=4 * SETTLE_S)) as mock:
        reports = tmp_path / "reports"
        run = start(mock, reports)
        run.wait_for_creates(MID_RUN)
        run.signal(signal.SIGINT)
        run.wait_for_output("cleaning up")
        run.signal(signal.SIGINT)
        assert run.finish() == 130, run.output()[-3000:]
        assert "skipping the cleanup" in run.output()
        report = assert_reported_interrupted(run, "SIGINT")
        cleanup = report["cleanup"]
        assert isinstance(cleanup, dict)
        assert cleanup["skipped"] == SKIPPED_BY_SIGNAL
        left = snapshots_on(mock)
        assert left
        listed = {entry["id"] for entry in cleanup["left"]}
        assert_every_snapshot_named(left, listed)
        assert_cleanup_from_the_journal_leaves_nothing_it_can_name(run, mock)


@pytest.mark.parametrize(
    "send",
    ["SIGTERM-to-the-command", "SIGINT-to-the-group"],
)
def test_an_interrupted_parallel_run_ends_every_process_and_cleans_up(
    mock: RunningMock, tmp_path: Path, send: str
) -> None:
    run = start(mock, tmp_path / "reports", "--workers", "2")
    run.wait_for_creates(MID_RUN)
    started = run.children()
    assert len(started) >= 2, "the workers are running"
    sent = signal.SIGTERM if send == "SIGTERM-to-the-command" else signal.SIGINT
    run.signal(sent, group=send.endswith("group"))
    assert run.finish() == 128 + sent, run.output()[-3000:]
    time.sleep(GONE_WITHIN_S)
    assert [pid for pid in started if alive(pid)] == []
    assert snapshots_on(mock) == []
    report = assert_reported_interrupted(run, sent.name)
    cleanup = report["cleanup"]
    assert isinstance(cleanup, dict)
    assert cleanup["left"] == []


def in_property_tests(run: LiveRun) -> int:
    """Creates sent by the property tests (each runs many examples, for seconds when paced)."""
    return sum(1 for line in run.journal() if "test_properties.py" in str(line.get("test")))


def test_a_killed_parallel_run_stops_its_workers_and_its_journal_lists_the_rest(
    mock: RunningMock, tmp_path: Path
) -> None:
    """Workers whose controller is killed stop creating at once, even in the middle of a long property test
    (paced, so that each takes seconds), clean up what they can, and end."""
    reports = tmp_path / "reports"
    paced = ("--workers", "2", "--rate-limit", "20/s", "--max-creates", "400")
    run = LiveRun.start(mock, reports, "--cleanup-timeout", "60", *paced, examples=100, token=mock.token)
    run.wait_until(lambda: in_property_tests(run) >= MID_RUN, "creates of the property tests")
    started = run.children()
    assert len(started) >= 2
    run.signal(signal.SIGKILL)
    killed_at = time.time()
    assert run.finish() == -signal.SIGKILL
    give_up_at = time.monotonic() + 30
    while any(alive(pid) for pid in started) and time.monotonic() < give_up_at:
        time.sleep(0.2)
    assert [pid for pid in started if alive(pid)] == []
    late = [line for line in run.journal() if line.get("e") == "sent" and line["at"] > killed_at + 1.5]
    assert late == [], "an orphaned worker went on creating"
    assert_cleanup_from_the_journal_leaves_nothing_it_can_name(run, mock)


def test_a_killed_parallel_run_on_the_embedded_mock_leaves_no_process(tmp_path: Path) -> None:
    """The mock the command starts for its workers goes with the command, even when it is killed."""
    run = LiveRun.start(None, tmp_path / "reports", "--workers", "2", examples=50, token="unused")
    run.wait_until(lambda: len(run.children()) >= 3, "the mock and two workers")
    run.wait_for_creates(MID_RUN)
    started = run.children()
    run.signal(signal.SIGKILL)
    assert run.finish() == -signal.SIGKILL
    give_up_at = time.monotonic() + 30
    while any(alive(pid) for pid in started) and time.monotonic() < give_up_at:
        time.sleep(0.2)
    assert [pid for pid in started if alive(pid)] == []


def test_a_worker_killed_mid_run_leaves_its_creates_listed_in_the_report(
    mock: RunningMock, tmp_path: Path
) -> None:
    """A worker dies without a word: the command still reports, listing what it left from the journal."""
    # Without the lifecycle tests nothing is deleted before the cleanup: the worker dies holding snapshots.
    run = start(mock, tmp_path / "reports", "--workers", "2", "--no-lifecycle")
    run.wait_for_creates(MID_RUN)
    os.kill(min(run.children()), signal.SIGKILL)
    run.finish()
    assert "Traceback" not in run.output()
    report = run.report()
    # What the dead worker had found is lost: the run claims no verdict, and says which test it died in.
    assert report["verdict"] == "incomplete"
    assert "a worker process ended while running test_" in str(report["incomplete_reason"])
    left_on_mock = snapshots_on(mock)
    assert left_on_mock, "the killed worker had snapshots to clean up"
    listed = {entry["id"]: entry["reason"] for entry in report["cleanup"]["left"]}
    assert_every_snapshot_named(left_on_mock, listed)
    assert all(NO_CLEANUP_RECORD in listed[snapshot] for snapshot in left_on_mock if snapshot in listed)
