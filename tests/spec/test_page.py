"""The page parser: tables, rows, notes, types, examples and status codes, and its one-line errors."""

from __future__ import annotations

import pytest

from conformance.contract.specbuild.model import TypeRef
from conformance.contract.specbuild.page import parse_page, parse_type
from conformance.core.errors import SpecError
from tests.spec.conftest import edited, page_text

# A different page of the same reference, written the same way, with names the project's page never uses.
OTHER_PAGE = """\
Updated on 2023-11-02 GMT+08:00

Querying Widgets

Function

This API is used to query widgets.

URI

GET /v1/{project_id}/widgets

Table 1 Path Parameters

Parameter

Mandatory

Type

Description

project_id

Yes

String

The project ID.

Request Parameters

Table 2 Request header parameters

Parameter

Mandatory

Type

Description

X-Auth-Token

Yes

String

The user token.

Response Parameters

Status code: 200

Table 3 Response body parameters

Parameter

Type

Description

widgets

Array of WidgetInfo objects

The widgets.

count

Integer

The number of widgets.

Table 4 WidgetInfo

Parameter

Type

Description

label

String

The widget label. You can enter up to 12 characters.

tags

Array of strings

The widget tags.

Example Responses

Status code: 200

OK

{
  "widgets" : [ { "label" : "w1", "tags" : [ "a" ] } ],
  "count" : 1
}

Status Codes

Status Code

Description

200

OK

404

Not Found
"""


@pytest.fixture(scope="module")
def page():  # type: ignore[no-untyped-def]
    return parse_page(page_text(), source="create-evs-snapshot.txt")


def test_reads_the_operation_and_header_of_the_page(page) -> None:  # type: ignore[no-untyped-def]
    assert (page.method, page.path) == ("POST", "/v2/{project_id}/snapshots")
    assert page.title == "Creating an EVS Snapshot"
    assert page.updated == "2024-02-27"
    assert page.function == ("This API is used to create an EVS snapshot.",)


def test_finds_every_table_with_its_columns_section_and_status(page) -> None:  # type: ignore[no-untyped-def]
    labels = [t.label for t in page.tables]
    assert labels == [
        *(
            f"Table {n} {t}"
            for n, t in enumerate(
                [
                    "Path Parameters",
                    "Request header parameters",
                    "Request body parameters",
                    "CinderCreateSnapshotOption",
                    "Response body parameters",
                    "SnapshotSummary",
                    "Response body parameters",
                    "Error",
                ],
                start=1,
            )
        ),
        "Status Codes",
    ]
    option = page.table("CinderCreateSnapshotOption")
    assert option.columns == ("Parameter", "Mandatory", "Type", "Description")
    assert option.section == "Request Parameters"
    summary = page.table("SnapshotSummary")
    assert summary.columns == ("Parameter", "Type", "Description")
    assert (summary.section, summary.status) == ("Response Parameters", 202)
    assert page.table("Error").status == 400


def test_rows_carry_mandatory_type_and_their_line(page) -> None:  # type: ignore[no-untyped-def]
    option = page.table("CinderCreateSnapshotOption")
    assert [r.name for r in option.rows] == ["volume_id", "description", "force", "metadata", "name"]
    assert [r.mandatory for r in option.rows] == [True, False, False, False, False]
    assert option.row("metadata").type == TypeRef(
        "map", item=TypeRef("primitive", "string", text="String"), text="Map<String,String>"
    )
    assert option.row("volume_id").line == page_text().splitlines().index("volume_id") + 1
    assert all(r.mandatory is None for r in page.table("SnapshotSummary").rows)


def test_a_description_runs_over_paragraphs_until_the_next_row(page) -> None:  # type: ignore[no-untyped-def]
    option = page.table("CinderCreateSnapshotOption")
    force = option.row("force")
    assert len(force.paragraphs) == 2
    assert force.paragraphs[1].startswith("If this parameter value is false")
    assert option.row("metadata").paragraphs == ("The snapshot metadata.",)


def test_a_note_block_is_kept_apart_from_the_paragraphs(page) -> None:  # type: ignore[no-untyped-def]
    name = page.table("CinderCreateSnapshotOption").row("name")
    assert name.paragraphs == ("The snapshot name. You can enter up to 64 characters.",)
    assert len(name.notes) == 1
    assert "autobk_snapshot_" in name.notes[0]
    assert name.description.endswith(name.notes[0])
    assert "\n\nNOTE: " in name.description


def test_the_last_row_of_a_table_stops_at_the_next_heading(page) -> None:  # type: ignore[no-untyped-def]
    assert page.table("SnapshotSummary").row("volume_id").paragraphs == (
        "The ID of the snapshot's source disk.",
    )
    assert page.table("Error").row("message").paragraphs == (
        "The error message returned if an error occurs.",
    )


def test_examples_and_status_codes(page) -> None:  # type: ignore[no-untyped-def]
    assert page.status_codes == {202: "Accepted", 400: "Bad Request"}
    request, accepted, refused = page.examples
    assert request.kind == "request"
    assert request.status is None
    assert request.title.startswith("Creating a snapshot (If the source EVS disk is attached")
    assert request.request_line == "POST https://{endpoint}/v2/{project_id}/snapshots"
    assert request.body["snapshot"]["force"] is False
    assert (accepted.kind, accepted.status, accepted.title) == ("response", 202, "Accepted")
    assert accepted.body["snapshot"]["size"] == 1
    assert (refused.status, refused.body) == (400, {"error": {"message": "XXXX", "code": "XXX"}})


