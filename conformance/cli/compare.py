"""``evs-conformance compare OLD.json NEW.json``: what changed between two runs; exit 1 on a regression."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from conformance.core import inputs
from conformance.core.display import for_terminal
from conformance.report.compare import MAX_REPORT_BYTES, compare_reports, parse_report


def read_report(path: Path) -> dict[str, object]:
    """A parsed ``conformance.json`` from ``path``, or a one-line error naming it.

    Only a regular UTF-8 file of at most ``MAX_REPORT_BYTES`` is read: a pipe or a device is refused at
    once instead of hanging the comparison or filling the memory.
    """
    text = inputs.input_file(path, what="the report", max_bytes=MAX_REPORT_BYTES)
    return parse_report(text, source=str(path))


@click.command("compare")
@click.argument("old", type=click.Path(path_type=Path, dir_okay=False))
@click.argument("new", type=click.Path(path_type=Path, dir_okay=False))
@click.option("--json", "as_json", is_flag=True, help="Print the comparison as JSON instead of text.")
def compare(old: Path, new: Path, as_json: bool) -> None:
    """Compare two conformance.json reports of one profile (OLD is the baseline).

    Exit 1 when a requirement fails in NEW that did not fail in OLD (waived failures do not count), or
    when one that OLD tested (pass, fail, info, waived) is skipped or missing in NEW; 0 otherwise; 2 when a
    report cannot be read or the profiles differ.
    """
    comparison = compare_reports(read_report(old), read_report(new))
    if as_json:
        # JSON escapes every control character itself; ensure_ascii keeps lone surrogates printable.
        click.echo(json.dumps({"old": str(old), "new": str(new), **comparison.as_dict()}, indent=2))
    else:
        click.echo(f"compare {for_terminal(str(old))} -> {for_terminal(str(new))}")
        click.echo(comparison.summary())
    sys.exit(1 if comparison.regressed else 0)
