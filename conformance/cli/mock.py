"""``evs-conformance mock``: serve the reference EVS mock until interrupted, or list its quirks."""

from __future__ import annotations

import sys
from typing import Any

import click

from conformance.contract import PROFILES, load_contract
from conformance.core.errors import UsageError
from conformance.mock.limits import PRESETS, UNLIMITED, Limits
from conformance.mock.quirks import QUIRKS
from conformance.mock.server import MockConfig, RunningMock, VolumeSeed, serve_until_stopped

_DEFAULTS = MockConfig()


class _OneLineErrors(click.Command):
    """Reports a bad option as the tool's one-line usage error (exit 2), as every other bad setting."""

    def make_context(
        self, info_name: str | None, args: list[str], parent: click.Context | None = None, **extra: Any
    ) -> click.Context:
        try:
            return super().make_context(info_name, args, parent=parent, **extra)
        except click.UsageError as exc:
            raise UsageError(exc.format_message()) from exc


def _volume(text: str) -> VolumeSeed:
    parts = text.rsplit(":", 2)
    if len(parts) != 3 or not parts[0] or not parts[2].isdigit():
        raise UsageError(f"--volume {text!r:.60} is not ID:STATUS:SIZE_GIB")
    return VolumeSeed(parts[0], parts[1], int(parts[2]))


def _user(text: str) -> tuple[str, str]:
    name, sep, password = text.partition(":")
    if not sep or not name or not password:
        raise UsageError(f"--user {text!r:.60} is not NAME:PASSWORD")
    return name, password


def _describe(mock: RunningMock) -> str:
    config = mock.config
    lines = [
        f"EVS mock ({config.profile} profile) serving at {mock.base_url}",
        f"  snapshots: POST {mock.api_url}/snapshots",
        f"  tokens:    POST {mock.base_url}/v3/auth/tokens",
        f"  project:   {config.project_id}",
        f"  token:     {config.token}",
    ]
    lines += [f"  user:      {name} (password {password})" for name, password in config.users]
    lines += [f"  volume:    {v.id} {v.status} {v.size_gib} GiB" for v in config.volumes]
    lines.append(f"  quirks:    {', '.join(sorted(config.quirks)) or 'none'}")
    lines.append(f"  limits:    {_limits(config.limits_in_force())}")
    lines.append(f"  times:     {_times(config)}")
    lines.append("Press Ctrl-C to stop.")
    return "\n".join(lines)


def _limits(limits: Limits) -> str:
    said = []
    if limits.one_create_per_disk:
        said.append("one create at a time per disk")
    if limits.disk_snapshot_limit is not None:
        said.append(f"{limits.disk_snapshot_limit} snapshots per disk")
    if limits.project_snapshot_quota is not None:
        said.append(f"quota of {limits.project_snapshot_quota} snapshots")
    if limits.refuse_delete_while_creating:
        said.append("a creating snapshot cannot be deleted")
    return ", ".join(said) or "none"


def _times(config: MockConfig) -> str:
    settle = config.settle_in_force()
    deletion = config.delete_in_force()
    text = f"settle {settle:g} s, deletion {settle if deletion is None else deletion:g} s"
    if config.time_scale != 1:
        text += f", {config.time_scale:g} times faster than real time"
    return text


def _list_quirks() -> str:
    contracts = [load_contract(p) for p in PROFILES]
    width = max(len(name) for name in QUIRKS)
    lines = []
    for quirk in QUIRKS.values():
        only = [c.profile for c in contracts if quirk.applies_to(c)]
        scope = "" if len(only) == len(contracts) else f" ({', '.join(only)} only)"
        lines.append(f"{quirk.name:<{width}}  {quirk.breaks:<17}  {quirk.summary}{scope}")
    return "\n".join(lines)


def _announce(mock: RunningMock) -> None:
    click.echo(_describe(mock))
    sys.stdout.flush()


_LIMITS_HELP = "; ".join(
    f"{name}: {_limits(p.limits)}, settle {p.settle_seconds:g} s, deletion {p.delete_seconds:g} s"
    for name, p in PRESETS.items()
)


