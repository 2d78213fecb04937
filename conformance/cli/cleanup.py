"""``evs-conformance cleanup``: delete what a run left, working from its journal (after a crash, a kill -9,
an interrupt or ``--no-cleanup``).

The journal (``creates.jsonl`` in the run's reports folder) names the target and every create the run sent;
cleanup deletes each snapshot not yet seen gone, waits, and verifies it gone. It can be run again: what it
saw gone is written to the journal. Credentials come as for ``run`` (``$EVS_TOKEN``, or password auth).
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
import sys
from pathlib import Path
from typing import Any

import click

from conformance.cli import EXIT_FAILED, EXIT_OK
from conformance.cli.options import given, some_options, spell
from conformance.contract import load_contract
from conformance.core.errors import UsageError
from conformance.run import config as config_file
from conformance.run.journal import ACCEPTED, JOURNAL, Journal, read_journal
from conformance.run.settings import TargetSettings, credentials_of
from conformance.target import Target
from conformance.target.cleanup import clean_up
from conformance.target.identity import identity_client

#: The run options cleanup takes: where the target is, how to reach it and for how long.
OPTIONS = (
    "config", "target", "base_url", "project_id", "token", "iam_url", "username", "domain", "project_name",
    "ca_bundle", "insecure", "allow_plain_http", "timeout", "rate_limit", "retries", "cleanup_timeout",
)  # fmt: skip


def _journal(reports: Path) -> Path:
    path = reports / JOURNAL if reports.is_dir() else reports
    if not path.is_file():
        raise UsageError(f"{path}: no journal of a run here (a run writes {JOURNAL} into its reports folder)")
    return path


def _target_settings(values: dict[str, Any], run: dict[str, Any]) -> TargetSettings:
    base_url = values["base_url"] or run.get("base_url")
    project_id = values["project_id"] or run.get("project_id")
    if not base_url or not project_id:
        raise UsageError("the journal does not name the target: give --base-url and --project-id")
    token = values["token"]
    if not values["iam_url"] and not token:
        raise UsageError("cleanup needs --token (or $EVS_TOKEN) or password authentication (--iam-url)")
    return TargetSettings(
        base_url=str(base_url),
        project_id=str(project_id),
        token=None if values["iam_url"] else token,
        available_volume_id=None,
        ca_bundle=values["ca_bundle"],
        insecure=values["insecure"],
        allow_plain_http=values["allow_plain_http"],
        timeout_s=values["timeout"],
        rate_limit_per_s=values["rate_limit"],
        retries=values["retries"],
    )


@click.command("cleanup")
@click.argument("reports", type=click.Path(path_type=Path), default=Path("reports"))
@some_options(*OPTIONS)
@click.option("--dry-run", is_flag=True, help="List what would be deleted; send nothing.")
@click.option(
    "--acknowledge-unknown",
    is_flag=True,
    help="Mark creates whose snapshot has no known ID (no answer, an unreadable ID) as dealt with, once you "
    "have checked the project yourself.",
)
def cleanup(reports: Path, dry_run: bool, acknowledge_unknown: bool, **values: Any) -> None:
    """Delete, wait for and verify gone every snapshot a run left, from its journal in REPORTS.

    Exit status: 0 nothing is left, 1 something may be left (each listed with the reason), 2 usage or tool
    error.
    """
    path = _journal(reports)
    try:
        view = read_journal(path)
    except (OSError, ValueError) as exc:
        raise UsageError(f"{path}: cannot read the journal: {exc}") from None
    outstanding = view.outstanding()
    if view.run.get("embedded_mock"):
        click.echo(
            "evs-conformance cleanup: the run used the embedded mock, which kept nothing: nothing to do"
        )
        sys.exit(EXIT_OK)
    if not outstanding:
        click.echo(
            f"evs-conformance cleanup: nothing left by the run in {path} ({len(view.creates)} creates)"
        )
        sys.exit(EXIT_OK)
    unknown = [r for r in outstanding if r.outcome != ACCEPTED]
    if acknowledge_unknown and unknown:
        journal = Journal(path, process="cleanup")
        for record in unknown:
            journal.acknowledged(record.key)
        journal.close()
        click.echo(f"evs-conformance cleanup: {len(unknown)} create(s) without a known ID acknowledged")
        outstanding = [r for r in outstanding if r.outcome == ACCEPTED]
        if not outstanding:
            sys.exit(EXIT_OK)
    if dry_run:
        click.echo(f"evs-conformance cleanup: dry run, nothing is sent; {len(outstanding)} to clean up:")
        for record in outstanding:
            click.echo(f"  {record.describe()}")
        sys.exit(EXIT_OK)
    resolved = config_file.resolve(given(values), os.environ, cwd=Path.cwd(), spell=spell)
    settings = _target_settings(dict(resolved.values), view.run)
    contract = load_contract(str(view.run.get("profile", "huawei")), api_prefix=_prefix(view.run))
    timeout = float(resolved.values["cleanup_timeout"])
    with contextlib.ExitStack() as stack:
        if resolved.values["iam_url"]:
            from conformance.run.auth import TokenSource

            values_with_project = {**resolved.values, "project_id": settings.project_id}
            if not values_with_project.get("password"):
                raise UsageError("password authentication needs $EVS_PASSWORD")
            client = stack.enter_context(identity_client(settings))
            tokens = TokenSource.from_password(client, credentials_of(values_with_project))
            settings = dataclasses.replace(settings, token_source=tokens)
        journal = Journal(path, process="cleanup")
        stack.callback(journal.close)
        target = stack.enter_context(Target(contract, settings, journal=journal))
        target.reopen(seconds=timeout)
        result = clean_up(target, outstanding, timeout_s=timeout)
    click.echo(
        f"evs-conformance cleanup: deleted {len(result.deleted)} snapshot(s) and saw each gone; "
        f"{len(result.already_gone)} were already gone; {len(result.left)} left"
    )
    for item in result.left:
        click.echo(f"  LEFT {item.id}: {item.reason}")
    if result.stopped:
        click.echo(f"evs-conformance cleanup: stopped: {result.stopped}", err=True)
    sys.exit(EXIT_FAILED if result.left else EXIT_OK)


def _prefix(run: dict[str, Any]) -> str | None:
    version = run.get("api_version")
    return None if not version else f"/{version}"
