"""Page model -> OpenAPI 3.1 document: tables become parameters and schemas, examples become examples.

Every schema, property, parameter and response carries ``x-source`` naming the table and row it came
from. Where the page is silent the document stays silent: no ``additionalProperties: false``, no
constraint that no sentence states.
"""

from __future__ import annotations

import re
from typing import Any

from conformance.contract.specbuild.model import JSON, Example, Page, Row, Table, TypeRef
from conformance.contract.specbuild.prose import constraints

_ROLE = re.compile(r"(path|query|request header|request body|response header|response body) parameters", re.I)
_ARTICLES = frozenset({"a", "an", "the"})
_SCHEMA_REF = "#/components/schemas/"


def table_role(table: Table) -> str:
    """What a table describes: ``path``, ``query``, ``request header``, ``request body``, ``response body``,
    ``response header``, ``status codes`` or ``object`` (a type referenced by name)."""
    if table.columns[0].lower() == "status code":
        return "status codes"
    match = _ROLE.fullmatch(table.title)
    return match.group(1).lower() if match else "object"


def operation_id(page: Page) -> str:
    """``createEvsSnapshot`` from "This API is used to create an EVS snapshot.", else method and path."""
    for paragraph in page.function:
        if match := re.search(r"\bused to ([A-Za-z][A-Za-z ]*)", paragraph):
            words = [w for w in match.group(1).split() if w.lower() not in _ARTICLES]
            return words[0].lower() + "".join(w[:1].upper() + w[1:].lower() for w in words[1:])
    segments = [s for s in page.path.split("/") if s and not s.startswith("{")]
    return page.method.lower() + "".join(s[:1].upper() + s[1:] for s in segments[1:])


def nullable(schema: dict[str, Any]) -> dict[str, Any]:
    """``schema`` also admitting null: ``null`` joins ``type``, or an ``anyOf`` gains a null branch."""
    if "type" in schema:
        types = schema["type"] if isinstance(schema["type"], list) else [schema["type"]]
        if "null" not in types:
            schema["type"] = [*types, "null"]
        return schema
    if "anyOf" in schema:
        if {"type": "null"} not in schema["anyOf"]:
            schema["anyOf"].append({"type": "null"})
        return schema
    branch = {key: schema.pop(key) for key in ("$ref",) if key in schema}
    schema["anyOf"] = [branch, {"type": "null"}]
    return schema


def type_schema(type_ref: TypeRef) -> dict[str, Any]:
    """The schema of a Type cell: a primitive, a map of values, an array of items or a ``$ref``."""
    if type_ref.kind == "primitive":
        return {"type": type_ref.name}
    if type_ref.kind == "object":
        return {"$ref": _SCHEMA_REF + type_ref.name}
    assert type_ref.item is not None
    if type_ref.kind == "map":
        return {"type": "object", "additionalProperties": type_schema(type_ref.item)}
    return {"type": "array", "items": type_schema(type_ref.item)}


def row_schema(table: Table, row: Row) -> dict[str, Any]:
    """One row as a property schema: its type, what its prose constrains, its description and source."""
    assert row.type is not None
    schema = type_schema(row.type)
    json_type = schema.get("type") if isinstance(schema.get("type"), str) else None
    found = constraints(row, json_type)
    if found.pop("nullable", False):
        nullable(schema)
    schema.update(found)
    schema["description"] = row.description
    schema["x-source"] = f"{table.label}/{row.name}"
    return schema


def object_schema(table: Table) -> dict[str, Any]:
    """A table of fields as an object schema; a response table (no Mandatory column) requires every field."""
    required = [row.name for row in table.rows if row.mandatory is not False]
    schema: dict[str, Any] = {"type": "object", "x-source": table.label}
    if required:
        schema["required"] = required
    schema["properties"] = {row.name: row_schema(table, row) for row in table.rows}
    return schema


def _examples(examples: list[Example], description: str = "") -> dict[str, Any]:
    named: dict[str, Any] = {}
    for n, example in enumerate(examples, start=1):
        entry: dict[str, JSON] = {}
        if example.title and example.title != description:
            entry["summary"] = example.title
        entry["value"] = example.body
        if example.section:
            entry["x-source"] = example.section
        named[f"example{n}"] = entry
    return named


