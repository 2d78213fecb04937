from __future__ import annotations

import copy
import uuid

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conformance.contract import Contract, contract_from_document, load_contract
from conformance.rules import strategies
from conformance.rules.oracle import (
    Volumes,
    expect,
    expect_auth_refusal,
    expect_foreign_project_refusal,
    expect_raw,
    expect_silent,
)

HUAWEI = load_contract("huawei")
CINDER = load_contract("cinder")
VOLUMES = Volumes("vol-ok", "vol-busy", "in-use", str(uuid.uuid4()), {"vol-ok": 10, "vol-busy": 20})


def _body(**snapshot: object) -> dict[str, object]:
    return {"snapshot": {"volume_id": "vol-ok", **snapshot}}


def test_a_valid_body_is_accepted_under_the_focus() -> None:
    assert expect(HUAWEI, _body(name="a"), VOLUMES).outcome == "accept"
    assert expect(HUAWEI, _body(name="a"), VOLUMES, focus="REQ-NAME").requirement == "REQ-NAME"
    assert expect(HUAWEI, _body(), VOLUMES).requirement == "OP-ACCEPT"


@pytest.mark.parametrize("contract", [HUAWEI, CINDER], ids=["huawei", "cinder"])
def test_name_limits_come_from_the_contract(contract: Contract) -> None:
    limit = contract.field("name").max_length
    assert limit is not None
    assert expect(contract, _body(name="é" * limit), VOLUMES).outcome == "accept"
    over = expect(contract, _body(name="é" * (limit + 1)), VOLUMES)
    assert (over.outcome, over.requirement, over.refusal) == ("refuse", "REQ-NAME", "invalid-body")


def test_the_shape_is_judged_first() -> None:
    for body in (None, [], {"snap": {}}, {"snapshot": "x"}):
        assert expect(HUAWEI, body, VOLUMES).requirement == "REQ-SNAPSHOT"
    missing = expect(HUAWEI, {"snapshot": {"name": "a"}}, VOLUMES)
    assert (missing.requirement, missing.refusal) == ("REQ-VOLUME-ID", "invalid-body")


def test_null_optional_fields_follow_the_profile() -> None:
    assert expect(HUAWEI, _body(name=None), VOLUMES).outcome == "either"
    assert expect(HUAWEI, _body(description=None), VOLUMES).outcome == "accept"
    assert expect(CINDER, _body(name=None), VOLUMES).outcome == "accept"
    assert expect(CINDER, _body(force=None), VOLUMES).refusal == "invalid-body"


def test_null_volume_id_uses_the_profiles_refusal() -> None:
    assert expect(HUAWEI, _body(volume_id=None), VOLUMES).refusal == "null-volume-id"
    assert CINDER.refusal("null-volume-id").status != HUAWEI.refusal("null-volume-id").status


def test_volume_existence() -> None:
    unknown = expect(HUAWEI, _body(volume_id=VOLUMES.unknown_id), VOLUMES)
    assert (unknown.requirement, unknown.refusal) == ("REQ-VOLUME-EXISTS", "unknown-volume")
    malformed = expect(HUAWEI, _body(volume_id="not a disk"), VOLUMES)
    assert (malformed.outcome, malformed.refusal) == ("refuse", None)


@pytest.mark.parametrize(
    ("force", "outcome", "requirement"),
    [
        (None, "refuse", "REQ-FORCE-DEFAULT"),
        (False, "refuse", "REQ-FORCE-FALSE"),
        (True, "accept", "REQ-FORCE-TRUE"),
    ],
)
def test_force_against_a_busy_disk(force: bool | None, outcome: str, requirement: str) -> None:
    snapshot = {"volume_id": "vol-busy"} if force is None else {"volume_id": "vol-busy", "force": force}
    found = expect(HUAWEI, {"snapshot": snapshot}, VOLUMES)
    assert (found.outcome, found.requirement) == (outcome, requirement)
    if outcome == "refuse":
        assert found.refusal == "volume-busy"


@pytest.mark.parametrize(
    ("force", "outcome", "requirement"),
    [
        ("yes", "accept", "REQ-FORCE-TRUE"),
        ("TRUE", "accept", "REQ-FORCE-TRUE"),
        ("off", "refuse", "REQ-FORCE-FALSE"),
    ],
)
def test_boolean_like_strings_on_a_busy_disk_mean_what_the_contract_says(
    force: str, outcome: str, requirement: str
) -> None:
    found = expect(CINDER, {"snapshot": {"volume_id": "vol-busy", "force": force}}, VOLUMES)
    assert (found.outcome, found.requirement) == (outcome, requirement)


def test_boolean_like_strings_outside_the_contracts_list_are_refused() -> None:
    for force in (" true", "tRuE", "T"):
        found = expect(CINDER, _body(force=force), VOLUMES)
        assert (found.requirement, found.refusal) == ("REQ-FORCE-TYPE", "invalid-body")


