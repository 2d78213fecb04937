"""Preparing and judging generated cases, and sending them to the mock on loopback."""

from __future__ import annotations

import argparse
import json
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from conformance.contract import JSON, Contract, load_contract
from conformance.plugin.openapi_cases import (
    CasePhase,
    CaseSender,
    Operation,
    Prepared,
    bare_references,
    boundary_focus,
    create_operation,
    expectation_for,
    parsed_json,
    phase_test,
    prepare,
    with_available_volume,
)
from conformance.plugin.options import dest, run_settings
from conformance.plugin.runtime import SuiteRuntime
from conformance.rules.oracle import FIELD_REQUIREMENTS, Volumes
from conformance.run.options import OPTIONS
from conformance.target import JSON_MEDIA_TYPE, NO_BODY

AVAILABLE = "5aa119a8-d25b-45a7-8d1b-88e127885635"
VOLUMES = Volumes(available_id=AVAILABLE, in_use_id=None, busy_status=None, unknown_id="no-such", sizes={})


@pytest.fixture(scope="module")
def contract() -> Contract:
    return load_contract("huawei")


@pytest.fixture(scope="module")
def operation(contract: Contract) -> Operation:
    return create_operation(contract)


def token_headers(contract: Contract) -> dict[str, str]:
    return {contract.token_header: "generated", "Content-Type": JSON_MEDIA_TYPE}


def snapshot(contract: Contract, **fields: JSON) -> dict[str, JSON]:
    return {contract.snapshot_key: fields}


def field_limit(contract: Contract, name: str) -> int:
    limit = next(rule.max_length for rule in contract.fields if rule.name == name)
    assert limit is not None
    return limit


# -- the contract as Schemathesis reads it ------------------------------------------------------------------
def references_with_siblings(node: JSON) -> list[Mapping[str, JSON]]:
    if isinstance(node, Mapping):
        found = [node] if "$ref" in node and len(node) > 1 else []
        return found + [ref for value in node.values() for ref in references_with_siblings(value)]
    if isinstance(node, list):
        return [ref for value in node for ref in references_with_siblings(value)]
    return []


@pytest.mark.parametrize("profile", ["huawei", "cinder"])
def test_the_loaded_document_has_no_ref_with_siblings(profile: str) -> None:
    document = load_contract(profile).document
    assert references_with_siblings(document), "the contract no longer annotates its references"
    bare = bare_references(document)
    assert references_with_siblings(bare) == []
    assert json.dumps(bare).count('"$ref"') == json.dumps(document).count('"$ref"')


def test_a_ref_with_a_keyword_that_validates_is_kept_whole() -> None:
    node = {"$ref": "#/components/schemas/Name", "maxLength": 3, "x-source": "Table 4"}
    assert bare_references({"properties": {"name": node}}) == {"properties": {"name": node}}


# -- preparing a generated case ------------------------------------------------------------------------------
def test_a_string_volume_id_becomes_the_available_disk(contract: Contract, operation: Operation) -> None:
    case = operation.Case(
        body=snapshot(contract, volume_id="generated", name="n"), headers=token_headers(contract)
    )
    prepared = prepare(case, contract, VOLUMES)
    assert prepared.body == snapshot(contract, volume_id=AVAILABLE, name="n")
    assert prepared.method == "POST"
    assert prepared.token_sent
    assert prepared.raw is None


@pytest.mark.parametrize("volume_id", [None, 7, {"id": "x"}])
def test_a_volume_id_of_another_type_is_kept(contract: Contract, volume_id: JSON) -> None:
    body = snapshot(contract, volume_id=volume_id)
    assert with_available_volume(body, contract, AVAILABLE) == body
    assert with_available_volume(snapshot(contract, volume_id="v"), contract, None) == snapshot(
        contract, volume_id="v"
    )


def test_a_case_without_a_body_or_a_token_is_sent_so(contract: Contract, operation: Operation) -> None:
    prepared = prepare(operation.Case(headers={}), contract, VOLUMES)
    assert prepared.body is NO_BODY
    assert not prepared.token_sent
    assert prepared.content_type == JSON_MEDIA_TYPE
    raw = prepare(operation.Case(body=b"\xff{", headers=token_headers(contract)), contract, VOLUMES)
    assert raw.raw == b"\xff{"
    assert raw.body is NO_BODY


