"""conformance.md: a table of every requirement, then each failure with its reproduction."""

from __future__ import annotations

from typing import Any

from conformance.report import markdown

TARGET = {"base_url": "http://127.0.0.1:9", "embedded_mock": True, "project_id": "p", "volume_id": "v"}


def report(rows: list[dict[str, Any]], verdict: str = "pass") -> dict[str, Any]:
    return {
        "verdict": verdict,
        "profile": "huawei",
        "api_version": "v2",
        "operation": "POST /v2/{project_id}/snapshots",
        "target": {
            "base_url": "http://127.0.0.1:9",
            "embedded_mock": True,
            "project_id": "p",
            "volume_id": "v",
        },
        "seed": None,
        "examples": 10,
        "counts": {"pass": 1, "fail": 0, "info": 0, "skip": 0},
        "requirements": rows,
        "stats": {"cases": 5, "duration_s": 1.25, "creates": 2},
    }


def row(rid: str, verdict: str, **extra: str) -> dict[str, Any]:
    return {
        "id": rid,
        "verdict": verdict,
        "title": f"{rid} | title",
        "source": "Table 4",
        "evidence": "E.",
        **extra,
    }


def test_the_table_lists_every_requirement() -> None:
    text = markdown.render(report([row("REQ-NAME", "pass"), row("REQ-JSON", "skip")]))
    assert text.startswith("# EVS snapshot conformance: PASS")
    assert "| REQ-NAME | pass | Table 4 | REQ-NAME \\| title |" in text
    assert "| REQ-JSON | skip |" in text
    assert "http://127.0.0.1:9 (embedded mock)" in text
    assert "none (derandomized)" in text


def test_a_failure_gets_a_section_with_its_reproduction() -> None:
    failing = row("RSP-ECHO", "fail", evidence="Received: a\nDocumented: b", reproduction="curl -i http://x")
    text = markdown.render(report([failing], verdict="fail"))
    assert "| RSP-ECHO | **FAIL** |" in text
    assert "### RSP-ECHO: RSP-ECHO | title" in text
    assert "Received: a\nDocumented: b" in text
    assert "```sh\ncurl -i http://x\n```" in text


def test_info_and_skips_are_listed_with_their_evidence() -> None:
    text = markdown.render(
        report([row("ADV-AUTOBK", "info", evidence="Accepted."), row("LIFE-READ", "skip")])
    )
    assert "## Where the document is silent\n\n- **ADV-AUTOBK** (info):\n  - Accepted." in text
    assert "## Skipped\n\n- **LIFE-READ**: E." in text
    assert "## Failures" not in text


def test_a_failure_names_its_document_lines_and_a_masked_reproduction() -> None:
    row = {
        "id": "REQ-NAME",
        "verdict": "fail",
        "title": "name is at most 64 characters",
        "source": "Table 4",
        "broken_source": "Table 4 CinderCreateSnapshotOption/name",
        "document_line": 121,
        "evidence": "1 violation(s).",
        "reproduction": 'curl -i -X POST http://x -H "X-Auth-Token: $EVS_TOKEN"',
    }
    text = markdown.render(report([row], verdict="fail"))
    assert (
        "| REQ-NAME | **FAIL** | Table 4; broken: Table 4 CinderCreateSnapshotOption/name (line 121) |"
        in text
    )
    assert "Broken line: Table 4 CinderCreateSnapshotOption/name (line 121 of the page)" in text
    assert "(the token is read from `$EVS_TOKEN`, never written here)" in text
    assert '-H "X-Auth-Token: $EVS_TOKEN"' in text


def test_waived_failures_have_their_own_section_with_reason_and_expiry() -> None:
    row = {
        "id": "RSP-ECHO",
        "verdict": "waived",
        "title": "the summary echoes the request",
        "source": "Table 6",
        "evidence": "3 violation(s).",
        "waiver": {"reason": "vendor ticket 42", "expires": "2027-06-30"},
    }
    data = {**report([row]), "waivers": {"applied": ["RSP-ECHO"], "unused": []}}
    text = markdown.render(data)
    assert "| RSP-ECHO | waived | Table 6 |" in text
    assert "## Waived" in text
    assert "Waived: vendor ticket 42 (until 2027-06-30)" in text
    assert "## Failures" not in text


def test_cleanup_lists_what_was_left_with_ids() -> None:
    cleanup = {"deleted": 3, "left": [{"id": "snap-1", "reason": "DELETE refused: 400"}], "skipped": None}
    text = markdown.render({**report([]), "cleanup": cleanup})
    assert "Deleted and verified gone: 3 snapshot(s)." in text
    assert "| `snap-1` | DELETE refused: 400 |" in text
    skipped = {"deleted": 0, "left": [], "skipped": "off (--no-cleanup)"}
    assert "Cleanup: off (--no-cleanup)." in markdown.render({**report([]), "cleanup": skipped})


def test_observations_are_shown_whatever_the_verdict_and_an_incomplete_run_says_why() -> None:
    passed = row("RSP-202-SCHEMA", "pass", document_line=151)  # type: ignore[arg-type]
    passed["observations"] = [{"sentence": "undocumented summary fields: ['extra'].", "curl": "curl -i x"}]
    incomplete = report([passed], verdict="incomplete")
    incomplete["incomplete_reason"] = "interrupted (Ctrl-C)"
    text = markdown.render(incomplete)
    assert text.startswith("# EVS snapshot conformance: INCOMPLETE")
    assert "**The run did not complete: interrupted (Ctrl-C).**" in text
    assert "| RSP-202-SCHEMA | pass | Table 4 (line 151) |" in text
    assert "- **RSP-202-SCHEMA** (pass):\n  - undocumented summary fields: ['extra']." in text
    assert "    curl -i x" in text