def test_unprintable_description_characters_the_pattern_passes_are_silent() -> None:
    for text in ("zero\u200bwidth", "unassigned \u0378", "trailing newline\n"):
        found = expect(CINDER, _body(description=text), VOLUMES)
        assert (found.outcome, found.requirement) == ("either", "REQ-DESCRIPTION"), text
    emoji = expect(CINDER, _body(description="smile \U0001f600"), VOLUMES)
    assert (emoji.outcome, emoji.requirement, emoji.refusal) == ("refuse", "REQ-DESCRIPTION", "invalid-body")
    assert expect(CINDER, _body(description="héllo wörld ✓ 中文"), VOLUMES).outcome == "accept"
    assert expect(HUAWEI, _body(description="zero\u200bwidth"), VOLUMES).outcome == "accept"


def test_a_disk_not_in_a_busy_state_is_not_busy() -> None:
    volumes = Volumes("a", "b", "available", "u", {})
    assert expect(HUAWEI, {"snapshot": {"volume_id": "b"}}, volumes).outcome == "accept"


def test_unknown_fields_are_silent_and_widen_a_later_refusal() -> None:
    assert expect(HUAWEI, _body(colour="red"), VOLUMES).outcome == "either"
    widened = expect(HUAWEI, {"snapshot": {"volume_id": VOLUMES.unknown_id, "x": 1}}, VOLUMES)
    assert (widened.outcome, widened.refusal) == ("refuse", None)


def test_focus_decides_which_broken_field_is_named() -> None:
    body = _body(name="n" * 500, description="d" * 500)
    assert expect(HUAWEI, body, VOLUMES, focus="REQ-DESCRIPTION").requirement == "REQ-DESCRIPTION"
    assert expect(HUAWEI, body, VOLUMES, focus="REQ-NAME").requirement == "REQ-NAME"


def test_raw_bodies_that_are_not_json_are_invalid() -> None:
    for raw in (b"", b"   ", b"{", b"\xff\xfe", b'{"snapshot": }', b'{"a": NaN}', b"{} {}", b'{"a": 1} x'):
        found = expect_raw(HUAWEI, raw)
        assert (found.requirement, found.refusal) == ("REQ-JSON", "invalid-body")
    with pytest.raises(ValueError, match="valid JSON"):
        expect_raw(HUAWEI, b"{}")


def test_repeated_keys_are_judged_on_each_reading() -> None:
    good, bad = '{"volume_id": "vol-ok"}', '{"volume_id": 1}'
    # The copies differ in what the document decides: which one counts, it does not say.
    for first, last in ((good, bad), (bad, good)):
        found = expect_raw(HUAWEI, f'{{"snapshot": {first}, "snapshot": {last}}}'.encode(), VOLUMES)
        assert (found.outcome, found.requirement) == ("either", "REQ-JSON")
        assert "RFC 8259" in found.reason
    # Both readings accepted: a parser may still refuse the repeated key itself.
    same = expect_raw(HUAWEI, f'{{"snapshot": {good}, "snapshot": {good}}}'.encode(), VOLUMES, focus="REQ-X")
    assert (same.outcome, same.requirement) == ("either", "REQ-X")
    # Both readings refused: refused, by any 4xx, and charged to the focus.
    inner = b'{"snapshot": {"volume_id": 1, "volume_id": true}}'
    refused = expect_raw(HUAWEI, inner, VOLUMES, focus="REQ-VOLUME-ID")
    assert (refused.outcome, refused.requirement, refused.refusal) == ("refuse", "REQ-VOLUME-ID", None)
    with pytest.raises(ValueError, match="give the disks"):
        expect_raw(HUAWEI, inner)


def test_auth_refusals_and_silences() -> None:
    assert expect_auth_refusal("AUTH-INVALID").refusal == "auth"
    foreign = expect_foreign_project_refusal()
    assert (foreign.requirement, foreign.refusal) == ("AUTH-INVALID", "foreign-project")
    assert expect_silent("RSP-STATUS-CODES", "media type").outcome == "either"


def test_limits_follow_a_modified_document() -> None:
    document = copy.deepcopy(dict(HUAWEI.document))
    document["components"]["schemas"]["CinderCreateSnapshotOption"]["properties"]["name"]["maxLength"] = 3
    contract = contract_from_document(document)
    assert expect(contract, _body(name="abcd"), VOLUMES).outcome == "refuse"
    assert expect(HUAWEI, _body(name="abcd"), VOLUMES).outcome == "accept"


SHAPE_REQUIREMENTS = {
    "REQ-SNAPSHOT",
    "REQ-VOLUME-ID",
    "REQ-NAME",
    "REQ-DESCRIPTION",
    "REQ-FORCE-TYPE",
    "REQ-METADATA",
}


@pytest.mark.parametrize("contract", [HUAWEI, CINDER], ids=["huawei", "cinder"])
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_oracle_agrees_with_the_request_validator(contract: Contract, data: st.DataObject) -> None:
    body = data.draw(
        strategies.create_bodies(contract, volume_id="vol-ok")
        | strategies.invalid_create_bodies(contract, volume_id="vol-ok")
        | strategies.json_values()
    )
    found = expect(contract, body, VOLUMES)
    shape_refused = found.outcome == "refuse" and found.refusal == "invalid-body"
    if contract.validator("request").is_valid(body):
        assert not (shape_refused and found.requirement in SHAPE_REQUIREMENTS)
    else:
        assert found.outcome != "accept"
