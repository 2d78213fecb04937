"""The mutation matrix: the suite passes the clean mock and catches every quirk of the mock's catalogue.

Each quirk is run once, in the first profile where it is a deviation, and must fail exactly the
requirements it declares (the one it names and those it also breaks, each with its reason): a failure
elsewhere means a check charges the wrong requirement or the quirk does more than it says. Runs are spread
over two child processes that each import the suite once and call ``pytest.main`` per run; generated cases
are derandomized, so every run draws the same ones, and not shrunk (catching is what counts here).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest

from conformance.contract import PROFILES, load_contract
from conformance.mock.quirks import QUIRKS
from tests.runs import conformant_verdicts

pytestmark = pytest.mark.slow

PROCESSES = 2
EXAMPLES = 5

# Runs one chunk of the matrix: argv[1] is the example count, argv[2] a JSON list of
# [profile, quirk or null, reports dir].
_DRIVER = """
import json, os, sys
import pytest
for profile, quirk, reports in json.loads(sys.argv[2]):
    args = ["--pyargs", "conformance.suite", "-qq", "--no-header", "-p", "no:cacheprovider",
            "-c", os.devnull, "--rootdir", reports, "--evs-reports=" + reports, "--evs-profile=" + profile,
            "--evs-examples=" + sys.argv[1], "--evs-no-shrink", "--evs-settle-timeout=2"]
    if quirk:
        args.append("--evs-mock-quirk=" + quirk)
    pytest.main(args)
"""


def _profile_of(quirk: str) -> str:
    return next(p for p in PROFILES if QUIRKS[quirk].applies_to(load_contract(p)))


Run = tuple[str, str | None]
RUNS: list[Run] = [(p, None) for p in PROFILES] + [(_profile_of(q), q) for q in QUIRKS]


def _run_matrix(root: Path) -> dict[Run, dict[str, Any] | None]:
    jobs = [(profile, quirk, str(root / f"{profile}-{quirk or 'clean'}")) for profile, quirk in RUNS]
    for _, _, reports in jobs:
        Path(reports).mkdir(parents=True)
    chunks = [jobs[i::PROCESSES] for i in range(PROCESSES)]
    children = [
        subprocess.Popen(
            [sys.executable, "-c", _DRIVER, str(EXAMPLES), json.dumps(chunk)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            env={k: v for k, v in os.environ.items() if k != "PYTEST_ADDOPTS"},
        )
        for chunk in chunks
    ]
    for child in children:
        child.wait(timeout=1200)
    results: dict[Run, dict[str, Any] | None] = {}
    for profile, quirk, reports in jobs:
        path = Path(reports) / "conformance.json"
        results[(profile, quirk)] = json.loads(path.read_text(encoding="utf-8")) if path.exists() else None
    return results


@pytest.fixture(scope="module")
def matrix(
    tmp_path_factory: pytest.TempPathFactory,
) -> Mapping[tuple[str, str | None], dict[str, Any] | None]:
    return _run_matrix(tmp_path_factory.mktemp("matrix"))


def _verdicts(report: dict[str, Any] | None) -> dict[str, str]:
    assert report is not None, "the suite did not complete (no conformance.json)"
    return {row["id"]: row["verdict"] for row in report["requirements"]}


@pytest.mark.parametrize("profile", PROFILES)
def test_the_clean_mock_passes_every_requirement(
    matrix: Mapping[Run, dict[str, Any] | None], profile: str
) -> None:
    assert _verdicts(matrix[(profile, None)]) == conformant_verdicts()


@pytest.mark.parametrize("quirk", sorted(QUIRKS))
def test_each_quirk_fails_exactly_the_requirements_it_breaks(
    matrix: Mapping[Run, dict[str, Any] | None], quirk: str
) -> None:
    report = matrix[(_profile_of(quirk), quirk)]
    failed = {rid for rid, verdict in _verdicts(report).items() if verdict == "fail"}
    assert QUIRKS[quirk].breaks in failed, (
        f"{quirk} ({QUIRKS[quirk].summary}) was not caught; failed: {sorted(failed)}"
    )
    declared = QUIRKS[quirk].fails
    assert failed == declared, (
        f"{quirk} also failed {sorted(failed - declared)} and not {sorted(declared - failed)}; "
        "declare what it also breaks, and why, in conformance/mock/quirks.py"
    )
