"""Input validators: each bad class of input is one UsageError line, each good value comes back clean."""

from __future__ import annotations

import contextlib
import os
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from conformance.core import inputs
from conformance.core.errors import UsageError
from conformance.run.options import OPTIONS


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("https://EVS.Example.com/", "https://evs.example.com"),
        ("https://evs.example.com:443/v2/", "https://evs.example.com/v2"),
        ("http://127.0.0.1:8080", "http://127.0.0.1:8080"),
        ("http://[::1]:8080/", "http://[::1]:8080"),
        ("https://bücher.example", "https://xn--bcher-kva.example"),
        ("https://xn--bcher-kva.example", "https://xn--bcher-kva.example"),
        ("  https://evs.example.com  ", "https://evs.example.com"),
        ("https://evs.example.com.", "https://evs.example.com."),
    ],
)
def test_a_base_url_is_normalised(given: str, expected: str) -> None:
    assert inputs.base_url(given) == expected


@pytest.mark.parametrize(
    ("given", "message"),
    [
        ("https://xn--.invalid", "is not a valid host name"),
        ("https://xn--zz-zzz.invalid", r"is not a valid international \(IDNA\) name"),
        ("ftp://evs.example", "must be an http:// or https:// URL"),
        ("evs.example", "must be an http:// or https:// URL"),
        ("https://", "must be an http:// or https:// URL"),
        ("http:///v2", "names no host"),
        ("https://evs.example/v2?x=1", "must not have a query"),
        ("https://evs.example/#top", "must not have a query"),
        ("https://evs.example/\r\nX-Injected: 1", "control character or line break"),
        ("https://evs.example/\x1b[2J", "control character"),
        ("https://evs.example/a b", "holds a space"),
        ("https://user:hunter2@evs.example", "must not carry a user name or password"),
        ("https://user@evs.example", "must not carry a user name or password"),
        ("https://evs.example:0", "port 0 is out of range"),
        ("https://evs.example:70000", "out of range"),
        ("https://evs.example:http", "is not a valid URL"),
        ("https://999.1.1.1", "is not a valid URL"),
        ("https://-evs-.example", "is not a valid host name"),
        ("https://evs..example", "is not a valid host name"),
        ("https://%65vs.example", "is not a valid host name"),
        ("https://" + "a" * 64 + ".example", "is not a valid host name"),
        ("", "is empty"),
    ],
)
def test_a_bad_base_url_is_one_line(given: str, message: str) -> None:
    with pytest.raises(UsageError, match=message) as caught:
        inputs.base_url(given)
    assert "\n" not in str(caught.value)
    assert "hunter2" not in str(caught.value)


@given(st.text(max_size=60))
def test_any_text_as_a_base_url_is_a_url_or_a_usage_error(text: str) -> None:
    try:
        url = inputs.base_url(text)
    except UsageError as exc:
        message = str(exc)
    else:
        assert url.startswith(("http://", "https://"))
        assert url.isascii()
        return
    assert "\n" not in message
    assert "\x1b" not in message


@given(st.text(max_size=30).map(lambda host: f"https://{host}/v2"))
def test_any_host_is_accepted_or_refused_cleanly(url: str) -> None:
    with contextlib.suppress(UsageError):
        assert inputs.base_url(url).startswith("https://")


@pytest.mark.parametrize(
    ("flag", "given", "message"),
    [
        ("--timeout", "inf", "must be a finite number"),
        ("--timeout", "-inf", "must be a finite number"),
        ("--cleanup-timeout", "nan", "must be a finite number"),
        ("--timeout", "1e400", "must be a finite number"),
        ("--timeout", "-1", "must not be negative"),
        ("--timeout", "0", "must be more than 0"),
        ("--timeout", "1e-300", "must be at least 0.001"),
        ("--timeout", "1e-400", "must be more than 0"),
        ("--cleanup-timeout", "1e-400", "too small to be told from 0"),
        ("--timeout", "1e9", "must be at most 86400"),
        ("--timeout", "thirty", "must be a number"),
        ("--timeout", "٣٠", "must be a number"),
        ("--examples", "2.5", "must be a whole number"),
        ("--examples", "1e3", "must be a whole number"),
        ("--examples", "9" * 5000, "far too large"),
        ("--examples", "0", "must be at least 1"),
        ("--workers", "100000", "must be at most 32"),
        ("--max-creates", "-5", "must not be negative"),
        ("--retries", "", "must be a number"),
    ],
)
def test_a_bad_number_is_one_line(flag: str, given: str, message: str) -> None:
    with pytest.raises(UsageError, match=message) as caught:
        _option_number(flag, given)
    assert str(caught.value).startswith(flag)
    assert len(str(caught.value)) < 200


@pytest.mark.parametrize(
    ("flag", "given", "expected"),
    [("--timeout", "30", 30.0), ("--timeout", 2.5, 2.5), ("--cleanup-timeout", "0", 0.0),
     ("--examples", "25", 25), ("--examples", 25.0, 25), ("--evs-workers", "4", 4), ("--seed", "0", 0)],
)  # fmt: skip
def test_a_good_number_comes_back_typed(flag: str, given: str | float, expected: float) -> None:
    value = _option_number(flag, given)
    assert value == expected
    assert type(value) is type(expected)


def _option_number(flag: str, given: str | float) -> float:
    """A number option's value checked as the option table checks it."""
    name = flag.removeprefix("--evs-").removeprefix("--").replace("-", "_")
    value: float = OPTIONS[name].parse(given, flag)
    return value


