"""``junit.xml`` from ``conformance.json``: one test case per requirement, so CI tabs show the verdicts.

A pass is a passed case; a failure carries its evidence and cURL reproduction in ``<failure>``; a skip its
reason in ``<skipped>``; a waived failure is ``<skipped>`` with the waiver's reason and expiry; an ``info``
passes with what was observed in ``<system-out>``. The tests that contributed to a requirement are listed in
its ``<system-out>``, never as cases of their own, so the counts are the verdict's counts. A run that did not
complete adds one ``<error>`` case saying why.

Example::

    write(reports / FILENAME, report)
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from conformance.core.verdicts import FAIL, INCOMPLETE, INFO, SKIP, WAIVED
from conformance.report.escape import visible

FILENAME = "junit.xml"
SUITE = "evs-conformance"
#: The case that stands for the run itself when it did not complete.
RUN_CASE = "RUN did not complete"
# XML 1.0 cannot hold these characters even as references; they are written visibly instead.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def _text(value: object) -> str:
    return _NOT_XML.sub(lambda m: f"\\x{ord(m.group()):02x}", visible(str(value)))


def classname(report: Mapping[str, Any]) -> str:
    """``evs-conformance.<profile>``: one class per profile, so two profiles' results sit apart."""
    return f"{SUITE}.{report.get('profile', 'unknown')}"


def build(report: Mapping[str, Any]) -> ET.Element:
    """The ``<testsuites>`` element for a report."""
    cls = classname(report)
    rows = report.get("requirements", [])
    suite = ET.Element("testsuite", {"name": cls})
    properties = ET.SubElement(suite, "properties")
    target = report.get("target", {})
    for name, value in (
        ("verdict", report.get("verdict")),
        ("profile", report.get("profile")),
        ("operation", report.get("operation")),
        ("target", target.get("base_url")),
        ("started_at", report.get("started_at")),
        ("incomplete_reason", report.get("incomplete_reason")),
    ):
        if value is not None:
            ET.SubElement(properties, "property", {"name": name, "value": _text(value)})
    failures = skipped = errors = 0
    for row in rows:
        case = ET.SubElement(suite, "testcase", {"classname": cls, "name": f"{row['id']} {row['title']}"})
        case.set("time", "0")
        verdict = row["verdict"]
        if verdict == FAIL:
            failures += 1
            failure = ET.SubElement(case, "failure", {"message": _text(_headline(row)), "type": row["id"]})
            failure.text = _text(_failure_text(row))
        elif verdict == WAIVED:
            skipped += 1
            waiver = row.get("waiver") or {}
            expires = waiver.get("expires")
            reason = f"waived: {waiver.get('reason', '')} ({'until ' + expires if expires else 'no expiry'})"
            ET.SubElement(case, "skipped", {"message": _text(reason)}).text = _text(_failure_text(row))
        elif verdict == SKIP:
            skipped += 1
            ET.SubElement(case, "skipped", {"message": _text(row["evidence"])})
        out = _system_out(row)
        if out:
            ET.SubElement(case, "system-out").text = _text(out)
    if report.get("verdict") == INCOMPLETE or report.get("incomplete_reason"):
        errors += 1
        case = ET.SubElement(suite, "testcase", {"classname": cls, "name": RUN_CASE, "time": "0"})
        reason = str(report.get("incomplete_reason") or "no reason given")
        ET.SubElement(case, "error", {"message": _text(reason), "type": INCOMPLETE}).text = _text(reason)
    duration = f"{float(report.get('stats', {}).get('duration_s', 0)):.3f}"
    counts = {
        "tests": str(len(rows) + errors),
        "failures": str(failures),
        "errors": str(errors),
        "skipped": str(skipped),
        "time": duration,
    }
    suite.attrib.update(counts)
    if report.get("started_at"):
        suite.set("timestamp", str(report["started_at"]))
    suites = ET.Element("testsuites", {"name": SUITE, **counts})
    suites.append(suite)
    return suites


def _headline(row: Mapping[str, Any]) -> str:
    case = row.get("minimal_case") or {}
    if case.get("received"):
        return f"{row['id']}: received {case['received']}; documented {case['documented']}"
    return f"{row['id']}: {row['evidence'].splitlines()[0] if row['evidence'] else 'failed'}"


def _failure_text(row: Mapping[str, Any]) -> str:
    parts = [row["evidence"].strip()]
    where = row.get("broken_source") or row.get("source")
    if where:
        line = row.get("document_line")
        parts.append(f"Document: {where}" + (f" (line {line})" if isinstance(line, int) else ""))
    if row.get("reproduction"):
        parts.append(f"Reproduce (the token is read from $EVS_TOKEN):\n{row['reproduction']}")
    return "\n\n".join(parts)


def _system_out(row: Mapping[str, Any]) -> str:
    parts: list[str] = []
    if row["verdict"] == INFO:
        parts.append(row["evidence"].strip())
    observations = row.get("observations") or []
    if observations:
        parts.append("Where the document is silent:")
        for observation in observations:
            parts.append(f"- {observation['sentence']}")
            if observation.get("curl"):
                parts.append(f"  {observation['curl']}")
    tests = row.get("tests") or []
    if tests:
        exchanges = row.get("exchanges") or {}
        figures = ", ".join(f"{exchanges.get(k, 0)} {k}" for k in ("checked", "violations", "silent"))
        parts.append(f"Tests ({len(tests)}; exchanges: {figures}):")
        parts += [f"- {entry['test']} ({entry['outcome']})" for entry in tests]
    return "\n".join(parts)


def render(report: Mapping[str, Any]) -> str:
    """The XML document as text."""
    root = build(report)
    ET.indent(root)
    text: str = ET.tostring(root, encoding="unicode")
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + text + "\n"


def write(path: Path, report: Mapping[str, Any]) -> Path:
    """Write ``junit.xml``; returns the path."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(render(report), encoding="utf-8")
    return path
