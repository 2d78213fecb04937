"""Waiver files: strict parsing, and what applying them does to a conformance report."""

from __future__ import annotations

import os
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from conformance.contract.requirements import load_requirements
from conformance.core.errors import UsageError
from conformance.run.waivers import (
    MAX_WAIVER_BYTES,
    WAIVED,
    Waiver,
    apply_waivers,
    load_waivers,
    parse_waivers,
    unused_waiver_lines,
)

TODAY = date(2026, 6, 1)
KNOWN = frozenset(requirement.id for requirement in load_requirements())


def parse(text: str) -> tuple[Waiver, ...]:
    return parse_waivers(text, source="waivers.yaml", known_ids=KNOWN, today=TODAY)


def report(**verdicts: str) -> dict[str, Any]:
    requirements = [
        {"id": key.replace("_", "-"), "verdict": verdict, "title": "t", "source": "s", "evidence": ["seen"]}
        for key, verdict in verdicts.items()
    ]
    failing = any(requirement["verdict"] == "fail" for requirement in requirements)
    return {"verdict": "fail" if failing else "pass", "profile": "huawei", "requirements": requirements}


def test_catalogue_ids_are_read() -> None:
    assert {"REQ-NAME", "RSP-NO-5XX", "LIFE-DELETE"} <= KNOWN


def test_parses_entries_with_and_without_expiry() -> None:
    waivers = parse(
        "waivers:\n"
        "  - {id: REQ-NAME, reason: 'vendor ticket 12', expires: 2027-06-30}\n"
        "  - id: RSP-TIME-FORMAT\n"
        "    reason: >\n"
        "      zone suffix, accepted\n"
        "      until the next release\n"
    )
    assert waivers == (
        Waiver(id="REQ-NAME", reason="vendor ticket 12", expires=date(2027, 6, 30)),
        Waiver(id="RSP-TIME-FORMAT", reason="zone suffix, accepted until the next release"),
    )


def test_expiry_may_be_a_quoted_date_and_holds_on_its_day() -> None:
    (waiver,) = parse(f"waivers:\n  - {{id: REQ-NAME, reason: r, expires: '{TODAY.isoformat()}'}}\n")
    assert waiver.expires == TODAY
    assert not waiver.expired(TODAY)


def test_empty_list_is_allowed() -> None:
    assert parse("waivers: []\n") == ()
    assert parse("waivers:\n") == ()


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("waivers: [\n", r"waivers\.yaml: not valid YAML \(line \d+"),
        ("", r"waivers\.yaml: expected a mapping with a single key 'waivers'"),
        ("other: []\n", r"single key 'waivers'"),
        ("waivers: {id: REQ-NAME}\n", r"'waivers' must be a list"),
        ("waivers: [REQ-NAME]\n", r"waiver 1: expected a mapping"),
        ("waivers: [{reason: r}]\n", r"waiver 1: 'id' must be a requirement ID"),
        ("waivers: [{id: REQ-NOPE, reason: r}]\n", r"waiver 1 \(REQ-NOPE\): unknown requirement ID"),
        ("waivers: [{id: REQ-NAME}]\n", r"waiver 1 \(REQ-NAME\): a non-empty 'reason' is required"),
        ("waivers: [{id: REQ-NAME, reason: '  '}]\n", r"non-empty 'reason'"),
        ("waivers: [{id: REQ-NAME, reason: 5}]\n", r"non-empty 'reason'"),
        (
            "waivers: [{id: REQ-NAME, reason: r, expires: 2026-05-31}]\n",
            r"\(REQ-NAME\): expired on 2026-05-31",
        ),
        ("waivers: [{id: REQ-NAME, reason: r, expires: soon}]\n", r"'expires' must be a date"),
        ("waivers: [{id: REQ-NAME, reason: r, expires: 2027-01-01T10:00:00}]\n", r"'expires' must be a date"),
        ("waivers: [{id: REQ-NAME, reason: r, until: 2027-01-01}]\n", r"unknown key\(s\) until"),
        (
            "waivers: [{id: REQ-NAME, reason: a}, {id: REQ-JSON, reason: b}, {id: REQ-NAME, reason: c}]\n",
            r"waiver 3 \(REQ-NAME\): duplicate of waiver 1",
        ),
    ],
)
def test_invalid_files_are_one_line_usage_errors(text: str, message: str) -> None:
    with pytest.raises(UsageError, match=message) as caught:
        parse(text)
    assert "\n" not in str(caught.value)
    assert str(caught.value).startswith("waivers.yaml: ")


