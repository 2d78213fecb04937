"""Read an API page of the EVS reference (plain text, one table cell per line) into a :class:`Page`.

The parser knows the reference's *format* (its section headings, column names and type notation),
never the content of one page: table titles, field names and limits all come from the text.

Example::

    page = parse_page(Path("create-evs-snapshot.txt").read_text(), source="create-evs-snapshot.txt")
    page.table("CinderCreateSnapshotOption").row("name").type.name   # "string"
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field

from conformance.contract.specbuild.model import JSON, Example, Page, Row, Table, TypeRef
from conformance.core.errors import SpecError

# The reference's section headings; a table's last row ends where one of these begins.
HEADINGS = frozenset(
    {
        "Function",
        "Calling Method",
        "URI",
        "Request Parameters",
        "Response Parameters",
        "Example Requests",
        "Example Responses",
        "Status Codes",
        "Error Codes",
    }
)
COLUMNS = frozenset(
    {"parameter", "mandatory", "type", "description", "status code", "error code", "error message", "value"}
)
PRIMITIVES = {
    "string": "string",
    "integer": "integer",
    "int": "integer",
    "long": "integer",
    "boolean": "boolean",
    "float": "number",
    "double": "number",
    "number": "number",
    "bigdecimal": "number",
    "object": "object",
}
METHODS = "GET|POST|PUT|PATCH|DELETE|HEAD|OPTIONS"

_UPDATED = re.compile(r"Updated on (\d{4}-\d{2}-\d{2})\b.*")
_TABLE = re.compile(r"Table (\d+)\s+(\S.*)")
_STATUS = re.compile(r"Status code:\s*(\d{3})")
_URI = re.compile(rf"({METHODS})\s+(/\S*)")
_REQUEST_LINE = re.compile(rf"({METHODS})\s+(\S+)")
_IDENTIFIER = re.compile(r"[A-Za-z_][\w\-]*(?:\.[\w\-]+)*")
_CODE = re.compile(r"\d{3}")
_NOTE = re.compile(r"NOTE:\s*(.*)")
_MANDATORY = {"yes": True, "no": False}


@dataclass(frozen=True)
class _Cell:
    line: int
    text: str


def parse_type(text: str) -> TypeRef | None:
    """The type a Type cell names, or None when the cell is not in the reference's type notation."""
    written = " ".join(text.split())
    if written.lower() in PRIMITIVES:
        return TypeRef("primitive", PRIMITIVES[written.lower()], text=written)
    if match := re.fullmatch(r"Map<\s*(\w+)\s*,\s*(.+?)\s*>", written, re.IGNORECASE):
        key, value = parse_type(match.group(1)), parse_type(match.group(2))
        if key is None or key.name != "string" or value is None:
            return None
        return TypeRef("map", item=value, text=written)
    if match := re.fullmatch(r"(?:Array|List) of\s+(.+)|List<\s*(.+?)\s*>|(.+?)\[\]", written, re.IGNORECASE):
        inner = next(group for group in match.groups() if group)
        item = parse_type(_singular(inner))
        return TypeRef("array", item=item, text=written) if item is not None else None
    if match := re.fullmatch(r"([A-Za-z_]\w*) object", written):
        return TypeRef("object", match.group(1), text=written)
    return None


def _singular(text: str) -> str:
    if text.endswith(" objects"):
        return text[: -len("s")]
    if text.lower().endswith("s") and text[:-1].lower() in PRIMITIVES:
        return text[:-1]
    return text


