"""Whole runs against the mock as a limited cloud: a whole verdict within its limits, nothing charged to it
that its limits explain, and nothing left behind."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from conformance.mock.server import MockConfig, RunningMock, serve_in_thread
from tests.runs import conformant_verdicts, run_command

#: Huawei EVS's three minutes to settle in three seconds, its minute to delete in one.
SCALED = 60.0
#: The same, in a third of a second: for runs that only need the limits, not the wait.
FAST = 540.0


@contextmanager
def limited_mock(**config: Any) -> Iterator[RunningMock]:
    with serve_in_thread(MockConfig(**config)) as mock:
        yield mock


def run(
    mock: RunningMock, reports: Path, *extra: str
) -> tuple[subprocess.CompletedProcess[str], dict[str, Any]]:
    result = run_command(mock, reports, *extra, env={"EVS_TOKEN": mock.token}, timeout_s=600)
    path = reports / "conformance.json"
    return result, json.loads(path.read_text(encoding="utf-8")) if path.exists() else {}


def verdicts(report: dict[str, Any]) -> dict[str, str]:
    return {row["id"]: row["verdict"] for row in report["requirements"]}


def left_on(mock: RunningMock) -> list[dict[str, Any]]:
    assert mock.backend is not None
    return mock.backend.list_snapshots(mock.project_id)


def observations(report: dict[str, Any]) -> list[str]:
    return [o["sentence"] for row in report["requirements"] for o in row.get("observations", ())]


def test_every_limit_at_once_six_creates_and_minutes_to_settle_give_a_whole_verdict(tmp_path: Path) -> None:
    config = {"limits": "huawei", "project_snapshot_quota": 10, "time_scale": SCALED}
    with limited_mock(**config) as mock:
        result, report = run(mock, tmp_path, "--max-creates", "6", "--examples", "2")
        left = left_on(mock)
    assert result.returncode == 0, result.stdout[-4000:]
    assert verdicts(report) == conformant_verdicts()
    assert report["stats"]["creates"] <= 6
    assert report["cleanup"]["left"] == []
    assert left == []


@pytest.mark.parametrize(
    "limit",
    [
        {"one_create_per_disk": True},
        {"disk_snapshot_limit": 2},
        {"project_snapshot_quota": 3},
        {"refuse_delete_while_creating": True},
    ],
    ids=lambda limit: next(iter(limit)),
)
def test_each_limit_alone_gets_a_whole_verdict_and_nothing_left(
    tmp_path: Path, limit: dict[str, Any]
) -> None:
    # A settle time, so that a create may find the disk busy and a delete the snapshot still being made.
    with limited_mock(settle_seconds=0.3, delete_seconds=0.1, **limit) as mock:
        result, report = run(mock, tmp_path, "--max-creates", "20")
        left = left_on(mock)
    assert result.returncode == 0, result.stdout[-4000:]
    assert verdicts(report) == conformant_verdicts()
    assert left == []


def test_a_run_that_keeps_no_limits_of_its_own_is_not_charged_for_the_targets(tmp_path: Path) -> None:
    # The run's own rules off: the target refuses valid bodies for its limits, and the run recognises it.
    lifted = ("--creating-per-disk", "0", "--snapshots-per-disk", "0", "--snapshots-per-project", "0")
    config = {"limits": "huawei", "disk_snapshot_limit": 2, "project_snapshot_quota": 3, "time_scale": FAST}
    with limited_mock(**config) as mock:
        result, report = run(mock, tmp_path, *lifted, "--max-creates", "12")
        left = left_on(mock)
    assert result.returncode == 0, result.stdout[-4000:]
    assert verdicts(report) == conformant_verdicts()
    sent_again = [o for o in observations(report) if "sent again once they were gone, it was accepted" in o]
    assert sent_again, observations(report)
    assert left == []


def test_a_quota_others_fill_skips_what_needs_a_snapshot_and_fails_nothing(tmp_path: Path) -> None:
    with limited_mock(profile="cinder", limits="cinder", project_snapshot_quota=2) as mock:
        assert mock.backend is not None
        for name in ("theirs-1", "theirs-2"):
            body = {"snapshot": {"volume_id": mock.available_volume_id, "name": name}}
            mock.backend.create_snapshot(mock.project_id, body)
        result, report = run(mock, tmp_path, "--profile", "cinder", "--max-creates", "6")
        kept = sorted(s["name"] for s in left_on(mock))
    found = verdicts(report)
    assert result.returncode == 0, result.stdout[-4000:]
    assert "fail" not in found.values()
    rows = {row["id"]: row for row in report["requirements"]}
    for requirement in ("OP-ACCEPT", "RSP-ECHO", "LIFE-READ", "REQ-FORCE-TRUE"):
        assert found[requirement] == "skip", requirement
        assert "not reached within the target's limits: HTTP 413" in rows[requirement]["evidence"]
        assert "quota exceeded" in rows[requirement]["evidence"]
    # What needs no snapshot is judged as ever.
    assert found["REQ-NAME"] == found["REQ-JSON"] == found["AUTH-MISSING"] == "pass"
    assert kept == ["theirs-1", "theirs-2"]


def test_a_create_only_target_with_a_busy_disk_rule_is_sent_again_after_the_settle_time(
    tmp_path: Path,
) -> None:
    with limited_mock(limits="huawei", time_scale=FAST) as mock:
        result, report = run(mock, tmp_path, "--no-lifecycle", "--settle-time", "0.5", "--max-creates", "8")
    found = verdicts(report)
    assert result.returncode == 0, result.stdout[-4000:]
    assert {rid: v for rid, v in found.items() if not rid.startswith("LIFE-")} == {
        rid: v for rid, v in conformant_verdicts().items() if not rid.startswith("LIFE-")
    }
    assert any("it was accepted: a limit of the target" in o for o in observations(report))


def test_creates_spread_over_every_available_disk_given(tmp_path: Path) -> None:
    from conformance.mock.config import VolumeSeed

    second = VolumeSeed("1b0e5c1a-0d5e-4c8e-9f3c-6e0a2d4b7c11", "available", 40)
    disks = (*MockConfig().volumes, second)
    with limited_mock(volumes=disks, limits="huawei", time_scale=SCALED) as mock:
        result, report = run(
            mock, tmp_path, "--volume-id", second.id, "--max-creates", "6", "--examples", "1"
        )
        left = left_on(mock)
    assert result.returncode == 0, result.stdout[-4000:]
    assert verdicts(report) == conformant_verdicts()
    lines = [
        json.loads(line) for line in (tmp_path / "creates.jsonl").read_text(encoding="utf-8").splitlines()
    ]
    used = {line["disk"] for line in lines if line.get("e") == "sent"}
    assert {mock.available_volume_id, second.id} <= used
    assert left == []
