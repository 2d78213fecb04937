"""``evs-conformance compare OLD.json NEW.json``: what changed between two runs; exit 1 on a new failure."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from conformance.compare import compare_reports, parse_report
from conformance.errors import UsageError


def read_report(path: Path) -> dict[str, object]:
    """A parsed ``conformance.json`` from ``path``, or a one-line error naming it."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else type(exc).__name__
        raise UsageError(f"cannot read {path}: {reason}") from exc
    return parse_report(text, source=str(path))


@click.command("compare")
@click.argument("old", type=click.Path(path_type=Path, dir_okay=False))
@click.argument("new", type=click.Path(path_type=Path, dir_okay=False))
@click.option("--json", "as_json", is_flag=True, help="Print the comparison as JSON instead of text.")
def compare(old: Path, new: Path, as_json: bool) -> None:
    """Compare two conformance.json reports of one profile (OLD is the baseline).

    Exit 1 when a requirement fails in NEW that did not fail in OLD (waived failures do not count),
    0 otherwise, 2 when a report cannot be read or the profiles differ.
    """
    comparison = compare_reports(read_report(old), read_report(new))
    if as_json:
        click.echo(json.dumps({"old": str(old), "new": str(new), **comparison.as_dict()}, indent=2))
    else:
        click.echo(f"compare {old} -> {new}")
        click.echo(comparison.summary())
    sys.exit(1 if comparison.regressed else 0)
