"""junit.xml, Allure results and the console lines on a small report: each verdict, an incomplete run,
and text from the target that would otherwise break the format."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path

from rich.console import Console

from conformance.core.exchange import Exchange, Received, SentRequest
from conformance.report import allure_results, console, junit
from conformance.report.har import HarWriter
from tests.report.junit_shape import check_junit_shape
from tests.report.sample import sample_report

HOSTILE = "]]><x/>\x1b[2J\x00\u202e"


def test_junit_cases_follow_the_verdicts_and_an_incomplete_run_is_an_error() -> None:
    report = sample_report(verdict="incomplete", incomplete_reason="deadline reached after 60 s")
    root = ET.fromstring(junit.render(report))
    check_junit_shape(root)
    suite = root.find("testsuite")
    assert suite is not None
    assert (suite.get("tests"), suite.get("failures"), suite.get("errors"), suite.get("skipped")) == (
        "6",
        "1",
        "1",
        "2",
    )
    cases = {case.get("name", "").split(" ")[0]: case for case in suite.iter("testcase")}
    failure = cases["REQ-NAME"].find("failure")
    assert failure is not None
    assert failure.get("message") == "REQ-NAME: received 202 Accepted; documented 400"
    assert "Table 4 CinderCreateSnapshotOption/name (line 121)" in (failure.text or "")
    assert "curl -i -X POST http://127.0.0.1:9/v2/p/snapshots" in (failure.text or "")
    skipped = cases["RSP-ECHO"].find("skipped")
    assert skipped is not None
    assert skipped.get("message") == "waived: ticket 42 (until 2999-01-01)"
    assert "undocumented summary fields" in (cases["RSP-202-SCHEMA"].findtext("system-out") or "")
    assert "received 202." in (cases["ADV-AUTOBK"].findtext("system-out") or "")
    assert cases["ADV-AUTOBK"].find("skipped") is None
    error = cases["RUN"].find("error")
    assert error is not None
    assert error.get("message") == "deadline reached after 60 s"


def test_junit_holds_any_target_text_as_well_formed_xml() -> None:
    report = sample_report()
    report["requirements"][0]["minimal_case"]["received"] = HOSTILE
    report["requirements"][0]["evidence"] = HOSTILE
    root = ET.fromstring(junit.render(report))
    failure = next(root.iter("failure"))
    assert "\\x1b[2J\\x00\\u202e" in (failure.text or "")
    assert "]]><x/>" in (failure.text or "")


def test_allure_results_name_parameters_by_content_and_record_an_incomplete_run(tmp_path: Path) -> None:
    report = sample_report(verdict="incomplete", incomplete_reason="interrupted")
    allure_results.write_results(report, tmp_path)
    results = {
        json.loads(p.read_text())["labels"][2]["value"]: json.loads(p.read_text())
        for p in tmp_path.glob("*-result.json")
    }
    failing = results["REQ-NAME"]
    assert {"name": "minimal case body", "value": '{"a":"\\u0000"}'} in failing["parameters"]
    assert [s["status"] for s in failing["steps"]] == ["failed", "passed"]
    assert [s["status"] for s in results["RSP-ECHO"]["steps"]] == ["skipped"]
    assert results["RSP-ECHO"]["statusDetails"]["message"] == "Waived (until 2999-01-01): ticket 42"
    assert failing["links"] == [
        {
            "type": "link",
            "name": "Table 4 CinderCreateSnapshotOption/name (line 121)",
            "url": "create-evs-snapshot.txt#L121",
        }
    ]
    attachment = next(a for a in failing["attachments"] if a["name"].startswith("minimal failing exchange"))
    shown = (tmp_path / attachment["source"]).read_text(encoding="utf-8")
    assert shown.startswith("POST http://127.0.0.1:9/v2/p/snapshots\nx-auth-token: ***")
    globals_file = next(tmp_path.glob("*-globals.json"))
    assert (
        json.loads(globals_file.read_text())["errors"][0]["message"]
        == "The run did not complete: interrupted"
    )
    assert "verdict=incomplete" in (tmp_path / "environment.properties").read_text()


def test_console_lines_end_with_the_verdict_and_show_target_text_visibly() -> None:
    report = sample_report(verdict="incomplete", incomplete_reason="interrupted\x1b[2J")
    report["requirements"][0]["minimal_case"]["received"] = "[bold]x[/bold]\x1b[31m"
    lines = console.closing_lines(report)
    assert lines[-1] == (
        "evs-conformance: INCOMPLETE (1 pass, 1 fail, 1 waived, 1 info, 1 skip) against http://127.0.0.1:9; "
        "incomplete: interrupted\\x1b[2J"
    )
    assert "  REQ-NAME        FAIL    received [bold]x[/bold]\\x1b[31m" in lines
    assert "  RSP-ECHO        WAIVED  waived: ticket 42 (until 2999-01-01)" in lines
    assert "  LEFT snap-1: DELETE refused: 400" in lines
    assert not any("\x1b" in line for line in lines)
    terminal = Console(record=True, width=200, force_terminal=True)
    for renderable in console.closing_renderables(report):
        terminal.print(renderable)
    text = terminal.export_text()
    assert "received [bold]x[/bold]\\x1b[31m" in text
    assert text.rstrip().splitlines()[-1] == lines[-1]


def test_allure_results_attach_exchanges_from_the_har_file(tmp_path: Path) -> None:
    request = SentRequest("POST", "http://127.0.0.1:9/v2/p/snapshots", {"x-auth-token": "***"}, b"{}")
    har = tmp_path / "exchanges.har"
    with HarWriter(har) as writer:
        for number in range(4):
            writer.add(
                Exchange(request, Received(202, {}, b"{}")), requirements=("REQ-NAME",), test=f"s{number}"
            )
        writer.add(
            Exchange(request, Received(202, {}, b"{}")),
            requirements=("REQ-NAME",),
            test="f",
            failed=("REQ-NAME",),
        )
    results = tmp_path / "allure-results"
    allure_results.write_results(sample_report(), results, har=har)
    failing = next(
        json.loads(p.read_text()) for p in results.glob("*-result.json") if "REQ-NAME" in p.read_text()
    )
    names = [a["name"] for a in failing["attachments"] if a["name"].startswith("exchange")]
    # The exchange that broke it first, then a bounded number of samples.
    assert names == ["exchange 1 (broke it, f)", "exchange 2 (sample, s0)", "exchange 3 (sample, s1)"]
