"""The requirement catalogue: one record per requirement ID, read from ``spec/source/requirements.md``.

The catalogue is Markdown: ``##`` headings name groups, and each group holds a table whose columns are
ID, Requirement, Source and (optionally) the cinder profile's difference.

Example::

    by_id = {r.id: r for r in load_requirements()}
    by_id["REQ-NAME"].source    # "Table 4"
    by_id["REQ-NAME"].profiles   # {"cinder": "255"}
    selected = select_requirements("REQ-NAME,RSP-*", by_id)   # UsageError for a pattern naming none
"""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from conformance.contract import spec_dir
from conformance.core.errors import SpecError, UsageError

CATALOGUE = Path("source") / "requirements.md"
_ID = re.compile(r"[A-Z][A-Z0-9]*(?:-[A-Z0-9]+)+")


@dataclass(frozen=True)
class Requirement:
    """One catalogue row: the stable ID, what must hold, where the page says so, and the cinder difference."""

    id: str
    title: str
    source: str
    group: str  # the catalogue heading it sits under, without its parenthetical ("Request validation")
    #: Per profile that has a column of its own ("cinder profile"), how the rule differs there (empty: same).
    profiles: Mapping[str, str] = field(default_factory=dict)


def _cells(line: str) -> list[str]:
    # Pipes inside backticks would split a cell; the catalogue has none, so a plain split is enough.
    return [cell.strip() for cell in line.strip().strip("|").split("|")]


def parse_requirements(text: str, *, source: str = "requirements.md") -> tuple[Requirement, ...]:
    """Every requirement in the catalogue text, in document order; ``source`` names it in messages."""
    group = ""
    header: list[str] = []
    found: dict[str, Requirement] = {}
    for number, line in enumerate(text.splitlines(), start=1):
        stripped = line.strip()
        if stripped.startswith("## "):
            # The heading's parenthetical qualifies the group; the group's name is what precedes it.
            group, header = re.sub(r"\s*\(.*\)\s*$", "", stripped[3:]).strip(), []
            continue
        if not stripped.startswith("|"):
            header = []
            continue
        cells = _cells(stripped)
        if not header:
            header = [cell.lower() for cell in cells]
            if not header or header[0] != "id":
                raise SpecError(f"{source}:{number}: a requirement table starts with an ID column")
            continue
        if all(set(cell) <= set("-: ") for cell in cells):
            continue
        row = dict(zip(header, cells, strict=False))
        if len(cells) != len(header) or not _ID.fullmatch(row["id"]):
            raise SpecError(f"{source}:{number}: cannot read a requirement from {stripped!r}")
        if row["id"] in found:
            raise SpecError(f"{source}:{number}: requirement {row['id']} is listed twice")
        found[row["id"]] = Requirement(
            id=row["id"],
            title=row.get("requirement", ""),
            source=next((v for k, v in row.items() if k.startswith("source")), ""),
            group=group,
            profiles={k.removesuffix(" profile"): v for k, v in row.items() if k.endswith(" profile")},
        )
    if not found:
        raise SpecError(f"{source}:1: no requirement tables found")
    return tuple(found.values())


def load_requirements(path: Path | None = None) -> tuple[Requirement, ...]:
    """The project's catalogue (``spec/source/requirements.md``), or the one at ``path``."""
    path = path if path is not None else spec_dir() / CATALOGUE
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise SpecError(f"{path}: cannot read the requirement catalogue: {exc.strerror}") from exc
    return parse_requirements(text, source=str(path))


def select_requirements(patterns: str, known: Collection[str]) -> frozenset[str]:
    """The requirement IDs that comma-separated shell-style ``patterns`` name (``REQ-NAME,RSP-*``).

    Raises UsageError (one line) for an empty list or a pattern that names no known requirement.
    """
    wanted = [p.strip() for p in patterns.split(",") if p.strip()]
    if not wanted:
        raise UsageError("--requirements needs at least one ID or pattern, e.g. REQ-NAME,RSP-*")
    chosen: set[str] = set()
    for pattern in wanted:
        matched = {rid for rid in known if fnmatch.fnmatchcase(rid, pattern.upper())}
        if not matched:
            raise UsageError(f"--requirements: {pattern!r} names no requirement of the catalogue")
        chosen |= matched
    return frozenset(chosen)


def is_selected(requirement_ids: Collection[str], selected: Collection[str] | None) -> bool:
    """Whether a test carrying ``requirement_ids`` should run under a selection (None selects all)."""
    return selected is None or any(rid in selected for rid in requirement_ids)