def test_failures_with_a_waiver_become_waived_and_the_run_passes() -> None:
    waiver = Waiver(id="REQ-NAME", reason="ticket 12", expires=date(2027, 6, 30))
    result = apply_waivers(report(REQ_NAME="fail", REQ_JSON="pass"), [waiver], today=TODAY)
    waived = result["requirements"][0]
    assert waived["verdict"] == WAIVED
    assert waived["evidence"] == ["seen"]
    assert waived["waiver"] == {"reason": "ticket 12", "expires": "2027-06-30"}
    assert result["verdict"] == "pass"
    assert result["waivers"] == {"applied": ["REQ-NAME"], "unused": []}


def test_verdict_counts_are_recounted_with_waived() -> None:
    counted = {**report(REQ_NAME="fail", REQ_JSON="fail", RSP_SIZE="pass"), "counts": {"pass": 1, "fail": 2}}
    result = apply_waivers(counted, [Waiver(id="REQ-NAME", reason="r")], today=TODAY)
    assert result["counts"] == {"pass": 1, "fail": 1, "waived": 1}


def test_an_unwaived_failure_still_fails_the_run() -> None:
    waivers = [Waiver(id="REQ-NAME", reason="r")]
    result = apply_waivers(report(REQ_NAME="fail", REQ_JSON="fail"), waivers, today=TODAY)
    assert [r["verdict"] for r in result["requirements"]] == [WAIVED, "fail"]
    assert result["verdict"] == "fail"


def test_waivers_for_requirements_that_did_not_fail_are_listed_as_unused() -> None:
    waivers = [Waiver(id="REQ-NAME", reason="r"), Waiver(id="LIFE-READ", reason="q")]
    result = apply_waivers(report(REQ_NAME="pass"), waivers, today=TODAY)
    assert result["requirements"][0]["verdict"] == "pass"
    assert "waiver" not in result["requirements"][0]
    assert [(entry["id"], entry["verdict"]) for entry in result["waivers"]["unused"]] == [
        ("REQ-NAME", "pass"),
        ("LIFE-READ", "absent"),
    ]
    lines = unused_waiver_lines(result)
    assert len(lines) == 2
    assert "REQ-NAME" in lines[0]
    assert "pass" in lines[0]


def test_applying_leaves_the_input_report_untouched() -> None:
    original = report(REQ_NAME="fail")
    apply_waivers(original, [Waiver(id="REQ-NAME", reason="r")], today=TODAY)
    assert original["requirements"][0]["verdict"] == "fail"
    assert "waivers" not in original


def test_a_run_failing_outside_the_requirements_stays_failed() -> None:
    failed = {**report(REQ_NAME="pass"), "verdict": "fail"}
    result = apply_waivers(failed, [Waiver(id="REQ-NAME", reason="r")], today=TODAY)
    assert result["verdict"] == "fail"


def test_an_expired_waiver_is_refused_when_applied() -> None:
    stale = Waiver(id="REQ-NAME", reason="r", expires=date(2026, 1, 1))
    with pytest.raises(UsageError, match="REQ-NAME expired on 2026-01-01"):
        apply_waivers(report(REQ_NAME="fail"), [stale], today=TODAY)


