"""Constraints the reference states in a description's prose, turned into JSON-Schema keywords.

Each rule is a phrase of the reference's house style ("You can enter up to 85 characters", "The value can
be null", "The default value is false", "Time format: UTC YYYY-MM-DDTHH:MM:SS.XXXXXX"); the numbers and
values always come from the text.
"""

from __future__ import annotations

import itertools
import re
from typing import Any

from conformance.contract.specbuild.model import JSON, Row

_MAX_LENGTH = re.compile(r"\bup to (\d+) characters\b", re.IGNORECASE)
_LENGTH_RANGE = re.compile(r"\b(\d+) to (\d+) characters\b", re.IGNORECASE)
_NULLABLE = re.compile(r"\bcan be null\b", re.IGNORECASE)
_DEFAULT = re.compile(r"\bdefault value is (\"[^\"]*\"|[^\s,;]+?)\.?(?:\s|$)", re.IGNORECASE)
_TIME_FORMAT = re.compile(r"\bTime format:\s*((?:UTC\s+)?([A-Za-z][^\s]*?))\.?(?:\s|$)")
_PREFIX = re.compile(r"\b(?:with the|use) (\S+?) (?:as the )?prefix\b")
# Template letters that stand for one digit; every other character of a time template is literal.
_DIGIT_LETTERS = frozenset("YMDHSXymdhs")
# Escaped by hand: re.escape also escapes "-", which ECMA-262 regexes (used by OpenAPI tools) reject.
_REGEX_SPECIALS = frozenset(".^$*+?()[]{}|\\/")


def time_pattern(template: str) -> str:
    """The anchored regex a time template describes: ``YYYY-MM-DD`` -> ``^[0-9]{4}-[0-9]{2}-[0-9]{2}$``."""
    parts = []
    for char, run in itertools.groupby(template):
        count = len(list(run))
        if char in _DIGIT_LETTERS:
            parts.append("[0-9]" if count == 1 else f"[0-9]{{{count}}}")
        else:
            parts.append((f"\\{char}" if char in _REGEX_SPECIALS else char) * count)
    return "^" + "".join(parts) + "$"


def _default(text: str, json_type: str) -> JSON:
    """The default stated as ``text``, as a value of ``json_type``; None when it does not read as one."""
    if json_type == "boolean":
        return {"true": True, "false": False}.get(text.lower())
    if json_type == "integer":
        return int(text) if re.fullmatch(r"-?\d+", text) else None
    if json_type == "number":
        return float(text) if re.fullmatch(r"-?\d+(\.\d+)?", text) else None
    if json_type == "string":
        return text.strip('"')
    return None


def constraints(row: Row, json_type: str | None) -> dict[str, Any]:
    """The schema keywords the row's prose states, for a property of ``json_type`` (None for references)."""
    text = " ".join(row.paragraphs)
    found: dict[str, Any] = {}
    if json_type == "string":
        if match := _LENGTH_RANGE.search(text):
            found["minLength"], found["maxLength"] = int(match.group(1)), int(match.group(2))
        elif match := _MAX_LENGTH.search(text):
            found["maxLength"] = int(match.group(1))
        if match := _TIME_FORMAT.search(text):
            found["pattern"] = time_pattern(match.group(2))
            found["x-time-format"] = match.group(1)
    if json_type is not None and (match := _DEFAULT.search(text)):
        value = _default(match.group(1), json_type)
        if value is not None:
            found["default"] = value
    if _NULLABLE.search(text):
        found["nullable"] = True
    prefixes = list(dict.fromkeys(match.group(1) for match in _PREFIX.finditer(" ".join(row.notes))))
    if prefixes and json_type == "string":
        found["x-reserved-prefixes"] = prefixes
    return found
