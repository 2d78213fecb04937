"""``evs-conformance matrix``: merge the conformance.json of runs against several targets into one
requirement by target matrix (Markdown and HTML), e.g. in the last job of a CI pipeline."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from conformance.core import inputs
from conformance.core.errors import UsageError
from conformance.report.matrix import HTML, MARKDOWN, Matrix, load_run


@click.command("matrix")
@click.argument("reports", nargs=-1, required=True)
@click.option(
    "--output",
    default="matrix",
    show_default=True,
    help=f"Folder to write {MARKDOWN} and {HTML} into (created if missing).",
)
def matrix(reports: tuple[str, ...], output: str) -> None:
    """Put each REPORT (a conformance.json, or the folder holding one; NAME=PATH names its column) in one
    matrix of requirements by targets.

    Exit status: 0 every run passed, 1 a run failed or did not complete, 2 usage error.
    """
    runs = []
    for given in reports:
        name, sep, path = given.partition("=")
        if not sep:
            name, path = "", given
        runs.append(load_run(Path(path), name=name or None))
    table = Matrix.of(runs)
    folder = inputs.output_dir(output, flag="--output")
    try:
        folder.mkdir(parents=True, exist_ok=True)
        (folder / MARKDOWN).write_text(table.markdown(), encoding="utf-8")
        (folder / HTML).write_text(table.html(), encoding="utf-8")
    except OSError as exc:
        raise UsageError(f"--output {folder}: cannot write the matrix: {exc.strerror or exc}") from None
    for line in table.markdown().splitlines()[-len(runs) :]:
        click.echo(f"evs-conformance matrix: {line}")
    click.echo(f"evs-conformance matrix: {MARKDOWN} and {HTML} in {folder}")
    sys.exit(table.exit_code)
