"""Whatever a user types, the run command answers with one line and exit 2, or takes it: never a traceback.

Hypothesis drives every option of the table with generated text (numbers of every shape, URLs, control
characters, huge values), alone and in pairs, from the command line, the environment and a config file.
``--show-config`` resolves and checks everything a run would, then stops before anything is sent.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conformance.cli import main
from conformance.run.options import OPTIONS, Option

#: Every option a user can type a value for (flags take no value; the password is never an option).
VALUED = [o for o in OPTIONS.values() if o.cli and not o.is_flag and not o.hidden and o.name != "show_config"]

NASTY = st.sampled_from(
    [
        "nan", "inf", "-inf", "-1", "0", "1e-300", "1e400", "1" * 5000, "0x10", "٣٠", "", " ", "\x00",
        "a\r\nb", "\x1b]0;owned\x07", "http://", "https://xn--.invalid", "ftp://h", "http://u:p@h",
        "http://h/?q=1", "/proc/self/environ", "/dev/null/x", "/", "../..", "REQ-*", "[", "5/s", "1e-9/s",
        "huawei", "v9", "\u202eevil", "😀" * 100,
    ]
)  # fmt: skip
VALUES = st.one_of(NASTY, st.text(max_size=40), st.floats().map(repr), st.integers().map(str))


def _check(result_output: str, exit_code: int, started: float, given: object = None) -> None:
    assert exit_code in (0, 2), (given, result_output)
    assert "Traceback" not in result_output
    if exit_code == 2:
        assert len(result_output.strip().splitlines()) == 1, result_output
        assert result_output.startswith("evs-conformance: error:")
        assert "\x1b" not in result_output
    assert time.monotonic() - started < 10


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    for name in list(os.environ):
        if name.startswith("EVS_"):
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)
    return tmp_path


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(option=st.sampled_from(VALUED), value=VALUES, other=st.sampled_from(VALUED), second=VALUES)
def test_any_value_on_the_command_line_is_taken_or_refused_in_one_line(
    clean_env: Path, option: Option, value: str, other: Option, second: str
) -> None:
    started = time.monotonic()
    argv = ["run", "--show-config", f"{option.flag}={value}", f"{other.flag}={second}"]
    result = CliRunner().invoke(main, argv)
    _check(result.output, result.exit_code, started, (argv, result.exception))


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(option=st.sampled_from([o for o in OPTIONS.values() if o.name != "show_config"]), value=VALUES)
def test_any_value_in_the_environment_is_taken_or_refused_in_one_line(
    clean_env: Path, option: Option, value: str
) -> None:
    started = time.monotonic()
    result = CliRunner().invoke(main, ["run", "--show-config"], env={option.env: value.replace("\x00", "")})
    _check(result.output, result.exit_code, started)


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    key=st.sampled_from([o.file_key for o in OPTIONS.values()] + ["token-env", "targets", "x"]),
    value=st.one_of(
        VALUES.map(lambda v: '"' + v.replace("\\", "\\\\").replace('"', '\\"') + '"'),
        st.sampled_from(["1", "-1", "nan", "inf", "true", "[1, [2]]", "{a = 1}", "1979-05-27", "[" * 200]),
    ),
)
def test_any_value_in_a_config_file_is_taken_or_refused_in_one_line(
    clean_env: Path, key: str, value: str
) -> None:
    (clean_env / "evs-conformance.toml").write_text(f"{key} = {value}\n", encoding="utf-8", errors="replace")
    started = time.monotonic()
    result = CliRunner().invoke(main, ["run", "--show-config"])
    _check(result.output, result.exit_code, started, (key, value, result.exception))
