"""Rendering allure-results into one HTML page with the Allure 3 generator, checked in headless Chromium."""

from __future__ import annotations

import html
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from conformance.cli import main
from conformance.cli.report import default_cache_dir
from conformance.core.errors import UsageError
from conformance.mock.server import MockConfig
from conformance.report.render import ALLURE_VERSION, NodeTools, RenderError, ensure_allure, render_report
from tests.runs import SECRET_VARIABLES

TOOLS = NodeTools(node="/opt/node/bin/node", npm="/opt/node/bin/npm")


class FakeRunner:
    """Stands in for subprocess.run: answers ``node --version`` and lays out what ``npm install`` would."""

    def __init__(self, node_version: str = "v20.11.1", npm_exit: int = 0) -> None:
        self.node_version = node_version
        self.npm_exit = npm_exit
        self.commands: list[list[str]] = []

    def __call__(self, command: list[str], **kwargs: Any) -> subprocess.CompletedProcess[str]:
        self.commands.append(command)
        if command[1:] == ["--version"]:
            return subprocess.CompletedProcess(command, 0, stdout=self.node_version + "\n", stderr="")
        if command[1] == "install" and self.npm_exit == 0:
            package = Path(command[command.index("--prefix") + 1]) / "node_modules" / "allure"
            package.mkdir(parents=True)
            (package / "package.json").write_text(json.dumps({"version": ALLURE_VERSION}), encoding="utf-8")
            (package / "cli.js").write_text("", encoding="utf-8")
        return subprocess.CompletedProcess(
            command, self.npm_exit, stdout="", stderr="npm ERR! \x1b[31mE404\x1b[0m\n"
        )


def test_the_pinned_generator_is_installed_once_into_the_cache(tmp_path: Path) -> None:
    runner = FakeRunner()
    said: list[str] = []
    cli = ensure_allure(tmp_path, TOOLS, run=runner, notify=said.append)
    assert said == [f"installing the Allure {ALLURE_VERSION} generator into {tmp_path} (once)"]
    assert cli == tmp_path / ALLURE_VERSION / "node_modules" / "allure" / "cli.js"
    assert cli.is_file()
    installs = [command for command in runner.commands if command[1] == "install"]
    assert len(installs) == 1
    assert installs[0][-1] == f"allure@{ALLURE_VERSION}"
    assert "--ignore-scripts" in installs[0]
    assert ensure_allure(tmp_path, TOOLS, run=runner, notify=said.append) == cli
    assert len(said) == 1
    assert len([command for command in runner.commands if command[1] == "install"]) == 1
    # Nothing half-installed is left beside the release.
    assert [path.name for path in tmp_path.iterdir()] == [ALLURE_VERSION]


def test_a_failed_install_is_a_one_line_error_and_leaves_no_cache(tmp_path: Path) -> None:
    with pytest.raises(
        RenderError, match=rf"installing allure@{ALLURE_VERSION} failed \(exit 1\): npm ERR! E404$"
    ):
        ensure_allure(tmp_path, TOOLS, run=FakeRunner(npm_exit=1))
    assert list(tmp_path.iterdir()) == []


def test_an_old_node_is_refused(tmp_path: Path) -> None:
    with pytest.raises(RenderError, match=r"Node\.js v16\.20\.0 is too old"):
        ensure_allure(tmp_path, TOOLS, run=FakeRunner(node_version="v16.20.0"))


