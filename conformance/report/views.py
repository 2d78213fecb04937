"""Every file view of a run, written from its one result (``conformance.json``) at the end of the run.

None of them recomputes a verdict: each renders the report's rows as they are. The console's closing lines
come from ``conformance.report.console``; the exit code from ``conformance.report.coverage.gate``.

Example::

    report = json_report.read(reports / json_report.FILENAME)
    written = write_views(report, reports, har=reports / har.FILENAME)
    written["html"]       # reports/conformance.html
"""

from __future__ import annotations

import shutil
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from conformance.report import allure_results, html, junit, markdown


def write_views(report: Mapping[str, Any], reports: Path, *, har: Path | None = None) -> dict[str, Path]:
    """Write conformance.md, junit.xml, allure-results/ and conformance.html into ``reports``.

    ``har`` (the run's HAR file, when it wrote one) adds exchanges to the Allure results and feeds the
    HTML plots. An existing ``allure-results`` directory is replaced, so no result of an earlier run stays.
    """
    har = har if har is not None and har.is_file() else None
    results = reports / allure_results.DIRECTORY
    if results.is_dir():
        shutil.rmtree(results)
    allure_results.write_results(report, results, har=har)
    return {
        "markdown": markdown.write(reports / markdown.FILENAME, report),
        "junit": junit.write(reports / junit.FILENAME, report),
        "allure": results,
        "html": html.write(reports / html.FILENAME, report, har=har),
    }
