"""Requirement selection and the exit-code gate."""

from __future__ import annotations

from pathlib import Path

import pytest

from conformance.contract import load_contract
from conformance.contract.requirements import is_selected, load_requirements, select_requirements
from conformance.core.errors import UsageError
from conformance.core.verdicts import INCOMPLETE, run_verdict
from conformance.report import json as json_report
from conformance.report.coverage import gate
from conformance.report.ledger import RequirementVerdict, Stats
from conformance.run.settings import RunSettings
from tests.report.sample import sample_report

KNOWN = [r.id for r in load_requirements()]


def test_patterns_select_requirements_and_a_pattern_naming_none_is_refused() -> None:
    chosen = select_requirements("REQ-NAME, rsp-*", KNOWN)
    assert "REQ-NAME" in chosen
    assert {r for r in KNOWN if r.startswith("RSP-")} <= chosen
    assert "REQ-JSON" not in chosen
    with pytest.raises(UsageError, match="'NOPE-\\*' names no requirement"):
        select_requirements("REQ-NAME,NOPE-*", KNOWN)
    with pytest.raises(UsageError, match="needs at least one"):
        select_requirements(" , ", KNOWN)
    assert is_selected(("REQ-JSON", "RSP-NO-5XX"), chosen)
    assert not is_selected(("REQ-JSON",), chosen)
    assert is_selected(("REQ-JSON",), None)


def test_unselected_requirements_are_skipped_in_the_report_and_left_out_of_the_gate() -> None:
    verdicts = {
        "REQ-NAME": RequirementVerdict("REQ-NAME", "pass", "Checked."),
        "REQ-JSON": RequirementVerdict("REQ-JSON", "fail", "broken"),
    }
    report = json_report.build(
        settings=RunSettings(profile="huawei", target=None, reports_dir=Path("r")),
        contract=load_contract("huawei"),
        target={},
        verdicts=verdicts,
        catalogue=load_requirements(),
        stats=Stats(),
        duration_s=1.0,
        selected=frozenset({"REQ-NAME"}),
    )
    rows = {row["id"]: row for row in report["requirements"]}
    assert rows["REQ-JSON"]["verdict"] == "skip"
    assert rows["REQ-JSON"]["evidence"] == "not selected (--requirements)"
    assert report["verdict"] == "pass"
    decision = gate(report, fail_on_skip=True, min_reached=1.0)
    assert (decision.exit_code, decision.reached) == (0, 1.0)


def test_the_gate_fails_on_failures_skips_and_too_little_reached() -> None:
    report = sample_report()
    assert gate(report).exit_code == 1
    assert gate(report).reasons == ("failed: REQ-NAME",)
    report["requirements"][0]["verdict"] = "pass"
    report["verdict"] = "pass"
    assert gate(report).exit_code == 0
    strict = gate(report, fail_on_skip=True, min_reached=0.9)
    assert strict.exit_code == 1
    assert strict.reasons == (
        "skipped (--fail-on-skip): LIFE-READ",
        "reached 4 of 5 requirements (80%), below 90%",
    )
    assert gate(report, min_reached=0.8).exit_code == 0
    with pytest.raises(UsageError):
        gate(report, min_reached=80)


def test_an_incomplete_run_exits_2_whatever_it_found() -> None:
    report = sample_report(verdict=INCOMPLETE, incomplete_reason="interrupted")
    report["requirements"][0]["verdict"] = "pass"
    decision = gate(report)
    assert (decision.exit_code, decision.reasons) == (2, ("the run did not complete: interrupted",))
    assert run_verdict(["pass", "skip"], incomplete_reason="interrupted") == INCOMPLETE
    assert run_verdict(["fail"], incomplete_reason="interrupted") == INCOMPLETE
    report["requirements"][0]["verdict"] = "fail"
    failed = gate(report)
    assert failed.exit_code == 2
    assert failed.reasons[0] == "the run did not complete: interrupted"
    assert run_verdict(["pass", "waived", "info"]) == "pass"