def test_missing_node_is_named(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(shutil, "which", lambda name: None if name == "node" else f"/usr/bin/{name}")
    with pytest.raises(RenderError, match=r"^node not found: rendering the HTML report needs Node\.js"):
        NodeTools.find()


def test_empty_results_are_refused_before_anything_runs(tmp_path: Path) -> None:
    (tmp_path / "allure-results").mkdir()
    runner = FakeRunner()
    with pytest.raises(UsageError, match="no Allure results in"):
        render_report(tmp_path / "allure-results", tmp_path / "out.html", cache_dir=tmp_path, run=runner)
    assert runner.commands == []


def test_report_command_exits_2_with_one_line_when_there_are_no_results(tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["report", "--reports", str(tmp_path), "--cache-dir", str(tmp_path)])
    assert result.exit_code == 2
    assert result.output.strip().splitlines() == [
        f"evs-conformance: error: no Allure results in {tmp_path / 'allure-results'}: "
        "run the suite first (evs-conformance run --reports DIR)"
    ]


# -- a real run, rendered and looked at in a browser ------------------------------------------------------

#: The quirk whose failure the page must show, and the requirement it breaks.
QUIRK, BROKEN = "echo-drops-metadata", "RSP-ECHO"


def _chromium() -> str | None:
    return shutil.which("chromium") or shutil.which("chromium-browser")


def _visible_text(dom: str) -> str:
    # The single-file page embeds its data in <script> tags; only rendered elements count as shown.
    dom = re.sub(r"<(script|style)\b.*?</\1>", " ", dom, flags=re.S | re.I)
    return html.unescape(" ".join(re.sub(r"<[^>]+>", " ", dom).split()))


def _dump_dom(browser: str, url: str, profile: Path) -> str:
    completed = subprocess.run(
        [
            browser,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            f"--user-data-dir={profile}",
            "--virtual-time-budget=10000",
            "--dump-dom",
            url,
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    return completed.stdout


def _results(results: Path) -> list[dict[str, Any]]:
    return [json.loads(path.read_text(encoding="utf-8")) for path in sorted(results.glob("*-result.json"))]


def _stories(result: dict[str, Any]) -> list[str]:
    return sorted(label["value"] for label in result["labels"] if label["name"] == "story")


def _tree_leaf(overview: str, name: str, status: str) -> str:
    """The tree node ID of the test called ``name`` shown with ``status`` in the overview's DOM."""
    leaves = re.split(r'(?=data-tree-node-id=")', overview)
    for leaf in leaves:
        found = re.match(r'data-tree-node-id="([^"]+)"', leaf)
        if found and f'data-testid="tree-leaf-status-{status}"' in leaf and html.escape(name) in leaf:
            return found.group(1)
    raise AssertionError(f"no {status} test {name!r} in the overview")


@pytest.mark.slow
def test_a_real_run_renders_and_shows_requirements_and_the_failure(tmp_path: Path) -> None:
    from conformance.report import json as json_report
    from conformance.report.views import write_views

    browser = _chromium()
    if shutil.which("node") is None or shutil.which("npm") is None:
        pytest.skip("Node.js and npm are not installed")
    if browser is None:
        pytest.skip("Chromium is not installed (Debian package: chromium)")
    reports = tmp_path / "reports"
    environment = {k: v for k, v in os.environ.items() if k not in SECRET_VARIABLES}
    run = subprocess.run(
        [sys.executable, "-m", "conformance", "run", "--examples", "3", "--reports", str(reports),
         "--mock-quirk", QUIRK],
        env=environment, capture_output=True, text=True, timeout=600, check=False,
    )  # fmt: skip
    assert run.returncode == 1, run.stdout[-3000:] + run.stderr[-2000:]
    # The per-requirement results, written from the run's report (as the run itself does once it writes them).
    views = tmp_path / "views"
    write_views(json_report.read(reports / json_report.FILENAME), views)
    results = _results(views / "allure-results")
    failed = [r for r in results if r["status"] == "failed"]
    assert [_stories(r) for r in failed] == [[BROKEN]]
    chosen = failed[0]
    attachments = [a["name"] for a in chosen.get("attachments", [])]
    assert "minimal failing exchange (token masked)" in attachments
    passing = next(r for r in results if _stories(r) == ["OP-ACCEPT"])
    page = tmp_path / "allure.html"

    result = CliRunner().invoke(
        main,
        ["report", "--reports", str(views), "--output", str(page), "--cache-dir", str(default_cache_dir())],
    )

    assert result.exit_code == 0, result.output
    assert page.is_file()
    assert list(tmp_path.glob("*.html")) == [page]
    # The embedded mock's token authorised every request of the run; the page must not hold it.
    token = MockConfig().token
    assert token not in page.read_text(encoding="utf-8")
    overview = _dump_dom(browser, page.as_uri(), tmp_path / "chromium")
    shown = _visible_text(overview)
    assert re.search(rf"Total {len(results)} Failed 1 Passed \d+", shown), shown[:500]
    assert chosen["name"] in shown

    failure = _tree_leaf(overview, chosen["name"], "failed")
    detail = _dump_dom(browser, f"{page.as_uri()}#/{failure}", tmp_path / "chromium")
    shown = _visible_text(detail)
    assert f"{chosen['name']} Failed" in shown
    assert "Received:" in shown
    assert f"story {BROKEN}" in shown
    for name in attachments:
        assert re.search(rf"{re.escape(name)} \S+/\S+ [\d.]+ (?:B|KiB)", shown), name
    assert token not in detail

    success = _tree_leaf(overview, passing["name"], "passed")
    shown = _visible_text(_dump_dom(browser, f"{page.as_uri()}#/{success}", tmp_path / "chromium"))
    assert f"{passing['name']} Passed" in shown
    assert "story OP-ACCEPT" in shown


# -- the per-requirement results, rendered: the overview counts the verdicts ---------------------------------


@pytest.mark.slow
@pytest.mark.parametrize(("name", "interrupted"), [("quirk", False), ("quirk-waived", True)])
def test_the_rendered_overview_counts_exactly_the_verdicts(
    runs: dict[str, tuple[Path, int]], name: str, interrupted: bool, tmp_path: Path
) -> None:
    from conformance.report import allure_results
    from conformance.report import json as json_report

    browser = _chromium()
    if shutil.which("node") is None or shutil.which("npm") is None:
        pytest.skip("Node.js and npm are not installed")
    if browser is None:
        pytest.skip("Chromium is not installed (Debian package: chromium)")
    report = json_report.read(runs[name][0] / json_report.FILENAME)
    if interrupted:
        report = {**report, "verdict": "incomplete", "incomplete_reason": "interrupted by the user"}
    results = tmp_path / "allure-results"
    allure_results.write_results(report, results)
    page = render_report(results, tmp_path / "allure.html", cache_dir=default_cache_dir())

    shown = _visible_text(_dump_dom(browser, page.as_uri(), tmp_path / "chromium"))

    counts = report["counts"]
    passed, skipped = counts["pass"] + counts["info"], counts["skip"] + counts["waived"]
    expected = f"Total {len(report['requirements'])}"
    expected += f" Failed {counts['fail']}" if counts["fail"] else ""
    # Allure shows a status only when some result has it, as with Failed above.
    expected += f" Passed {passed}" + (f" Skipped {skipped}" if skipped else "")
    assert expected in shown, shown[:600]
    assert f"Global Errors {1 if interrupted else 0}" in shown
