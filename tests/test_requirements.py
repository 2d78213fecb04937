"""The requirement catalogue read into records."""

from __future__ import annotations

from pathlib import Path

import pytest

from conformance.contract.requirements import Requirement, load_requirements, parse_requirements
from conformance.core.errors import SpecError


def test_the_project_catalogue() -> None:
    requirements = load_requirements()
    ids = [r.id for r in requirements]
    assert len(ids) == len(set(ids)) == 28
    assert ids[0] == "OP-ACCEPT"
    assert ids[-1] == "ADV-AUTOBK"
    by_id = {r.id: r for r in requirements}
    assert by_id["REQ-NAME"] == Requirement(
        "REQ-NAME",
        "`name` is optional; strings of 0..64 characters are accepted; 65 or more get 400",
        "Table 4",
        "Request validation",
        {"cinder": "255"},
    )
    assert by_id["AUTH-MISSING"].profiles == {"cinder": ""}
    assert by_id["LIFE-READ"].group == "Lifecycle"
    assert by_id["ADV-AUTOBK"] == Requirement(
        "ADV-AUTOBK", by_id["ADV-AUTOBK"].title, "Table 4 note", "Advisory", {}
    )


CATALOGUE = """\
# Catalogue

Prose | with a pipe that is not a table.

## Group one (with a note)

| ID | Requirement | Source | cinder profile |
|---|---|---|---|
| A-ONE | First | Table 1 | differs |
| A-TWO | Second | Table 2 | |

## Group two

| ID | Requirement | Source |
|---|---|---|
| B-ONE | Third | Table 3 |
"""


def test_groups_and_optional_cinder_column() -> None:
    parsed = parse_requirements(CATALOGUE)
    assert [(r.id, r.group, r.profiles.get("cinder", "")) for r in parsed] == [
        ("A-ONE", "Group one", "differs"),
        ("A-TWO", "Group one", ""),
        ("B-ONE", "Group two", ""),
    ]


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        ("| B-ONE |", "| A-ONE |", r"c\.md:16: requirement A-ONE is listed twice"),
        ("| A-TWO | Second | Table 2 | |", "| A-TWO | Second |", r"c\.md:10: cannot read a requirement"),
        ("| B-ONE |", "| not an id |", r"c\.md:16: cannot read a requirement"),
        (
            "| ID | Requirement | Source |\n",
            "| Key | Requirement | Source |\n",
            r"c\.md:14: a requirement table starts",
        ),
    ],
)
def test_malformed_catalogues(old: str, new: str, message: str) -> None:
    text = CATALOGUE
    assert old in text
    with pytest.raises(SpecError, match=f"^{message}"):
        parse_requirements(text.replace(old, new), source="c.md")


def test_empty_and_missing_catalogues(tmp_path: Path) -> None:
    with pytest.raises(SpecError, match="no requirement tables"):
        parse_requirements("# Nothing\n", source="c.md")
    with pytest.raises(SpecError, match="cannot read the requirement catalogue"):
        load_requirements(tmp_path / "missing.md")
