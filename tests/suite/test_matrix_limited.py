"""The mutation matrix with a cloud's limits on: every quirk is still caught by name, and by nothing else.

The mock keeps Huawei EVS's limits (one snapshot of a disk being made at a time, seven per disk, no delete of
a snapshot still being made) and takes its times, run ``TIME_SCALE`` times faster; the suite tests it as an
endpoint, so the run's scheduler waits, deletes as it goes and sends refused bodies again, within the budget
of a real cloud run. Each run must fail exactly what the same quirk fails on the unlimited mock
(``test_matrix.py``), the clean mock must pass, and cleanup must leave nothing on the mock.
"""

from __future__ import annotations

from collections.abc import Mapping

import pytest

from conformance.contract import PROFILES
from conformance.mock.quirks import QUIRKS
from tests.runs import conformant_verdicts
from tests.suite.matrix_runs import Run, RunResult, matrix_runs, profile_of, run_matrix

pytestmark = pytest.mark.slow

#: Three minutes to settle in 33 ms, a minute to delete in 11: still longer than the run's first poll, so
#: the scheduler waits for every snapshot, and short enough for the whole matrix.
TIME_SCALE = 5400.0
#: A real cloud run's budget and a short settle wait (one quirk never settles); cleanup gets a bounded time.
OPTIONS = ("--evs-max-creates=60", "--evs-settle-timeout=2", "--evs-cleanup-timeout=10")


@pytest.fixture(scope="module")
def matrix(tmp_path_factory: pytest.TempPathFactory) -> Mapping[Run, RunResult]:
    return run_matrix(
        tmp_path_factory.mktemp("matrix-limited"),
        matrix_runs(),
        options=OPTIONS,
        mock={"limits": "huawei", "time_scale": TIME_SCALE},
    )


@pytest.mark.parametrize("profile", PROFILES)
def test_the_clean_mock_passes_every_requirement_within_the_limits(
    matrix: Mapping[Run, RunResult], profile: str
) -> None:
    result = matrix[(profile, None)]
    assert result.verdicts() == conformant_verdicts()
    assert result.left == []


@pytest.mark.parametrize("quirk", sorted(QUIRKS))
def test_each_quirk_fails_what_it_fails_without_limits(matrix: Mapping[Run, RunResult], quirk: str) -> None:
    result = matrix[(profile_of(quirk), quirk)]
    failed = result.failed()
    declared = QUIRKS[quirk].fails
    assert failed == declared, (
        f"{quirk} with the limits on also failed {sorted(failed - declared)} and not "
        f"{sorted(declared - failed)}"
    )
    assert result.left == [], f"{quirk}: the run left {[s['id'] for s in result.left or ()]} on the mock"