def test_another_page_of_the_reference_parses_too() -> None:
    page = parse_page(OTHER_PAGE, source="widgets.txt")
    assert (page.method, page.path) == ("GET", "/v1/{project_id}/widgets")
    assert [t.title for t in page.tables] == [
        "Path Parameters",
        "Request header parameters",
        "Response body parameters",
        "WidgetInfo",
        "Status Codes",
    ]
    widgets = page.table("Response body parameters").row("widgets").type
    assert widgets is not None
    assert widgets.kind == "array"
    assert widgets.references() == ("WidgetInfo",)
    tags = page.table("WidgetInfo").row("tags").type
    assert tags is not None
    assert tags.item == TypeRef("primitive", "string", text="string")
    assert page.status_codes == {200: "OK", 404: "Not Found"}
    assert page.examples[0].body["count"] == 1


@pytest.mark.parametrize(
    ("cell", "kind", "name"),
    [
        ("String", "primitive", "string"),
        ("Integer", "primitive", "integer"),
        ("Boolean", "primitive", "boolean"),
        ("Float", "primitive", "number"),
        ("Map<String,String>", "map", ""),
        ("Array of strings", "array", ""),
        ("List<Integer>", "array", ""),
        ("SnapshotSummary object", "object", "SnapshotSummary"),
        ("Array of Foo objects", "array", ""),
    ],
)
def test_type_cells(cell: str, kind: str, name: str) -> None:
    parsed = parse_type(cell)
    assert parsed is not None
    assert (parsed.kind, parsed.name) == (kind, name)


@pytest.mark.parametrize("cell", ["The snapshot name.", "Strnig", "Map<Integer,String>", "Accepted"])
def test_cells_that_are_not_types(cell: str) -> None:
    assert parse_type(cell) is None


def _line_of(text: str, needle: str, start: int = 0) -> int:
    lines = text.splitlines()
    return lines.index(needle, start) + 1


def test_no_tables_is_an_error() -> None:
    with pytest.raises(SpecError, match=r"^p\.txt:1: no recognisable tables"):
        parse_page("Title\n\nURI\n\nPOST /v1/x\n\nJust prose.\n", source="p.txt")


def test_a_page_without_a_uri_line_is_an_error() -> None:
    text = edited(page_text(), "POST /v2/{project_id}/snapshots\n\nTable 1", "Table 1")
    with pytest.raises(SpecError, match=r"^p\.txt:1: no URI line"):
        parse_page(text, source="p.txt")


def test_a_row_that_cannot_be_parsed_names_its_line() -> None:
    text = edited(page_text(), "Description\n\nproject_id\n\nYes", "Description\n\nThe project ID row\n\nYes")
    line = _line_of(text, "The project ID row")
    with pytest.raises(SpecError, match=rf"^p\.txt:{line}: Table 1 Path Parameters: cannot parse a row"):
        parse_page(text, source="p.txt")


def test_a_bad_mandatory_cell_is_an_error() -> None:
    text = edited(page_text(), "force\n\nNo\n\nBoolean", "force\n\nMaybe\n\nBoolean")
    line = _line_of(text, "Maybe")
    with pytest.raises(SpecError, match=rf"^p\.txt:{line}: .*force: Mandatory must be Yes or No"):
        parse_page(text, source="p.txt")


def test_an_unrecognised_type_is_an_error() -> None:
    text = edited(page_text(), "force\n\nNo\n\nBoolean", "force\n\nNo\n\nBool-ish")
    line = _line_of(text, "Bool-ish")
    with pytest.raises(SpecError, match=rf"^p\.txt:{line}: .*/force: unrecognised type 'Bool-ish'"):
        parse_page(text, source="p.txt")


def test_a_type_name_never_defined_is_an_error() -> None:
    text = edited(page_text(), "SnapshotSummary object", "SnapshotDetail object")
    line = _line_of(text, "SnapshotDetail object") - 2
    with pytest.raises(
        SpecError, match=rf"^p\.txt:{line}: Table 5 .*/snapshot: type 'SnapshotDetail' is never"
    ):
        parse_page(text, source="p.txt")


def test_a_table_with_a_header_but_no_rows_is_an_error() -> None:
    text = "T\n\nURI\n\nGET /v1/x\n\nTable 1 Path Parameters\n\n"
    text += "Parameter\n\nType\n\nDescription\n\nStatus Codes\n"
    with pytest.raises(
        SpecError, match=r"^p\.txt:7: Table 1 Path Parameters: the table has a header but no rows"
    ):
        parse_page(text, source="p.txt")


def test_an_example_that_is_not_json_names_its_line() -> None:
    text = edited(page_text(), '"size" : 1,', '"size" : 1,,')
    line = _line_of(text, '    "size" : 1,,')
    with pytest.raises(SpecError, match=rf"^p\.txt:{line}: example body is not valid JSON"):
        parse_page(text, source="p.txt")


def test_fields_named_like_columns_are_rows_not_header_cells() -> None:
    text = edited(
        OTHER_PAGE,
        "label\n\nString\n\nThe widget label.",
        "type\n\nString\n\nThe widget type.\n\ndescription\n\nString\n\nThe widget description.\n\n"
        "label\n\nString\n\nThe widget label.",
    )
    table = parse_page(text, source="w.txt").table("WidgetInfo")
    assert table.columns == ("Parameter", "Type", "Description")
    assert [r.name for r in table.rows] == ["type", "description", "label", "tags"]


def test_a_table_with_columns_of_other_kinds_takes_every_name_as_a_row() -> None:
    text = edited(
        OTHER_PAGE,
        "Status Codes\n",
        "Table 5 Limits\n\nParameter\n\nValue\n\nDescription\n\n"
        "max_widgets\n\n10\n\nAt most ten.\n\nStatus Codes\n",
    )
    limits = parse_page(text, source="w.txt").table("Limits")
    assert [(r.name, r.paragraphs) for r in limits.rows] == [("max_widgets", ("At most ten.",))]
