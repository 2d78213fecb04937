"""Allure marks and attachments: labels once per test, the document link, the token never shown."""

from __future__ import annotations

import pytest

from conformance.contract import Contract, load_contract
from conformance.exchange import MASK, Exchange, Received, SentRequest
from conformance.report import allure
from conformance.requirements import load_requirements


@pytest.fixture(scope="module")
def contract() -> Contract:
    return load_contract("huawei")


def labels(marks: list[pytest.MarkDecorator]) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for mark in marks:
        if mark.name == "allure_label":
            found.setdefault(mark.kwargs["label_type"], []).extend(mark.args)
    return found


CATALOGUE = {r.id: r for r in load_requirements()}


def test_marks_carry_epic_feature_story_id_and_severity(contract: Contract) -> None:
    marks = allure.requirement_marks(["REQ-NAME"], contract, CATALOGUE)
    found = labels(marks)
    assert found["epic"] == [allure.EPIC]
    assert found["feature"] == [f"Creating an EVS Snapshot (POST {contract.path_template})"]
    assert found["story"] == ["REQ-NAME"]
    assert found["as_id"] == ["REQ-NAME"]
    assert found["severity"] == ["normal"]
    (link,) = [m for m in marks if m.name == "allure_link"]
    assert link.kwargs["name"] == "Table 4"
    assert link.args[0].endswith("#Table%204")


def test_a_test_of_several_requirements_gets_one_id_and_the_gravest_severity(contract: Contract) -> None:
    marks = allure.requirement_marks(["REQ-NAME", "REQ-DESCRIPTION", "OP-ACCEPT"], contract, CATALOGUE)
    found = labels(marks)
    assert found["story"] == ["REQ-NAME", "REQ-DESCRIPTION", "OP-ACCEPT"]
    assert found["as_id"] == ["REQ-NAME"]
    assert found["severity"] == ["critical"]
    assert [m.kwargs["name"] for m in marks if m.name == "allure_link"] == [
        "Table 4",
        "URI; Status Codes; Example",
    ]


@pytest.mark.parametrize(
    ("requirement", "severity"),
    [("OP-ACCEPT", "critical"), ("RSP-NO-5XX", "critical"), ("ADV-AUTOBK", "minor")],
)
def test_severity_follows_the_requirement(requirement: str, severity: str) -> None:
    assert allure.severity(requirement).value == severity


def test_render_shows_request_response_and_reproduction_without_the_token() -> None:
    request = SentRequest("POST", "http://127.0.0.1:9/v2/p/snapshots", {"x-auth-token": MASK}, b'{"a":1}')
    response = Received(400, {"content-type": "application/json"}, b'{"error": {}}')
    text = allure.render_exchange(Exchange(request, response, None, 0.0123))
    assert text.startswith("POST http://127.0.0.1:9/v2/p/snapshots\nx-auth-token: ***")
    assert "HTTP 400" in text
    assert '{"error": {}}' in text
    assert "12.3 ms" in text
    assert "$EVS_TOKEN" in text


def test_render_names_a_transport_error() -> None:
    request = SentRequest("GET", "http://127.0.0.1:9/", {}, None)
    assert "-- no response: ReadTimeout" in allure.render_exchange(Exchange(request, None, "ReadTimeout"))


def test_an_attachment_is_redacted_before_it_is_written(monkeypatch: pytest.MonkeyPatch) -> None:
    attached: list[str] = []
    monkeypatch.setattr(
        allure.plugin_manager.hook, "attach_data", lambda **kwargs: attached.append(kwargs["body"])
    )
    exchange = Exchange(
        SentRequest("POST", "http://127.0.0.1:9/v2/p/snapshots", {}, b"{}"),
        Received(400, {}, b'{"echo": "leaked-token-123"}'),
    )
    allure.attach_exchange(exchange, "failing", redact=lambda text: text.replace("leaked-token-123", MASK))
    assert len(attached) == 1
    assert "leaked-token-123" not in attached[0]
    assert f'"echo": "{MASK}"' in attached[0]
