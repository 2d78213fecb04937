"""The shape GitLab and Jenkins read from a JUnit XML file, checked element by element.

It follows the common JUnit schema (Jenkins' junit.xsd, which GitLab's parser also accepts): ``testsuites``
holding ``testsuite`` elements, each with ``tests``/``failures``/``errors``/``skipped`` counts matching its
``testcase`` children; a case has a name and a class name and at most one of failure, error or skipped.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET

_SUITE_CHILDREN = {"properties", "testcase", "system-out", "system-err"}
_CASE_CHILDREN = {"failure", "error", "skipped", "system-out", "system-err"}
_OUTCOMES = {"failure", "error", "skipped"}


def _count(element: ET.Element, name: str) -> int:
    value = element.get(name)
    assert value is not None, f"{element.tag} needs {name!r}"
    assert value.isdigit(), f"{element.tag} needs a whole-number {name!r}, got {value!r}"
    return int(value)


def check_junit_shape(root: ET.Element) -> None:
    """Raise AssertionError where ``root`` strays from the shape CI servers read."""
    assert root.tag == "testsuites", root.tag
    totals = {"tests": 0, "failures": 0, "errors": 0, "skipped": 0}
    suites = list(root)
    assert suites
    assert all(suite.tag == "testsuite" for suite in suites)
    for suite in suites:
        assert suite.get("name"), "a testsuite needs a name"
        assert {child.tag for child in suite} <= _SUITE_CHILDREN
        for prop in suite.iter("property"):
            assert prop.get("name")
            assert prop.get("value") is not None
        cases = suite.findall("testcase")
        seen = {"tests": len(cases), "failures": 0, "errors": 0, "skipped": 0}
        for case in cases:
            assert case.get("name"), ET.tostring(case)[:200]
            assert case.get("classname"), ET.tostring(case)[:200]
            float(case.get("time", "0"))
            tags = [child.tag for child in case]
            assert set(tags) <= _CASE_CHILDREN, tags
            outcome = [tag for tag in tags if tag in _OUTCOMES]
            assert len(outcome) <= 1, tags
            for tag in outcome:
                seen[{"failure": "failures", "error": "errors", "skipped": "skipped"}[tag]] += 1
            for child in case:
                if child.tag in ("failure", "error"):
                    assert child.get("message") is not None
        for key, value in seen.items():
            assert _count(suite, key) == value, (key, _count(suite, key), value)
            totals[key] += value
        float(suite.get("time", "0"))
    for key, value in totals.items():
        assert _count(root, key) == value, key
