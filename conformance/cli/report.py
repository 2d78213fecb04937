"""``evs-conformance report``: render the run's Allure results into one self-contained HTML page."""

from __future__ import annotations

import os
from pathlib import Path

import click

from conformance.report.render import render_report

#: Where the run writes its reports unless told otherwise.
DEFAULT_REPORTS_DIR = Path("reports")


def default_cache_dir() -> Path:
    """The per-user cache for the Allure generator (``$XDG_CACHE_HOME`` or ``~/.cache``)."""
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "evs-conformance" / "allure3"


@click.command("report")
@click.option(
    "--reports",
    "reports_dir",
    type=click.Path(path_type=Path, file_okay=False),
    default=DEFAULT_REPORTS_DIR,
    show_default=True,
    help="The run's reports directory; its allure-results subdirectory is rendered.",
)
@click.option(
    "--output",
    type=click.Path(path_type=Path, dir_okay=False),
    default=None,
    help="The HTML file to write. Default: <reports>/allure-report.html.",
)
@click.option(
    "--cache-dir",
    type=click.Path(path_type=Path, file_okay=False),
    default=None,
    help="Where the Allure generator is installed on first use. Default: ~/.cache/evs-conformance/allure3.",
)
def report(reports_dir: Path, output: Path | None, cache_dir: Path | None) -> None:
    """Render a single-file HTML report from <reports>/allure-results (needs Node.js and npm)."""
    target = output or reports_dir / "allure-report.html"
    cache = cache_dir or default_cache_dir()
    page = render_report(
        reports_dir / "allure-results",
        target,
        cache_dir=cache,
        notify=lambda line: click.echo(line, err=True),
    )
    click.echo(f"wrote {page}", err=True)