def test_a_null_body_is_a_body(contract: Contract, operation: Operation) -> None:
    prepared = prepare(operation.Case(body=None, headers=token_headers(contract)), contract, VOLUMES)
    assert prepared.body is None


# -- the expectation of a case -------------------------------------------------------------------------------
def prepared(contract: Contract, body: JSON, **changes: Any) -> Prepared:
    fields: dict[str, Any] = {
        "method": "POST",
        "body": body,
        "raw": None,
        "token_sent": True,
        "content_type": JSON_MEDIA_TYPE,
    }
    return Prepared(**{**fields, **changes})


def test_a_valid_body_is_expected_to_be_accepted(contract: Contract) -> None:
    body = with_available_volume(snapshot(contract, volume_id="generated"), contract, AVAILABLE)
    assert expectation_for(prepared(contract, body), contract, VOLUMES, refused=False).outcome == "accept"


def test_an_invalid_body_gets_the_refusal_expectation(contract: Contract) -> None:
    name = "n" * (field_limit(contract, "name") + 1)
    body = snapshot(contract, volume_id=AVAILABLE, name=name)
    expectation = expectation_for(prepared(contract, body), contract, VOLUMES, refused=True)
    assert (expectation.outcome, expectation.requirement) == ("refuse", "REQ-NAME")


def test_a_case_without_the_token_gets_the_auth_refusal(contract: Contract) -> None:
    body = snapshot(contract, volume_id=AVAILABLE)
    expectation = expectation_for(prepared(contract, body, token_sent=False), contract, VOLUMES, refused=True)
    assert (expectation.outcome, expectation.requirement) == ("refuse", "AUTH-MISSING")


def test_another_media_type_is_left_undecided(contract: Contract) -> None:
    case = prepared(contract, snapshot(contract, volume_id=AVAILABLE), content_type="text/plain")
    expectation = expectation_for(case, contract, VOLUMES, refused=True)
    assert (expectation.outcome, expectation.requirement) == ("either", "REQ-JSON")


def test_bytes_holding_json_are_judged_as_the_value(contract: Contract) -> None:
    raw = json.dumps(snapshot(contract, volume_id=AVAILABLE)).encode()
    as_json = expectation_for(prepared(contract, NO_BODY, raw=raw), contract, VOLUMES, refused=False)
    assert as_json.outcome == "accept"
    garbage = expectation_for(prepared(contract, NO_BODY, raw=b"{"), contract, VOLUMES, refused=True)
    assert garbage.outcome == "refuse"


@pytest.mark.parametrize("field", ["name", "description"])
def test_a_refused_value_at_the_limit_is_charged_to_its_field(contract: Contract, field: str) -> None:
    body = snapshot(contract, volume_id=AVAILABLE, **{field: "x" * field_limit(contract, field)})
    assert boundary_focus(contract, body) == FIELD_REQUIREMENTS[field]
    refused = expectation_for(prepared(contract, body), contract, VOLUMES, refused=True)
    accepted = expectation_for(prepared(contract, body), contract, VOLUMES, refused=False)
    assert (refused.outcome, refused.requirement) == ("accept", FIELD_REQUIREMENTS[field])
    assert accepted.outcome == "accept"
    assert accepted.requirement != FIELD_REQUIREMENTS[field]


def test_a_value_below_the_limit_has_no_focus(contract: Contract) -> None:
    below = snapshot(contract, volume_id=AVAILABLE, name="x" * (field_limit(contract, "name") - 1))
    assert boundary_focus(contract, below) is None
    assert boundary_focus(contract, "not an object") is None


def test_a_null_where_allowed_is_a_boundary() -> None:
    contract = load_contract("cinder")
    nullable = [rule.name for rule in contract.fields if rule.nullable and rule.name in FIELD_REQUIREMENTS]
    assert nullable, "the cinder contract allows null in no checked field"
    body = snapshot(contract, volume_id=AVAILABLE, **{nullable[0]: None})
    assert boundary_focus(contract, body) == FIELD_REQUIREMENTS[nullable[0]]


