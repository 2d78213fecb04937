"""conformance.html: one self-contained page, opened from disk in headless Chromium and looked at.

Screenshots of every page the tests open are kept under ``reports/screenshots/`` at the repository root.
"""

from __future__ import annotations

import copy
import re
from pathlib import Path
from typing import Any

import pytest

from conformance.core.errors import UsageError
from conformance.core.exchange import Exchange, Received, SentRequest
from conformance.core.verdicts import FAIL, INCOMPLETE
from conformance.mock.server import MockConfig
from conformance.report import html
from conformance.report import json as json_report
from conformance.report.har import HarWriter
from conformance.run.reportsdir import ReportsDir
from tests.report.cdp import Browser, chromium
from tests.report.conftest import BROKEN, WAIVER_EXPIRES, WAIVER_REASON

#: Where the screenshots are kept: the repository's reports folder, claimed like any run's output.
REPORTS = Path(__file__).resolve().parents[2] / "reports"
HOSTILE = '<script>window.__owned = 1</script><img src="http://192.0.2.1/x.png">\x1b[31m\u202eevil'

#: Whether every requirement row, the verdict and the run's facts are laid out on screen.
_VISIBLE = """(() => {
  const shown = (el) => { if (!el) return false; const r = el.getBoundingClientRect();
    const s = getComputedStyle(el); return r.width > 0 && r.height > 0 && s.visibility !== 'hidden'
      && s.display !== 'none'; };
  const rows = [...document.querySelectorAll('#requirement-table tr[data-req]')];
  const verdict = document.getElementById('verdict');
  return {verdict: shown(verdict) && verdict.textContent,
          rows: rows.filter(shown).map(r => [r.dataset.req, r.cells[1].textContent]),
          target: document.getElementById('target').textContent,
          owned: window.__owned === undefined ? null : window.__owned};
})()"""


