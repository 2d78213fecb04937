from __future__ import annotations

import json

import pytest

from conformance.contract import Contract
from conformance.core.exchange import Exchange, Received, SentRequest
from conformance.rules.checks import check_create
from conformance.rules.checks.model import CheckContext, Criteria, Expectation, Violation, view, violation


def test_the_view_holds_what_the_contract_says_and_is_built_once(huawei: Contract, cinder: Contract) -> None:
    seen = view(huawei)
    assert seen is view(huawei)
    assert seen.summary_key == huawei.summary_key
    assert seen.snapshot_statuses == huawei.snapshot_statuses
    assert seen.time_pattern.pattern == huawei.time_pattern
    assert seen.body_schemas[400] == huawei.response_schema(400)
    assert seen.body_schemas[401] is None
    assert view(cinder).body_schemas[404] == cinder.response_schema(404)


def test_a_violation_keeps_its_fields_and_derives_its_message() -> None:
    found = violation("REQ-NAME", "status_matches_expectation", "202 (Accepted)", "400", "Table 4 X/name")
    assert (found.received, found.documented, found.source) == ("202 (Accepted)", "400", "Table 4 X/name")
    assert found.message == "Received: 202 (Accepted)\nDocumented: 400 (Table 4 X/name)"
    assert (
        Violation("RSP-NO-5XX", "no_server_error", "500", "4xx").message == "Received: 500\nDocumented: 4xx"
    )
    assert found.as_dict()["message"] == found.message


def test_an_expectation_survives_json() -> None:
    expectation = Expectation("refuse", "REQ-NAME", "invalid-body", "65 characters")
    assert Expectation.from_dict(json.loads(json.dumps(expectation.as_dict()))) == expectation
    with pytest.raises(ValueError, match="not an expectation"):
        Expectation.from_dict({"outcome": "maybe", "requirement": "X"})


def test_the_create_checks_say_what_they_judged_by(huawei: Contract) -> None:
    request = SentRequest("POST", "http://127.0.0.1:9/v2/p/snapshots", {}, b"{")
    expectation = Expectation("refuse", "REQ-JSON", "invalid-body")
    outcome = check_create(
        Exchange(request, Received(400, {}, b"")), CheckContext(huawei, expectation, 40, set())
    )
    assert outcome.criteria == Criteria(expectation, 40)
