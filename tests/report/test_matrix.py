"""The matrix of many runs: the reports of runs against two differently quirked mocks, merged."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from click.testing import CliRunner

from conformance.cli import main
from conformance.report.matrix import HTML, MARKDOWN, Matrix, Run, load_run


@pytest.fixture(scope="module")
def two_runs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """A run against a mock that drops metadata from its answers, and one against a clean mock."""
    root = tmp_path_factory.mktemp("matrix-runs")
    runs = {"eu-west": ["--mock-quirk", "echo-drops-metadata"], "ap-south": []}
    for name, extra in runs.items():
        result = CliRunner().invoke(
            main, ["run", "--reports", str(root / name), "--examples", "1", "--requirements", "RSP-*", *extra]
        )
        assert result.exit_code in (0, 1), result.output
    return {name: root / name for name in runs}


def test_runs_of_two_targets_merge_into_one_matrix(two_runs: dict[str, Path], tmp_path: Path) -> None:
    argv = ["matrix", *(f"{name}={path}" for name, path in two_runs.items()), "--output", str(tmp_path)]
    result = CliRunner().invoke(main, argv)
    assert result.exit_code == 1, result.output  # one of the two runs failed
    markdown = (tmp_path / MARKDOWN).read_text(encoding="utf-8")
    assert "| Requirement | eu-west | ap-south |" in markdown
    assert "| **Verdict** | FAIL | PASS |" in markdown
    assert re.search(r"\| RSP-ECHO .* \| FAIL \| PASS \|", markdown)
    # Requirements outside the selection are skipped in both runs, and the matrix says so.
    assert re.search(r"\| REQ-NAME .* \| SKIP \| SKIP \|", markdown)
    for name, path in two_runs.items():
        report = json.loads((path / "conformance.json").read_text(encoding="utf-8"))
        for row in report["requirements"]:
            line = next(line for line in markdown.splitlines() if line.startswith(f"| {row['id']} "))
            cells = [cell.strip() for cell in line.strip("|").split("|")][1:]
            column = list(two_runs).index(name)
            assert cells[column] == row["verdict"].upper()
    page = (tmp_path / HTML).read_text(encoding="utf-8")
    assert '<tr data-req="RSP-ECHO">' in page
    assert "<th>eu-west</th><th>ap-south</th>" in page


def test_a_column_is_named_by_its_target_when_no_name_is_given(two_runs: dict[str, Path]) -> None:
    run = load_run(two_runs["eu-west"])
    assert run.name == "eu-west"  # the embedded mock's run is named by its reports folder
    assert run.report["target"]["embedded_mock"] is True


def test_two_columns_with_one_name_are_refused(two_runs: dict[str, Path], tmp_path: Path) -> None:
    result = CliRunner().invoke(
        main, ["matrix", f"x={two_runs['eu-west']}", f"x={two_runs['ap-south']}", "--output", str(tmp_path)]
    )
    assert result.exit_code == 2
    assert "two runs are both named x" in result.output


def test_text_from_a_report_is_escaped() -> None:
    report = {
        "profile": "huawei",
        "verdict": "pass",
        "target": {"base_url": "http://127.0.0.1:9"},
        "requirements": [{"id": "OP-ACCEPT", "title": "<script>x</script> | pipe", "verdict": "pass"}],
    }
    table = Matrix.of([Run("\x1b]0;owned\x07", report)])
    assert "<script>" not in table.html()
    assert "\x1b" not in table.markdown() + table.html()
    assert "\\| pipe" in table.markdown()
    assert table.exit_code == 0


def test_an_unreadable_report_is_one_line(tmp_path: Path) -> None:
    (tmp_path / "conformance.json").write_text("{", encoding="utf-8")
    result = CliRunner().invoke(main, ["matrix", str(tmp_path), "--output", str(tmp_path / "out")])
    assert result.exit_code == 2
    assert len(result.output.strip().splitlines()) == 1
