"""``evs-conformance mock``: serve the reference EVS mock until interrupted, or list its quirks."""

from __future__ import annotations

import json
import signal
import sys
import threading
from types import FrameType

import click

from conformance.contract import PROFILES, load_contract
from conformance.errors import ToolError, UsageError
from conformance.mock.quirks import QUIRKS
from conformance.mock.server import MockConfig, RunningMock, VolumeSeed, ready_line, serve_in_thread

_DEFAULTS = MockConfig()


def _volume(text: str) -> VolumeSeed:
    parts = text.rsplit(":", 2)
    if len(parts) != 3 or not parts[0] or not parts[2].isdigit():
        raise click.BadParameter(f"{text!r} is not ID:STATUS:SIZE_GIB", param_hint="--volume")
    return VolumeSeed(parts[0], parts[1], int(parts[2]))


def _user(text: str) -> tuple[str, str]:
    name, sep, password = text.partition(":")
    if not sep or not name or not password:
        raise click.BadParameter(f"{text!r} is not NAME:PASSWORD", param_hint="--user")
    return name, password


def _stop_on_sigterm(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt


def _serve_until_stopped(config: MockConfig, announce: str) -> None:
    """Serve ``config`` and print the announcement (``human`` or ``json``) once ready; return when stopped."""
    signal.signal(signal.SIGTERM, _stop_on_sigterm)
    try:
        with serve_in_thread(config) as mock:
            click.echo(ready_line(mock) if announce == "json" else _describe(mock))
            sys.stdout.flush()
            threading.Event().wait()
    except KeyboardInterrupt:
        if announce != "json":
            click.echo("evs-conformance mock: stopped", err=True)


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
    lines.append("Press Ctrl-C to stop.")
    return "\n".join(lines)


def _list_quirks() -> str:
    contracts = [load_contract(p) for p in PROFILES]
    width = max(len(name) for name in QUIRKS)
    lines = []
    for quirk in QUIRKS.values():
        only = [c.profile for c in contracts if quirk.applies_to(c)]
        scope = "" if len(only) == len(contracts) else f" ({', '.join(only)} only)"
        lines.append(f"{quirk.name:<{width}}  {quirk.breaks:<17}  {quirk.summary}{scope}")
    return "\n".join(lines)


@click.command("mock")
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
    "--settle-seconds", type=click.FloatRange(min=0), default=0.0, help="Time from creating to available."
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
    settle_seconds: float,
    seed: int,
    list_quirks: bool,
) -> None:
    """Serve the reference EVS snapshot mock until interrupted."""
    if list_quirks:
        click.echo(_list_quirks())
        return
    if not token:
        raise UsageError("the token cannot be empty")
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
    )
    _serve_until_stopped(config, "human")


def child_main() -> int:
    """``python -m conformance.mock CONFIG_JSON``: print one JSON ready line, then serve until SIGTERM."""
    try:
        (raw,) = sys.argv[1:]
        config = MockConfig.from_json(json.loads(raw))
    except (ValueError, TypeError) as exc:
        print(f"conformance.mock: error: expected one JSON MockConfig argument ({exc})", file=sys.stderr)
        return 2
    try:
        _serve_until_stopped(config, "json")
    except ToolError as exc:
        print(f"conformance.mock: error: {exc}", file=sys.stderr)
        return exc.exit_code
    return 0
