"""An exchange as an Allure attachment shows it: request, response and reproduction, never the token."""

from __future__ import annotations

from conformance.core.exchange import MASK, Exchange, Received, SentRequest
from conformance.report.allure_results import render_exchange


def test_render_shows_request_response_and_reproduction_without_the_token() -> None:
    request = SentRequest("POST", "http://127.0.0.1:9/v2/p/snapshots", {"x-auth-token": MASK}, b'{"a":1}')
    response = Received(400, {"content-type": "application/json"}, b'{"error": {}}')
    text = render_exchange(Exchange(request, response, None, 0.0123))
    assert text.startswith("POST http://127.0.0.1:9/v2/p/snapshots\nx-auth-token: ***")
    assert "HTTP 400" in text
    assert '{"error": {}}' in text
    assert "12.3 ms" in text
    assert "$EVS_TOKEN" in text


def test_render_names_a_transport_error() -> None:
    request = SentRequest("GET", "http://127.0.0.1:9/", {}, None)
    assert "-- no response: ReadTimeout" in render_exchange(Exchange(request, None, "ReadTimeout"))


def test_a_long_body_is_cut_with_its_size() -> None:
    request = SentRequest("GET", "http://127.0.0.1:9/", {}, None)
    text = render_exchange(Exchange(request, Received(200, {}, b"x" * 100_000), None))
    assert "(100000 bytes)" in text
    assert len(text) < 20_000