@click.command("mock", cls=_OneLineErrors)
@click.option("--host", default=_DEFAULTS.host, show_default=True, help="Address to listen on.")
@click.option("--port", type=click.IntRange(0, 65535), default=0, help="Port (0 picks a free one).")
@click.option("--profile", type=click.Choice(PROFILES), default=_DEFAULTS.profile, show_default=True)
@click.option("--project-id", default=_DEFAULTS.project_id, show_default=True)
@click.option("--token", default=_DEFAULTS.token, show_default=True, help="A token bound to the project.")
@click.option(
    "--volume", "volumes", multiple=True, metavar="ID:STATUS:SIZE_GIB", help="Seed a disk (repeatable)."
)
@click.option(
    "--user", "users", multiple=True, metavar="NAME:PASSWORD", help="Seed an IAM user (repeatable)."
)
@click.option("--quirk", "quirks", multiple=True, metavar="NAME", help="Break a requirement on purpose.")
@click.option(
    "--limits",
    "preset",
    type=click.Choice(list(PRESETS)),
    default=None,
    help=f"Behave like a vendor's limited cloud ({_LIMITS_HELP}). Each option below replaces its part.",
)
@click.option(
    "--one-create-per-disk/--no-one-create-per-disk",
    default=None,
    help="Refuse a create on a disk whose previous snapshot is still creating.",
)
@click.option(
    "--disk-snapshot-limit",
    type=int,
    default=None,
    metavar="N",
    help=f"Snapshots a disk may hold ({UNLIMITED}: no limit).",
)
@click.option(
    "--project-snapshot-quota",
    type=int,
    default=None,
    metavar="N",
    help=f"Snapshots the project may hold ({UNLIMITED}: no quota).",
)
@click.option(
    "--refuse-delete-while-creating/--no-refuse-delete-while-creating",
    default=None,
    help="Refuse to delete a snapshot that is still creating.",
)
@click.option(
    "--settle-seconds",
    type=float,
    default=None,
    metavar="S",
    help="Time from creating to available [the preset's, else 0].",
)
@click.option(
    "--delete-seconds",
    type=float,
    default=None,
    metavar="S",
    help="Time from deleting to gone [the preset's, else the settle time].",
)
@click.option(
    "--time-scale",
    type=float,
    default=_DEFAULTS.time_scale,
    metavar="X",
    help="Run every time of the mock X times faster (settle, deletion, token lifetimes) [1].",
)
@click.option(
    "--token-lifetime",
    type=float,
    default=None,
    metavar="S",
    help="Seconds a token from the token endpoint stays valid [a day].",
)
@click.option(
    "--max-body-bytes",
    type=int,
    default=_DEFAULTS.max_body_bytes,
    show_default=True,
    help="Larger request bodies get 413.",
)
@click.option("--seed", type=int, default=0, help="Seed of the snapshot ID source.")
@click.option(
    "--list-quirks", is_flag=True, help="Print each quirk with the requirement it breaks, and exit."
)
def mock(
    host: str,
    port: int,
    profile: str,
    project_id: str,
    token: str,
    volumes: tuple[str, ...],
    users: tuple[str, ...],
    quirks: tuple[str, ...],
    preset: str | None,
    one_create_per_disk: bool | None,
    disk_snapshot_limit: int | None,
    project_snapshot_quota: int | None,
    refuse_delete_while_creating: bool | None,
    settle_seconds: float | None,
    delete_seconds: float | None,
    time_scale: float,
    token_lifetime: float | None,
    max_body_bytes: int,
    seed: int,
    list_quirks: bool,
) -> None:
    """Serve the reference EVS snapshot mock until interrupted.

    Times are in the cloud's seconds; --time-scale makes them pass faster (--settle-seconds 180
    --time-scale 60 settles a snapshot 3 real seconds after its create).
    """
    if list_quirks:
        click.echo(_list_quirks())
        return
    config = MockConfig(
        profile=profile,
        host=host,
        port=port,
        project_id=project_id,
        token=token,
        volumes=tuple(_volume(v) for v in volumes) if volumes else _DEFAULTS.volumes,
        users=tuple(_user(u) for u in users) if users else _DEFAULTS.users,
        quirks=frozenset(quirks),
        settle_seconds=settle_seconds,
        seed=seed,
        max_body_bytes=max_body_bytes,
        token_ttl_s=token_lifetime,
        limits=preset,
        one_create_per_disk=one_create_per_disk,
        disk_snapshot_limit=disk_snapshot_limit,
        project_snapshot_quota=project_snapshot_quota,
        refuse_delete_while_creating=refuse_delete_while_creating,
        delete_seconds=delete_seconds,
        time_scale=time_scale,
    )
    serve_until_stopped(config, _announce)
    click.echo("evs-conformance mock: stopped", err=True)
