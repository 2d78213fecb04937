"""The page model: what one API page says, as plain frozen data, before any OpenAPI is involved."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

JSON = Any


@dataclass(frozen=True)
class TypeRef:
    """A Type cell: a primitive (``String``), a map, an array, or an object type referenced by name."""

    kind: str  # "primitive", "map", "array" or "object"
    name: str = ""  # the primitive's name (lower case) or the referenced table's title
    item: TypeRef | None = None  # the value type of a map, the item type of an array
    text: str = ""  # the cell as written

    def references(self) -> tuple[str, ...]:
        """The object type names this type refers to, directly or through maps and arrays."""
        if self.kind == "object":
            return (self.name,)
        return self.item.references() if self.item is not None else ()


@dataclass(frozen=True)
class Row:
    """One table row: a parameter or field (or a status code) with its description paragraphs."""

    name: str
    line: int
    mandatory: bool | None = None  # None where the table has no Mandatory column (response tables)
    type: TypeRef | None = None
    paragraphs: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()

    @property
    def description(self) -> str:
        """The cell's text: paragraphs separated by blank lines, then the NOTE block if there is one."""
        parts = list(self.paragraphs)
        if self.notes:
            parts.append("NOTE: " + "\n\n".join(self.notes))
        return "\n\n".join(parts)


@dataclass(frozen=True)
class Table:
    """A titled table (``Table 4 CinderCreateSnapshotOption``) or the untitled Status Codes table."""

    title: str  # "CinderCreateSnapshotOption", "Request body parameters", "Status Codes"
    label: str  # how the page names it: "Table 4 CinderCreateSnapshotOption", "Status Codes"
    columns: tuple[str, ...]
    rows: tuple[Row, ...]
    line: int
    section: str  # the heading it sits under: "URI", "Request Parameters", "Response Parameters", ...
    status: int | None = None  # for response tables, the "Status code: N" it belongs to

    def row(self, name: str) -> Row:
        for row in self.rows:
            if row.name == name:
                return row
        raise KeyError(name)


@dataclass(frozen=True)
class Example:
    """An example request or response: its title line(s), the status for a response, and the JSON body."""

    kind: str  # "request" or "response"
    title: str
    body: JSON
    line: int
    status: int | None = None
    request_line: str = ""  # "POST https://{endpoint}/v2/{project_id}/snapshots" for a request
    section: str = ""  # the page's heading it sits under ("Example Responses")


@dataclass(frozen=True)
class Page:
    """One API page: its operation, tables, examples and status codes."""

    source: str  # the file name, for messages and ``x-source-document``
    title: str
    updated: str  # "2024-02-27"; empty when the page carries no date
    function: tuple[str, ...]  # the Function section's paragraphs
    method: str
    path: str
    tables: tuple[Table, ...]
    examples: tuple[Example, ...]

    def table(self, title: str) -> Table:
        """The table with this title (``SnapshotSummary``, ``Status Codes``)."""
        for table in self.tables:
            if table.title == title:
                return table
        raise KeyError(title)

    @property
    def status_codes(self) -> dict[int, str]:
        """Each documented status code with its description, in page order."""
        codes: dict[int, str] = {}
        for table in self.tables:
            if table.columns and table.columns[0].lower() == "status code":
                codes.update((int(row.name), row.description) for row in table.rows)
        return codes
