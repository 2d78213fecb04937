"""Page model -> OpenAPI: structure, x-source everywhere, silence where the page is silent, and page edits."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import jsonschema
import pytest
from openapi_spec_validator import validate

from conformance.contract.specbuild.document import build_document, operation_id
from conformance.contract.specbuild.page import parse_page
from tests.spec.conftest import build, edited, page_text
from tests.spec.test_page import OTHER_PAGE

SCHEMAS = "#/components/schemas/"


def _page_only(text: str) -> dict[str, Any]:
    return build_document(parse_page(text, source="page.txt"))


def _operation(document: dict[str, Any]) -> dict[str, Any]:
    (item,) = document["paths"].values()
    (operation,) = item.values()
    return operation  # type: ignore[no-any-return]


def _properties(document: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    for name, schema in document["components"]["schemas"].items():
        for prop, sub in schema.get("properties", {}).items():
            yield f"{name}/{prop}", sub


def test_the_page_alone_is_a_valid_openapi_document() -> None:
    validate(_page_only(page_text()))


def test_operation_id_and_component_names_come_from_the_function_sentence() -> None:
    document = _page_only(page_text())
    assert _operation(document)["operationId"] == "createEvsSnapshot"
    assert list(document["components"]["schemas"]) == [
        "CreateEvsSnapshotRequestBody",
        "CinderCreateSnapshotOption",
        "CreateEvsSnapshotResponseBody202",
        "SnapshotSummary",
        "CreateEvsSnapshotResponseBody400",
        "Error",
    ]


def test_operation_id_falls_back_to_method_and_path() -> None:
    page = parse_page(edited(OTHER_PAGE, "This API is used to query widgets.", "Widgets."), source="w.txt")
    assert operation_id(page) == "getWidgets"


def test_every_schema_property_parameter_and_response_has_an_x_source() -> None:
    document = _page_only(page_text())
    operation = _operation(document)
    assert all("x-source" in s for s in document["components"]["schemas"].values())
    assert all("x-source" in p for _, p in _properties(document))
    assert all("x-source" in p for p in operation["parameters"])
    assert all("x-source" in r for r in operation["responses"].values())
    name = document["components"]["schemas"]["CinderCreateSnapshotOption"]["properties"]["name"]
    assert name["x-source"] == "Table 4 CinderCreateSnapshotOption/name"


def test_the_token_header_is_an_api_key_scheme() -> None:
    document = _page_only(page_text())
    scheme = document["components"]["securitySchemes"]["XAuthToken"]
    assert (scheme["type"], scheme["in"], scheme["name"]) == ("apiKey", "header", "X-Auth-Token")
    assert _operation(document)["security"] == [{"XAuthToken": []}]
    assert [p["name"] for p in _operation(document)["parameters"]] == ["project_id"]


def test_request_requires_mandatory_rows_and_response_requires_every_row() -> None:
    schemas = _page_only(page_text())["components"]["schemas"]
    assert schemas["CinderCreateSnapshotOption"]["required"] == ["volume_id"]
    assert schemas["SnapshotSummary"]["required"] == list(schemas["SnapshotSummary"]["properties"])


def test_prose_constraints_reach_the_schema() -> None:
    option = _page_only(page_text())["components"]["schemas"]["CinderCreateSnapshotOption"]["properties"]
    assert option["name"]["maxLength"] == 64
    assert (option["description"]["type"], option["description"]["maxLength"]) == (["string", "null"], 85)
    assert option["force"] == {**option["force"], "type": "boolean", "default": False}
    assert option["metadata"]["additionalProperties"] == {"type": "string"}
    assert option["name"]["x-reserved-prefixes"] == ["autobk_snapshot_"]


def test_where_the_page_is_silent_the_document_is_silent() -> None:
    document = build(page_text(), "cinder")
    text = repr(document)
    assert "'additionalProperties': False" not in text
    option = document["components"]["schemas"]["CinderCreateSnapshotOption"]["properties"]
    assert "maxLength" not in option["volume_id"]
    assert "default" not in option["name"]


def test_responses_follow_the_status_codes_table_with_their_examples() -> None:
    responses = _operation(_page_only(page_text()))["responses"]
    assert list(responses) == ["202", "400"]
    assert responses["202"]["content"]["application/json"]["schema"] == {
        "$ref": SCHEMAS + "CreateEvsSnapshotResponseBody202"
    }
    assert responses["400"]["x-source"] == "Status Codes/400"
    assert "summary" not in responses["202"]["content"]["application/json"]["examples"]["example1"]


def _examples(document: dict[str, Any]) -> Iterator[tuple[dict[str, Any], Any]]:
    operation = _operation(document)
    media = [operation["requestBody"]["content"]["application/json"]]
    media += [r["content"]["application/json"] for r in operation["responses"].values() if "content" in r]
    for entry in media:
        for example in entry.get("examples", {}).values():
            yield entry["schema"], example["value"]


@pytest.mark.parametrize("profile", ["huawei", "cinder"])
def test_every_example_validates_against_its_schema(profile: str) -> None:
    document = build(page_text(), profile)
    examples = list(_examples(document))
    assert len(examples) == 3
    for schema, value in examples:
        jsonschema.Draft202012Validator({**schema, "components": document["components"]}).validate(value)


def test_changing_a_limit_changes_max_length() -> None:
    text = edited(page_text(), "You can enter up to 64 characters.", "You can enter up to 70 characters.")
    name = build(text)["components"]["schemas"]["CinderCreateSnapshotOption"]["properties"]["name"]
    assert name["maxLength"] == 70


def test_an_added_optional_row_becomes_an_optional_property() -> None:
    row = "snapshot_type\n\nNo\n\nString\n\nThe snapshot type. You can enter up to 32 characters.\n\n"
    text = edited(page_text(), "name\n\nNo\n\nString", row + "name\n\nNo\n\nString")
    option = build(text)["components"]["schemas"]["CinderCreateSnapshotOption"]
    assert option["properties"]["snapshot_type"]["maxLength"] == 32
    assert (
        option["properties"]["snapshot_type"]["x-source"]
        == "Table 4 CinderCreateSnapshotOption/snapshot_type"
    )
    assert option["required"] == ["volume_id"]
    assert list(option["properties"])[-2:] == ["snapshot_type", "name"]


def test_a_dropped_response_field_is_neither_a_property_nor_required() -> None:
    text = edited(page_text(), "id\n\nString\n\nThe snapshot ID.\n\n", "")
    summary = build(text)["components"]["schemas"]["SnapshotSummary"]
    assert "id" not in summary["properties"]
    assert "id" not in summary["required"]
    assert len(summary["required"]) == 8


def test_an_added_note_reaches_the_description_and_its_prefix_is_reserved() -> None:
    note = "\n\nNOTE:\n\nDescriptions with the sys_ prefix are reserved; do not use sys_ as the prefix.\n"
    text = edited(
        page_text(), "You can enter up to 85 characters.\n", "You can enter up to 85 characters.\n" + note
    )
    description = build(text)["components"]["schemas"]["CinderCreateSnapshotOption"]["properties"][
        "description"
    ]
    assert description["description"].endswith("do not use sys_ as the prefix.")
    assert "\n\nNOTE: Descriptions with the sys_" in description["description"]
    assert description["x-reserved-prefixes"] == ["sys_"]
    assert description["maxLength"] == 85


def test_another_page_builds_arrays_and_untyped_statuses() -> None:
    document = _page_only(OTHER_PAGE)
    validate(document)
    operation = _operation(document)
    assert operation["operationId"] == "queryWidgets"
    assert list(operation["responses"]) == ["200", "404"]
    body = document["components"]["schemas"]["QueryWidgetsResponseBody200"]["properties"]
    assert body["widgets"]["items"] == {"$ref": SCHEMAS + "WidgetInfo"}
    assert document["components"]["schemas"]["WidgetInfo"]["properties"]["label"]["maxLength"] == 12
