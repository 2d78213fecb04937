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
    assert "## Where the document is silent\n\n- **ADV-AUTOBK**: Accepted." in text
    assert "## Skipped\n\n- **LIFE-READ**: E." in text
    assert "## Failures" not in text
