from __future__ import annotations

import pytest

from conformance.contract import Contract
from conformance.rules.checks import (
    AUTH_REFUSAL,
    FOREIGN_PROJECT_REFUSAL,
    Expectation,
    content_type_is_json,
    no_server_error,
    status_is_documented,
    status_matches_expectation,
)

ACCEPT = Expectation("accept", "REQ-NAME")


def test_no_server_error_fails_on_5xx_and_passes_otherwise(huawei: Contract) -> None:
    (found,) = no_server_error(huawei, 503)
    assert found.requirement == "RSP-NO-5XX"
    assert found.message.startswith("Received: 503 Service Unavailable\nDocumented:")
    assert no_server_error(huawei, 400) == []


def test_status_is_documented_reads_codes_from_the_contract(huawei: Contract, cinder: Contract) -> None:
    (found,) = status_is_documented(huawei, 404)
    assert found.requirement == "RSP-STATUS-CODES"
    assert "202, 400, 401, 403" in found.message
    assert status_is_documented(cinder, 404) == []
    assert status_is_documented(huawei, 202) == []
    assert status_is_documented(huawei, 500) == []  # reported by no_server_error alone


def test_content_type_must_be_json_when_there_is_a_body(huawei: Contract) -> None:
    (found,) = content_type_is_json(huawei, "text/html", b"<h1>x</h1>")
    assert found.requirement == "RSP-CONTENT-TYPE"
    assert "Received: Content-Type text/html" in found.message
    assert content_type_is_json(huawei, "application/json", b"{}") == []
    assert content_type_is_json(huawei, "", b"") == []


def test_accept_wants_exactly_the_accepted_status(huawei: Contract) -> None:
    (found,) = status_matches_expectation(huawei, 200, ACCEPT)
    assert found.requirement == "REQ-NAME"
    assert "Documented: 202" in found.message
    assert status_matches_expectation(huawei, 202, ACCEPT) == []


@pytest.mark.parametrize(
    ("profile", "status", "ok"),
    [("huawei", 400, True), ("huawei", 404, False), ("cinder", 404, True), ("cinder", 400, False)],
)
def test_refusal_status_comes_from_the_profile(
    request: pytest.FixtureRequest, profile: str, status: int, ok: bool
) -> None:
    contract = request.getfixturevalue(profile)
    expectation = Expectation("refuse", "REQ-VOLUME-EXISTS", "unknown-volume")
    assert (status_matches_expectation(contract, status, expectation) == []) is ok


def test_auth_refusal_takes_any_4xx_but_never_success(huawei: Contract) -> None:
    expectation = Expectation("refuse", "AUTH-MISSING", AUTH_REFUSAL)
    assert status_matches_expectation(huawei, 401, expectation) == []
    assert status_matches_expectation(huawei, 403, expectation) == []
    (found,) = status_matches_expectation(huawei, 202, expectation)
    assert found.requirement == "AUTH-MISSING"


def test_unnamed_refusal_takes_any_4xx(huawei: Contract) -> None:
    expectation = Expectation("refuse", "REQ-VOLUME-EXISTS", None)
    assert status_matches_expectation(huawei, 404, expectation) == []
    assert len(status_matches_expectation(huawei, 202, expectation)) == 1


def test_either_never_fails_on_status(huawei: Contract) -> None:
    either = Expectation("either", "REQ-NAME")
    assert status_matches_expectation(huawei, 202, either) == []
    assert status_matches_expectation(huawei, 400, either) == []


def test_foreign_project_refusal_wants_an_auth_status_or_an_invalid_request(huawei: Contract) -> None:
    expectation = Expectation("refuse", "AUTH-INVALID", FOREIGN_PROJECT_REFUSAL)
    for status in (400, 401, 403):
        assert status_matches_expectation(huawei, status, expectation) == []
    (found,) = status_matches_expectation(huawei, 404, expectation)
    assert found.requirement == "AUTH-INVALID"
    assert len(status_matches_expectation(huawei, 202, expectation)) == 1


def test_an_undocumented_4xx_is_fine_where_the_document_is_silent(huawei: Contract) -> None:
    silent = Expectation("either", "RSP-STATUS-CODES", reason="a body labelled text/plain")
    assert status_is_documented(huawei, 415, expectation=silent) == []
    assert status_is_documented(huawei, 422, expectation=silent) == []
    (found,) = status_is_documented(huawei, 415, expectation=ACCEPT)
    assert found.requirement == "RSP-STATUS-CODES"
    (found,) = status_is_documented(huawei, 302, expectation=silent)
    assert found.requirement == "RSP-STATUS-CODES"