def test_numbers_given_as_values_are_checked_too() -> None:
    for value in (float("nan"), float("inf"), -1.0):
        with pytest.raises(UsageError):
            inputs.number(value, flag="--timeout")
    with pytest.raises(UsageError, match="must be a number"):
        inputs.number(True, flag="--retries", integer=True)
    assert inputs.number(-2, flag="--offset", minimum=-5) == -2.0


@pytest.mark.parametrize("given", ["1e-300", "0", "0/s", "-5/s", "nan/s", "inf", "5/m", "fast", "1e6"])
def test_a_bad_rate_limit_is_one_line(given: str) -> None:
    with pytest.raises(UsageError, match=r"^--rate-limit .*\(a rate such as 5/s\)$"):
        inputs.rate_limit(given)


@pytest.mark.parametrize(("given", "expected"), [("5/s", 5.0), ("0.5/s", 0.5), (" 10 ", 10.0), ("2 /s", 2.0)])
def test_a_rate_limit_is_requests_per_second(given: str, expected: float) -> None:
    assert inputs.rate_limit(given) == expected


@pytest.mark.parametrize(
    ("given", "message"),
    [
        ("tok\nen-value", "a line break at position 4"),
        ("tok\ren-value", "a line break at position 4"),
        ("tok\x00en-value", "a control character .U\\+0000. at position 4"),
        ("tok\x7fen-value", "a control character .U\\+007F."),
        ("tokén-value", "a character outside ASCII .U\\+00E9."),
        ("   ", "is empty"),
        ("x" * 70_000, "more than the 65536 accepted"),
    ],
)
def test_a_token_that_cannot_go_in_a_header_is_refused_without_echoing_it(given: str, message: str) -> None:
    with pytest.raises(UsageError, match=message) as caught:
        inputs.token(given, what="--token")
    assert "en-value" not in str(caught.value)


def test_a_token_loses_its_surrounding_blanks() -> None:
    assert inputs.token("  gAAAA-token \n", what="--token") == "gAAAA-token"


# -- files and folders ------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("path", "message"),
    [
        ("/", "is the root of the file system"),
        ("/tmp/..", "is the root of the file system"),
        ("/proc/self/x", "under /proc, a system folder"),
        ("/sys/x", "under /sys, a system folder"),
        ("/dev/null/x", "under /dev, a system folder"),
        ("", "is empty"),
        ("a\x00b", "holds a NUL character"),
    ],
)
def test_an_output_folder_in_the_wrong_place_is_refused(path: str, message: str) -> None:
    with pytest.raises(UsageError, match=message):
        inputs.output_dir(path)


def test_an_output_folder_that_is_a_file_under_a_file_or_a_link_is_refused(tmp_path: Path) -> None:
    file = tmp_path / "file"
    file.write_text("x")
    (tmp_path / "link").symlink_to(tmp_path)
    with pytest.raises(UsageError, match="exists and is not a folder"):
        inputs.output_dir(file)
    with pytest.raises(UsageError, match="which is a file"):
        inputs.output_dir(file / "sub" / "deeper")
    with pytest.raises(UsageError, match="is a symbolic link"):
        inputs.output_dir(tmp_path / "link")
    assert inputs.output_dir(tmp_path / "new" / "reports") == tmp_path / "new" / "reports"
    assert inputs.output_dir(tmp_path / "link" / "reports") == tmp_path / "link" / "reports"


def test_an_output_file_must_be_a_plain_file_in_an_existing_folder(tmp_path: Path) -> None:
    existing = tmp_path / "spec.yaml"
    existing.write_text("old")
    (tmp_path / "link.yaml").symlink_to(existing)
    os.mkfifo(tmp_path / "pipe")
    assert inputs.output_file(existing) == existing
    assert inputs.output_file(tmp_path / "new.yaml") == tmp_path / "new.yaml"
    for path, message in [
        (tmp_path, "is a folder"),
        (tmp_path / "missing" / "spec.yaml", "does not exist"),
        (existing / "x.yaml", "which is a file"),
        (tmp_path / "link.yaml", "is a symbolic link"),
        (tmp_path / "pipe", "not a regular file"),
        (Path("/dev/null"), "a system folder"),
        (Path("/proc/self/environ"), "a system folder"),
    ]:
        with pytest.raises(UsageError, match=message):
            inputs.output_file(path)


def test_an_input_file_is_a_bounded_regular_utf8_file(tmp_path: Path) -> None:
    good = tmp_path / "good.yaml"
    good.write_bytes("\ufeffwaivers: []  # ok €\n".encode())
    assert inputs.input_file(good, what="the waiver file", max_bytes=100) == "waivers: []  # ok €\n"
    big = tmp_path / "big.yaml"
    big.write_bytes(b"x" * 101)
    binary = tmp_path / "binary.yaml"
    binary.write_bytes(b"waivers: \xff\xfe")
    os.mkfifo(tmp_path / "pipe")
    for path, message in [
        (big, "101 bytes, more than the 100 accepted"),
        (binary, r"is not UTF-8 text \(byte 10 is not\)"),
        (tmp_path / "pipe", "not a regular file"),
        (Path("/dev/zero"), "not a regular file"),
        (tmp_path, "it is a folder"),
        (tmp_path / "missing", "No such file"),
    ]:
        with pytest.raises(UsageError, match=message):
            inputs.input_file(path, what="the waiver file", max_bytes=100)
