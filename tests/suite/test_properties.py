"""The shipped property tests charge a refusal to the field that caused it, not to one sent beside it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from hypothesis import find, settings
from hypothesis.errors import NoSuchExample

from conformance.contract import Contract, load_contract
from conformance.suite.test_properties import _bodies, _busy_bodies

VOLUME = "vol-1"
FIELDS = ("name", "description", "force", "metadata")
#: The per-field and busy-disk property tests, which must each vary one field only.
FIELD_TESTS = "test_fuzzed_field_gets_the_documented_answer or test_fuzzed_force_against_a_busy_disk"
FIELD_REQUIREMENTS = ("REQ-NAME", "REQ-DESCRIPTION", "REQ-FORCE-TYPE", "REQ-METADATA")
FORCE_REQUIREMENTS = ("REQ-FORCE-DEFAULT", "REQ-FORCE-FALSE", "REQ-FORCE-TRUE")
SEARCH = settings(max_examples=300, database=None)


@pytest.fixture(scope="module", params=["huawei", "cinder"])
def contract(request: pytest.FixtureRequest) -> Contract:
    return load_contract(request.param)


@pytest.mark.parametrize("field", FIELDS)
def test_a_fields_property_test_sends_that_field_alone(contract: Contract, field: str) -> None:
    key = contract.snapshot_key
    with pytest.raises(NoSuchExample):
        find(
            _bodies(contract, VOLUME, field),
            lambda body: set(body[key]) != {"volume_id", field},
            settings=SEARCH,
        )


def test_the_busy_disk_property_test_varies_force_alone(contract: Contract) -> None:
    key = contract.snapshot_key
    bodies = _busy_bodies(contract, VOLUME)
    with pytest.raises(NoSuchExample):
        find(bodies, lambda body: not set(body[key]) <= {"volume_id", "force"}, settings=SEARCH)
    find(bodies, lambda body: "force" not in body[key])
    find(bodies, lambda body: body[key].get("force") is True)


def _run(reports: Path, quirk: str) -> tuple[dict[str, str], str]:
    """Run the field property tests against the embedded mock with ``quirk`` on: verdicts and output."""
    command = [
        sys.executable,
        "-m",
        "pytest",
        "--pyargs",
        "conformance.suite",
        "-qq",
        "-p",
        "no:cacheprovider",
        "-c",
        os.devnull,
        "--rootdir",
        str(reports),
        "-k",
        FIELD_TESTS,
        f"--evs-reports={reports}",
        "--evs-examples=30",
        f"--evs-mock-quirk={quirk}",
    ]
    env = {k: v for k, v in os.environ.items() if k != "PYTEST_ADDOPTS"}
    done = subprocess.run(command, capture_output=True, text=True, check=False, timeout=300, env=env)
    report: dict[str, Any] = json.loads((reports / "conformance.json").read_text(encoding="utf-8"))
    return {r["id"]: r["verdict"] for r in report["requirements"]}, done.stdout + done.stderr


def test_a_field_quirk_fails_that_fields_requirement_alone_with_a_short_report(tmp_path: Path) -> None:
    verdicts, output = _run(tmp_path, "name-empty-refused")
    assert verdicts["REQ-NAME"] == "fail"
    for requirement in (*FIELD_REQUIREMENTS[1:], *FORCE_REQUIREMENTS):
        assert verdicts[requirement] == "pass", requirement
    # The failing example is printed with the test's arguments, the contract among them.
    assert "overly large repr" not in output
