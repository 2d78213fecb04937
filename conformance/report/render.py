"""A single-file HTML report rendered from ``allure-results`` with the Allure 3 generator (Node.js, no Java).

The generator is the ``allure`` package from the npm registry at a pinned version, installed on first use
into a cache directory that the caller chooses.

Example::

    page = render_report(Path("reports/allure-results"), Path("reports/allure-report.html"),
                         cache_dir=Path.home() / ".cache" / "evs-conformance" / "allure3")
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from conformance.core.errors import ToolError, UsageError

#: The Allure 3 generator release this tool renders with (checked against ``npm view allure versions``).
ALLURE_VERSION = "3.18.0"
#: The oldest Node.js major version the pinned generator is known to run on.
MIN_NODE_MAJOR = 20
INSTALL_TIMEOUT_S = 600.0
GENERATE_TIMEOUT_S = 300.0

_ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")

Runner = Callable[..., "subprocess.CompletedProcess[str]"]
Notify = Callable[[str], None]


def _quiet(message: str) -> None:
    """Say nothing."""


class RenderError(ToolError):
    """The HTML report cannot be rendered (no Node.js, the install or the generator failed)."""


@dataclass(frozen=True)
class NodeTools:
    """Where the ``node`` and ``npm`` executables are."""

    node: str
    npm: str

    @classmethod
    def find(cls) -> NodeTools:
        """Locate Node.js and npm on the search path, or explain that they are needed."""
        node, npm = shutil.which("node"), shutil.which("npm")
        if node is None or npm is None:
            missing = " and ".join(name for name, path in (("node", node), ("npm", npm)) if path is None)
            raise RenderError(
                f"{missing} not found: rendering the HTML report needs Node.js {MIN_NODE_MAJOR} or later "
                "with npm (the JSON, Markdown and JUnit reports do not)"
            )
        return cls(node=node, npm=npm)


def result_files(results_dir: Path) -> list[Path]:
    """The Allure result files (``*-result.json``) in a results directory."""
    if not results_dir.is_dir():
        return []
    return sorted(results_dir.glob("*-result.json"))


def ensure_allure(
    cache_dir: Path, tools: NodeTools, *, run: Runner = subprocess.run, notify: Notify = _quiet
) -> Path:
    """The generator's CLI script, installing the pinned release into ``cache_dir`` if it is not there."""
    _check_node(tools, run)
    home = cache_dir / ALLURE_VERSION
    cli = home / "node_modules" / "allure" / "cli.js"
    if _installed_version(home) == ALLURE_VERSION and cli.is_file():
        return cli
    notify(f"installing the Allure {ALLURE_VERSION} generator into {cache_dir} (once)")
    cache_dir.mkdir(parents=True, exist_ok=True)
    # Install beside the final place and move it in whole, so an interrupted install is never used.
    staging = Path(tempfile.mkdtemp(prefix=f".install-{ALLURE_VERSION}-", dir=cache_dir))
    try:
        command = [
            tools.npm,
            "install",
            "--prefix",
            str(staging),
            "--no-audit",
            "--no-fund",
            "--ignore-scripts",
            "--loglevel=error",
            f"allure@{ALLURE_VERSION}",
        ]
        _run(command, run=run, timeout_s=INSTALL_TIMEOUT_S, what=f"installing allure@{ALLURE_VERSION}")
        if _installed_version(staging) != ALLURE_VERSION:
            raise RenderError(f"npm did not install allure@{ALLURE_VERSION} into {staging}")
        if home.exists() and _installed_version(home) != ALLURE_VERSION:
            shutil.rmtree(home, ignore_errors=True)
        try:
            staging.rename(home)
        except OSError as exc:
            # Another process finished the same install first; its copy is as good as ours.
            if _installed_version(home) != ALLURE_VERSION:
                raise RenderError(f"cannot move the allure install into {home}: {exc}") from exc
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return cli


def render_report(
    results_dir: Path,
    output: Path,
    *,
    cache_dir: Path,
    name: str = "EVS snapshot conformance",
    tools: NodeTools | None = None,
    run: Runner = subprocess.run,
    notify: Notify = _quiet,
) -> Path:
    """Render ``results_dir`` (an ``allure-results`` directory) into the single HTML file ``output``.

    ``notify`` receives a line for the user before a slow first-time install of the generator.
    """
    if not result_files(results_dir):
        raise UsageError(
            f"no Allure results in {results_dir}: run the suite first (evs-conformance run --reports DIR)"
        )
    tools = tools or NodeTools.find()
    cli = ensure_allure(cache_dir, tools, run=run, notify=notify)
    with tempfile.TemporaryDirectory(prefix="evs-allure-") as scratch:
        work = Path(scratch)
        config = work / "allurerc.json"
        config.write_text(
            json.dumps(
                {"name": name, "plugins": {"awesome": {"options": {"singleFile": True, "reportName": name}}}}
            ),
            encoding="utf-8",
        )
        rendered = work / "report"
        command = [
            tools.node,
            str(cli),
            "generate",
            "--config",
            str(config),
            "--output",
            str(rendered),
            str(results_dir.resolve()),
        ]
        # The generator resolves relative paths and writes side files against its working directory.
        _run(command, run=run, timeout_s=GENERATE_TIMEOUT_S, what="rendering the Allure report", cwd=work)
        page = rendered / "index.html"
        if not page.is_file():
            raise RenderError(f"the Allure generator wrote no index.html (allure@{ALLURE_VERSION})")
        output.parent.mkdir(parents=True, exist_ok=True)
        shutil.move(str(page), str(output))
    return output


def _check_node(tools: NodeTools, run: Runner) -> None:
    completed = _run([tools.node, "--version"], run=run, timeout_s=30.0, what="asking node for its version")
    found = completed.stdout.strip()
    match = re.match(r"v?(\d+)\.", found)
    if match is None or int(match.group(1)) < MIN_NODE_MAJOR:
        raise RenderError(
            f"Node.js {found or '(unknown version)'} is too old: the HTML report needs Node.js "
            f"{MIN_NODE_MAJOR} or later"
        )


def _installed_version(prefix: Path) -> str | None:
    manifest = prefix / "node_modules" / "allure" / "package.json"
    try:
        version = json.loads(manifest.read_text(encoding="utf-8")).get("version")
    except (OSError, ValueError, AttributeError):
        return None
    return version if isinstance(version, str) else None


def _run(
    command: Sequence[str], *, run: Runner, timeout_s: float, what: str, cwd: Path | None = None
) -> subprocess.CompletedProcess[str]:
    try:
        completed = run(
            list(command), cwd=cwd, capture_output=True, text=True, timeout=timeout_s, check=False
        )
    except subprocess.TimeoutExpired as exc:
        raise RenderError(f"{what} took longer than {timeout_s:.0f} s") from exc
    except OSError as exc:
        raise RenderError(f"{what} failed: {exc}") from exc
    if completed.returncode != 0:
        raise RenderError(f"{what} failed (exit {completed.returncode}): {_last_line(completed)}")
    return completed


def _last_line(completed: subprocess.CompletedProcess[str]) -> str:
    for stream in (completed.stderr or "", completed.stdout or ""):
        lines = [line.strip() for line in _ANSI.sub("", stream).splitlines() if line.strip()]
        if lines:
            return lines[-1][:300]
    return "no output"
