"""``conformance.md``: the report as a readable audit, rendered from the ``conformance.json`` data.

A table of every requirement with its verdict and source in the document, then each failure with its
evidence and a minimal reproduction, then what the document left open (``info``) and what was skipped.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

FILENAME = "conformance.md"
_SECTIONS = (("fail", "Failures"), ("info", "Where the document is silent"), ("skip", "Skipped"))
_MARK = {"pass": "pass", "fail": "**FAIL**", "info": "info", "skip": "skip"}


def render(report: Mapping[str, Any]) -> str:
    """The whole audit as Markdown."""
    target = report["target"]
    stats = report["stats"]
    counts = report["counts"]
    where = target.get("base_url", "?") + (" (embedded mock)" if target.get("embedded_mock") else "")
    profile = f"{report['profile']} profile, API {report['api_version']}"
    disks = f"available `{target.get('volume_id') or '-'}`, in use `{target.get('in_use_volume_id') or '-'}`"
    figures = f"{stats['cases']} checked exchanges, {stats['creates']} snapshots created"
    lines = [
        f"# EVS snapshot conformance: {report['verdict'].upper()}",
        "",
        f"- Operation: `{report.get('operation', '')}` ({profile})",
        f"- Target: {where}, project `{target.get('project_id', '?')}`",
        f"- Disks: {disks}",
        f"- Seed: {report['seed'] if report['seed'] is not None else 'none (derandomized)'}; "
        f"examples per property test: {report.get('examples', '?')}",
        f"- Verdicts: {', '.join(f'{n} {v}' for v, n in counts.items())}",
        f"- {figures}, {stats['duration_s']:.1f} s",
        "",
        "| Requirement | Verdict | Source | Title |",
        "|---|---|---|---|",
    ]
    lines += [
        f"| {row['id']} | {_MARK[row['verdict']]} | {_cell(row['source'])} | {_cell(row['title'])} |"
        for row in report["requirements"]
    ]
    for verdict, heading in (
        ("fail", "Failures"),
        ("info", "Where the document is silent"),
        ("skip", "Skipped"),
    ):
        rows = [row for row in report["requirements"] if row["verdict"] == verdict]
        if rows:
            lines += ["", f"## {heading}"]
            for row in rows:
                lines += _section(row, detailed=verdict == "fail")
    return "\n".join(lines) + "\n"


def _section(row: Mapping[str, Any], *, detailed: bool) -> list[str]:
    if not detailed:
        return ["", f"- **{row['id']}**: {row['evidence'].strip()}"]
    lines = ["", f"### {row['id']}: {row['title']}", "", f"Source: {row['source'] or '-'}", "", "```text"]
    lines += [row["evidence"].strip(), "```"]
    if row.get("reproduction"):
        lines += [
            "",
            "Minimal reproduction (token read from `$EVS_TOKEN`):",
            "",
            "```sh",
            row["reproduction"],
            "```",
        ]
    return lines


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def write(path: Path, report: Mapping[str, Any]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(render(report), encoding="utf-8")
    return path
