"""The mutation matrix: the suite passes the clean mock and catches every quirk of the mock's catalogue.

Each quirk is run once, in the first profile where it is a deviation, and must fail exactly the
requirements it declares (the one it names and those it also breaks, each with its reason): a failure
elsewhere means a check charges the wrong requirement or the quirk does more than it says. The runs go
against the embedded mock, which has no limits (``tests/suite/matrix_runs.py`` says how they are run;
``test_matrix_limited.py`` repeats them with a cloud's limits on).
"""

from __future__ import annotations

from collections.abc import Mapping

import pytest

from conformance.contract import PROFILES
from conformance.mock.quirks import QUIRKS
from tests.runs import conformant_verdicts
from tests.suite.matrix_runs import Run, RunResult, matrix_runs, profile_of, run_matrix

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def matrix(tmp_path_factory: pytest.TempPathFactory) -> Mapping[Run, RunResult]:
    return run_matrix(tmp_path_factory.mktemp("matrix"), matrix_runs(), options=["--evs-settle-timeout=2"])


@pytest.mark.parametrize("profile", PROFILES)
def test_the_clean_mock_passes_every_requirement(matrix: Mapping[Run, RunResult], profile: str) -> None:
    assert matrix[(profile, None)].verdicts() == conformant_verdicts()


@pytest.mark.parametrize("quirk", sorted(QUIRKS))
def test_each_quirk_fails_exactly_the_requirements_it_breaks(
    matrix: Mapping[Run, RunResult], quirk: str
) -> None:
    failed = matrix[(profile_of(quirk), quirk)].failed()
    assert QUIRKS[quirk].breaks in failed, (
        f"{quirk} ({QUIRKS[quirk].summary}) was not caught; failed: {sorted(failed)}"
    )
    declared = QUIRKS[quirk].fails
    assert failed == declared, (
        f"{quirk} also failed {sorted(failed - declared)} and not {sorted(declared - failed)}; "
        "declare what it also breaks, and why, in conformance/mock/quirks.py"
    )
