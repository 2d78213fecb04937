"""The package's layers: a module imports only from its own layer and the layers below it.

The layers, lowest first, are those of docs/ARCHITECTURE.md, and the folder layout shows them: each is one
package of ``conformance``. Every import counts, a deferred one inside a
function included: deferring an import hides a cycle from Python, not from the design.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "conformance"

#: Lowest first: each layer is one package of ``conformance`` (the package's own ``__init__`` holds only
#: its version and sits with the lowest).
LAYERS: tuple[tuple[str, frozenset[str]], ...] = (
    ("core", frozenset({"__init__", "core"})),
    ("contract", frozenset({"contract"})),
    ("rules", frozenset({"rules"})),
    ("mock", frozenset({"mock"})),
    ("run", frozenset({"run"})),
    ("target", frozenset({"target"})),
    ("report", frozenset({"report"})),
    ("plugin", frozenset({"plugin"})),
    ("suite", frozenset({"suite"})),
    ("cli", frozenset({"cli", "__main__"})),
)
RANK = {unit: rank for rank, (_, units) in enumerate(LAYERS) for unit in units}
NAME = {unit: name for name, units in LAYERS for unit in units}


def unit_of(path: Path) -> str:
    """The top-level module or package of ``conformance`` a file belongs to."""
    parts = path.relative_to(PACKAGE).with_suffix("").parts
    return parts[0]


def imported_units(source: str) -> Iterator[tuple[int, str]]:
    """``(line, unit)`` for every import of a ``conformance`` module in ``source``, wherever it stands."""
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            for alias in node.names:
                parts = alias.name.split(".")
                if parts[0] == "conformance":
                    yield node.lineno, parts[1] if len(parts) > 1 else "__init__"
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module is not None:
            parts = node.module.split(".")
            if parts[0] != "conformance":
                continue
            if len(parts) > 1:
                yield node.lineno, parts[1]
            else:
                # ``from conformance import inputs``: each name is a module, or a name of the package itself.
                for alias in node.names:
                    yield node.lineno, alias.name if alias.name in RANK else "__init__"


def upward_imports(unit: str, source: str) -> list[str]:
    """The imports in ``source`` (a module of ``unit``) that reach a layer above ``unit``'s."""
    found = []
    for line, target in imported_units(source):
        if target not in RANK:
            found.append(f"line {line}: conformance.{target} belongs to no layer")
        elif RANK[target] > RANK[unit]:
            found.append(f"line {line}: {NAME[unit]} ({unit}) imports {NAME[target]} (conformance.{target})")
    return found


def test_every_part_of_the_package_has_a_layer() -> None:
    units = {unit_of(path) for path in PACKAGE.rglob("*.py")}
    assert units - RANK.keys() == set()


@pytest.mark.parametrize("unit", sorted({unit_of(p) for p in PACKAGE.rglob("*.py")}))
def test_no_module_imports_from_a_layer_above_its_own(unit: str) -> None:
    found = {
        str(path.relative_to(PACKAGE.parent)): upward_imports(unit, path.read_text(encoding="utf-8"))
        for path in sorted(PACKAGE.rglob("*.py"))
        if unit_of(path) == unit
    }
    assert {path: lines for path, lines in found.items() if lines} == {}


def test_every_layer_is_a_package() -> None:
    packages = {path.parent.name for path in PACKAGE.glob("*/__init__.py")}
    assert packages == {unit for _, units in LAYERS for unit in units} - {"__init__", "__main__"}


def test_an_upward_import_is_found_even_when_deferred() -> None:
    source = "def settle():\n    from conformance.report.coverage import gate\n"
    assert upward_imports("run", source) == ["line 2: run (run) imports report (conformance.report)"]


def test_imports_within_a_layer_or_below_it_pass() -> None:
    source = "from conformance.core import inputs\nfrom conformance.run.auth import TokenSource\n"
    assert upward_imports("run", source) == []
    assert upward_imports("core", "import conformance.plugin.hooks\n") == [
        "line 1: core (core) imports plugin (conformance.plugin)"
    ]
