"""Many runs in one view: a requirement by target matrix from the conformance.json of runs against several
targets (regions, vendors), in Markdown and a self-contained HTML page.

Each column is one run, named by its target (the config file's ``[targets.NAME]`` when the run used one,
else the endpoint's host, else the report's folder); each cell is that run's verdict for the requirement,
as its conformance.json says (nothing is recomputed). How a CI system runs one job per target and then
merges their reports is shown in the README.

Example::

    runs = [load_run(Path(p)) for p in ("eu/conformance.json", "ap/conformance.json")]
    matrix = Matrix.of(runs)
    (out / "matrix.md").write_text(matrix.markdown())
    matrix.exit_code   # 1 when any run failed or did not complete
"""

from __future__ import annotations

import html
import urllib.parse
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from conformance.core import inputs
from conformance.core.errors import UsageError
from conformance.core.verdicts import FAIL, INCOMPLETE, PASS, SKIP, VERDICTS
from conformance.report.compare import MAX_REPORT_BYTES, parse_report
from conformance.report.escape import visible

MARKDOWN, HTML = "matrix.md", "matrix.html"
_COLOURS = {PASS: "#d8f3dc", FAIL: "#ffccd5", "waived": "#fff3bf", "info": "#dbeafe", SKIP: "#eeeeee"}


@dataclass(frozen=True)
class Run:
    """One run's report and the name its column gets."""

    name: str
    report: dict[str, Any]

    @property
    def verdicts(self) -> dict[str, str]:
        return {str(row["id"]): str(row["verdict"]) for row in self.report.get("requirements", [])}


def load_run(path: Path, *, name: str | None = None) -> Run:
    """A run from its conformance.json (or the folder holding it); UsageError, one line, when unreadable."""
    file = path / "conformance.json" if path.is_dir() else path
    text = inputs.input_file(file, what="the report", max_bytes=MAX_REPORT_BYTES)
    report = parse_report(text, source=str(file))
    return Run(name or _name_of(report, file), report)


def _name_of(report: dict[str, Any], file: Path) -> str:
    target = report.get("target") or {}
    if isinstance(target.get("name"), str) and target["name"]:
        return str(target["name"])
    if target.get("embedded_mock"):
        return file.parent.name or "embedded mock"
    host = urllib.parse.urlsplit(str(target.get("base_url", ""))).hostname
    return host or file.parent.name or str(file)


@dataclass(frozen=True)
class Matrix:
    """Requirement rows by run columns."""

    runs: tuple[Run, ...]
    requirements: tuple[tuple[str, str], ...]  # (ID, title), in the order of the first report that has it

    @classmethod
    def of(cls, runs: Sequence[Run]) -> Matrix:
        if not runs:
            raise UsageError("give at least one conformance.json to put in the matrix")
        names = [run.name for run in runs]
        repeated = sorted({n for n in names if names.count(n) > 1})
        if repeated:
            raise UsageError(
                f"two runs are both named {visible(repeated[0])}; name them with NAME=PATH arguments"
            )
        seen: dict[str, str] = {}
        for run in runs:
            for row in run.report.get("requirements", []):
                seen.setdefault(str(row["id"]), str(row.get("title", "")))
        return cls(tuple(runs), tuple(seen.items()))

    @property
    def exit_code(self) -> int:
        """0 when every run passed, else 1 (a failure, or a run that did not complete)."""
        return 0 if all(run.report.get("verdict") == PASS for run in self.runs) else 1

    def cell(self, run: Run, requirement: str) -> str:
        return run.verdicts.get(requirement, "absent")

    def markdown(self) -> str:
        head = "| Requirement | " + " | ".join(_md(run.name) for run in self.runs) + " |"
        rule = "|---|" + "---|" * len(self.runs)
        verdict = "| **Verdict** | " + " | ".join(_md(_run_verdict(run)) for run in self.runs) + " |"
        lines = ["# EVS snapshot conformance matrix", "", head, rule, verdict]
        for rid, title in self.requirements:
            cells = " | ".join(self.cell(run, rid).upper() for run in self.runs)
            lines.append(f"| {rid} {_md(title)} | {cells} |")
        lines += ["", *(_md(_counts_line(run)) for run in self.runs)]
        return "\n".join(lines) + "\n"

    def html(self) -> str:
        heads = "".join(f"<th>{_h(run.name)}</th>" for run in self.runs)
        verdicts = "".join(f"<th>{_h(_run_verdict(run))}</th>" for run in self.runs)
        rows = []
        for rid, title in self.requirements:
            cells = "".join(
                f'<td style="background:{_COLOURS.get(v, "#ffffff")}">{_h(v.upper())}</td>'
                for v in (self.cell(run, rid) for run in self.runs)
            )
            rows.append(f'<tr data-req="{_h(rid)}"><th title="{_h(title)}">{_h(rid)}</th>{cells}</tr>')
        counts = "".join(f"<li>{_h(_counts_line(run))}</li>" for run in self.runs)
        return (
            '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
            "<title>EVS snapshot conformance matrix</title><style>"
            "body{font-family:system-ui,sans-serif;margin:2em}table{border-collapse:collapse}"
            "td,th{border:1px solid #bbb;padding:.3em .6em;text-align:left;font-size:.9em}"
            "</style></head><body><h1>EVS snapshot conformance matrix</h1>"
            f'<table id="matrix"><thead><tr><th>Requirement</th>{heads}</tr>'
            f'<tr id="run-verdicts"><th>Verdict</th>{verdicts}</tr></thead><tbody>{"".join(rows)}</tbody>'
            f"</table><ul>{counts}</ul></body></html>\n"
        )


def _run_verdict(run: Run) -> str:
    verdict = str(run.report.get("verdict", "?")).upper()
    if run.report.get("verdict") == INCOMPLETE and run.report.get("incomplete_reason"):
        return f"{verdict}: {run.report['incomplete_reason']}"
    return verdict


def _counts_line(run: Run) -> str:
    tally: dict[str, int] = {verdict: 0 for verdict in VERDICTS}
    for verdict in run.verdicts.values():
        tally[verdict] = tally.get(verdict, 0) + 1
    target = (run.report.get("target") or {}).get("base_url", "?")
    shown = ", ".join(f"{count} {verdict}" for verdict, count in tally.items())
    return f"{run.name}: {str(run.report.get('verdict', '?')).upper()} ({shown}) against {target}"


def _md(text: str) -> str:
    return visible(text, keep_newlines=False).replace("|", "\\|")


def _h(text: str) -> str:
    return html.escape(visible(text, keep_newlines=False), quote=True)
