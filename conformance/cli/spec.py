"""``evs-conformance spec build|check``: generate each profile's contract, or check it for drift."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from conformance.contract import PROFILES, spec_dir
from conformance.contract.specbuild.project import build_profile, check_specs, committed_path
from conformance.core import inputs
from conformance.core.display import for_terminal
from conformance.core.errors import UsageError

#: The largest API page ``--source`` takes; the page this project is built from is about 4 KB.
MAX_PAGE_BYTES = 4 * 1024 * 1024


@click.group("spec")
def spec() -> None:
    """Build the OpenAPI contract from the API page's tables, or check the committed one."""


@spec.command("build")
@click.option(
    "--source",
    "page",
    type=click.Path(path_type=Path, dir_okay=False),
    default=None,
    help="The API page (plain text). Default: the project's spec/source page.",
)
@click.option("--profile", type=click.Choice(PROFILES), default=PROFILES[0], show_default=True)
@click.option(
    "--overlays",
    "overlay_dir",
    type=click.Path(path_type=Path, file_okay=False),
    default=None,
    help="Directory of overlays (common.yaml, <profile>.yaml). Default: the project's spec/overlays.",
)
@click.option(
    "--output",
    default=None,
    help="Where to write the YAML; '-' for stdout. Default: the committed spec of the profile.",
)
def build(page: Path | None, profile: str, overlay_dir: Path | None, output: str | None) -> None:
    """Write the profile's OpenAPI document, generated from the page and the overlays."""
    root = spec_dir()
    # Checked before the build, so a bad path costs nothing and a FIFO or a device never hangs the build.
    target = None if output == "-" else inputs.output_file(output, flag="--output") if output else None
    if page is not None:
        inputs.input_file(page, what="the API page (--source)", max_bytes=MAX_PAGE_BYTES)
    text = build_profile(profile, spec_dir=root, page=page, overlay_dir=overlay_dir)
    if output == "-":
        click.echo(text, nl=False)
        return
    target = target or committed_path(profile, root)
    try:
        target.write_text(text, encoding="utf-8")
    except OSError as exc:
        reason = exc.strerror or type(exc).__name__
        raise UsageError(f"cannot write {for_terminal(str(target))}: {reason}") from None
    click.echo(f"wrote {for_terminal(str(target))}", err=True)


def run_check(directory: Path) -> int:
    """Print the drift of every committed contract under ``directory``; 0 when none drifted, else 1."""
    drifts = check_specs(directory)
    for drift in drifts:
        click.echo(drift.diff, nl=False)
    if drifts:
        names = ", ".join(str(drift.path) for drift in drifts)
        click.echo(
            f"spec check: {names} differ from a fresh build; run `evs-conformance spec build`", err=True
        )
        return 1
    click.echo(f"spec check: {', '.join(PROFILES)} up to date", err=True)
    return 0


@spec.command("check")
def check() -> None:
    """Exit 0 when every committed contract equals a fresh build, 1 with a unified diff when not."""
    sys.exit(run_check(spec_dir()))
