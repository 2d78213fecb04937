"""``evs-conformance replay REPORTS``: each failure's minimal reproduction sent again, and what it shows."""

from __future__ import annotations

import sys
from collections import Counter
from pathlib import Path

import click

from conformance.contract import load_contract
from conformance.core.errors import UsageError
from conformance.report import json as json_report
from conformance.report.escape import visible
from conformance.report.har import FILENAME as HAR_FILENAME
from conformance.report.replay import CANNOT, FIXED, STILL_FAILS, replay_report, still_failing
from conformance.run.options import OPTIONS
from conformance.run.settings import TargetSettings
from conformance.target import Target
from conformance.target.cleanup import clean_up


def _report_path(reports: Path) -> Path:
    return reports / json_report.FILENAME if reports.is_dir() else reports


@click.command("replay")
@click.argument("reports", type=click.Path(path_type=Path, exists=True))
@click.option("--base-url", help="Send the reproductions here instead of the run's target (same paths).")
@click.option("--token", envvar=OPTIONS["token"].env, help="Token for the target (default: $EVS_TOKEN).")
@click.option(
    "--timeout", "timeout_s", type=float, default=30.0, show_default=True, help="Seconds per request."
)
@click.option(
    "--ca-bundle",
    type=click.Path(path_type=Path, exists=True, dir_okay=False),
    help="PEM file of CA certificates to trust.",
)
@click.option("--insecure", is_flag=True, help="Do not verify TLS certificates (unsafe).")
@click.option("--allow-plain-http", is_flag=True, help="Allow the token over http:// to a non-loopback host.")
@click.option(
    "--cleanup-timeout",
    "cleanup_timeout_s",
    type=float,
    default=60.0,
    show_default=True,
    help="Seconds to wait for snapshots the reproductions made to settle and be deleted.",
)
def replay(
    reports: Path,
    base_url: str | None,
    token: str | None,
    timeout_s: float,
    ca_bundle: Path | None,
    insecure: bool,
    allow_plain_http: bool,
    cleanup_timeout_s: float,
) -> None:
    """Re-send each failure's minimal reproduction from REPORTS (a run's reports directory or its
    conformance.json) and judge the answer with the same checks: still fails, fixed, or cannot replay.

    Only the reproductions are sent, one request each; no full run. The token comes from --token or
    $EVS_TOKEN, never from the report. A reproduction of an accepted create makes a snapshot again: every
    snapshot a reproduction makes is deleted afterwards (and any that cannot be is listed).

    Exit status: 1 when any reproduction still fails, 0 otherwise, 2 on a usage or tool error.
    """
    path = _report_path(reports)
    report = json_report.read(path)
    recorded = report.get("target", {})
    url = base_url or str(recorded.get("base_url") or "")
    if not url:
        raise UsageError(f"{path} names no target: give --base-url")
    api = str(report.get("api_version") or "")
    contract = load_contract(str(report.get("profile", "huawei")), api_prefix=f"/{api}" if api else None)
    settings = TargetSettings(
        base_url=url,
        project_id=str(recorded.get("project_id") or "-"),
        token=token or None,
        available_volume_id=recorded.get("volume_id"),
        ca_bundle=ca_bundle,
        insecure=insecure,
        allow_plain_http=allow_plain_http,
        timeout_s=timeout_s,
        retries=0,
    )
    har = path.parent / HAR_FILENAME
    with Target(contract, settings) as target:
        results = replay_report(report, target, contract, har=har, have_token=bool(token))
        made = target.outstanding()
        if made:
            target.reopen(seconds=cleanup_timeout_s)
            cleanup = clean_up(target, made, timeout_s=cleanup_timeout_s)
            click.echo(
                f"evs-conformance replay: deleted {len(cleanup.deleted)} snapshot(s) the reproductions made"
            )
            for left in cleanup.left:
                click.echo(f"  LEFT {visible(left.id)}: {visible(left.reason)}")
    for result in results:
        click.echo(f"  {visible(result.line(), keep_newlines=False)}")
    counts = Counter(result.outcome for result in results)
    summary = ", ".join(f"{counts[o]} {o}" for o in (STILL_FAILS, FIXED, CANNOT))
    click.echo(f"evs-conformance replay: {summary} against {visible(url, keep_newlines=False)}")
    sys.exit(1 if still_failing(results) else 0)
