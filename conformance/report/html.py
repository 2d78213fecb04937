"""``conformance.html``: the run as one self-contained page, written from ``conformance.json`` on every run.

No script, style sheet, font or image is fetched: styles are inline, plots are inline SVG, and the page
opens from disk without a network. It shows the verdict with the target, profile and time; a table of every
requirement whose rows link to the line of the API page they rest on (the page itself, numbered, closes
the report); each failure with its evidence and cURL reproduction; what the target did where the document is
silent; the waivers; the cleanup; and two plots: response times by status code and exchanges per
requirement (from the run's HAR file when given, else from the figures in ``conformance.json``). Every text
that came from the target is escaped, its control characters shown as escapes.

Example::

    write(reports / FILENAME, report, har=reports / "exchanges.har")
"""

from __future__ import annotations

import bisect
import html
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from conformance.contract import spec_dir
from conformance.core.errors import SpecError
from conformance.core.verdicts import FAIL, INCOMPLETE, INFO, PASS, SKIP, VERDICTS, WAIVED
from conformance.report import har as har_file
from conformance.report.document import SOURCE_DIR, DocumentPage
from conformance.report.escape import visible
from conformance.report.ledger import TIME_BUCKETS_MS

FILENAME = "conformance.html"
_COLOURS = {PASS: "#1a7f37", FAIL: "#cf222e", WAIVED: "#9a6700", INFO: "#0969da", SKIP: "#6e7781"}
_RUN_COLOURS = {PASS: "#1a7f37", FAIL: "#cf222e", INCOMPLETE: "#9a6700"}
_SERIES = ("#0969da", "#1a7f37", "#cf222e", "#9a6700", "#8250df", "#bf3989", "#1b7c83", "#6e7781")
_SUMMARY = 160

_STYLE = """
body{font-family:system-ui,-apple-system,"Segoe UI",sans-serif;margin:0;color:#1f2328;background:#fff}
main{max-width:1200px;margin:0 auto;padding:24px}
h1{margin:0 0 8px;font-size:24px}h2{margin-top:32px;border-bottom:1px solid #d0d7de;padding-bottom:4px}
.verdict{display:inline-block;padding:4px 14px;border-radius:6px;color:#fff;font-weight:700;font-size:20px}
.meta{color:#57606a;margin:8px 0}.meta span{margin-right:16px}
.banner{background:#fff8c5;border:1px solid #d4a72c;padding:8px 12px;border-radius:6px;margin:12px 0}
.chip{display:inline-block;margin-right:8px;padding:2px 8px;border-radius:10px;color:#fff;font-size:13px}
table{border-collapse:collapse;width:100%;font-size:14px}
th,td{border-bottom:1px solid #d0d7de;padding:6px 8px;text-align:left;vertical-align:top}
td{overflow-wrap:anywhere}
#requirement-table{table-layout:fixed}
#requirement-table col.id{width:130px}#requirement-table col.v{width:80px}
#requirement-table col.t{width:30%}#requirement-table col.d{width:170px}
th{background:#f6f8fa}
td.v{font-weight:700;white-space:nowrap}
pre{background:#f6f8fa;padding:8px;border-radius:6px;overflow-x:auto;white-space:pre-wrap;word-break:break-all}
.case{border:1px solid #d0d7de;border-radius:6px;padding:8px 16px;margin:12px 0}
.kv{display:grid;grid-template-columns:max-content 1fr;gap:4px 12px}
.kv b{color:#57606a}
.doc{font-family:ui-monospace,monospace;font-size:13px;border:1px solid #d0d7de;border-radius:6px}
.doc div{padding:0 8px;white-space:pre-wrap}.doc div:target{background:#fff8c5}
.doc .ref{background:#ddf4ff}.doc a.n{display:inline-block;width:40px;color:#6e7781;text-decoration:none}
.doc .refs{float:right;font-family:system-ui,sans-serif;font-size:12px}
button.copy{float:right;font-size:12px}
svg text{font-family:system-ui,sans-serif;font-size:11px;fill:#1f2328}
"""
# The one script: copying a reproduction. It reads nothing from outside the page.
_SCRIPT = """
document.querySelectorAll('button.copy').forEach(function(b){b.addEventListener('click',function(){
var t=document.getElementById(b.dataset.for).textContent;
if(navigator.clipboard){navigator.clipboard.writeText(t);}b.textContent='copied';});});
"""


