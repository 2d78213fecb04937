from __future__ import annotations

from collections.abc import Callable

from conformance.contract import Contract
from conformance.rules.checks import AUTH_REFUSAL, CheckContext, Expectation, check_create
from tests.checks.conftest import exchange, sent_snapshot, summary

Context = Callable[..., CheckContext]
ACCEPT = Expectation("accept", "OP-ACCEPT")
INVALID = Expectation("refuse", "REQ-NAME", "invalid-body")
ERROR_400 = {"error": {"code": "EVS.2024", "message": "name too long"}}


def test_a_conformant_202_passes_and_proves_the_response_requirements(context: Context) -> None:
    outcome = check_create(
        exchange(202, {"snapshot": summary()}, sent={"snapshot": sent_snapshot()}), context(ACCEPT)
    )
    assert outcome.violations == ()
    assert {
        "OP-ACCEPT",
        "RSP-202-SCHEMA",
        "RSP-ECHO",
        "RSP-SIZE",
        "RSP-ID-UNIQUE",
        "RSP-NO-5XX",
    } <= outcome.checked


def test_a_202_breaking_several_rules_names_each(context: Context) -> None:
    body = {"snapshot": summary(name="other", size=1, status="pending", created_at="now")}
    outcome = check_create(exchange(202, body, sent={"snapshot": sent_snapshot()}), context(ACCEPT))
    assert outcome.failed() == {"RSP-ECHO", "RSP-SIZE", "RSP-STATUS", "RSP-TIME-FORMAT"}


def test_the_same_id_twice_fails_the_second_time(context: Context) -> None:
    ctx = context(ACCEPT)
    first = exchange(202, {"snapshot": summary()}, sent={"snapshot": sent_snapshot()})
    assert check_create(first, ctx).violations == ()
    assert check_create(first, ctx).failed() == {"RSP-ID-UNIQUE"}


def test_an_accepted_invalid_body_fails_its_requirement(context: Context) -> None:
    outcome = check_create(
        exchange(202, {"snapshot": summary()}, sent={"snapshot": sent_snapshot()}), context(INVALID)
    )
    assert outcome.failed() == {"REQ-NAME"}


def test_a_documented_refusal_passes_and_checks_the_envelope(context: Context) -> None:
    outcome = check_create(exchange(400, ERROR_400, sent={"snapshot": sent_snapshot()}), context(INVALID))
    assert outcome.violations == ()
    assert {"REQ-NAME", "RSP-400-SCHEMA", "RSP-CONTENT-TYPE"} <= outcome.checked
    bad = check_create(exchange(400, {"message": "no"}, sent={"snapshot": sent_snapshot()}), context(INVALID))
    assert bad.failed() == {"RSP-400-SCHEMA"}


def test_a_5xx_fails_no_5xx_and_the_expectation(context: Context) -> None:
    outcome = check_create(exchange(500, ERROR_400, sent={}), context(INVALID))
    assert outcome.failed() == {"RSP-NO-5XX", "REQ-NAME"}


def test_either_records_info_and_never_fails_on_the_status(context: Context) -> None:
    either = Expectation("either", "REQ-NAME", reason="null name")
    outcome = check_create(exchange(400, ERROR_400, sent={}), context(either))
    assert outcome.violations == ()
    assert outcome.infos[0][0] == "REQ-NAME"
    assert "REQ-NAME" not in outcome.checked
    assert check_create(exchange(502, b"", sent={}), context(either)).failed() == {"RSP-NO-5XX"}


def test_non_json_bodies_fail_content_type_and_schema(context: Context) -> None:
    outcome = check_create(exchange(202, b"<html>", content_type="text/html", sent={}), context(ACCEPT))
    assert outcome.failed() == {"RSP-CONTENT-TYPE", "OP-ACCEPT"}
    empty = check_create(exchange(202, b"", sent={}), context(Expectation("accept", "REQ-NAME")))
    assert empty.failed() == {"OP-ACCEPT"}


def test_a_transport_error_fails_the_expectations_requirement(context: Context) -> None:
    outcome = check_create(exchange(0, error="ReadTimeout: timed out", sent={}), context(INVALID))
    assert outcome.failed() == {"REQ-NAME"}
    assert "ReadTimeout" in outcome.violations[0].message


def test_auth_probes_accept_401_and_fail_on_success(context: Context) -> None:
    auth = Expectation("refuse", "AUTH-MISSING", AUTH_REFUSAL)
    assert check_create(exchange(401, None, sent={}), context(auth)).violations == ()
    assert check_create(exchange(202, {"snapshot": summary()}, sent={}), context(auth)).failed() == {
        "AUTH-MISSING"
    }


def test_extra_summary_fields_are_info_where_the_document_is_silent(
    context: Context, huawei: Contract
) -> None:
    body = {"snapshot": summary(os_extra="1")}
    outcome = check_create(
        exchange(202, body, sent={"snapshot": sent_snapshot()}), context(ACCEPT, contract=huawei)
    )
    assert outcome.violations == ()
    assert ("RSP-202-SCHEMA", "undocumented summary fields (document silent): ['os_extra']") in outcome.infos


def test_an_undocumented_status_fails_status_codes(context: Context) -> None:
    outcome = check_create(
        exchange(404, ERROR_400, sent={}), context(Expectation("refuse", "REQ-VOLUME-EXISTS"))
    )
    assert outcome.failed() == {"RSP-STATUS-CODES"}


def test_a_413_for_a_large_body_is_a_silence_but_not_for_a_small_one(context: Context) -> None:
    large = {"snapshot": sent_snapshot(metadata={f"k{i}": "v" * 200 for i in range(100)})}
    outcome = check_create(exchange(413, ERROR_400, sent=large), context(ACCEPT))
    assert outcome.violations == ()
    assert "document silent on body size" in outcome.infos[0][1]
    small = check_create(exchange(413, ERROR_400, sent={"snapshot": sent_snapshot()}), context(ACCEPT))
    assert small.failed() == {"OP-ACCEPT", "RSP-STATUS-CODES"}


def test_an_undocumented_4xx_where_the_document_is_silent_is_info_but_a_5xx_fails(
    context: Context,
) -> None:
    silent = Expectation("either", "RSP-STATUS-CODES", reason="a body labelled text/plain")
    outcome = check_create(exchange(415, ERROR_400, sent={}), context(silent))
    assert outcome.violations == ()
    assert any(req == "RSP-STATUS-CODES" and "415" in text for req, text in outcome.infos)
    unknown_field = Expectation("either", "REQ-SNAPSHOT", reason="unknown fields")
    assert check_create(exchange(422, b"", sent={}), context(unknown_field)).violations == ()
    assert check_create(exchange(503, b"", sent={}), context(silent)).failed() == {"RSP-NO-5XX"}


def test_without_the_disks_size_rsp_size_is_not_claimed_but_a_bad_size_still_fails(context: Context) -> None:
    sent = {"snapshot": sent_snapshot()}
    unknown = context(ACCEPT, volume_size=None)
    fine = check_create(exchange(202, {"snapshot": summary()}, sent=sent), unknown)
    assert fine.violations == ()
    assert "RSP-SIZE" not in fine.checked
    bad = check_create(exchange(202, {"snapshot": summary(size=0)}, sent=sent), unknown)
    assert "RSP-SIZE" in bad.failed()
