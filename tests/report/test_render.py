"""Rendering allure-results into one HTML page with the Allure 3 generator, checked in headless Chromium."""

from __future__ import annotations

import json
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
from conformance.errors import UsageError
from conformance.report.render import ALLURE_VERSION, NodeTools, RenderError, ensure_allure, render_report

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


# -- a real render, looked at in a browser ---------------------------------------------------------------

SAMPLE_TESTS = """
import allure

@allure.story("REQ-NAME")
@allure.title("REQ-NAME: a 64-character name is accepted")
def test_name_accepted():
    assert len("n" * 64) == 64

@allure.story("REQ-DESCRIPTION")
@allure.title("REQ-DESCRIPTION: an 86-character description is refused")
def test_description_refused():
    allure.attach('{"snapshot": {"description": "d"}}', name="request-exchange",
                  attachment_type=allure.attachment_type.JSON)
    assert 202 == 400, "Received: 202 / Documented: 400"
"""


def _chromium() -> str | None:
    return shutil.which("chromium") or shutil.which("chromium-browser")


def _visible_text(dom: str) -> str:
    # The single-file page embeds its data in <script> tags; only rendered elements count as shown.
    dom = re.sub(r"<(script|style)\b.*?</\1>", " ", dom, flags=re.S | re.I)
    return " ".join(re.sub(r"<[^>]+>", " ", dom).split())


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


@pytest.mark.slow
def test_a_real_run_renders_and_shows_requirements_and_the_failure(tmp_path: Path) -> None:
    browser = _chromium()
    if shutil.which("node") is None or shutil.which("npm") is None:
        pytest.skip("Node.js and npm are not installed")
    if browser is None:
        pytest.skip("Chromium is not installed (Debian package: chromium)")
    project = tmp_path / "project"
    project.mkdir()
    (project / "test_sample.py").write_text(SAMPLE_TESTS, encoding="utf-8")
    (project / "pytest.ini").write_text("[pytest]\n", encoding="utf-8")
    reports = tmp_path / "reports"
    session = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-p", "no:evs_conformance",
         f"--alluredir={reports / 'allure-results'}", "test_sample.py"],
        cwd=project, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert session.returncode == 1, session.stdout
    page = tmp_path / "allure.html"

    result = CliRunner().invoke(
        main,
        ["report", "--reports", str(reports), "--output", str(page), "--cache-dir", str(default_cache_dir())],
    )

    assert result.exit_code == 0, result.output
    assert page.is_file()
    assert list(tmp_path.glob("*.html")) == [page]
    overview = _dump_dom(browser, page.as_uri(), tmp_path / "chromium")
    shown = _visible_text(overview)
    assert "REQ-NAME: a 64-character name is accepted" in shown
    assert "REQ-DESCRIPTION: an 86-character description is refused" in shown
    assert re.search(r"Total 2 Failed 1 Passed 1", shown), shown[:500]
    failed = re.search(
        r'data-tree-node-id="([^"]+)"[^>]*>\s*<div data-testid="tree-leaf-status-failed"', overview
    )
    assert failed is not None
    detail = _visible_text(_dump_dom(browser, f"{page.as_uri()}#/{failed.group(1)}", tmp_path / "chromium"))
    assert "REQ-DESCRIPTION: an 86-character description is refused Failed" in detail
    assert "AssertionError: Received: 202 / Documented: 400" in detail
    assert "story REQ-DESCRIPTION" in detail
    assert "request-exchange application/json" in detail
