"""A refused planned body is charged to the field and class the target refused, and hides no other check."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

SECRETS = ("EVS_TOKEN", "EVS_PASSWORD")


def run_with_quirks(
    reports: Path, *quirks: str, profile: str = "huawei", extra: tuple[str, ...] = ()
) -> dict[str, Any]:
    argv = [sys.executable, "-m", "conformance", "run", "--reports", str(reports), "--examples", "1"]
    argv += ["--profile", profile, *[part for quirk in quirks for part in ("--mock-quirk", quirk)], *extra]
    env = {k: v for k, v in os.environ.items() if k not in SECRETS}
    subprocess.run(argv, env=env, capture_output=True, text=True, timeout=600, check=False)
    report: dict[str, Any] = json.loads((reports / "conformance.json").read_text(encoding="utf-8"))
    return {row["id"]: row for row in report["requirements"]}


def minimal_body(row: dict[str, Any]) -> Any:
    text = row["minimal_case"]["exchange"]["request"]["postData"]["text"]
    return json.loads(text)["snapshot"]


def test_a_refused_whole_value_is_charged_to_its_field_not_to_the_operation(tmp_path: Path) -> None:
    rows = run_with_quirks(tmp_path, "name-empty-refused")
    assert rows["REQ-NAME"]["verdict"] == "fail"
    assert set(minimal_body(rows["REQ-NAME"])) == {"volume_id", "name"}
    assert minimal_body(rows["REQ-NAME"])["name"] == ""
    assert "name carries empty" in rows["REQ-NAME"]["minimal_case"]["documented"]
    assert rows["OP-ACCEPT"]["verdict"] == "pass"
    assert rows["RSP-ECHO"]["verdict"] == "pass"


def test_the_class_a_target_refuses_is_found_inside_the_combined_value(tmp_path: Path) -> None:
    rows = run_with_quirks(tmp_path, "description-counts-bytes")
    row = rows["REQ-DESCRIPTION"]
    assert row["verdict"] == "fail"
    sent = minimal_body(row)
    assert set(sent) == {"volume_id", "description"}
    # The bound filled with multi-byte characters, alone: 85 characters, more bytes than that.
    assert len(sent["description"]) == 85
    assert "the 85-character bound in multi-byte characters" in row["minimal_case"]["documented"]
    assert rows["OP-ACCEPT"]["verdict"] == "pass"
    assert rows["REQ-NAME"]["verdict"] == "pass"


def test_a_refused_body_hides_no_other_fields_echo(tmp_path: Path) -> None:
    # The combined body is refused for its name; the split bodies the target accepts still show the trimming.
    rows = run_with_quirks(tmp_path, "name-counts-bytes", "echo-trims-name")
    assert rows["REQ-NAME"]["verdict"] == "fail"
    assert rows["RSP-ECHO"]["verdict"] == "fail"
    assert rows["LIFE-READ"]["verdict"] == "pass"


@pytest.mark.parametrize("profile", ["huawei", "cinder"])
def test_a_server_error_on_one_class_is_charged_to_the_fields_carrying_it(
    tmp_path: Path, profile: str
) -> None:
    rows = run_with_quirks(tmp_path, "500-on-non-ascii", profile=profile)
    assert rows["RSP-NO-5XX"]["verdict"] == "fail"
    for requirement in ("REQ-NAME", "REQ-DESCRIPTION", "REQ-METADATA"):
        assert rows[requirement]["verdict"] == "fail", requirement
        assert len(json.dumps(minimal_body(rows[requirement]), ensure_ascii=False)) < 120, requirement


def test_a_refusal_the_budget_leaves_unsplit_is_charged_to_the_test_that_sent_it(tmp_path: Path) -> None:
    # Four creates: the planned bodies go, the refused one is kept for the split, and the split finds the
    # budget spent. The refusal is charged at the end as it came, to the test that sent the body, not to
    # whichever test ran last.
    rows = run_with_quirks(tmp_path, "name-empty-refused", extra=("--max-creates", "4"))
    row = rows["OP-ACCEPT"]
    assert row["verdict"] == "fail"
    violated = [test["test"] for test in row["tests"] if test["outcome"] == "violated"]
    assert violated == ["test_create_plan.py::test_whole_value_body_is_accepted[empty]"]