def _e(value: object) -> str:
    """Escaped for HTML, control characters shown as escapes."""
    return html.escape(visible(str(value)), quote=True)


def _anchor(rid: str) -> str:
    return "req-" + "".join(c if c.isalnum() or c == "-" else "_" for c in rid)


def load_page(report: Mapping[str, Any]) -> DocumentPage | None:
    """The API page the report names, from the contract's directory, or None when it is not there."""
    name = (report.get("document") or {}).get("name")
    if not name:
        return None
    path = spec_dir() / SOURCE_DIR / Path(str(name)).name
    try:
        return DocumentPage.from_text(path.read_text(encoding="utf-8"), name=path.name)
    except (OSError, UnicodeDecodeError, SpecError):
        return None


def render(report: Mapping[str, Any], *, page: DocumentPage | None = None, har: Path | None = None) -> str:
    """The whole page."""
    rows: list[Mapping[str, Any]] = report.get("requirements", [])
    times, per_requirement = _figures(report, har)
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        # Nothing may be loaded from elsewhere, even if the page were served from a web server.
        '<meta http-equiv="Content-Security-Policy" content="default-src \'none\'; '
        "style-src 'unsafe-inline'; script-src 'unsafe-inline'; img-src data:\">",
        f"<title>EVS snapshot conformance: {_e(str(report.get('verdict', '')).upper())}</title>",
        f"<style>{_STYLE}</style></head><body><main>",
        *_header(report),
        *_table(rows),
        *_failures(rows),
        *_waived(rows, report),
        *_silences(rows),
        *_skipped(rows),
        *_cleanup(report.get("cleanup")),
        '<h2 id="plots">Figures</h2>',
        _time_plot(times),
        _requirement_plot(per_requirement),
        *_page(page, rows),
        f"</main><script>{_SCRIPT}</script></body></html>",
    ]
    return "\n".join(parts) + "\n"


def write(path: Path, report: Mapping[str, Any], *, har: Path | None = None) -> Path:
    """Write the page (the API page read from the contract's directory); returns the path."""
    path.parent.mkdir(parents=True, exist_ok=True)
    har = har if har is not None and har.is_file() else None
    path.write_text(render(report, page=load_page(report), har=har), encoding="utf-8")
    return path


def _header(report: Mapping[str, Any]) -> list[str]:
    verdict = str(report.get("verdict", ""))
    target = report.get("target", {})
    stats = report.get("stats", {})
    counts = report.get("counts", {})
    where = str(target.get("base_url", "?")) + (" (embedded mock)" if target.get("embedded_mock") else "")
    lines = [
        "<h1>EVS snapshot conformance</h1>",
        f'<div id="verdict" class="verdict" style="background:{_RUN_COLOURS.get(verdict, "#6e7781")}">'
        f"{_e(verdict.upper())}</div>",
        '<div class="meta">',
        f'<span>Target: <b id="target">{_e(where)}</b></span>',
        f"<span>Project: {_e(target.get('project_id', '?'))}</span>",
        f"<span>Profile: <b>{_e(report.get('profile', '?'))}</b> "
        f"(API {_e(report.get('api_version', '?'))})</span>",
        f"<span>Operation: {_e(report.get('operation', ''))}</span>",
        "</div>",
        '<div class="meta">',
        f"<span>Started: {_e(report.get('started_at', '?'))}</span>",
        f"<span>Finished: {_e(report.get('finished_at', '?'))}</span>",
        f"<span>{_e(stats.get('cases', 0))} checked exchanges, "
        f"{_e(stats.get('creates', 0))} snapshots created, {float(stats.get('duration_s', 0)):.1f} s</span>",
        "</div>",
        '<div class="meta" id="counts">'
        + "".join(
            f'<span class="chip" style="background:{_COLOURS[v]}">{counts.get(v, 0)} {v}</span>'
            for v in VERDICTS
        )
        + "</div>",
    ]
    if verdict == INCOMPLETE or report.get("incomplete_reason"):
        reason = report.get("incomplete_reason") or "no reason given"
        lines.append(f'<div class="banner" id="incomplete">The run did not complete: {_e(reason)}</div>')
    if target.get("tls_verified") is False:
        lines.append('<div class="banner">TLS certificates were <b>not verified</b> (--insecure).</div>')
    return lines


