"""``evs-conformance mock``: listing quirks, refusing bad options, serving until interrupted."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
from http import HTTPStatus

import httpx
import pytest
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


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--settle-seconds", "nan"], "settle time must be a number of seconds from 0"),
        (["--settle-seconds", "inf"], "settle time"),
        (["--settle-seconds", "-1"], "settle time"),
        (["--settle-seconds", "1e300"], "settle time"),
        (["--settle-seconds", "soon"], "'soon' is not a valid float"),
        (["--delete-seconds", "-5"], "deletion time"),
        (["--time-scale", "0"], "the time scale must be a number from"),
        (["--time-scale", "nan"], "the time scale"),
        (["--token-lifetime", "0"], "token lifetime must be a positive number of seconds"),
        (["--disk-snapshot-limit", "-2"], "disk snapshot limit"),
        (["--project-snapshot-quota", "10000000"], "project snapshot quota"),
        (["--max-body-bytes", "0"], "body limit"),
        (["--limits", "aws"], "'aws' is not one of 'huawei', 'cinder'"),
        (["--port", "70000"], "70000 is not in the range"),
        (["--volume", "v:available:0"], "the size of disk v"),
        (["--volume", "no-size"], "is not ID:STATUS:SIZE_GIB"),
        (["--user", "nopassword"], "is not NAME:PASSWORD"),
        (["--token", ""], "the token must be a non-empty text"),
        (["--no-such-option"], "No such option"),
    ],
)
def test_every_bad_option_is_one_line_and_exit_2(args: list[str], message: str) -> None:
    result = CliRunner().invoke(main, ["mock", *args])
    assert result.exit_code == 2, result.output
    assert result.output.startswith("evs-conformance: error: ")
    assert result.output.strip().count("\n") == 0, result.output
    assert message in result.output
    assert "Traceback" not in result.output


def _served(*args: str) -> tuple[subprocess.Popen[str], str]:
    child = subprocess.Popen(
        [sys.executable, "-c", "from conformance.cli import main; main()", "mock", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert child.stdout is not None
    banner = [child.stdout.readline()]
    while not banner[-1].startswith("Press Ctrl-C") and banner[-1]:
        banner.append(child.stdout.readline())
    return child, "".join(banner)


def test_limits_and_times_are_served_as_the_options_say() -> None:
    child, banner = _served(
        "--profile", "cinder", "--limits", "cinder", "--project-snapshot-quota", "1", "--time-scale", "1000"
    )  # fmt: skip
    try:
        assert "limits:    quota of 1 snapshots, a creating snapshot cannot be deleted" in banner
        assert "times:     settle 30 s, deletion 10 s, 1000 times faster than real time" in banner
        base_url = banner.splitlines()[0].rsplit(" ", 1)[-1]
        defaults = MockConfig()
        url = f"{base_url}/v3/{defaults.project_id}/snapshots"
        body = {"snapshot": {"volume_id": defaults.volumes[0].id}}
        headers = {"X-Auth-Token": defaults.token}
        assert httpx.post(url, json=body, headers=headers).status_code == HTTPStatus.ACCEPTED
        refused = httpx.post(url, json=body, headers=headers)
        assert refused.status_code == HTTPStatus.REQUEST_ENTITY_TOO_LARGE
        assert refused.json()["overLimit"]["message"].startswith("quota exceeded: ")
    finally:
        child.send_signal(signal.SIGINT)
        child.wait(timeout=15)
    assert child.returncode == 0


def test_the_child_entry_point_does_not_import_the_command_line() -> None:
    probe = (
        "import sys, conformance.mock.__main__; "
        "print(sorted(m for m in sys.modules if m.startswith('conformance.cli')))"
    )
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=60)
    assert result.stdout.strip() == "[]", result.stderr


@pytest.mark.parametrize(
    ("argument", "message"),
    [
        ("not json", "expected one JSON MockConfig argument"),
        (json.dumps({"colour": "blue"}), "expected one JSON MockConfig argument"),
        (json.dumps(MockConfig().to_json() | {"settle_seconds": "nan"}), "settle time must be"),
        (json.dumps(MockConfig().to_json() | {"quirks": ["nope"]}), "unknown quirk nope"),
    ],
)
def test_the_child_entry_point_refuses_a_bad_config_in_one_line(argument: str, message: str) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "conformance.mock", argument], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 2
    assert result.stderr.startswith("conformance.mock: error: ")
    assert result.stderr.strip().count("\n") == 0, result.stderr
    assert message in result.stderr
