"""With the mock's limits on, the suite still catches a representative set of quirks, each by its name.

The limits are Huawei EVS's (one snapshot of a disk at a time, seven per disk, a snapshot being made cannot be
deleted) with Cinder's quota of ten on top; times run fast. One run per quirk, two at a time; the full
mutation matrix (``test_matrix.py``) stays on the unlimited mock.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

from conformance.contract import PROFILES, load_contract
from conformance.mock.quirks import QUIRKS
from conformance.mock.server import MockConfig, serve_in_thread
from tests.runs import run_command

pytestmark = pytest.mark.slow

#: One quirk or more per part of the suite: the plan's split, echo, IDs, the force rules, the summary's
#: fields, server errors, the snapshot's life, and a disk the run does not know being snapshotted.
REPRESENTATIVE = (
    "name-empty-refused",
    "name-counts-bytes",
    "description-null-refused",
    "echo-trims-name",
    "echo-drops-metadata",
    "reused-ids",
    "force-true-refused",
    "busy-volume-ignored",
    "wrong-accepted-status",
    "size-in-mib",
    "created-at-with-zone",
    "status-capitalised",
    "500-on-non-ascii",
    "read-back-differs",
    "never-settles",
    "delete-wrong-status",
    "cannot-delete",
    "unknown-volume-accepted",
)
LIMITS = {"limits": "huawei", "project_snapshot_quota": 10, "time_scale": 540.0}


def _profile_of(quirk: str) -> str:
    return next(p for p in PROFILES if QUIRKS[quirk].applies_to(load_contract(p)))


def _run(quirk: str, root: Path) -> dict[str, Any]:
    profile = _profile_of(quirk)
    reports = root / quirk
    reports.mkdir()
    with serve_in_thread(MockConfig(profile=profile, quirks=frozenset({quirk}), **LIMITS)) as mock:
        result = run_command(
            mock, reports, "--profile", profile, "--settle-timeout", "2", "--cleanup-timeout", "10",
            "--no-shrink", env={"EVS_TOKEN": mock.token}, examples=2, timeout_s=900,
        )  # fmt: skip
    path = reports / "conformance.json"
    report: dict[str, Any] = json.loads(path.read_text(encoding="utf-8")) if path.exists() else {}
    report["stdout"] = result.stdout[-3000:]
    return report


@pytest.fixture(scope="module")
def reports(tmp_path_factory: pytest.TempPathFactory) -> Mapping[str, dict[str, Any]]:
    root = tmp_path_factory.mktemp("limited-quirks")
    with ThreadPoolExecutor(max_workers=2) as pool:
        found = dict(zip(REPRESENTATIVE, pool.map(lambda q: _run(q, root), REPRESENTATIVE), strict=True))
    return found


@pytest.mark.parametrize("quirk", REPRESENTATIVE)
def test_each_quirk_is_caught_by_name_with_the_limits_on(
    reports: Mapping[str, dict[str, Any]], quirk: str
) -> None:
    report = reports[quirk]
    assert "requirements" in report, report["stdout"]
    failed = sorted(row["id"] for row in report["requirements"] if row["verdict"] == "fail")
    assert QUIRKS[quirk].breaks in failed, f"{quirk} was not caught; failed: {failed}\n{report['stdout']}"