def _doc_link(row: Mapping[str, Any]) -> str:
    where = row.get("document_ref") or row.get("source") or "-"
    line = row.get("document_line")
    if isinstance(line, int):
        return f'<a href="#L{line}">{_e(where)} (line {line})</a>'
    return _e(where)


def _summary(row: Mapping[str, Any]) -> str:
    if row["verdict"] == FAIL and (row.get("minimal_case") or {}).get("received"):
        text = f"Received: {row['minimal_case']['received']}"
    elif row["verdict"] == WAIVED:
        text = f"Waived: {(row.get('waiver') or {}).get('reason', '')}"
    else:
        text = " ".join(str(row.get("evidence", "")).split())
    return text if len(text) <= _SUMMARY else text[: _SUMMARY - 1] + "…"


def _table(rows: Sequence[Mapping[str, Any]]) -> list[str]:
    lines = [
        '<h2 id="requirements">Requirements</h2>',
        '<table id="requirement-table"><colgroup><col class="id"><col class="v"><col class="t">'
        '<col class="e"><col class="d"></colgroup><thead><tr><th>ID</th><th>Verdict</th>'
        "<th>Requirement</th><th>Evidence</th><th>Document</th></tr></thead><tbody>",
    ]
    for row in rows:
        verdict = str(row["verdict"])
        rid = str(row["id"])
        detail = f' (<a href="#{_anchor(rid)}-detail">details</a>)' if verdict in (FAIL, WAIVED) else ""
        lines.append(
            f'<tr id="{_anchor(rid)}" data-req="{_e(rid)}" data-verdict="{_e(verdict)}">'
            f"<td>{_e(rid)}</td>"
            f'<td class="v" style="color:{_COLOURS.get(verdict, "#1f2328")}">{_e(verdict.upper())}</td>'
            f"<td>{_e(row.get('title', ''))}</td><td>{_e(_summary(row))}{detail}</td>"
            f"<td>{_doc_link(row)}</td></tr>"
        )
    lines.append("</tbody></table>")
    return lines


def _case(row: Mapping[str, Any], head: str) -> list[str]:
    rid = str(row["id"])
    case = row.get("minimal_case") or {}
    lines = [
        f'<div class="case" id="{_anchor(rid)}-detail"><h3>{_e(rid)}: {_e(row.get("title", ""))}</h3>',
        head,
        '<div class="kv">',
        f"<b>Document</b><span>{_doc_link(row)}</span>",
    ]
    if case.get("received"):
        lines += [
            f"<b>Received</b><span>{_e(case['received'])}</span>",
            f"<b>Documented</b><span>{_e(case['documented'])}</span>",
            f"<b>Check</b><span>{_e(case.get('check', ''))} in {_e(case.get('test', ''))}</span>",
        ]
    lines += ["</div>", f"<pre>{_e(row.get('evidence', ''))}</pre>"]
    if row.get("reproduction"):
        code = f"{_anchor(rid)}-curl"
        lines += [
            "<p>Minimal reproduction (the token is read from $EVS_TOKEN) "
            f'<button class="copy" data-for="{code}">copy</button></p>',
            f'<pre id="{code}">{_e(row["reproduction"])}</pre>',
        ]
    lines.append("</div>")
    return lines


def _failures(rows: Sequence[Mapping[str, Any]]) -> list[str]:
    failed = [row for row in rows if row["verdict"] == FAIL]
    if not failed:
        return []
    lines = ['<h2 id="failures">Failures</h2>']
    for row in failed:
        lines += _case(row, "")
    return lines


