"""``conformance.md``: the report as a readable audit, rendered from the ``conformance.json`` data.

A table of every requirement with its verdict and the document line it rests on, then each failure with its
evidence, the line of the document it broke and a minimal reproduction (the token read from ``$EVS_TOKEN``),
then the waived failures, what the target did where the document is silent (for every requirement, whatever
its verdict), what was skipped, and the cleanup.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from conformance.core.verdicts import FAIL, INCOMPLETE, INFO, SKIP, WAIVED

FILENAME = "conformance.md"
_MARK = {FAIL: "**FAIL**"}


def render(report: Mapping[str, Any]) -> str:
    """The whole audit as Markdown."""
    rows = report["requirements"]
    lines = [*_header(report), "", "| Requirement | Verdict | Document line | Title |", "|---|---|---|---|"]
    lines += [
        f"| {row['id']} | {_MARK.get(row['verdict'], row['verdict'])} | {_cell(document_line(row))} "
        f"| {_cell(row['title'])} |"
        for row in rows
    ]
    failures = [row for row in rows if row["verdict"] == FAIL]
    if failures:
        lines += ["", "## Failures"]
        for row in failures:
            lines += _failure(row)
    waived = [row for row in rows if row["verdict"] == WAIVED]
    if waived:
        lines += ["", "## Waived"]
        for row in waived:
            lines += _waived(row)
    lines += _silences(rows)
    skipped = [row for row in rows if row["verdict"] == SKIP]
    if skipped:
        lines += ["", "## Skipped", ""]
        lines += [f"- **{row['id']}**: {row['evidence'].strip()}" for row in skipped]
    lines += _unused_waivers(report)
    lines += _cleanup(report.get("cleanup"))
    return "\n".join(lines) + "\n"


def document_line(row: Mapping[str, Any]) -> str:
    """Where the document states the requirement, the field a failure broke, and the page line."""
    source = row.get("source") or "-"
    broken = row.get("broken_source")
    text = f"{source}; broken: {broken}" if broken and broken != source else source
    line = row.get("document_line")
    return f"{text} (line {line})" if isinstance(line, int) else text


def _silences(rows: list[Mapping[str, Any]]) -> list[str]:
    """What the target did where the document is silent, for every requirement that saw it."""
    noted = [row for row in rows if row.get("observations") or row["verdict"] == INFO]
    if not noted:
        return []
    lines = ["", "## Where the document is silent", ""]
    for row in noted:
        observations = row.get("observations") or [{"sentence": row["evidence"].strip()}]
        lines.append(f"- **{row['id']}** ({row['verdict']}):")
        for observation in observations:
            lines.append(f"  - {observation['sentence']}")
            if observation.get("curl"):
                lines += ["", "    ```sh", f"    {observation['curl']}", "    ```", ""]
    return lines


def _header(report: Mapping[str, Any]) -> list[str]:
    target = report["target"]
    stats = report["stats"]
    counts = report["counts"]
    where = target.get("base_url", "?") + (" (embedded mock)" if target.get("embedded_mock") else "")
    profile = f"{report['profile']} profile, API {report['api_version']}"
    disks = f"available `{target.get('volume_id') or '-'}`, in use `{target.get('in_use_volume_id') or '-'}`"
    budget = report.get("max_creates")
    lines = [
        f"# EVS snapshot conformance: {report['verdict'].upper()}",
        "",
        *(
            [f"**The run did not complete: {report.get('incomplete_reason') or 'no reason given'}.**", ""]
            if report["verdict"] == INCOMPLETE or report.get("incomplete_reason")
            else []
        ),
        f"- Operation: `{report.get('operation', '')}` ({profile})",
        f"- Target: {where}, project `{target.get('project_id', '?')}`",
        f"- Disks: {disks}",
        *(
            [f"- Not verified: {_cell(str(target['disks_unverified']))}"]
            if target.get("disks_unverified")
            else []
        ),
        f"- Seed: {report['seed'] if report['seed'] is not None else 'none (derandomized)'}; "
        f"examples per property test: {report.get('examples', '?')}",
        f"- Verdicts: {', '.join(f'{n} {v}' for v, n in counts.items())}",
        f"- {stats['cases']} checked exchanges, {stats['creates']} snapshots created "
        f"(budget: {budget if budget is not None else 'none'}), {stats['duration_s']:.1f} s",
    ]
    if target.get("tls_verified") is False:
        lines.append("- TLS certificates were **not verified** (--insecure)")
    return lines


def _failure(row: Mapping[str, Any]) -> list[str]:
    lines = [
        "",
        f"### {row['id']}: {row['title']}",
        "",
        f"Document: {row.get('source') or '-'}",
    ]
    if row.get("broken_source"):
        line = row.get("document_line")
        at = f" (line {line} of the page)" if isinstance(line, int) else ""
        lines.append(f"Broken line: {row['broken_source']}{at}")
    lines += ["", "```text", row["evidence"].strip(), "```"]
    if row.get("reproduction"):
        lines += [
            "",
            "Minimal reproduction (the token is read from `$EVS_TOKEN`, never written here):",
            "",
            "```sh",
            row["reproduction"],
            "```",
        ]
    return lines


def _waived(row: Mapping[str, Any]) -> list[str]:
    waiver = row.get("waiver", {})
    expires = waiver.get("expires")
    lines = [
        "",
        f"### {row['id']}: {row['title']}",
        "",
        f"Waived: {waiver.get('reason', '-')} ({'until ' + expires if expires else 'no expiry'})",
        "",
        f"Document: {document_line(row)}",
        "",
        "```text",
        row["evidence"].strip(),
        "```",
    ]
    if row.get("reproduction"):
        lines += ["", "```sh", row["reproduction"], "```"]
    return lines


def _unused_waivers(report: Mapping[str, Any]) -> list[str]:
    unused = report.get("waivers", {}).get("unused", [])
    if not unused:
        return []
    lines = ["", "## Unused waivers", ""]
    lines += [f"- **{w['id']}** (verdict {w['verdict']}): {w['reason']}" for w in unused]
    return lines


def _cleanup(cleanup: Mapping[str, Any] | None) -> list[str]:
    if not cleanup:
        return []
    lines = ["", "## Cleanup", ""]
    if cleanup.get("skipped"):
        lines.append(f"Cleanup: {cleanup['skipped']}.")
    else:
        lines.append(f"Deleted and verified gone: {cleanup['deleted']} snapshot(s).")
        if cleanup.get("already_gone"):
            lines.append(f"Gone before cleanup deleted them: {cleanup['already_gone']} snapshot(s).")
    left = cleanup.get("left", [])
    if left:
        lines += ["", "Left behind (delete these by hand):", "", "| Snapshot | Reason |", "|---|---|"]
        lines += [f"| `{entry['id']}` | {_cell(entry['reason'])} |" for entry in left]
    return lines


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def write(path: Path, report: Mapping[str, Any]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(render(report), encoding="utf-8")
    return path
