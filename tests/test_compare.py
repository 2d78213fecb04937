"""Comparing two conformance runs: classification, the text and JSON outputs, and the exit codes."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from conformance.cli import main
from conformance.core.errors import UsageError
from conformance.report.compare import compare_reports, parse_report


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
    assert [(c.id, c.old, c.new) for c in comparison.lost_coverage] == [("RSP-SIZE", "pass", "skip")]
    assert comparison.other_changes == ()
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


@pytest.mark.parametrize("before", ["pass", "fail", "info", "waived"])
@pytest.mark.parametrize("after", ["skip", None])
def test_a_requirement_tested_before_and_skipped_or_missing_now_is_lost_coverage(
    before: str, after: str | None
) -> None:
    old = run_report(REQ_NAME=before, REQ_JSON="pass")
    new = run_report(REQ_JSON="pass") if after is None else run_report(REQ_NAME=after, REQ_JSON="pass")
    comparison = compare_reports(old, new)
    assert [(c.id, c.old, c.new) for c in comparison.lost_coverage] == [("REQ-NAME", before, after)]
    assert comparison.removed == ()
    assert comparison.regressed
    assert comparison.summary().endswith("result: 1 requirement no longer tested")


def test_a_requirement_skipped_before_and_now_is_no_regression() -> None:
    comparison = compare_reports(run_report(REQ_NAME="skip"), run_report())
    assert not comparison.regressed
    assert [c.id for c in comparison.removed] == ["REQ-NAME"]


def test_cli_exits_1_listing_lost_coverage(tmp_path: Path) -> None:
    old = write(tmp_path, "old.json", run_report(REQ_NAME="pass", REQ_JSON="pass", RSP_SIZE="info"))
    new = write(tmp_path, "new.json", run_report(REQ_NAME="skip", REQ_JSON="pass"))
    result = CliRunner().invoke(main, ["compare", old, new])
    assert result.exit_code == 1
    assert "lost coverage (tested before, skipped or missing now) (2):" in result.output
    assert "  REQ-NAME  pass -> skip  title of REQ_NAME" in result.output
    assert "  RSP-SIZE  info -> absent  title of RSP_SIZE" in result.output
    assert result.output.rstrip().endswith("result: 2 requirements no longer tested")
    data = json.loads(CliRunner().invoke(main, ["compare", "--json", old, new]).output)
    assert [c["id"] for c in data["lost_coverage"]] == ["REQ-NAME", "RSP-SIZE"]
    assert data["regressed"] is True


@pytest.mark.parametrize("word", ["FAIL", "Pass", "failed", "ok", "", "absent"])
def test_an_unknown_verdict_word_is_refused(word: str) -> None:
    text = json.dumps(run_report(REQ_NAME=word))
    with pytest.raises(UsageError, match="not one of fail, info, pass, skip, waived"):
        parse_report(text, source="x.json")


@pytest.mark.parametrize("verdict", ["FAIL", 1, None, [], {"a": 1}])
def test_an_unknown_run_verdict_is_refused(verdict: object) -> None:
    report: dict[str, Any] = {**run_report(REQ_NAME="pass"), "verdict": verdict}
    with pytest.raises(UsageError, match=r"the run's verdict .* is not one of fail, incomplete, pass"):
        parse_report(json.dumps(report), source="x.json")


def test_a_title_that_is_not_text_is_refused() -> None:
    report = run_report(REQ_NAME="pass")
    report["requirements"][0]["title"] = [[["deep"]]]
    with pytest.raises(UsageError, match="has a 'title' that is not a string"):
        parse_report(json.dumps(report), source="x.json")


def test_deep_nesting_is_refused_in_one_line() -> None:
    with pytest.raises(UsageError, match="nested too deeply"):
        parse_report('{"profile": "huawei", "x": ' + "[" * 200_000 + "]" * 200_000 + "}", source="x.json")


def test_an_escape_sequence_in_an_id_cannot_retitle_the_terminal_or_forge_a_line(tmp_path: Path) -> None:
    forged = "REQ-X\x1b]0;owned\x07\nresult: no new failures\u202e"
    old = write(tmp_path, "old.json", run_report(REQ_NAME="pass"))
    report = run_report(REQ_NAME="pass")
    report["requirements"].append({"id": forged, "verdict": "fail", "title": "\x1b[2J\x9b"})
    new = write(tmp_path, "new.json", report)
    result = CliRunner().invoke(main, ["compare", old, new])
    assert result.exit_code == 1
    for char in "\x1b\x07\x9b\u202e":
        assert char not in result.output
    assert "REQ-X\\x1b]0;owned\\x07\\x0aresult: no new failures\\u202e" in result.output
    assert [line for line in result.output.splitlines() if line.startswith("result:")] == [
        "result: 1 new failure"
    ]


def test_lone_surrogates_and_invalid_utf8_are_clean(tmp_path: Path) -> None:
    old = write(tmp_path, "old.json", run_report(REQ_NAME="pass"))
    surrogate = tmp_path / "surrogate.json"
    surrogate.write_text(
        json.dumps(run_report(REQ_NAME="pass", REQ_X="fail")).replace("title of REQ_X", "\\udcff")
    )
    result = CliRunner().invoke(main, ["compare", old, str(surrogate)])
    assert result.exit_code == 1
    assert "\\udcff" in result.output
    binary = tmp_path / "binary.json"
    binary.write_bytes(b'{"profile": "huawei\xff", "requirements": []}')
    result = CliRunner().invoke(main, ["compare", old, str(binary)])
    assert result.exit_code == 2
    assert "is not UTF-8 text" in result.output


@pytest.mark.parametrize("special", ["/dev/zero", "fifo"])
def test_a_report_that_is_not_a_regular_file_is_refused_at_once(tmp_path: Path, special: str) -> None:
    old = write(tmp_path, "old.json", run_report(REQ_NAME="pass"))
    path = {"/dev/zero": "/dev/zero", "fifo": str(tmp_path / "fifo")}[special]
    if special == "fifo":
        os.mkfifo(path)
    result = CliRunner().invoke(main, ["compare", old, path])
    assert result.exit_code == 2
    assert result.output.count("\n") == 1


def test_an_oversized_report_is_refused_before_it_is_read(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import conformance.cli.compare as cli_compare

    monkeypatch.setattr(cli_compare, "MAX_REPORT_BYTES", 100)
    old = write(tmp_path, "old.json", run_report(REQ_NAME="pass", REQ_JSON="pass", RSP_SIZE="pass"))
    result = CliRunner().invoke(main, ["compare", old, old])
    assert result.exit_code == 2
    assert "more than the 100 accepted" in result.output
