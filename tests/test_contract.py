"""Contract read against both generated profiles: fields, limits, statuses, refusals and validators."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from conformance.contract import PROFILES, Contract, contract_from_document, load_contract
from conformance.core.errors import SpecError


@pytest.fixture(scope="module", params=PROFILES)
def contract(request: pytest.FixtureRequest) -> Contract:
    return load_contract(request.param)


@pytest.fixture(scope="module")
def huawei() -> Contract:
    return load_contract("huawei")


@pytest.fixture(scope="module")
def cinder() -> Contract:
    return load_contract("cinder")


def test_operation_and_authentication(contract: Contract) -> None:
    assert contract.path_template == f"{contract.api_prefix}/{{project_id}}/snapshots"
    assert contract.accepted_status == 202
    assert contract.auth_statuses == {401, 403}
    assert contract.token_header == "X-Auth-Token"
    assert contract.snapshot_key == contract.summary_key == "snapshot"


def test_documented_statuses_per_profile(huawei: Contract, cinder: Contract) -> None:
    assert huawei.documented_statuses == {202, 400, 401, 403}
    assert cinder.documented_statuses == {202, 400, 401, 403, 404, 413, 415}
    assert (huawei.api_prefix, cinder.api_prefix) == ("/v2", "/v3")


def test_fields_of_the_snapshot_object(contract: Contract) -> None:
    assert [f.name for f in contract.fields] == ["volume_id", "description", "force", "metadata", "name"]
    assert [f.name for f in contract.fields if f.required] == ["volume_id"]
    assert contract.field("name").source.startswith("Table 4 CinderCreateSnapshotOption/name")
    assert contract.field("force").default is False
    assert contract.field("metadata").value_schema is not None
    assert contract.field("description").nullable
    with pytest.raises(KeyError):
        contract.field("size")


def test_huawei_limits_and_types_come_from_the_page(huawei: Contract) -> None:
    assert (huawei.field("name").max_length, huawei.field("description").max_length) == (64, 85)
    assert huawei.field("force").types == ("boolean",)
    assert huawei.field("force").boolean_like_strings == {}
    assert not huawei.field("description").printable_only
    assert huawei.field("description").unprintable("\u0000\U0001f600") == ""
    assert not huawei.field("name").nullable
    assert not huawei.field("metadata").nullable


def test_cinder_overlay_limits_and_types(cinder: Contract) -> None:
    assert (cinder.field("name").max_length, cinder.field("description").max_length) == (255, 255)
    assert cinder.field("force").types == ("boolean", "string")
    strings = cinder.field("force").boolean_like_strings
    assert {s for s, meaning in strings.items() if meaning} >= {
        "true",
        "True",
        "TRUE",
        "yes",
        "y",
        "t",
        "1",
        "on",
    }
    assert {s for s, meaning in strings.items() if not meaning} >= {"false", "No", "n", "f", "0", "OFF"}
    assert not set(strings) & {" true", "tRuE", "T", "F", "Y", "abc", "2", ""}
    assert cinder.field("name").nullable
    assert cinder.field("metadata").nullable
    assert cinder.field("metadata").value_schema == {"type": "string", "maxLength": 255}


def test_cinder_boolean_like_strings_are_exactly_cinders_enum(cinder: Contract) -> None:
    strings = cinder.field("force").boolean_like_strings
    assert len(strings) == 24
    validator = cinder.validator("request")
    for text, meaning in strings.items():
        assert validator.is_valid({"snapshot": {"volume_id": "v", "force": text}}), text
        assert meaning == (text.lower() in {"true", "1", "on", "yes", "y", "t"})
    assert not validator.is_valid({"snapshot": {"volume_id": "v", "force": " true"}})


def test_cinder_description_is_printable_bmp_only(cinder: Contract) -> None:
    rule = cinder.field("description")
    assert rule.printable_only
    assert rule.excluded_categories == ("C", "Zl", "Zp")
    assert rule.max_codepoint == 0xFFFF
    assert rule.unprintable("plain, é, 中文, tab\there\u200b\ue000\U0001f600") == "\t\u200b\ue000\U0001f600"
    assert rule.unprintable("héllo wörld \u3000 ✓") == ""


@pytest.mark.parametrize(
    ("text", "valid"),
    [
        ("héllo \u00a0 wörld ✓ 中文 \ufffd", True),
        ("\u200b", True),  # a format character: only the printable rule refuses it
        ("a\u0000b", False),
        ("a\u007fb", False),
        ("a\u0085b", False),
        ("a\u2028b", False),
        ("a\u2029b", False),
        ("a\ue000b", False),
        ("a\ufffeb", False),
        ("a\U0001f600b", False),
    ],
)
def test_cinder_description_pattern_refuses_what_it_can_state(
    cinder: Contract, text: str, valid: bool
) -> None:
    body = {"snapshot": {"volume_id": "v", "description": text}}
    assert cinder.validator("request").is_valid(body) is valid


def test_cinder_summary_allows_extra_fields(huawei: Contract, cinder: Contract) -> None:
    assert cinder.summary_schema["additionalProperties"] is True
    assert "additionalProperties" not in huawei.summary_schema


def test_summary_statuses_and_time_pattern(contract: Contract) -> None:
    assert contract.snapshot_statuses == (
        "creating",
        "available",
        "error",
        "deleting",
        "error_deleting",
        "rollbacking",
        "backing-up",
    )
    assert re.fullmatch(contract.time_pattern, "2013-02-25T03:56:53.081642")
    assert not re.fullmatch(contract.time_pattern, "2013-02-25T03:56:53Z")
    assert contract.busy_volume_statuses == {"attaching", "in-use"}


def test_refusals_per_profile(huawei: Contract, cinder: Contract) -> None:
    assert {k: huawei.refusal(k).status for k in ("invalid-body", "unknown-volume", "null-volume-id")} == {
        "invalid-body": 400,
        "unknown-volume": 400,
        "null-volume-id": 400,
    }
    assert (cinder.refusal("unknown-volume").status, cinder.refusal("null-volume-id").status) == (404, 404)
    assert cinder.refusal("volume-busy").status == 400
    assert cinder.response_schema(413) is None
    assert not huawei.trims_whitespace
    assert cinder.trims_whitespace


def test_error_envelopes(huawei: Contract, cinder: Contract) -> None:
    assert huawei.validator(400).is_valid({"error": {"code": "EVS.0001", "message": "bad"}})
    assert not huawei.validator(400).is_valid({"badRequest": {"code": 400, "message": "bad"}})
    assert cinder.validator(400).is_valid({"badRequest": {"code": 400, "message": "bad"}})
    assert not cinder.validator(400).is_valid({"badRequest": {"code": "400", "message": "bad"}})
    assert cinder.validator(404).is_valid({"itemNotFound": {"code": 404, "message": "no volume"}})
    assert cinder.response_source(404) == "overlay cinder.yaml"
    assert huawei.response_source(400) == "Status Codes/400"


def test_request_validator_takes_the_example_and_refuses_limits(contract: Contract) -> None:
    (example,) = contract.request_examples
    request = contract.validator("request")
    assert request.is_valid(example)
    limit = contract.field("name").max_length
    assert limit is not None
    assert request.is_valid({"snapshot": {"volume_id": "v", "name": "n" * limit}})
    assert not request.is_valid({"snapshot": {"volume_id": "v", "name": "n" * (limit + 1)}})
    assert not request.is_valid({"snapshot": {"name": "n"}})
    assert request.is_valid({"snapshot": {"volume_id": "v", "unknown": 1}, "extra": True})


def test_summary_validator(contract: Contract) -> None:
    body = {
        "snapshot": {
            "created_at": "2013-02-25T03:56:53.081642",
            "description": None,
            "id": "i",
            "metadata": {},
            "name": None,
            "size": 1,
            "status": "creating",
            "updated_at": None,
            "volume_id": "v",
        }
    }
    summary = contract.validator("summary")
    assert summary.is_valid(body)
    assert not summary.is_valid({"snapshot": {**body["snapshot"], "size": 0}})
    assert not summary.is_valid({"snapshot": {**body["snapshot"], "status": "ready"}})
    assert not summary.is_valid({"snapshot": {k: v for k, v in body["snapshot"].items() if k != "id"}})
    with pytest.raises(KeyError):
        contract.validator(401)


def test_prefix_override(huawei: Contract) -> None:
    moved = contract_from_document(huawei.document, api_prefix="/evs/v2")
    assert moved.path_template == "/evs/v2/{project_id}/snapshots"
    assert moved.field("name").max_length == 64


def test_load_errors(tmp_path: Path) -> None:
    with pytest.raises(SpecError, match="unknown profile 'aws'"):
        load_contract("aws")
    with pytest.raises(SpecError, match="cannot read the contract"):
        load_contract(path=tmp_path / "missing.yaml")
    bad = tmp_path / "bad.yaml"
    bad.write_text("openapi: [", encoding="utf-8")
    with pytest.raises(SpecError, match="not valid YAML"):
        load_contract(path=bad)
    bad.write_text("openapi: 3.1.0\npaths: {}\n", encoding="utf-8")
    with pytest.raises(SpecError, match="not an evs-conformance contract"):
        load_contract(path=bad)
