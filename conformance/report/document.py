"""The API page as reports show it: its numbered lines, and the line a document reference points at.

References are the contract's ``x-source`` values and the catalogue's sources: ``Table 4
CinderCreateSnapshotOption/name`` (a row), ``Table 4`` or ``Tables 5, 6`` (a table), ``Table 4 note`` (the
table's NOTE), ``Status Codes/202``, or a heading such as ``URI``. They are looked up in the parsed page, so
the lines follow the page text, whatever it says.

Example::

    page = DocumentPage.load(contract)
    page.line_of("Table 4 CinderCreateSnapshotOption/name")   # 121
    page.line_of("general")                                    # None: not a place in the page
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from conformance.contract import Contract, spec_dir
from conformance.contract.specbuild.model import Page, Table
from conformance.contract.specbuild.page import HEADINGS, parse_page
from conformance.core.errors import SpecError

#: Where the contract's source pages are, under the spec directory.
SOURCE_DIR = "source"
_TABLE_NUMBER = re.compile(r"Tables?\s+(\d+)\b(.*)")
_NOTE = "NOTE:"


@dataclass(frozen=True)
class DocumentPage:
    """One API page: its name, its lines as written, and its parsed tables."""

    name: str
    lines: tuple[str, ...]
    page: Page

    @classmethod
    def from_text(cls, text: str, *, name: str) -> DocumentPage:
        """The page of ``text``; raises SpecError when it is not a page of the reference."""
        return cls(name, tuple(text.splitlines()), parse_page(text, source=name))

    @classmethod
    def load(cls, contract: Contract) -> DocumentPage | None:
        """The page a contract was built from, or None when it is not beside the contract."""
        name = str(contract.document.get("info", {}).get("x-source-document", ""))
        path = spec_dir() / SOURCE_DIR / Path(name).name if name else None
        if path is None or not path.is_file():
            return None
        try:
            return cls.from_text(path.read_text(encoding="utf-8"), name=path.name)
        except (OSError, UnicodeDecodeError, SpecError):
            return None

    def line_of(self, reference: str) -> int | None:
        """The line (from 1) a reference points at: its first part that names a place in the page."""
        for part in reference.split(";"):
            found = self._place(re.sub(r"\s*\([^()]*\)\s*$", "", part).strip())
            if found is not None:
                return found
        return None

    def _place(self, reference: str) -> int | None:
        if not reference:
            return None
        table_ref, _, row = reference.partition("/")
        table = self._table(table_ref.strip())
        if table is not None:
            if not row:
                return table.line
            return next((r.line for r in table.rows if r.name == row.strip()), table.line)
        number = _TABLE_NUMBER.fullmatch(table_ref.strip())
        if number is not None:
            table = self._table(f"Table {number.group(1)}")
            if table is None:
                return None
            return self._note(table) if number.group(2).strip().lower() == "note" else table.line
        return self._heading(reference)

    def _table(self, label: str) -> Table | None:
        for table in self.page.tables:
            if table.label == label or table.label.startswith(label + " "):
                return table
        return None

    def _note(self, table: Table) -> int:
        """The line of the first NOTE block inside a table (the table's own line when it has none)."""
        following = [t.line for t in self.page.tables if t.line > table.line]
        end = min(following, default=len(self.lines) + 1)
        for number in range(table.line, end):
            if self.lines[number - 1].strip().startswith(_NOTE):
                return number
        return table.line

    def _heading(self, reference: str) -> int | None:
        wanted = reference.lower()
        for heading in sorted(HEADINGS):
            if wanted in (heading.lower(), heading.split()[0].lower()):
                for number, line in enumerate(self.lines, start=1):
                    if line.strip() == heading:
                        return number
        return None
