"""The create budget reaches every requirement and says what it could not; cleanup deletes and verifies."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from conformance.mock.server import MockConfig, RunningMock, serve_in_thread
from conformance.plugin.budget import BudgetPlanner
from conformance.run.settings import DEFAULT_MAX_CREATES
from tests.runs import run_command


@pytest.fixture
def mock(request: pytest.FixtureRequest) -> Iterator[RunningMock]:
    quirks, settle = getattr(request, "param", (frozenset(), 0.2))
    with serve_in_thread(MockConfig(quirks=quirks, settle_seconds=settle)) as running:
        yield running


def run(
    mock: RunningMock, reports: Path, *extra: str
) -> tuple[subprocess.CompletedProcess[str], dict[str, Any]]:
    result = run_command(mock, reports, *extra, env={"EVS_TOKEN": mock.token}, timeout_s=300)
    path = reports / "conformance.json"
    return result, json.loads(path.read_text(encoding="utf-8")) if path.exists() else {}


def left_on(mock: RunningMock) -> list[str]:
    assert mock.backend is not None
    return [str(s["id"]) for s in mock.backend.list_snapshots(mock.project_id)]


def test_the_default_budget_reaches_every_requirement_and_cleans_up(
    mock: RunningMock, tmp_path: Path
) -> None:
    result, report = run(mock, tmp_path)
    assert result.returncode == 0, result.stdout[-3000:]
    assert report["max_creates"] == DEFAULT_MAX_CREATES
    assert 0 < report["stats"]["creates"] <= DEFAULT_MAX_CREATES
    skipped = [row["id"] for row in report["requirements"] if row["verdict"] == "skip"]
    assert skipped == []
    # Settling takes 0.2 s on this mock: cleanup waited, deleted and saw every snapshot gone.
    assert report["cleanup"]["left"] == []
    assert report["cleanup"]["deleted"] > 0
    assert left_on(mock) == []
    assert f"cleanup deleted {report['cleanup']['deleted']} snapshot(s)" in result.stdout


def test_a_spent_budget_skips_what_it_could_not_reach_and_says_so(mock: RunningMock, tmp_path: Path) -> None:
    result, report = run(mock, tmp_path, "--max-creates", "2", "--no-lifecycle")
    assert report["stats"]["creates"] <= 2
    starved = {
        row["id"]: row["evidence"]
        for row in report["requirements"]
        if row["verdict"] == "skip" and "create budget exhausted" in row["evidence"]
    }
    assert starved
    assert all("create budget exhausted (--max-creates 2)" in reason for reason in starved.values())
    assert "not reached within the create budget of 2: " in result.stdout
    assert next(iter(starved)) in result.stdout
    # Refusals cost no budget: the requirements about refused bodies were still judged.
    verdicts = {row["id"]: row["verdict"] for row in report["requirements"]}
    assert verdicts["REQ-JSON"] == "pass"


@pytest.mark.parametrize("mock", [(frozenset({"cannot-delete"}), 0.0)], indirect=True)
def test_what_cannot_be_deleted_is_listed_with_its_id(mock: RunningMock, tmp_path: Path) -> None:
    result, report = run(mock, tmp_path, "--no-lifecycle", "--max-creates", "5", "--cleanup-timeout", "2")
    left = report["cleanup"]["left"]
    remaining = left_on(mock)
    assert sorted(entry["id"] for entry in left) == sorted(remaining)
    assert remaining
    assert all(entry["reason"].startswith("DELETE refused: 400") for entry in left)
    markdown = (tmp_path / "conformance.md").read_text(encoding="utf-8")
    assert f"| `{remaining[0]}` | DELETE refused: 400" in markdown
    assert f"LEFT {remaining[0]}: DELETE refused" in result.stdout


def test_no_cleanup_leaves_the_snapshots_and_the_report_says_so(mock: RunningMock, tmp_path: Path) -> None:
    result, report = run(mock, tmp_path, "--no-lifecycle", "--max-creates", "3", "--no-cleanup")
    assert report["cleanup"]["skipped"] == "off (--no-cleanup)"
    assert sorted(e["id"] for e in report["cleanup"]["left"]) == sorted(left_on(mock))
    assert len(left_on(mock)) == 3
    assert "Cleanup: off (--no-cleanup)." in (tmp_path / "conformance.md").read_text(encoding="utf-8")
    assert "cleanup off (--no-cleanup)" in result.stdout


class _Item:
    def __init__(self, nodeid: str) -> None:
        self.nodeid = nodeid

        def test() -> None: ...

        test.is_hypothesis_test = True  # type: ignore[attr-defined]
        self.obj = test


def test_the_planner_shares_what_is_left_between_the_creating_property_tests() -> None:
    items: list[Any] = [_Item("a"), _Item("b"), _Item("c")]
    planner = BudgetPlanner(items, lambda item: ("OP-ACCEPT",), examples=100)
    assert planner.examples_for(items[0], creates_left=30) == 10
    assert planner.examples_for(items[1], creates_left=1) == 1
    assert planner.examples_for(items[2], creates_left=0) == 0
    assert not planner.is_scaled(items[0])
