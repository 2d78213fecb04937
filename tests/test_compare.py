"""Comparing two conformance runs: classification, the text and JSON outputs, and the exit codes."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from conformance.cli import main
from conformance.compare import compare_reports, parse_report
from conformance.errors import UsageError


def run_report(profile: str = "huawei", **verdicts: str) -> dict[str, Any]:
    requirements = [
        {"id": key.replace("_", "-"), "verdict": verdict, "title": f"title of {key}", "source": "Table 4"}
        for key, verdict in verdicts.items()
    ]
    failing = any(requirement["verdict"] == "fail" for requirement in requirements)
    return {
        "verdict": "fail" if failing else "pass",
        "profile": profile,
        "api_version": "v2",
        "requirements": requirements,
        "stats": {"cases": 3},
    }


def test_every_kind_of_change_is_classified() -> None:
    old = run_report(
        REQ_NAME="pass",
        REQ_JSON="fail",
        REQ_METADATA="fail",
        RSP_SIZE="pass",
        LIFE_READ="pass",
        AUTH_X="skip",
    )
    new = run_report(
        REQ_NAME="fail", REQ_JSON="pass", REQ_METADATA="fail", RSP_SIZE="skip", LIFE_READ="pass", ADV_Y="info"
    )
    comparison = compare_reports(old, new)
    assert [change.id for change in comparison.new_failures] == ["REQ-NAME"]
    assert [change.id for change in comparison.fixes] == ["REQ-JSON"]
    assert [change.id for change in comparison.still_failing] == ["REQ-METADATA"]
    assert [(c.id, c.old, c.new) for c in comparison.other_changes] == [("RSP-SIZE", "pass", "skip")]
    assert [(c.id, c.old, c.new) for c in comparison.added] == [("ADV-Y", None, "info")]
    assert [(c.id, c.old, c.new) for c in comparison.removed] == [("AUTH-X", "skip", None)]
    assert comparison.regressed


@pytest.mark.parametrize("before", ["pass", "skip", "info", "waived", None])
def test_anything_that_was_not_failing_and_now_fails_is_a_new_failure(before: str | None) -> None:
    old = run_report() if before is None else run_report(REQ_NAME=before)
    comparison = compare_reports(old, run_report(REQ_NAME="fail"))
    assert [(c.id, c.old) for c in comparison.new_failures] == [("REQ-NAME", before)]


def test_a_waived_failure_is_not_a_new_failure() -> None:
    comparison = compare_reports(run_report(REQ_NAME="pass"), run_report(REQ_NAME="waived"))
    assert not comparison.regressed
    assert [(c.old, c.new) for c in comparison.other_changes] == [("pass", "waived")]


def test_identical_runs_have_no_changes() -> None:
    report = run_report(REQ_NAME="pass", REQ_JSON="fail")
    comparison = compare_reports(report, report)
    assert not comparison.regressed
    assert comparison.other_changes == comparison.fixes == comparison.new_failures == ()
    assert [c.id for c in comparison.still_failing] == ["REQ-JSON"]
    assert comparison.summary().endswith("result: no new failures")


def test_different_profiles_cannot_be_compared() -> None:
    with pytest.raises(UsageError, match="cannot compare a 'huawei' run with a 'cinder' run"):
        compare_reports(run_report("huawei"), run_report("cinder"))


def test_a_different_api_version_is_noted() -> None:
    new = {**run_report(), "api_version": "v3"}
    comparison = compare_reports(run_report(), new)
    assert comparison.notes == ("API version differs: v2 -> v3",)
    assert "note: API version differs" in comparison.summary()


def test_extra_fields_are_tolerated() -> None:
    report = run_report(REQ_NAME="pass")
    report["future"] = {"anything": [1, 2]}
    report["requirements"][0]["waiver"] = {"reason": "r"}
    assert parse_report(json.dumps(report), source="x.json") == report


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("{", r"x\.json: not valid JSON"),
        ("[]", r"x\.json: expected a JSON object"),
        ('{"requirements": []}', r"x\.json: no 'profile'"),
        ('{"profile": "huawei"}', r"x\.json: no 'requirements' list"),
        ('{"profile": "huawei", "requirements": [{"id": "A"}]}', r"requirement 1 needs a string 'id'"),
        (
            json.dumps(
                {"profile": "huawei", "requirements": [{"id": "A", "verdict": v} for v in ("pass", "fail")]}
            ),
            r"requirement A is listed twice",
        ),
    ],
)
def test_unreadable_reports_are_one_line_usage_errors(text: str, message: str) -> None:
    with pytest.raises(UsageError, match=message) as caught:
        parse_report(text, source="x.json")
    assert "\n" not in str(caught.value)


def write(directory: Path, name: str, report: dict[str, Any]) -> str:
    path = directory / name
    path.write_text(json.dumps(report), encoding="utf-8")
    return str(path)


def test_cli_exits_1_on_a_new_failure_with_a_readable_summary(tmp_path: Path) -> None:
    old = write(tmp_path, "old.json", run_report(REQ_NAME="pass", REQ_JSON="fail"))
    new = write(tmp_path, "new.json", run_report(REQ_NAME="fail", REQ_JSON="pass"))
    result = CliRunner().invoke(main, ["compare", old, new])
    assert result.exit_code == 1
    assert "new failures (1):\n  REQ-NAME  pass -> fail  title of REQ_NAME" in result.output
    assert "fixed (1):\n  REQ-JSON  fail -> pass" in result.output
    assert result.output.rstrip().endswith("result: 1 new failure")


def test_cli_exits_0_without_new_failures_and_prints_json(tmp_path: Path) -> None:
    old = write(tmp_path, "old.json", run_report(REQ_NAME="fail"))
    new = write(tmp_path, "new.json", run_report(REQ_NAME="pass"))
    result = CliRunner().invoke(main, ["compare", "--json", old, new])
    assert result.exit_code == 0
    data = json.loads(result.output)
    assert data["regressed"] is False
    assert data["fixes"] == [{"id": "REQ-NAME", "title": "title of REQ_NAME", "old": "fail", "new": "pass"}]
    assert data["verdict"] == {"old": "fail", "new": "pass"}


@pytest.mark.parametrize("problem", ["missing", "garbage", "profile"])
def test_cli_exits_2_with_one_line_for_bad_input(tmp_path: Path, problem: str) -> None:
    old = write(tmp_path, "old.json", run_report(REQ_NAME="pass"))
    new = {
        "missing": str(tmp_path / "absent.json"),
        "garbage": str(tmp_path / "garbage.json"),
        "profile": write(tmp_path, "cinder.json", run_report("cinder", REQ_NAME="pass")),
    }[problem]
    (tmp_path / "garbage.json").write_text("not json", encoding="utf-8")
    result = CliRunner().invoke(main, ["compare", old, new])
    assert result.exit_code == 2
    lines = result.output.strip().splitlines()
    assert len(lines) == 1
    assert lines[0].startswith("evs-conformance: error: ")