@dataclass
class _Parser:
    text: str
    source: str
    cells: list[_Cell] = field(default_factory=list)
    section: str = ""
    status: int | None = None

    def error(self, line: int, message: str) -> SpecError:
        return SpecError(f"{self.source}:{line}: {message}")

    def parse(self) -> Page:
        lines = self.text.splitlines()
        self.cells = [_Cell(n, raw.strip()) for n, raw in enumerate(lines, start=1) if raw.strip()]
        title = updated = ""
        method = path = ""
        function: list[str] = []
        tables: list[Table] = []
        examples: list[Example] = []
        pending: list[str] = []  # an example's title lines, waiting for its body
        request_line = ""
        i = 0
        while i < len(self.cells):
            cell = self.cells[i]
            text = cell.text
            if match := _UPDATED.fullmatch(text):
                updated = match.group(1)
            elif not title:
                title = text
            elif text in HEADINGS:
                self.section, self.status, pending, request_line = text, None, [], ""
                if self._header_at(i + 1):
                    table, i = self._table(i, text, text)
                    tables.append(table)
                    continue
            elif match := _STATUS.fullmatch(text):
                self.status, pending = int(match.group(1)), []
            elif match := _TABLE.fullmatch(text):
                table, i = self._table(i, text, match.group(2))
                tables.append(table)
                continue
            elif self.section == "Function":
                function.append(text)
            elif self.section == "URI" and (match := _URI.fullmatch(text)):
                method, path = match.group(1), match.group(2)
            elif self.section.startswith("Example "):
                kind = "request" if self.section == "Example Requests" else "response"
                if text[0] in "{[":
                    body, i = self._json(i)
                    examples.append(
                        Example(
                            kind, " ".join(pending), body, cell.line, self.status, request_line, self.section
                        )
                    )
                    pending, request_line = [], ""
                    continue
                if kind == "request" and _REQUEST_LINE.fullmatch(text):
                    request_line = text
                else:
                    pending.append(text)
            i += 1
        if not tables:
            raise self.error(
                1, "no recognisable tables (expected a 'Table N Title' line followed by a header row)"
            )
        if not method:
            raise self.error(1, "no URI line (expected e.g. 'POST /v2/{project_id}/...' under 'URI')")
        page = Page(
            self.source, title, updated, tuple(function), method, path, tuple(tables), tuple(examples)
        )
        self._check_references(page)
        return page

    def _header_at(self, i: int) -> bool:
        return i + 1 < len(self.cells) and all(c.text.lower() in COLUMNS for c in self.cells[i : i + 2])

    def _boundary(self, text: str) -> bool:
        return text in HEADINGS or bool(_STATUS.fullmatch(text) or _TABLE.fullmatch(text))

    def _table(self, i: int, label: str, title: str) -> tuple[Table, int]:
        start = self.cells[i]
        j = i + 1
        columns: list[str] = []
        # The header ends at Description (always the last column) or at a repeated name, so that a first
        # row for a field called "type" or "description" is not taken for a column.
        while j < len(self.cells) and self.cells[j].text.lower() in COLUMNS - {c.lower() for c in columns}:
            columns.append(self.cells[j].text)
            j += 1
            if columns[-1].lower() == "description":
                break
        if len(columns) < 2:
            raise self.error(
                start.line, f"{label}: no header row (expected column names such as Parameter, Type)"
            )
        end = j
        while end < len(self.cells) and not self._boundary(self.cells[end].text):
            end += 1
        rows = self._rows(label, tuple(columns), self.cells[j:end], start.line)
        table = Table(title, label, tuple(columns), rows, start.line, self.section, self.status)
        return table, end

    def _rows(self, label: str, columns: tuple[str, ...], body: list[_Cell], line: int) -> tuple[Row, ...]:
        if not body:
            raise self.error(line, f"{label}: the table has a header but no rows")
        width = len(columns) - 1  # the one-line cells before the free-text last column
        starts = [0] if self._starts_row(columns, body, 0) else []
        if not starts:
            raise self.error(
                body[0].line,
                f"{label}: cannot parse a row from {body[0].text!r} (columns: {', '.join(columns)})",
            )
        k = width
        while k < len(body):
            if self._starts_row(columns, body, k):
                starts.append(k)
                k += width
            else:
                k += 1
        rows = []
        for n, first in enumerate(starts):
            last = starts[n + 1] if n + 1 < len(starts) else len(body)
            rows.append(self._row(label, columns, body[first:last]))
        return tuple(rows)

    def _starts_row(self, columns: tuple[str, ...], body: list[_Cell], k: int) -> bool:
        """Whether a row begins at ``body[k]``: a name (or code) followed by cells of the right kind."""
        if columns[0].lower() == "status code":
            return bool(_CODE.fullmatch(body[k].text))
        if not _IDENTIFIER.fullmatch(body[k].text):
            return False
        kinds = [c.lower() for c in columns[1:-1]]
        if not {"mandatory", "type"} & set(kinds):
            return True
        following = [c.text for c in body[k + 1 : k + 1 + len(kinds)]]
        return any(
            (kind == "mandatory" and text.lower() in _MANDATORY)
            or (kind == "type" and parse_type(text) is not None)
            for kind, text in zip(kinds, following, strict=False)
        )

    def _row(self, label: str, columns: tuple[str, ...], cells: list[_Cell]) -> Row:
        name = cells[0]
        if len(cells) < len(columns):
            raise self.error(name.line, f"{label}/{name.text}: the row has no {columns[len(cells)]} cell")
        mandatory: bool | None = None
        type_ref: TypeRef | None = None
        for column, cell in zip(columns[1:-1], cells[1:], strict=False):
            kind = column.lower()
            if kind == "mandatory":
                if cell.text.lower() not in _MANDATORY:
                    raise self.error(
                        cell.line, f"{label}/{name.text}: Mandatory must be Yes or No, not {cell.text!r}"
                    )
                mandatory = _MANDATORY[cell.text.lower()]
            elif kind == "type":
                type_ref = parse_type(cell.text)
                if type_ref is None:
                    raise self.error(cell.line, f"{label}/{name.text}: unrecognised type {cell.text!r}")
        paragraphs: list[str] = []
        notes: list[str] = []
        in_note = False  # a NOTE block runs to the end of its cell
        for cell in cells[len(columns) - 1 :]:
            if match := _NOTE.fullmatch(cell.text):
                in_note = True
                notes.extend([match.group(1)] if match.group(1) else [])
            elif in_note:
                notes.append(cell.text)
            else:
                paragraphs.append(cell.text)
        return Row(name.text, name.line, mandatory, type_ref, tuple(paragraphs), tuple(notes))

    def _json(self, i: int) -> tuple[JSON, int]:
        """The JSON block starting at cell ``i``, and the index of the first cell after it."""
        start = self.cells[i].line
        lines = self.text.splitlines()
        rest = "\n".join(lines[start - 1 :])
        try:
            body, end = json.JSONDecoder().raw_decode(rest)
        except json.JSONDecodeError as exc:
            raise self.error(start + exc.lineno - 1, f"example body is not valid JSON: {exc.msg}") from exc
        last = start + rest[:end].count("\n")
        j = i
        while j < len(self.cells) and self.cells[j].line <= last:
            j += 1
        return body, j

    def _check_references(self, page: Page) -> None:
        titles = {table.title for table in page.tables}
        for table in page.tables:
            for row in table.rows:
                for name in row.type.references() if row.type else ():
                    if name not in titles:
                        raise self.error(
                            row.line,
                            f"{table.label}/{row.name}: type {name!r} is never defined (no such table)",
                        )


def parse_page(text: str, *, source: str = "<page>") -> Page:
    """Parse one API page; ``source`` names the file in error messages (``file:line: what``)."""
    return _Parser(text, source).parse()
