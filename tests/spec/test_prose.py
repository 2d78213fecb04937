"""Prose phrases of the reference that become schema keywords."""

from __future__ import annotations

import re

import pytest

from conformance.contract.specbuild.model import Row
from conformance.contract.specbuild.prose import constraints, time_pattern


def _row(*paragraphs: str, notes: tuple[str, ...] = ()) -> Row:
    return Row("field", 1, paragraphs=paragraphs, notes=notes)


def test_time_template_becomes_a_digit_pattern() -> None:
    pattern = time_pattern("YYYY-MM-DDTHH:MM:SS.XXXXXX")
    assert pattern == r"^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{6}$"
    assert re.fullmatch(pattern, "2013-02-25T03:56:53.081642")
    assert not re.fullmatch(pattern, "2013-02-25T03:56:53.081642Z")
    assert not re.fullmatch(pattern, "2013-02-25T03:56:53")


def test_a_shorter_template_gives_a_shorter_pattern() -> None:
    assert time_pattern("YYYY/MM/DD hh:mm") == r"^[0-9]{4}\/[0-9]{2}\/[0-9]{2} [0-9]{2}:[0-9]{2}$"


def test_time_format_sentence_gives_pattern_and_template() -> None:
    found = constraints(_row("The time.", "Time format: UTC YYYY-MM-DDTHH:MM:SS.XXXXXX"), "string")
    assert found["x-time-format"] == "UTC YYYY-MM-DDTHH:MM:SS.XXXXXX"
    assert found["pattern"].endswith(r"\.[0-9]{6}$")


@pytest.mark.parametrize(
    ("sentence", "expected"),
    [
        ("You can enter up to 85 characters.", {"maxLength": 85}),
        ("The name contains 1 to 64 characters.", {"minLength": 1, "maxLength": 64}),
        ("The value can be null.", {"nullable": True}),
        ("The description.", {}),
    ],
)
def test_string_constraints(sentence: str, expected: dict[str, object]) -> None:
    assert constraints(_row(sentence), "string") == expected


def test_length_limits_apply_to_strings_only() -> None:
    assert constraints(_row("You can enter up to 85 characters."), "object") == {}


@pytest.mark.parametrize(
    ("json_type", "written", "value"),
    [
        ("boolean", "false", False),
        ("boolean", "true", True),
        ("integer", "10", 10),
        ("string", '"auto"', "auto"),
    ],
)
def test_default_value_read_as_the_property_type(json_type: str, written: str, value: object) -> None:
    assert constraints(_row(f"The flag. The default value is {written}."), json_type) == {"default": value}


def test_a_default_that_does_not_fit_the_type_is_left_out() -> None:
    assert constraints(_row("The default value is maybe."), "boolean") == {}


def test_reserved_prefixes_come_from_the_note() -> None:
    note = "Snapshots are named with the autobk_snapshot_ prefix. Do not use autobk_snapshot_ as the prefix."
    assert constraints(_row("The name.", notes=(note,)), "string") == {
        "x-reserved-prefixes": ["autobk_snapshot_"]
    }
    assert "x-reserved-prefixes" not in constraints(_row("The name.", note), "string")