def _waived(rows: Sequence[Mapping[str, Any]], report: Mapping[str, Any]) -> list[str]:
    waived = [row for row in rows if row["verdict"] == WAIVED]
    unused = report.get("waivers", {}).get("unused", [])
    if not waived and not unused:
        return []
    lines = ['<h2 id="waivers">Waivers</h2>']
    for row in waived:
        waiver = row.get("waiver") or {}
        expires = waiver.get("expires")
        head = (
            f'<p class="waiver">Waived: {_e(waiver.get("reason", ""))} '
            f"({'until ' + _e(expires) if expires else 'no expiry'})</p>"
        )
        lines += _case(row, head)
    if unused:
        lines.append("<p>Unused waivers (the requirement did not fail; consider removing them):</p><ul>")
        lines += [
            f"<li>{_e(w['id'])} (verdict {_e(w['verdict'])}): {_e(w['reason'])}"
            f"{' until ' + _e(w['expires']) if w.get('expires') else ''}</li>"
            for w in unused
        ]
        lines.append("</ul>")
    return lines


def _silences(rows: Sequence[Mapping[str, Any]]) -> list[str]:
    noted = [row for row in rows if row.get("observations") or row["verdict"] == INFO]
    if not noted:
        return []
    lines = ['<h2 id="silent">Where the document is silent</h2>']
    for row in noted:
        observations = row.get("observations") or [{"sentence": row.get("evidence", "")}]
        lines.append(f'<div class="case"><h3>{_e(row["id"])} ({_e(row["verdict"])})</h3><ul>')
        for observation in observations:
            lines.append(f"<li>{_e(observation['sentence'])}")
            if observation.get("curl"):
                lines.append(f"<pre>{_e(observation['curl'])}</pre>")
            lines.append("</li>")
        lines.append("</ul></div>")
    return lines


def _skipped(rows: Sequence[Mapping[str, Any]]) -> list[str]:
    skipped = [row for row in rows if row["verdict"] == SKIP]
    if not skipped:
        return []
    lines = ['<h2 id="skipped">Skipped</h2><ul>']
    lines += [f"<li><b>{_e(row['id'])}</b>: {_e(row.get('evidence', ''))}</li>" for row in skipped]
    lines.append("</ul>")
    return lines


def _cleanup(cleanup: Mapping[str, Any] | None) -> list[str]:
    lines = ['<h2 id="cleanup">Cleanup</h2>']
    if not cleanup:
        return [*lines, "<p>No cleanup was recorded.</p>"]
    if cleanup.get("skipped"):
        lines.append(f"<p>Cleanup: {_e(cleanup['skipped'])}.</p>")
    else:
        lines.append(f"<p>Deleted and verified gone: {_e(cleanup.get('deleted', 0))} snapshot(s).</p>")
    left = cleanup.get("left", [])
    if left:
        lines.append(
            "<p>Left behind (delete these by hand):</p><table><tr><th>Snapshot</th><th>Reason</th></tr>"
        )
        lines += [f"<tr><td>{_e(entry['id'])}</td><td>{_e(entry['reason'])}</td></tr>" for entry in left]
        lines.append("</table>")
    return lines


def _figures(report: Mapping[str, Any], har: Path | None) -> tuple[dict[str, list[int]], dict[str, int]]:
    """Response-time counts per status and bucket, and exchanges per requirement."""
    rows = report.get("requirements", [])
    if har is not None:
        times: dict[str, list[int]] = {}
        for entry in har_file.entries(har):
            status = str(entry.get("response", {}).get("status") or "none")
            counts = times.setdefault(status, [0] * (len(TIME_BUCKETS_MS) + 1))
            counts[bisect.bisect_left(TIME_BUCKETS_MS, float(entry.get("time", 0)))] += 1
        served = har_file.by_requirement(har)
        return dict(sorted(times.items())), {str(row["id"]): served.get(row["id"], 0) for row in rows}
    recorded = report.get("stats", {}).get("response_times", {}).get("by_status", {})
    per_requirement = {
        str(row["id"]): sum(int(v) for v in (row.get("exchanges") or {}).values()) for row in rows
    }
    return {str(k): [int(c) for c in v] for k, v in recorded.items()}, per_requirement


