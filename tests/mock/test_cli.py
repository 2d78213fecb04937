"""``evs-conformance mock``: listing quirks, refusing bad options, serving until interrupted."""

from __future__ import annotations

import json
import signal
import subprocess
import sys

import httpx
from click.testing import CliRunner

from conformance.cli import main
from conformance.mock import QUIRKS, MockConfig


def test_list_quirks_prints_each_with_the_requirement_it_breaks() -> None:
    result = CliRunner().invoke(main, ["mock", "--list-quirks"])
    assert result.exit_code == 0
    lines = result.output.splitlines()
    assert len(lines) == len(QUIRKS)
    for line, quirk in zip(lines, QUIRKS.values(), strict=True):
        assert line.split()[:2] == [quirk.name, quirk.breaks]


def test_bad_options_exit_2_with_one_line() -> None:
    runner = CliRunner()
    for args in (
        ["--volume", "no-size"],
        ["--user", "nopassword"],
        ["--quirk", "nope"],
        ["--profile", "aws"],
    ):
        result = runner.invoke(main, ["mock", *args])
        assert result.exit_code == 2, result.output
        assert "Traceback" not in result.output
    unknown = runner.invoke(main, ["mock", "--quirk", "nope"])
    assert unknown.output.strip().count("\n") == 0
    assert "unknown quirk nope" in unknown.output


def test_serves_the_defaults_and_stops_on_interrupt() -> None:
    child = subprocess.Popen(
        [sys.executable, "-c", "from conformance.cli import main; main()", "mock", "--seed", "3"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert child.stdout is not None
        first = child.stdout.readline()
        base_url = first.rsplit(" ", 1)[-1].strip()
        rest = [child.stdout.readline() for _ in range(8)]
        defaults = MockConfig()
        text = "".join(rest)
        for value in (
            defaults.project_id,
            defaults.token,
            defaults.users[0][0],
            *(v.id for v in defaults.volumes),
        ):
            assert value in text
        response = httpx.get(
            f"{base_url}/v2/{defaults.project_id}/snapshots", headers={"X-Auth-Token": defaults.token}
        )
        assert response.json() == {"snapshots": []}
    finally:
        child.send_signal(signal.SIGINT)
        child.wait(timeout=15)
    assert child.returncode == 0


def test_child_entry_point_prints_one_json_ready_line() -> None:
    config = json.dumps(MockConfig(profile="cinder").to_json())
    child = subprocess.Popen(
        [sys.executable, "-m", "conformance.mock", config], stdout=subprocess.PIPE, text=True
    )
    try:
        assert child.stdout is not None
        ready = json.loads(child.stdout.readline())
        assert ready["api_prefix"] == "/v3"
        assert httpx.get(ready["base_url"] + "/v3/x/snapshots").status_code == 401
    finally:
        child.terminate()
        child.wait(timeout=15)
    assert child.returncode == 0
