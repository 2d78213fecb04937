"""Replaying a run's failures: the same deviation still fails, a clean target shows them fixed."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from conformance.contract import load_contract
from conformance.core.exchange import Exchange, Received, SentRequest
from conformance.mock.server import MockConfig, RunningMock, serve_in_thread
from conformance.report import json as json_report
from conformance.report.har import HarWriter
from conformance.report.replay import CANNOT, FIXED, STILL_FAILS, Replayed, Reproduction, judge, reproductions
from tests.runs import SECRET_VARIABLES, run_command

#: An accepted create that breaks the echo, a refusal the target forgets, and a lifecycle failure.
QUIRKS = frozenset({"echo-drops-metadata", "name-limit-off-by-one-lenient", "read-back-differs"})


@pytest.fixture(scope="module")
def reports(tmp_path_factory: pytest.TempPathFactory) -> Path:
    directory = tmp_path_factory.mktemp("replay") / "reports"
    with serve_in_thread(MockConfig(quirks=QUIRKS)) as mock:
        done = run_command(mock, directory, "--max-creates", "1000", env={"EVS_TOKEN": mock.token})
    assert done.returncode == 1, done.stdout[-2000:] + done.stderr[-2000:]
    verdicts = {
        r["id"]: r["verdict"] for r in json_report.read(directory / "conformance.json")["requirements"]
    }
    assert {verdicts["RSP-ECHO"], verdicts["REQ-NAME"], verdicts["LIFE-READ"]} == {"fail"}
    return directory


def _replay(
    reports: Path, mock: RunningMock, *extra: str, token: bool = True
) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in SECRET_VARIABLES}
    if token:
        env["EVS_TOKEN"] = mock.token
    argv = [sys.executable, "-m", "conformance", "replay", str(reports), "--base-url", mock.base_url, *extra]
    return subprocess.run(argv, env=env, capture_output=True, text=True, timeout=120)


def _outcomes(output: str) -> dict[str, str]:
    return dict(re.findall(rf"^  (\S+): ({STILL_FAILS}|{FIXED}|{CANNOT})", output, re.MULTILINE))


def test_the_same_deviation_still_fails(reports: Path) -> None:
    with serve_in_thread(MockConfig(quirks=QUIRKS)) as mock:
        done = _replay(reports, mock)
        assert mock.backend is not None
        left = mock.backend.list_snapshots(mock.project_id)
    assert done.returncode == 1, done.stdout + done.stderr
    outcomes = _outcomes(done.stdout)
    assert outcomes == {"REQ-NAME": STILL_FAILS, "RSP-ECHO": STILL_FAILS, "LIFE-READ": CANNOT}
    assert "LIFE-READ: cannot replay (judged by " in done.stdout
    # Both reproductions were accepted creates: each made one snapshot, and each was deleted.
    assert "deleted 2 snapshot(s) the reproductions made" in done.stdout
    assert left == []
    assert done.stdout.splitlines()[-1] == (
        f"evs-conformance replay: 2 still fails, 0 fixed, 1 cannot replay against {mock.base_url}"
    )
    assert mock.token not in done.stdout + done.stderr


def test_a_conformant_target_shows_them_fixed(reports: Path) -> None:
    with serve_in_thread(MockConfig()) as mock:
        done = _replay(reports, mock)
    assert done.returncode == 0, done.stdout + done.stderr
    assert _outcomes(done.stdout) == {"REQ-NAME": FIXED, "RSP-ECHO": FIXED, "LIFE-READ": CANNOT}
    assert "REQ-NAME: fixed (answered 400" in done.stdout
    # Only the echo's reproduction is accepted by a conformant target.
    assert "deleted 1 snapshot(s) the reproductions made" in done.stdout


def test_without_a_token_nothing_that_needs_one_is_sent(reports: Path) -> None:
    with serve_in_thread(MockConfig()) as mock:
        done = _replay(reports, mock, token=False)
        assert mock.backend is not None
        made = mock.backend.list_snapshots(mock.project_id)
    assert done.returncode == 0, done.stdout + done.stderr
    assert set(_outcomes(done.stdout).values()) == {CANNOT}
    assert "REQ-NAME: cannot replay (it needs a token: give --token or $EVS_TOKEN)" in done.stdout
    assert made == []


def test_a_missing_report_is_one_line_and_exit_2(tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    env = {k: v for k, v in os.environ.items() if k not in SECRET_VARIABLES}
    done = subprocess.run(
        [sys.executable, "-m", "conformance", "replay", str(tmp_path / "empty")],
        env=env, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert done.returncode == 2
    assert done.stderr.strip().splitlines() == [
        f"evs-conformance: error: {tmp_path / 'empty' / 'conformance.json'}: cannot read the report: "
        "No such file or directory"
    ]


def test_no_answer_now_to_a_request_that_was_answered_proves_nothing() -> None:
    request = SentRequest("POST", "http://127.0.0.1:9/v2/p/snapshots", {}, b"{}")
    recorded = Exchange(request, Received(500, {}, b""))
    reproduction = Reproduction("RSP-NO-5XX", recorded, "/v2/p/snapshots", None, None)
    silent = judge(reproduction, Exchange(request, None, "ConnectError: refused"), load_contract("huawei"))
    assert (silent.outcome, silent.detail) == (CANNOT, "no answer: ConnectError: refused")
    again = judge(reproduction, recorded, load_contract("huawei"))
    assert again.outcome == STILL_FAILS
    fixed = judge(reproduction, Exchange(request, Received(400, {}, b"")), load_contract("huawei"))
    assert fixed.outcome == FIXED


def _summary(snapshot_id: str) -> bytes:
    body = {
        "snapshot": {
            "id": snapshot_id,
            "status": "creating",
            "size": 40,
            "volume_id": "v",
            "name": None,
            "description": None,
            "metadata": {},
            "created_at": "2026-01-01T00:00:00.000000",
            "updated_at": None,
        }
    }
    return json.dumps(body).encode()


def test_a_reused_id_is_judged_against_the_id_the_run_saw_again() -> None:
    contract = load_contract("huawei")
    request = SentRequest("POST", "http://127.0.0.1:9/v2/p/snapshots", {"x-auth-token": "***"}, b"{}")
    headers = {"content-type": "application/json"}
    recorded = Exchange(request, Received(202, headers, _summary("snap-1")))
    reproduction = Reproduction("RSP-ID-UNIQUE", recorded, "/v2/p/snapshots", None, 40, frozenset({"snap-1"}))
    assert judge(reproduction, recorded, contract).outcome == STILL_FAILS
    fresh = Exchange(request, Received(202, headers, _summary("snap-2")))
    assert judge(reproduction, fresh, contract).outcome == FIXED


def test_a_report_without_a_minimal_case_is_replayed_from_the_har_file(tmp_path: Path) -> None:
    request = SentRequest("POST", "http://127.0.0.1:9/v2/p/snapshots", {"x-auth-token": "***"}, b"{")
    har = tmp_path / "exchanges.har"
    with HarWriter(har) as writer:
        writer.add(Exchange(request, Received(500, {}, b"")), requirements=("RSP-NO-5XX",), test="t")
        writer.add(Exchange(request, Received(500, {}, b"")), requirements=("RSP-NO-5XX",), test="u",
                   failed=("RSP-NO-5XX",))  # fmt: skip
    report = {
        "target": {"base_url": "http://127.0.0.1:9"},
        "requirements": [
            {"id": "RSP-NO-5XX", "verdict": "fail", "evidence": "x"},
            {
                "id": "LIFE-READ",
                "verdict": "fail",
                "evidence": "x",
                "minimal_case": {"check": "read_back_matches"},
            },
        ],
    }
    found = reproductions(report, har=har)
    assert isinstance(found[0], Reproduction)
    assert (found[0].path, found[0].expectation) == ("/v2/p/snapshots", None)
    assert found[1] == Replayed(
        "LIFE-READ", CANNOT, "judged by read_back_matches, not by the create checks: it needs a full run"
    )
    assert reproductions(report)[0] == Replayed(
        "RSP-NO-5XX",
        CANNOT,
        "judged by a check the report does not name, not by the create checks: it needs a full run",
    )
