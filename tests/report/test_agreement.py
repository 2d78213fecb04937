"""Every view of a run says what conformance.json says, requirement by requirement.

Real runs of ``evs-conformance run`` against mock deviations, with and without waivers; junit.xml, the
Allure results and the console's closing lines are written from each run's conformance.json and checked
against it for every requirement. Once a run writes these views itself, set ``RUN_WRITES_VIEWS`` and the
same checks read the run's own files.
"""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from conformance.core.verdicts import FAIL, INFO, PASS, SKIP, VERDICTS, WAIVED
from conformance.mock.server import MockConfig
from conformance.report import allure_results, console, junit
from conformance.report import json as json_report
from conformance.report.coverage import gate
from conformance.report.har import FILENAME as HAR_FILENAME
from conformance.report.views import write_views
from tests.report.conftest import WAIVER_EXPIRES, WAIVER_REASON
from tests.report.junit_shape import check_junit_shape

#: Whether ``evs-conformance run`` writes junit.xml and allure-results from conformance.json itself.
RUN_WRITES_VIEWS = False


def _views(reports: Path, scratch: Path) -> tuple[Path, Path]:
    """The run's junit.xml and Allure results directory: its own, or written here from its report."""
    if RUN_WRITES_VIEWS:
        return reports / junit.FILENAME, reports / allure_results.DIRECTORY
    report = json_report.read(reports / json_report.FILENAME)
    written = write_views(report, scratch, har=reports / HAR_FILENAME)
    return written["junit"], written["allure"]


def _verdicts(report: dict[str, Any]) -> dict[str, str]:
    return {row["id"]: row["verdict"] for row in report["requirements"]}


def test_the_runs_show_a_failure_its_waiver_and_a_pass(runs: dict[str, tuple[Path, int]]) -> None:
    quirk = json_report.read(runs["quirk"][0] / json_report.FILENAME)
    waived = json_report.read(runs["quirk-waived"][0] / json_report.FILENAME)
    clean = json_report.read(runs["clean"][0] / json_report.FILENAME)
    assert _verdicts(quirk)["RSP-TIME-FORMAT"] == FAIL
    assert _verdicts(waived)["RSP-TIME-FORMAT"] == WAIVED
    assert (quirk["verdict"], waived["verdict"], clean["verdict"]) == (FAIL, PASS, PASS)
    assert SKIP in _verdicts(clean).values()  # --no-lifecycle
    # The exit code of each run is the one the gate gives its report.
    for reports, code in runs.values():
        assert gate(json_report.read(reports / json_report.FILENAME)).exit_code == code


@pytest.mark.parametrize("name", ["quirk", "quirk-waived", "clean"])
def test_junit_allure_and_console_agree_with_the_report(
    runs: dict[str, tuple[Path, int]], name: str, tmp_path: Path
) -> None:
    reports, _ = runs[name]
    report = json_report.read(reports / json_report.FILENAME)
    verdicts = _verdicts(report)
    xml_path, results = _views(reports, tmp_path)

    cases = _junit_cases(xml_path)
    assert set(cases) == set(verdicts)
    for rid, verdict in verdicts.items():
        assert cases[rid]["state"] == {FAIL: "failure", WAIVED: "skipped", SKIP: "skipped"}.get(
            verdict, "passed"
        )
    _check_junit_details(report, cases)

    allure = _allure_results(results)
    assert set(allure) == set(verdicts)
    for rid, verdict in verdicts.items():
        assert allure[rid]["status"] == allure_results.STATUS[verdict], rid
        assert {s["status"] for s in allure[rid]["steps"]} <= _allowed_steps(verdict), rid
        assert all("<class" not in p["value"] for p in allure[rid]["parameters"])
    _check_allure_details(report, allure)
    ring = Counter(result["status"] for result in allure.values())
    expected = Counter(allure_results.STATUS[v] for v in verdicts.values())
    assert ring == expected

    lines = console.closing_lines(report)
    counts = Counter(verdicts.values())
    assert lines[-1] == (
        f"evs-conformance: {report['verdict'].upper()} ("
        + ", ".join(f"{counts[v]} {v}" for v in VERDICTS)
        + f") against {report['target']['base_url']}"
    )
    table = {line.split()[0]: line.split()[1] for line in lines if line.startswith("  ") and line.split()}
    assert {rid: table[rid] for rid in verdicts} == {rid: v.upper() for rid, v in verdicts.items()}


def _allowed_steps(verdict: str) -> set[str]:
    return {PASS: {"passed"}, INFO: {"passed"}, FAIL: {"passed", "failed"}}.get(verdict, {"skipped"})


def _junit_cases(path: Path) -> dict[str, dict[str, Any]]:
    root = ET.parse(path).getroot()
    check_junit_shape(root)
    cases: dict[str, dict[str, Any]] = {}
    for case in root.iter("testcase"):
        rid = case.get("name", "").split(" ", 1)[0]
        children = {child.tag: child for child in case}
        state = next((tag for tag in ("failure", "error", "skipped") if tag in children), "passed")
        cases[rid] = {"state": state, "element": case, **{tag: el for tag, el in children.items()}}
    return cases


def _check_junit_details(report: dict[str, Any], cases: dict[str, dict[str, Any]]) -> None:
    for row in report["requirements"]:
        case = cases[row["id"]]
        assert case["element"].get("classname") == f"evs-conformance.{report['profile']}"
        if row["verdict"] == FAIL:
            text = case["failure"].text
            assert row["minimal_case"]["received"] in text
            assert row["reproduction"] in text
        if row["verdict"] == WAIVED:
            message = case["skipped"].get("message")
            assert WAIVER_REASON in message
            assert WAIVER_EXPIRES in message
        for observation in row["observations"]:
            assert observation["sentence"] in case["system-out"].text
        for test in row["tests"]:
            assert test["test"] in case["system-out"].text


def _allure_results(results: Path) -> dict[str, dict[str, Any]]:
    found: dict[str, dict[str, Any]] = {}
    for path in results.glob("*-result.json"):
        result = json.loads(path.read_text(encoding="utf-8"))
        stories = [label["value"] for label in result["labels"] if label["name"] == "story"]
        assert len(stories) == 1
        assert stories[0] not in found
        found[stories[0]] = result
        for attachment in result.get("attachments", []):
            assert (results / attachment["source"]).is_file()
    return found


def _check_allure_details(report: dict[str, Any], allure: dict[str, dict[str, Any]]) -> None:
    token = MockConfig().token
    for row in report["requirements"]:
        result = allure[row["id"]]
        text = json.dumps(result, ensure_ascii=False)
        assert token not in text
        if row["verdict"] == WAIVED:
            assert WAIVER_REASON in result["statusDetails"]["message"]
            assert WAIVER_EXPIRES in result["statusDetails"]["message"]
        if row["verdict"] == FAIL:
            assert row["minimal_case"]["received"] in result["statusDetails"]["message"]
            names = [a["name"] for a in result["attachments"]]
            assert "minimal failing exchange (token masked)" in names
        if row.get("document_line"):
            assert any(link["url"].endswith(f"#L{row['document_line']}") for link in result["links"])
        for observation in row["observations"]:
            assert observation["sentence"] in result["description"]
        assert len(result["steps"]) == len(row["tests"])
        for step, test in zip(result["steps"], row["tests"], strict=True):
            assert step["name"].startswith(test["test"] + ": ")