@pytest.fixture(scope="module")
def screenshots(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Where screenshots go: ``reports/screenshots`` when that folder may be claimed, else a temporary one."""
    try:
        return ReportsDir.prepare(REPORTS).claim("screenshots")
    except UsageError:
        return tmp_path_factory.mktemp("screenshots")


@pytest.fixture(scope="module")
def browser(tmp_path_factory: pytest.TempPathFactory) -> Any:
    executable = chromium()
    if executable is None:
        pytest.skip("Chromium is not installed (Debian package: chromium)")
    with Browser(executable, tmp_path_factory.mktemp("chromium")) as opened:
        yield opened


def _open(browser: Browser, page: Path, shot: str, screenshots: Path) -> dict[str, Any]:
    requests = browser.open(page.as_uri())
    # Nothing but the file itself: no script, style, font or image from anywhere.
    assert requests == [page.as_uri()]
    shown: dict[str, Any] = browser.evaluate(_VISIBLE)
    browser.screenshot(screenshots / f"{shot}.png")
    return shown


@pytest.mark.parametrize("name", ["quirk", "quirk-waived", "clean"])
def test_the_page_opens_from_disk_and_shows_the_verdict_and_every_requirement(
    runs: dict[str, tuple[Path, int]], name: str, tmp_path: Path, browser: Browser, screenshots: Path
) -> None:
    reports, _ = runs[name]
    report = json_report.read(reports / json_report.FILENAME)
    page = html.write(tmp_path / html.FILENAME, report)
    assert MockConfig().token not in page.read_text(encoding="utf-8")

    shown = _open(browser, page, f"html-report-{name}", screenshots)

    assert shown["verdict"] == report["verdict"].upper()
    assert shown["rows"] == [[row["id"], row["verdict"].upper()] for row in report["requirements"]]
    assert shown["target"].startswith(report["target"]["base_url"])
    text = browser.evaluate("document.body.innerText")
    for row in report["requirements"]:
        for observation in row["observations"]:
            assert observation["sentence"] in text
    if name != "clean":
        row = next(r for r in report["requirements"] if r["id"] == BROKEN)
        assert row["minimal_case"]["received"] in text
        assert row["reproduction"] in text
        # The row links to the page line it rests on, and that line of the page is shown numbered.
        href = browser.evaluate(
            f"document.querySelector('#req-{BROKEN} a[href^=\"#L\"]').getAttribute('href')"
        )
        assert href == f"#L{row['document_line']}"
        line = browser.evaluate(f"document.getElementById('L{row['document_line']}').innerText")
        assert line.startswith(f"{row['document_line']}created_at")
        browser.page("Page.navigate", {"url": f"{page.as_uri()}{href}"})
        browser.screenshot(screenshots / f"html-report-{name}-document-line.png", full_page=False)
    if name == "quirk-waived":
        assert WAIVER_REASON in text
        assert f"until {WAIVER_EXPIRES}" in text
    assert "Cleanup" in text


def test_target_text_is_escaped_and_control_characters_are_shown(
    runs: dict[str, tuple[Path, int]], tmp_path: Path, browser: Browser, screenshots: Path
) -> None:
    report = copy.deepcopy(json_report.read(runs["quirk"][0] / json_report.FILENAME))
    row = next(r for r in report["requirements"] if r["verdict"] == FAIL)
    row["observations"].append({"sentence": HOSTILE, "curl": HOSTILE})
    row["minimal_case"]["received"] = HOSTILE
    report["target"]["base_url"] = 'http://127.0.0.1:1/"><script>window.__owned=2</script>'
    page = html.write(tmp_path / html.FILENAME, report)

    shown = _open(browser, page, "html-report-hostile-text", screenshots)

    assert shown["owned"] is None
    text = browser.evaluate("document.body.innerText")
    assert '<script>window.__owned = 1</script><img src="http://192.0.2.1/x.png">\\x1b[31m\\u202eevil' in text
    assert "\x1b" not in text
    assert "\u202e" not in text


def test_an_incomplete_run_says_so_and_why(
    runs: dict[str, tuple[Path, int]], tmp_path: Path, browser: Browser, screenshots: Path
) -> None:
    report = copy.deepcopy(json_report.read(runs["clean"][0] / json_report.FILENAME))
    report["verdict"] = INCOMPLETE
    report["incomplete_reason"] = "interrupted by the user (Ctrl-C) after 12 s"
    page = html.write(tmp_path / html.FILENAME, report)

    shown = _open(browser, page, "html-report-incomplete", screenshots)

    assert shown["verdict"] == "INCOMPLETE"
    banner = browser.evaluate("document.getElementById('incomplete').innerText")
    assert banner == "The run did not complete: interrupted by the user (Ctrl-C) after 12 s"


def test_plots_come_from_the_har_file_when_there_is_one(tmp_path: Path) -> None:
    har = tmp_path / "exchanges.har"
    request = SentRequest("POST", "http://127.0.0.1:1/v2/p/snapshots", {}, b"{}")
    with HarWriter(har) as writer:
        for status, seconds, requirements in (
            (202, 0.003, ("OP-ACCEPT", "RSP-NO-5XX")),
            (202, 0.004, ("OP-ACCEPT",)),
            (400, 0.2, ("REQ-NAME",)),
        ):
            exchange = Exchange(request, Received(status, {}, b"{}"), None, seconds)
            writer.add(exchange, requirements=requirements, test="t")
    report = {
        "verdict": "pass",
        "requirements": [
            {"id": rid, "verdict": "pass", "title": "", "evidence": "", "exchanges": {"checked": 99}}
            for rid in ("OP-ACCEPT", "REQ-NAME", "RSP-NO-5XX")
        ],
        "stats": {"response_times": {"by_status": {"500": [1] * 14}}},
    }

    page = html.render(report, har=har)

    plot = page[page.index('<svg id="time-plot"') : page.index("</svg>", page.index('<svg id="time-plot"'))]
    assert ">202 (2)</text>" in plot
    assert ">400 (1)</text>" in plot
    assert "500" not in plot  # the HAR's figures, not the report's
    bars = page[page.index('<svg id="requirement-plot"') :]
    assert re.findall(r">(\d+)</text>", bars[: bars.index("</svg>")]) == ["2", "1", "1"]
    without = html.render(report)
    assert ">500 (14)</text>" in without
    assert re.findall(r">(\d+)</text>", without[without.index('<svg id="requirement-plot"') :])[:3] == [
        "99",
        "99",
        "99",
    ]