def _time_plot(times: Mapping[str, Sequence[int]]) -> str:
    """Grouped bars: for each response-time bucket, one bar per status code."""
    if not times:
        return '<p id="time-plot">No response times were recorded.</p>'
    labels = [f"≤{b:g}" for b in TIME_BUCKETS_MS] + [f">{TIME_BUCKETS_MS[-1]:g}"]
    used = [i for i in range(len(labels)) if any(counts[i] for counts in times.values())]
    statuses = list(times)
    peak = max(max(counts) for counts in times.values()) or 1
    width, height, left, bottom = 900, 260, 50, 40
    group = (width - left - 10) / max(len(used), 1)
    bar = max(2.0, (group - 8) / max(len(statuses), 1))
    parts = [
        f'<svg id="time-plot" role="img" width="{width}" height="{height + 30}" '
        f'viewBox="0 0 {width} {height + 30}" xmlns="http://www.w3.org/2000/svg">',
        "<title>Response times (ms) by status code</title>",
        f'<line x1="{left}" y1="{height - bottom}" x2="{width}" y2="{height - bottom}" stroke="#57606a"/>',
        f'<text x="4" y="14">exchanges (max {peak})</text>',
    ]
    for slot, index in enumerate(used):
        x0 = left + slot * group
        parts.append(f'<text x="{x0 + 4:.1f}" y="{height - bottom + 14}">{_e(labels[index])} ms</text>')
        for number, status in enumerate(statuses):
            count = times[status][index]
            h = (height - bottom - 24) * count / peak
            x = x0 + 4 + number * bar
            parts.append(
                f'<rect x="{x:.1f}" y="{height - bottom - h:.1f}" width="{bar - 1:.1f}" height="{h:.1f}" '
                f'fill="{_SERIES[number % len(_SERIES)]}">'
                f"<title>{_e(status)}: {count} in {_e(labels[index])} ms</title></rect>"
            )
    for number, status in enumerate(statuses):
        x = left + number * 90
        colour = _SERIES[number % len(_SERIES)]
        total = sum(times[status])
        parts.append(f'<rect x="{x}" y="{height + 8}" width="10" height="10" fill="{colour}"/>')
        parts.append(f'<text x="{x + 14}" y="{height + 17}">{_e(status)} ({total})</text>')
    parts.append("</svg>")
    return "\n".join(parts)


def _requirement_plot(per_requirement: Mapping[str, int]) -> str:
    """Horizontal bars: how many exchanges served each requirement."""
    if not per_requirement:
        return ""
    peak = max(per_requirement.values()) or 1
    row_h, left, width = 16, 150, 900
    height = row_h * len(per_requirement) + 30
    parts = [
        f'<svg id="requirement-plot" role="img" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" xmlns="http://www.w3.org/2000/svg">',
        "<title>Exchanges per requirement</title>",
        f'<text x="4" y="12">exchanges per requirement (max {peak})</text>',
    ]
    for number, (rid, count) in enumerate(per_requirement.items()):
        y = 20 + number * row_h
        w = (width - left - 60) * count / peak
        parts.append(f'<text x="4" y="{y + 11}">{_e(rid)}</text>')
        parts.append(f'<rect x="{left}" y="{y + 2}" width="{w:.1f}" height="{row_h - 4}" fill="#0969da"/>')
        parts.append(f'<text x="{left + w + 4:.1f}" y="{y + 11}">{count}</text>')
    parts.append("</svg>")
    return "\n".join(parts)


def _page(page: DocumentPage | None, rows: Sequence[Mapping[str, Any]]) -> list[str]:
    if page is None:
        return [
            '<h2 id="document">The document</h2>',
            "<p>The API page is not available beside the contract.</p>",
        ]
    referenced: dict[int, list[str]] = {}
    for row in rows:
        line = row.get("document_line")
        if isinstance(line, int):
            referenced.setdefault(line, []).append(str(row["id"]))
    lines = [f'<h2 id="document">The document: {_e(page.name)}</h2>', '<div class="doc">']
    for number, text in enumerate(page.lines, start=1):
        refs = referenced.get(number, [])
        marks = "".join(f' <a href="#{_anchor(rid)}">{_e(rid)}</a>' for rid in refs)
        cls = ' class="ref"' if refs else ""
        lines.append(
            f'<div id="L{number}"{cls}><a class="n" href="#L{number}">{number}</a>{_e(text)}'
            + (f'<span class="refs">{marks}</span>' if refs else "")
            + "</div>"
        )
    lines.append("</div>")
    return lines
