from __future__ import annotations

from typing import Any

import jsonschema

from conformance.contract import Contract
from conformance.rules.checks import (
    refusal_matches_envelope,
    source_at,
    summary_extra_fields,
    summary_matches_schema,
)
from conformance.rules.checks.body import schema_violations
from tests.checks.conftest import summary


def test_a_documented_summary_passes(huawei: Contract) -> None:
    assert summary_matches_schema(huawei, {"snapshot": summary()}) == []


def test_a_wrong_type_quotes_the_property_row(huawei: Contract) -> None:
    (found,) = summary_matches_schema(huawei, {"snapshot": summary(volume_id=5)})
    assert found.requirement == "RSP-202-SCHEMA"
    assert found.message.startswith("Received: snapshot/volume_id = 5\nDocumented: type")
    assert found.message.endswith(f"({huawei.summary_schema['properties']['volume_id']['x-source']})")


def test_a_missing_property_quotes_that_property(huawei: Contract) -> None:
    body = summary()
    del body["id"]
    (found,) = summary_matches_schema(huawei, {"snapshot": body})
    assert f"({huawei.summary_schema['properties']['id']['x-source']})" in found.message


def test_dedicated_properties_are_left_to_their_checks(huawei: Contract) -> None:
    assert summary_matches_schema(huawei, {"snapshot": summary(status="weird", created_at="x", size=0)}) == []


def test_source_at_walks_the_schema_path(huawei: Contract) -> None:
    schema = huawei.response_schema(202)
    assert schema is not None
    path = ["properties", "snapshot", "properties", "name", "type"]
    assert source_at(schema, path) == huawei.summary_schema["properties"]["name"]["x-source"]


def test_refusal_envelope_per_profile(huawei: Contract, cinder: Contract) -> None:
    assert refusal_matches_envelope(huawei, 400, {"error": {"code": "EVS.0001", "message": "bad"}}) == []
    (found,) = refusal_matches_envelope(huawei, 400, {"badRequest": {"code": 400, "message": "bad"}})
    assert found.requirement == "RSP-400-SCHEMA"
    assert "(Table" in found.message
    assert refusal_matches_envelope(cinder, 404, {"itemNotFound": {"code": 404, "message": "no"}}) == []
    assert len(refusal_matches_envelope(cinder, 404, {"error": {"code": "x", "message": "no"}})) == 1
    assert refusal_matches_envelope(huawei, 401, "anything") == []  # no body documented


def test_extra_summary_fields_are_reported_where_the_document_is_silent(huawei: Contract) -> None:
    assert summary_extra_fields(huawei, {"snapshot": summary(os_extended="x")}) == ["os_extended"]
    assert summary_extra_fields(huawei, {"snapshot": summary()}) == []


class _NoErrorDetails:
    """A full validator that must not be asked for errors."""

    def iter_errors(self, body: Any) -> Any:
        raise AssertionError("the full validator ran on a body the fast one passed")


def test_a_body_the_fast_validator_passes_never_reaches_the_full_one(huawei: Contract) -> None:
    schema = huawei.response_schema(202)
    assert schema is not None
    body = {"snapshot": summary()}
    found = schema_violations(
        _NoErrorDetails(), schema, body, requirement="R", check="c", fast=huawei.fast_validator("summary")
    )
    assert found == []


def test_errors_still_come_from_the_full_validator_when_the_fast_one_refuses(huawei: Contract) -> None:
    schema = huawei.response_schema(202)
    assert schema is not None
    full = jsonschema.Draft202012Validator(schema)
    body = {"snapshot": summary(name=7, size=2**80)}
    (found,) = schema_violations(
        full, schema, body, requirement="R", check="c", fast=huawei.fast_validator("summary")
    )
    assert "snapshot/name = 7" in found.message
