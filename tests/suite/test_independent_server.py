"""The suite never fails a conformant server: run it against the independently written one in tests/servers.

That server implements the page differently from the reference mock (lenient on unknown fields, its own
error codes and messages, another ID format, ``""`` for omitted names), so a false failure here is a bug
in the suite, not in a server.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from conformance.contract import PROFILES
from tests.runs import conformant_verdicts, run_command
from tests.servers import serve_alt

pytestmark = pytest.mark.slow


@pytest.mark.parametrize("profile", PROFILES)
def test_the_suite_passes_an_independent_conformant_server(tmp_path: Path, profile: str) -> None:
    reports = tmp_path / "reports"
    with serve_alt(profile=profile, settle_seconds=0.05) as server:
        done = run_command(
            server, reports, "--profile", profile, "--seed", "7", env={"EVS_TOKEN": server.token}, examples=25
        )
    report = json.loads((reports / "conformance.json").read_text(encoding="utf-8"))
    verdicts = {row["id"]: row["verdict"] for row in report["requirements"]}
    wrong = {
        rid: verdicts.get(rid) for rid, want in conformant_verdicts().items() if verdicts.get(rid) != want
    }
    assert not wrong, f"false failures against a conformant server: {wrong}\n{done.stdout[-3000:]}"
    assert done.returncode == 0, done.stderr[-2000:]
