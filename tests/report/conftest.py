"""Real runs whose reports the tests of this package read: against a deviating mock, with and without a
waiver for its failure, and against a clean mock."""

from __future__ import annotations

from pathlib import Path

import pytest

from conformance.mock.server import MockConfig, serve_in_thread
from conformance.report import json as json_report
from tests.runs import run_command

WAIVER_REASON = "vendor ticket 4711: the zone suffix stays until 2.0"
WAIVER_EXPIRES = "2999-12-31"
#: The deviation the failing runs are made against, and the requirement it breaks.
QUIRK, BROKEN = "created-at-with-zone", "RSP-TIME-FORMAT"


@pytest.fixture(scope="session")
def runs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[Path, int]]:
    """Runs against a deviating mock (one failure; that failure waived) and a clean mock."""
    base = tmp_path_factory.mktemp("agreement")
    waivers = base / "waivers.yaml"
    waivers.write_text(
        "waivers:\n"
        f'  - id: {BROKEN}\n    reason: "{WAIVER_REASON}"\n    expires: {WAIVER_EXPIRES}\n'
        "  - id: REQ-NAME\n    reason: not failing, so unused\n",
        encoding="utf-8",
    )
    found: dict[str, tuple[Path, int]] = {}
    plans = {
        "quirk": (frozenset({QUIRK}), ()),
        "quirk-waived": (frozenset({QUIRK}), ("--waivers", str(waivers))),
        "clean": (frozenset(), ("--no-lifecycle",)),
    }
    for name, (quirks, extra) in plans.items():
        with serve_in_thread(MockConfig(quirks=quirks)) as mock:
            reports = base / name
            done = run_command(mock, reports, *extra, env={"EVS_TOKEN": mock.token})
            assert (reports / json_report.FILENAME).is_file(), done.stdout[-2000:] + done.stderr[-2000:]
            found[name] = (reports, done.returncode)
    return found
