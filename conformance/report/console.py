"""The closing lines of a run on the console, from ``conformance.json``: a table, then the verdict line last.

Pure functions: they return lines (plain text) or rich renderables (for a terminal); the caller prints them.
Text that comes from the target is shown with control characters made visible and never read as markup.

Example::

    for line in closing_lines(report):
        print(line)
    # ...
    # evs-conformance: FAIL (25 pass, 2 fail, 1 waived, 1 info, 0 skip) against http://127.0.0.1:8080
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from rich.console import RenderableType
from rich.table import Table
from rich.text import Text

from conformance.core.verdicts import FAIL, INCOMPLETE, INFO, PASS, SKIP, VERDICTS, WAIVED
from conformance.report.escape import visible
from conformance.report.json import BUDGET_SKIP
from conformance.run.waivers import unused_waiver_lines

PREFIX = "evs-conformance:"
#: Leftover snapshots listed on the console; the reports list every one.
LEFT_SHOWN = 10

_STYLE = {PASS: "green", FAIL: "bold red", WAIVED: "yellow", INFO: "cyan", SKIP: "dim"}
_NOTE_WIDTH = 70


def verdict_line(report: Mapping[str, Any]) -> str:
    """``evs-conformance: FAIL (25 pass, 2 fail, 1 waived, 1 info, 0 skip) against URL``."""
    counts = report.get("counts", {})
    shown = ", ".join(f"{counts.get(v, 0)} {v}" for v in VERDICTS)
    where = visible(str(report.get("target", {}).get("base_url", "?")), keep_newlines=False)
    line = f"{PREFIX} {str(report['verdict']).upper()} ({shown}) against {where}"
    reason = report.get("incomplete_reason")
    if report["verdict"] == INCOMPLETE or reason:
        line += f"; incomplete: {visible(str(reason or 'no reason given'), keep_newlines=False)}"
    return line


def rows(report: Mapping[str, Any]) -> list[tuple[str, str, str]]:
    """One (ID, verdict, note) per requirement; the note says why for anything but a plain pass."""
    found: list[tuple[str, str, str]] = []
    for row in report.get("requirements", []):
        found.append((str(row["id"]), str(row["verdict"]), _note(row)))
    return found


def _note(row: Mapping[str, Any]) -> str:
    verdict = row["verdict"]
    if verdict == FAIL:
        case = row.get("minimal_case") or {}
        text = f"received {case['received']}" if case.get("received") else row["evidence"].splitlines()[0]
    elif verdict == WAIVED:
        waiver = row.get("waiver") or {}
        text = f"waived: {waiver.get('reason', '')}" + (
            f" (until {waiver['expires']})" if waiver.get("expires") else ""
        )
    elif verdict in (SKIP, INFO):
        text = row["evidence"]
    else:
        observations = row.get("observations") or []
        text = f"{len(observations)} observation(s) where the document is silent" if observations else ""
    text = visible(" ".join(str(text).split()), keep_newlines=False)
    return text if len(text) <= _NOTE_WIDTH else text[: _NOTE_WIDTH - 1] + "…"


def _figures(report: Mapping[str, Any]) -> list[str]:
    stats = report.get("stats") or {}
    lines: list[str] = []
    if stats:
        lines.append(
            f"{PREFIX} {stats.get('cases', 0)} checked exchanges, {stats.get('creates', 0)} snapshots "
            f"created, {float(stats.get('duration_s', 0)):.1f} s"
        )
    rows = report.get("requirements", [])
    starved = [row["id"] for row in rows if row["verdict"] == SKIP and BUDGET_SKIP in str(row["evidence"])]
    if starved:
        lines.append(f"{PREFIX} not reached within the create budget of {report.get('max_creates')}: "
                     f"{', '.join(starved)}")  # fmt: skip
    lines += cleanup_lines(report.get("cleanup"))
    lines += [f"{PREFIX} {line}" for line in unused_waiver_lines(report)]
    return lines


def cleanup_lines(cleanup: Mapping[str, Any] | None) -> list[str]:
    """What cleanup did, and the first snapshots it left behind with the reason (the reports list all)."""
    if not cleanup:
        return []
    left = cleanup.get("left", [])
    skipped = cleanup.get("skipped")
    if skipped and not left:
        return [f"{PREFIX} cleanup {skipped}"]
    head = f"{PREFIX} cleanup deleted {cleanup.get('deleted', 0)} snapshot(s) and saw each gone"
    if cleanup.get("already_gone"):
        head += f"; {cleanup['already_gone']} were gone before it deleted them"
    if skipped:
        head = f"{PREFIX} cleanup {skipped}"
    if not left:
        return [head]
    head += f"; {len(left)} left behind:"
    shown = [f"  LEFT {visible(str(e['id']))}: {visible(str(e['reason']))}" for e in left[:LEFT_SHOWN]]
    if len(left) > LEFT_SHOWN:
        shown.append(f"  ... and {len(left) - LEFT_SHOWN} more (every one is in conformance.md)")
    return [head, *shown, "  `evs-conformance cleanup REPORTS` deletes what is left, from the run's journal"]


def closing_lines(report: Mapping[str, Any]) -> list[str]:
    """Plain text (for a log or a pipe): the table, the figures, and the verdict line last."""
    table = rows(report)
    width = max((len(rid) for rid, _, _ in table), default=2)
    lines = [f"  {rid:<{width}}  {verdict.upper():<6}  {note}".rstrip() for rid, verdict, note in table]
    return [*lines, *_figures(report), verdict_line(report)]


def closing_renderables(report: Mapping[str, Any]) -> list[RenderableType]:
    """For a terminal (rich): the same table with colours, the figures, and the verdict line last."""
    table = Table(show_header=True, header_style="bold", box=None, pad_edge=False)
    table.add_column("Requirement", no_wrap=True)
    table.add_column("Verdict", no_wrap=True)
    table.add_column("Why", overflow="fold")
    for rid, verdict, note in rows(report):
        # Text objects are never parsed as markup, so a target's "[bold]" stays literal.
        table.add_row(Text(rid), Text(verdict.upper(), style=_STYLE.get(verdict, "")), Text(note))
    run = str(report["verdict"])
    style = "bold green" if run == PASS else "bold red" if run == FAIL else "bold yellow"
    return [table, *(Text(line) for line in _figures(report)), Text(verdict_line(report), style=style)]
