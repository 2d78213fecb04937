"""A target that serves only the create operation: pre-flight says what it could not verify and, with
``--no-lifecycle``, the run goes on; the report never calls deleted a snapshot the target never showed."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from conformance.core.verdicts import SKIP
from conformance.mock.server import MockConfig, RunningMock, serve_in_thread
from tests.runs import run_command
from tests.safety.live import Front, snapshots_on
from tests.targets.misbehaving import Misbehaving, creates_only, serve

pytestmark = pytest.mark.slow


@pytest.fixture
def mock() -> Iterator[RunningMock]:
    with serve_in_thread(MockConfig()) as running:
        yield running


@pytest.fixture
def front(mock: RunningMock) -> Iterator[Misbehaving]:
    """Only POST .../snapshots, passed on to the mock; 404 pages and 405s for everything else."""
    with serve(creates_only(mock.base_url)) as server:
        yield server


def test_without_no_lifecycle_an_unknown_route_is_not_called_a_missing_disk(
    front: Misbehaving, mock: RunningMock, tmp_path: Path
) -> None:
    completed = run_command(Front.of(front, mock), tmp_path, env={"EVS_TOKEN": mock.token})
    assert completed.returncode == 2, completed.stderr
    lines = completed.stderr.strip().splitlines()
    assert len(lines) == 1
    assert "answered 404 (text/html) '<html><head><title>404 Not Found</title>" in lines[0]
    assert "not the contract's error envelope" in lines[0]
    assert "does not exist" not in lines[0]
    assert lines[0].endswith("is tested with --no-lifecycle")
    assert "Traceback" not in completed.stderr
    assert [r.method for r in front.requests] == ["GET"], "nothing but the disk read was sent"


def test_with_no_lifecycle_the_run_needs_only_creates_and_claims_no_deletion(
    front: Misbehaving, mock: RunningMock, tmp_path: Path
) -> None:
    options = ("--no-lifecycle", "--cleanup-timeout", "20")
    completed = run_command(Front.of(front, mock), tmp_path, *options, env={"EVS_TOKEN": mock.token})
    assert completed.returncode == 0, completed.stdout[-3000:] + completed.stderr[-3000:]
    assert "Traceback" not in completed.stdout + completed.stderr
    warning = "evs-conformance: WARNING: the disks could not be verified (GET "
    assert warning in completed.stderr
    assert "answered 404 (text/html) '<html>" in completed.stderr
    report = json.loads((tmp_path / "conformance.json").read_text())
    assert "answered 404 (text/html)" in report["target"]["disks_unverified"]
    assert "Not verified: the disks could not be verified" in (tmp_path / "conformance.md").read_text()
    size = next(r for r in report["requirements"] if r["id"] == "RSP-SIZE")
    assert size["verdict"] == SKIP
    assert "the size of disk" in size["evidence"]
    assert "unknown" in size["evidence"]
    # Every snapshot the target made is listed, none called deleted: the target never showed one.
    created = snapshots_on(mock)
    assert created
    cleanup = report["cleanup"]
    assert cleanup["deleted"] == 0
    assert cleanup["already_gone"] == 0
    listed = {entry["id"]: entry["reason"] for entry in cleanup["left"]}
    assert set(created) <= set(listed)
    assert all("not verifiable: the target never showed it" in listed[i] for i in created)
    journal = [json.loads(line) for line in (tmp_path / "creates.jsonl").read_text().splitlines()]
    assert [line for line in journal if line["e"] == "gone"] == []
