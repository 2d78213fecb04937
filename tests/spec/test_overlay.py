"""Overlays: the file format, each operation, x-source notes, and errors that name the overlay line."""

from __future__ import annotations

from typing import Any

import pytest

from conformance.contract.specbuild.overlay import apply_overlay, parse_overlay
from conformance.core.errors import SpecError


def _document() -> dict[str, Any]:
    return {
        "paths": {
            "/v2/{p}/things": {"post": {"responses": {"400": {"description": "Bad", "x-source": "S/400"}}}}
        },
        "components": {
            "schemas": {
                "Thing": {
                    "type": "object",
                    "x-source": "Table 1 Thing",
                    "properties": {"name": {"type": "string", "x-source": "Table 1 Thing/name"}},
                }
            }
        },
    }


def _apply(operations: str, document: dict[str, Any] | None = None) -> dict[str, Any]:
    overlay = parse_overlay(f"operations:\n{operations}", source="o.yaml")
    return apply_overlay(document or _document(), overlay)


NAME = "/components/schemas/Thing/properties/name"


def test_merge_adds_keywords_and_notes_the_overlay_in_x_source() -> None:
    name = _apply(f"  - {{op: merge, path: {NAME}, value: {{maxLength: 5}}}}\n")["components"]["schemas"][
        "Thing"
    ]["properties"]["name"]
    assert name == {"type": "string", "x-source": "Table 1 Thing/name; overlay o.yaml", "maxLength": 5}


def test_an_operation_note_replaces_the_file_note() -> None:
    ops = f"  - {{op: merge, path: {NAME}, value: {{enum: [a]}}, note: Appendix (overlay o.yaml)}}\n"
    name = _apply(ops)["components"]["schemas"]["Thing"]["properties"]["name"]
    assert name["x-source"] == "Table 1 Thing/name; Appendix (overlay o.yaml)"


def test_nullable_adds_null_to_the_type() -> None:
    name = _apply(f"  - {{op: nullable, path: {NAME}}}\n")["components"]["schemas"]["Thing"]["properties"][
        "name"
    ]
    assert name["type"] == ["string", "null"]


def test_nullable_on_a_reference_adds_a_null_branch() -> None:
    document = _document()
    document["components"]["schemas"]["Thing"]["properties"]["name"] = {"$ref": "#/x", "x-source": "T"}
    name = _apply(f"  - {{op: nullable, path: {NAME}}}\n", document)["components"]["schemas"]["Thing"][
        "properties"
    ]["name"]
    assert name["anyOf"] == [{"$ref": "#/x"}, {"type": "null"}]


def test_set_creates_missing_parents_and_remove_deletes() -> None:
    ops = "  - {op: set, path: /x-conformance/refusals/busy, value: 409}\n"
    ops += f"  - {{op: remove, path: {NAME}/type}}\n"
    document = _apply(ops)
    assert document["x-conformance"] == {"refusals": {"busy": 409}}
    assert document["components"]["schemas"]["Thing"]["properties"]["name"] == {
        "x-source": "Table 1 Thing/name; overlay o.yaml"
    }


def test_operation_alias_and_key_renaming() -> None:
    ops = (
        "  - {op: set, path: '@operation/responses/404', value: {description: Gone}}\n"
        "  - {op: rename-keys, path: /paths, match: ^/v2/, replace: /v3/}\n"
    )
    document = _apply(ops)
    assert list(document["paths"]) == ["/v3/{p}/things"]
    assert document["paths"]["/v3/{p}/things"]["post"]["responses"]["404"] == {"description": "Gone"}


def test_a_pointer_escapes_slashes() -> None:
    pointer = "/paths/~1v2~1{p}~1things/post/responses/400"
    ops = f"  - {{op: merge, path: '{pointer}', value: {{description: Refused}}}}\n"
    response = _apply(ops)["paths"]["/v2/{p}/things"]["post"]["responses"]["400"]
    assert response == {"description": "Refused", "x-source": "S/400; overlay o.yaml"}


def test_applying_leaves_the_input_document_alone() -> None:
    document = _document()
    _apply(f"  - {{op: nullable, path: {NAME}}}\n", document)
    assert document == _document()


def test_a_target_that_no_longer_exists_is_an_error_naming_the_overlay_line() -> None:
    ops = "  - {op: nullable, path: /components/schemas/Thing/properties/name}\n"
    ops += "  - {op: merge, path: /components/schemas/Thing/properties/size, value: {minimum: 1}}\n"
    with pytest.raises(
        SpecError, match=r"^o\.yaml:3: merge /components/schemas/Thing/properties/size: no 'size'"
    ):
        _apply(ops)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("operations: [{op: patch, path: /a}]", r"o\.yaml:1: op must be one of"),
        ("operations:\n  - {op: set, path: /a}", r"o\.yaml:2: set needs a value"),
        ("operations:\n  - {op: merge, path: /a, value: 3}", r"o\.yaml:2: merge needs a mapping value"),
        ("operations:\n  - {op: set, path: a, value: 3}", r"o\.yaml:2: path must be a JSON pointer"),
        ("operations:\n  - {op: set, path: /a, value: 3, colour: red}", r"o\.yaml:2: unknown key 'colour'"),
        ("operations:\n  - {op: rename-keys, path: /a}", r"o\.yaml:2: rename-keys needs match and replace"),
        ("ops: []", r"o\.yaml:1: an overlay is a mapping with an 'operations' list"),
        ("operations:\n  - {op: set\n", r"o\.yaml:\d+: not valid YAML"),
    ],
)
def test_malformed_overlays_are_errors(text: str, message: str) -> None:
    with pytest.raises(SpecError, match=f"^{message}"):
        parse_overlay(text, source="o.yaml")
