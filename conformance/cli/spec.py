"""``evs-conformance spec build|check``: generate each profile's contract, or check it for drift."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from conformance.contract import PROFILES, spec_dir
from conformance.specbuild.project import build_profile, check_specs, committed_path


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
    text = build_profile(profile, spec_dir=root, page=page, overlay_dir=overlay_dir)
    if output == "-":
        click.echo(text, nl=False)
        return
    target = Path(output) if output else committed_path(profile, root)
    target.write_text(text, encoding="utf-8")
    click.echo(f"wrote {target}", err=True)


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