def alias_bomb(levels: int) -> str:
    lines = ['a0: &a0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    for level in range(1, levels):
        lines.append(f"a{level}: &a{level} [" + ", ".join([f"*a{level - 1}"] * 9) + "]")
    return "\n".join([*lines, f"waivers: *a{levels - 1}", ""])


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (alias_bomb(9), r"line 1: anchors \(&name\) are not accepted"),
        ("waivers: [*nowhere]\n", r"aliases \(\*name\) are not accepted|not valid YAML"),
        ("waivers: " + "[" * 5000 + "]" * 5000 + "\n", r"nested more than 16 levels deep|nesting depth"),
        ("waivers:\n" + "".join("  " * i + f"k{i}:\n" for i in range(40)), r"nested more than 16 levels"),
        ("waivers: [" + ", ".join(["x"] * 60_000) + "]\n", r"more than 50000 values"),
        ("waivers: [{id: REQ-NAME, reason: r, expires: 2027-13-45}]\n", r"'2027-13-45' is not a date of the"),
        ("waivers: [{id: REQ-NAME, reason: r, expires: 2027-02-30}]\n", r"'2027-02-30' is not a date of the"),
        ("waivers: [{id: REQ-NAME, reason: r, expires: 0000-01-01}]\n", r"'0000-01-01' is not a date of the"),
        ("waivers: [{id: REQ-NAME, reason: r, expires: 20270630}]\n", r"must be a date written YYYY-MM-DD"),
        ("waivers: [{id: REQ-NAME, reason: r, expires: !!timestamp 2027-13-45}]\n", r"tags \(!name\)"),
        ("waivers: !!python/object/apply:os.system [true]\n", r"tags \(!name\)"),
        ("waivers: [{id: REQ-NAME, reason: r, expires: " + "9" * 6000 + "}]\n", r"not valid YAML \(Exceeds"),
        ("waivers: [{? [a, b] : c}]\n", r"unhashable key"),
        ("waivers: []\nwaivers: []\n", r"the key 'waivers' appears twice"),
        ("waivers: [{id: REQ-NAME, id: REQ-JSON, reason: r}]\n", r"the key 'id' appears twice"),
        ('waivers: [{id: REQ-NAME, reason: "ok\\e]0;pwned\\a"}]\n', r"'reason' holds a control character"),
        ("waivers: [\x00]\n", r"control characters are not allowed"),
        ("x" * 300_000, r"more than 262144 characters"),
    ],
)
def test_hostile_files_are_one_line_usage_errors_quickly(text: str, message: str) -> None:
    with pytest.raises(UsageError, match=message) as caught:
        parse(text)
    shown = str(caught.value)
    assert "\n" not in shown
    assert len(shown) < 400
    assert "lol" not in shown


def test_an_escape_sequence_in_a_waiver_is_shown_escaped() -> None:
    with pytest.raises(UsageError) as caught:
        parse('waivers: [{id: "REQ-\\e]0;pwned\\a\\u202e", reason: r}]\n')
    assert (
        str(caught.value) == "waivers.yaml: waiver 1 (REQ-\\x1b]0;pwned\\x07\\u202e): unknown requirement ID"
    )
    result = apply_waivers(report(REQ_NAME="pass"), [Waiver(id="REQ-NAME", reason="r")], today=TODAY)
    result["waivers"]["unused"][0]["verdict"] = "pass\x1b[2J"
    assert "\x1b" not in unused_waiver_lines(result)[0]


@pytest.mark.parametrize(
    ("kind", "message"),
    [
        ("fifo", "not a regular file"),
        ("/dev/zero", "not a regular file"),
        ("binary", r"is not UTF-8 text \(byte 11 is not\)"),
        ("huge", "more than the 262144 accepted"),
        ("missing", "No such file or directory"),
    ],
)
def test_a_waiver_file_that_is_not_a_small_text_file_is_refused(
    tmp_path: Path, kind: str, message: str
) -> None:
    path = tmp_path / "waivers.yaml"
    if kind == "fifo":
        os.mkfifo(path)
    elif kind == "/dev/zero":
        path = Path("/dev/zero")
    elif kind == "binary":
        path.write_bytes(b"waivers: [\xff\xfe]")
    elif kind == "huge":
        path.write_bytes(b"#" * (MAX_WAIVER_BYTES + 1))
    with pytest.raises(UsageError, match=message):
        load_waivers(path, known_ids=KNOWN, today=TODAY)


def test_a_waiver_file_is_loaded(tmp_path: Path) -> None:
    path = tmp_path / "waivers.yaml"
    path.write_text("waivers:\n  - {id: REQ-NAME, reason: ticket, expires: 2027-06-30}\n", encoding="utf-8")
    assert load_waivers(path, known_ids=KNOWN, today=TODAY) == (
        Waiver(id="REQ-NAME", reason="ticket", expires=date(2027, 6, 30)),
    )
