"""conformance.json: every catalogue requirement, the overall verdict, no secrets."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from conformance.contract import load_contract
from conformance.contract.requirements import load_requirements
from conformance.core.errors import ToolError
from conformance.report import console
from conformance.report import json as json_report
from conformance.report.ledger import TIME_BUCKETS_MS, MinimalCase, RequirementVerdict, Stats
from conformance.run.settings import RunSettings, TargetSettings

TARGET = TargetSettings("http://127.0.0.1:9", "proj", "secret-token", "vol-1", None)


def build(verdicts: dict[str, RequirementVerdict], profile: str = "huawei") -> dict[str, object]:
    settings = RunSettings(profile=profile, target=TARGET, reports_dir=Path("r"), seed=7)
    return json_report.build(
        settings=settings,
        contract=load_contract(profile),
        target=TARGET.public(),
        verdicts=verdicts,
        catalogue=load_requirements(),
        stats=Stats(cases=120, creates=30),
        duration_s=2.0,
    )


def test_every_catalogue_requirement_appears_in_order() -> None:
    report = build({"REQ-NAME": RequirementVerdict("REQ-NAME", "pass", "Checked.")})
    ids = [row["id"] for row in report["requirements"]]  # type: ignore[attr-defined, index]
    assert ids == [r.id for r in load_requirements()]
    rows = {row["id"]: row for row in report["requirements"]}  # type: ignore[attr-defined, index]
    assert rows["REQ-NAME"]["verdict"] == "pass"
    assert rows["OP-ACCEPT"]["verdict"] == "skip"
    assert rows["OP-ACCEPT"]["evidence"] == json_report.NOT_EXERCISED
    assert rows["REQ-NAME"]["source"] == "Table 4"


def test_one_failure_fails_the_run_and_carries_its_reproduction() -> None:
    failing = RequirementVerdict("RSP-ECHO", "fail", "1 violation(s).", "curl -i -X POST http://x")
    report = build({"RSP-ECHO": failing})
    assert report["verdict"] == "fail"
    row = next(r for r in report["requirements"] if r["id"] == "RSP-ECHO")  # type: ignore[attr-defined]
    assert row["reproduction"] == "curl -i -X POST http://x"
    assert report["counts"]["fail"] == 1  # type: ignore[index]


def test_info_and_skip_do_not_fail_the_run() -> None:
    report = build(
        {
            "ADV-AUTOBK": RequirementVerdict("ADV-AUTOBK", "info", "Accepted."),
            "OP-ACCEPT": RequirementVerdict("OP-ACCEPT", "pass", "Checked."),
        }
    )
    assert report["verdict"] == "pass"


def test_stats_target_and_no_token() -> None:
    report = build({})
    stats = dict(report["stats"])  # type: ignore[call-overload]
    assert stats.pop("response_times") == {"buckets_ms": list(TIME_BUCKETS_MS), "by_status": {}}
    assert stats == {"cases": 120, "duration_s": 2.0, "creates": 30, "cases_per_s": 60.0}
    assert report["target"]["base_url"] == "http://127.0.0.1:9"  # type: ignore[index]
    assert report["seed"] == 7
    assert report["api_version"] == "v2"
    assert "secret-token" not in json.dumps(report)


def test_cinder_titles_name_the_profile_difference() -> None:
    report = build({}, profile="cinder")
    row = next(r for r in report["requirements"] if r["id"] == "REQ-NAME")  # type: ignore[attr-defined]
    assert "(cinder profile: 255)" in row["title"]


def test_requirements_outside_the_catalogue_are_kept() -> None:
    report = build({"X-EXTRA": RequirementVerdict("X-EXTRA", "pass", "Checked.")})
    assert report["requirements"][-1]["id"] == "X-EXTRA"  # type: ignore[index]


def test_write_and_read_round_trip(tmp_path: Path) -> None:
    report = build({})
    path = json_report.write(tmp_path / "out" / json_report.FILENAME, report)
    assert json_report.read(path) == report


@pytest.mark.parametrize("content", ["{", "[]", '{"verdict": "pass"}'])
def test_read_refuses_what_is_not_a_report(tmp_path: Path, content: str) -> None:
    path = tmp_path / "c.json"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(ToolError, match=r"c\.json"):
        json_report.read(path)


def test_the_report_carries_cleanup_and_the_broken_document_line() -> None:
    from conformance.report.ledger import Cleanup, LeftSnapshot

    settings = RunSettings(profile="huawei", target=TARGET, reports_dir=Path("r"), max_creates=60)
    source = "Table 4 CinderCreateSnapshotOption/name"
    minimal = MinimalCase("t", "status_matches_expectation", "202", "400", source, "Received: 202")
    failing = RequirementVerdict("REQ-NAME", "fail", "x", None, violations=1, minimal=minimal)
    report = json_report.build(
        settings=settings,
        contract=load_contract("huawei"),
        target=TARGET.public(),
        verdicts={"REQ-NAME": failing},
        catalogue=load_requirements(),
        stats=Stats(),
        duration_s=1.0,
        cleanup=Cleanup(2, (LeftSnapshot("snap-1", "DELETE refused: 400"),)),
    )
    assert report["cleanup"] == {
        "deleted": 2,
        "already_gone": 0,
        "left": [{"id": "snap-1", "reason": "DELETE refused: 400"}],
        "skipped": None,
    }
    assert report["max_creates"] == 60
    row = next(r for r in report["requirements"] if r["id"] == "REQ-NAME")  # type: ignore[attr-defined]
    # The row of the page the failure broke, found in the page text (spec/source/create-evs-snapshot.txt).
    page = (Path(__file__).parents[2] / "spec" / "source" / "create-evs-snapshot.txt").read_text()
    assert page.splitlines()[row["document_line"] - 1] == "name"
    assert "Table 4 CinderCreateSnapshotOption" in page.splitlines()[row["document_line"] - 47]
    assert (row["document_ref"], row["broken_source"]) == (source, source)
    assert row["minimal_case"]["received"] == "202"
    other = next(r for r in report["requirements"] if r["id"] == "REQ-JSON")  # type: ignore[attr-defined]
    assert page.splitlines()[other["document_line"] - 1] == "Status Codes"
    lines = console.closing_lines(report)
    assert "evs-conformance: cleanup deleted 2 snapshot(s) and saw each gone; 1 left behind:" in lines
    assert "  LEFT snap-1: DELETE refused: 400" in lines


def test_redacted_masks_every_string_value_and_keeps_the_keys() -> None:
    data = {"evidence": "sent secret-token-1", "nested": [{"curl": "x secret-token-1"}], "n": 1}
    masked = json_report.redacted(data, lambda text: text.replace("secret-token-1", "***"))
    assert masked == {"evidence": "sent ***", "nested": [{"curl": "x ***"}], "n": 1}