def _json_content(schema_name: str, examples: dict[str, Any]) -> dict[str, Any]:
    media: dict[str, Any] = {"schema": {"$ref": _SCHEMA_REF + schema_name}}
    if examples:
        media["examples"] = examples
    return {"application/json": media}


def _scheme_name(header: str) -> str:
    return re.sub(r"[^A-Za-z0-9]", "", header)


def build_document(page: Page) -> dict[str, Any]:
    """The OpenAPI 3.1 document the page describes, before any overlay."""
    op_id = operation_id(page)
    stem = op_id[:1].upper() + op_id[1:]
    schemas: dict[str, Any] = {}
    schemes: dict[str, Any] = {}
    parameters: list[dict[str, Any]] = []
    request_body: dict[str, Any] | None = None
    bodies: dict[int | None, tuple[str, str]] = {}  # status -> (schema name, table label)
    for table in page.tables:
        role = table_role(table)
        if role in ("path", "query", "request header"):
            for row in table.rows:
                if role == "request header" and row.name.lower().endswith("token"):
                    schemes[_scheme_name(row.name)] = {
                        "type": "apiKey",
                        "in": "header",
                        "name": row.name,
                        "description": row.description,
                        "x-source": f"{table.label}/{row.name}",
                    }
                    continue
                prop = row_schema(table, row)
                parameters.append(
                    {
                        "name": row.name,
                        "in": "header" if role == "request header" else role,
                        "required": role == "path" or bool(row.mandatory),
                        "description": prop.pop("description"),
                        "schema": {k: v for k, v in prop.items() if k != "x-source"},
                        "x-source": prop["x-source"],
                    }
                )
        elif role == "request body":
            schemas[f"{stem}RequestBody"] = object_schema(table)
            request_body = {
                "required": any(row.mandatory for row in table.rows),
                "x-source": table.label,
                "content": _json_content(
                    f"{stem}RequestBody", _examples([e for e in page.examples if e.kind == "request"])
                ),
            }
        elif role == "response body":
            name = f"{stem}ResponseBody{table.status if table.status is not None else ''}"
            schemas[name] = object_schema(table)
            bodies.setdefault(table.status, (name, table.label))
        elif role == "object":
            schemas.setdefault(table.title, object_schema(table))

    operation: dict[str, Any] = {
        "operationId": op_id,
        "summary": page.title,
        "description": " ".join(page.function),
        "x-source": "URI",
    }
    if schemes:
        operation["security"] = [{name: []} for name in schemes]
    if parameters:
        operation["parameters"] = parameters
    if request_body is not None:
        operation["requestBody"] = request_body
    operation["responses"] = _responses(page, bodies)

    components: dict[str, Any] = {}
    if schemes:
        components["securitySchemes"] = schemes
    components["schemas"] = schemas
    return {
        "openapi": "3.1.0",
        "info": {
            "title": page.title,
            "version": page.updated or "unversioned",
            "description": " ".join(page.function),
        },
        "paths": {page.path: {page.method.lower(): operation}},
        "components": components,
    }


def _responses(page: Page, bodies: dict[int | None, tuple[str, str]]) -> dict[str, Any]:
    documented = page.status_codes
    if None in bodies:  # a body table under no "Status code:" heading belongs to the success status
        success = min((code for code in documented if 200 <= code < 300), default=200)
        bodies.setdefault(success, bodies.pop(None))
    examples = [e for e in page.examples if e.kind == "response" and e.status is not None]
    codes = sorted(set(documented) | {code for code in bodies if code is not None})
    responses: dict[str, Any] = {}
    for code in codes:
        description = documented.get(code) or next((e.title for e in examples if e.status == code), "")
        response: dict[str, Any] = {
            "description": description,
            "x-source": f"Status Codes/{code}" if code in documented else bodies[code][1],
        }
        if code in bodies:
            mine = [e for e in examples if e.status == code]
            response["content"] = _json_content(bodies[code][0], _examples(mine, description))
        responses[str(code)] = response
    return responses
