"""The recorded exchange: parsed bodies, media types, and reproductions that a shell can run."""

from __future__ import annotations

import shlex
import subprocess

import pytest

from conformance.core.exchange import MASK, Exchange, Received, SentRequest

URL = "http://127.0.0.1:9/v2/p/snapshots"


def sent(body: bytes | None, **headers: str) -> SentRequest:
    return SentRequest("POST", URL, headers, body, None, False)


def test_json_parses_the_body() -> None:
    received = Received(202, {"content-type": "application/json"}, b'{"snapshot": {"id": "s"}}')
    assert received.json() == {"snapshot": {"id": "s"}}


@pytest.mark.parametrize("body", [b"", b"<html>", b"\xff\xfe"])
def test_json_raises_value_error_for_non_json(body: bytes) -> None:
    with pytest.raises(ValueError):  # noqa: PT011 - json and unicode errors are both ValueError
        Received(400, {}, body).json()


def test_json_refuses_a_truncated_body() -> None:
    with pytest.raises(ValueError, match="truncated"):
        Received(202, {}, b"{}", truncated=True).json()


@pytest.mark.parametrize(
    ("header", "media_type"),
    [
        ("application/json; charset=utf-8", "application/json"),
        ("Application/JSON", "application/json"),
        ("", ""),
    ],
)
def test_content_type_drops_parameters_and_case(header: str, media_type: str) -> None:
    headers = {"content-type": header} if header else {}
    assert Received(200, headers, b"").content_type == media_type


def test_curl_reads_a_masked_token_from_the_environment() -> None:
    exchange = Exchange(sent(b"{}", **{"Content-Type": "application/json", "X-Auth-Token": MASK}), None, "x")
    words = shlex.split(exchange.curl())
    assert words[:5] == ["curl", "-i", "-X", "POST", URL]
    assert "X-Auth-Token: $EVS_TOKEN" in words
    assert "***" not in exchange.curl()


def test_curl_leaves_out_headers_curl_computes() -> None:
    exchange = Exchange(
        sent(None, **{"content-length": "2", "host": "h", "accept": "application/json"}), None
    )
    assert "content-length" not in exchange.curl()
    assert "host:" not in exchange.curl()
    assert "accept: application/json" in shlex.split(exchange.curl())


def test_curl_keeps_a_body_without_content_type_unlabelled() -> None:
    exchange = Exchange(sent(b"{"), None)
    assert "Content-Type:" in shlex.split(exchange.curl())


def test_curl_sends_no_accept_where_the_request_had_none() -> None:
    without = shlex.split(Exchange(sent(b"{}"), None).curl())
    assert "Accept:" in without
    with_one = shlex.split(Exchange(sent(b"{}", accept="text/html"), None).curl())
    assert "accept: text/html" in with_one
    assert "Accept:" not in with_one


@pytest.mark.parametrize(
    "body",
    [b'{"snapshot": {"name": "it\'s \\u00e9 $HOME `x`"}}', "名前 ☃ 𝄞".encode(), b"\x00\xff{", b""],
)
def test_curl_sends_the_exact_bytes(body: bytes) -> None:
    """The shell hands curl exactly the recorded body (checked with a fake curl that prints its input)."""
    exchange = Exchange(sent(body, **{"Content-Type": "application/json"}), None)
    script = exchange.curl().replace("curl ", "fake_curl ", 1)
    # Prints the last argument, or standard input when told to read the body from it.
    fake = 'fake_curl() { for a; do last="$a"; done; [ "$last" = "@-" ] && cat || printf %s "$last"; }'
    shown = subprocess.run(["bash", "-c", f"{fake}\n{script}"], capture_output=True, check=True).stdout
    assert shown == body


def test_describe_names_the_status_or_the_error() -> None:
    assert Exchange(sent(None), Received(202, {}, b"")).describe().endswith("-> 202")
    assert (
        Exchange(sent(None), None, "ReadTimeout: timed out").describe().endswith("-> ReadTimeout: timed out")
    )


def test_describe_says_when_a_body_was_cut_and_how_often_the_request_went() -> None:
    cut = Exchange(sent(None), Received(202, {}, b"x" * 10, truncated=True))
    assert cut.describe().endswith("-> 202 (body cut at 10 bytes)")
    repeated = Exchange(sent(None), Received(200, {}, b""), attempts=3)
    assert repeated.describe().endswith("-> 200 (after 3 attempts)")
    assert (
        Exchange(sent(None), None, "overall deadline reached", attempts=0)
        .describe()
        .endswith("-> overall deadline reached")
    )