@pytest.mark.parametrize(
    "raw",
    [b"not json", b"\xff\xfe{}", b"{", b"[" * 100_000 + b"]" * 100_000, b""],
    ids=["text", "invalid-utf8", "truncated", "deeper-than-the-parser-stack", "empty"],
)
def test_bytes_holding_no_json_value_are_no_body(raw: bytes) -> None:
    assert parsed_json(raw) is NO_BODY


def test_bytes_holding_a_json_value_are_that_value() -> None:
    assert parsed_json(b'{"a": [1, null]}') == {"a": [1, None]}
    assert parsed_json(b"0") == 0


# -- sending to the embedded mock on loopback ----------------------------------------------------------------
@contextmanager
def suite_runtime(reports: Path, *quirks: str) -> Iterator[SuiteRuntime]:
    """The suite's runtime on the embedded mock (served from a thread, on loopback) with ``quirks`` on."""
    unset: dict[str, Any] = {dest(option): None for option in OPTIONS.values() if option.plugin}
    changes = {"evs_reports": str(reports), "evs_mock_quirk": list(quirks) or None, "evs_lifecycle": False}
    settings = run_settings(argparse.Namespace(**{**unset, **changes}), cwd=reports)
    runtime = SuiteRuntime(settings, run_id="bridge", worker="main", controller=True, max_creates=None)
    runtime.start()
    try:
        yield runtime
    finally:
        runtime.finish()


def sender_of(runtime: SuiteRuntime, test: str) -> CaseSender:
    runtime.begin_test(test)
    return CaseSender(runtime.contract, runtime.target, runtime.volumes, runtime.verify, runtime.ledger, test)


def ledger_lines(runtime: SuiteRuntime) -> list[dict[str, Any]]:
    runtime.ledger.flush()
    return [json.loads(line) for line in runtime.ledger.path.read_text().splitlines()]


def test_a_case_is_sent_judged_and_recorded(tmp_path: Path) -> None:
    with suite_runtime(tmp_path) as runtime:
        contract = runtime.contract
        operation = create_operation(contract)
        sender = sender_of(runtime, "test_bridge::valid")
        sender.send(
            operation.Case(body=snapshot(contract, volume_id="generated"), headers=token_headers(contract))
        )
        assert runtime.target.creates == 1
        [record] = runtime.target.records
        assert (record.status, record.disk, record.test) == (
            202,
            runtime.volumes.available_id,
            "test_bridge::valid",
        )
        accepted = [line for line in ledger_lines(runtime) if line.get("req") == "OP-ACCEPT"]
        assert [(line["kind"], line["tests"]) for line in accepted] == [("ok", ["test_bridge::valid"])]


def test_a_boundary_refused_by_a_quirked_mock_fails_its_field(tmp_path: Path) -> None:
    with suite_runtime(tmp_path, "name-limit-off-by-one-strict") as runtime:
        contract = runtime.contract
        operation = create_operation(contract)
        sender = sender_of(runtime, "test_bridge::limit")
        name = "n" * field_limit(contract, "name")
        case = operation.Case(
            body=snapshot(contract, volume_id="generated", name=name), headers=token_headers(contract)
        )
        with pytest.raises(pytest.fail.Exception, match=r"\[REQ-NAME\]"):
            sender.send(case)
        sender.keep_going = True
        sender.send(case)
        sender.send(case)
        with pytest.raises(
            pytest.fail.Exception, match=r"(?s)\[REQ-NAME\].*Reproduce:.*and 1 more failing case\)"
        ):
            sender.raise_first_failure()
        violations = [line for line in ledger_lines(runtime) if line["kind"] == "violation"]
        assert {line["req"] for line in violations} == {"REQ-NAME"}


@pytest.mark.parametrize(("quirks", "fails"), [((), False), (("name-limit-off-by-one-strict",), True)])
def test_the_coverage_phase_finds_a_refused_boundary(
    tmp_path: Path, quirks: tuple[str, ...], fails: bool
) -> None:
    with suite_runtime(tmp_path, *quirks) as runtime:
        operation = create_operation(runtime.contract)
        sender = sender_of(runtime, "test_bridge::coverage")
        sender.keep_going = True
        phase_test(operation, CasePhase.COVERAGE, examples=5, seed=None, send=sender.send)()
        assert runtime.target.creates > 10
        assert (
            [failure for failure in sender.failures if "[REQ-NAME]" in str(failure)] != []
            if fails
            else (sender.failures == [])
        )
