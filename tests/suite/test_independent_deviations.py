"""The suite catches realistic defects of the independently written server, with `run`'s own defaults.

Each defect (``tests/servers/deviations.py``) is one function of that server done wrongly: a body read
loosely, a snapshot read back differently, a time written in another zone, a crash on an unusual request.
The run uses ``evs-conformance run``'s defaults for an endpoint (its create budget, its example count), so
what is caught here is what a user's first run would catch.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.runs import run_command
from tests.servers import serve_alt
from tests.servers.deviations import DEVIATIONS, deviation

pytestmark = pytest.mark.slow


@pytest.mark.parametrize("name", sorted(DEVIATIONS))
def test_each_defect_of_the_independent_server_is_caught(tmp_path: Path, name: str) -> None:
    reports = tmp_path / "reports"
    with deviation(name) as defect, serve_alt(settle_seconds=0.05) as server:
        done = run_command(server, reports, env={"EVS_TOKEN": server.token}, examples=100)
    report = json.loads((reports / "conformance.json").read_text(encoding="utf-8"))
    failed = {row["id"] for row in report["requirements"] if row["verdict"] == "fail"}
    assert defect.breaks in failed, f"{name} was not caught; failed: {sorted(failed)}\n{done.stdout[-2000:]}"
    assert failed - {defect.breaks} <= defect.may_also_break, f"{name} also failed {sorted(failed)}"
    assert done.returncode == 1, done.stderr[-2000:]
