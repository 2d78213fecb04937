"""Every catalogue requirement is exercised by a shipped test, and the tests name only catalogue IDs."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from conformance.contract.requirements import load_requirements

# Collects the shipped suite with pytest's own collection (markers from decorators, parametrize marks and
# the plugin alike) and prints {node id: [requirement IDs]}. A child process keeps the suite's Hypothesis
# profile, which the plugin loads on collection, out of this session.
_COLLECT = """
import json, os, sys
import pytest

class Markers:
    def __init__(self):
        self.found = {}

    def pytest_collection_modifyitems(self, items):
        for item in items:
            self.found[item.nodeid] = [str(a) for m in item.iter_markers("requirement") for a in m.args]

markers = Markers()
reports = sys.argv[1]
code = pytest.main(
    ["--collect-only", "-qq", "--pyargs", "conformance.suite", "-p", "no:cacheprovider", "-c", os.devnull,
     "--rootdir", reports, "--evs-reports=" + reports],
    plugins=[markers],
)
print(json.dumps({"exit": int(code), "markers": markers.found}))
"""


@pytest.fixture(scope="module")
def markers(tmp_path_factory: pytest.TempPathFactory) -> dict[str, list[str]]:
    reports = tmp_path_factory.mktemp("collect")
    env = {k: v for k, v in os.environ.items() if k != "PYTEST_ADDOPTS"}
    done = subprocess.run(
        [sys.executable, "-c", _COLLECT, str(reports)],
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
        env=env,
        cwd=Path(reports),
    )
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result["exit"] == 0, done.stdout + done.stderr
    found: dict[str, list[str]] = result["markers"]
    assert found, "no shipped test was collected"
    return found


def test_every_requirement_is_carried_by_a_shipped_test(markers: dict[str, list[str]]) -> None:
    carried = {requirement for ids in markers.values() for requirement in ids}
    missing = [r.id for r in load_requirements() if r.id not in carried]
    assert missing == []


def test_markers_name_only_catalogue_requirements(markers: dict[str, list[str]]) -> None:
    known = {r.id for r in load_requirements()}
    unknown = {node: sorted(set(ids) - known) for node, ids in markers.items() if set(ids) - known}
    assert unknown == {}


def test_every_shipped_test_carries_a_requirement(markers: dict[str, list[str]]) -> None:
    assert [node for node, ids in markers.items() if not ids] == []
