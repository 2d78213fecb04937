"""The ``evs-conformance`` command line: the only place (with the pytest plugin) that reads user input.

Exit codes, for every subcommand:

* 0 - done; for ``run``, every requirement passed or was skipped or informational
* 1 - the target (or a compared run, or a drifted spec) fails the contract
* 2 - usage or tool error: bad options, unreadable input, unreachable target
"""

from __future__ import annotations

import sys
from typing import Any

import click

from conformance import __version__
from conformance.core.display import for_terminal
from conformance.core.errors import ToolError

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_TOOL_ERROR = 2


def _one_line(text: str) -> str:
    """A message for the terminal: one line, control characters shown escaped, never acted on."""
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in " ".join(text.split()))


class _Group(click.Group):
    """Turns the tool's own errors and click's usage errors into one line on stderr, never a traceback."""

    def main(self, *args: Any, **kwargs: Any) -> Any:
        kwargs["standalone_mode"] = False
        try:
            result = super().main(*args, **kwargs)
        except click.UsageError as exc:
            command = exc.ctx.command_path if exc.ctx is not None else "evs-conformance"
            message = _one_line(exc.format_message())
            click.echo(f"evs-conformance: error: {message} (see {command} --help)", err=True)
            sys.exit(EXIT_TOOL_ERROR)
        except click.ClickException as exc:
            click.echo(f"evs-conformance: error: {_one_line(exc.format_message())}", err=True)
            sys.exit(exc.exit_code)
        except click.Abort:
            click.echo("evs-conformance: interrupted", err=True)
            sys.exit(130)
        sys.exit(result if isinstance(result, int) else EXIT_OK)

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except ToolError as exc:
            # Messages may quote input (IDs, paths, URLs): shown escaped, so none can drive the terminal.
            click.echo(f"evs-conformance: error: {for_terminal(str(exc))}", err=True)
            sys.exit(exc.exit_code)
        except KeyboardInterrupt:
            click.echo("evs-conformance: interrupted", err=True)
            sys.exit(130)


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="evs-conformance")
def main() -> None:
    """Conformance suite for the EVS "Create a snapshot" API (POST /v2/{project_id}/snapshots)."""


def _register() -> None:
    # Each subcommand lives in its own module; importing here keeps `main` the single entry point.
    from conformance.cli import commands

    for command in commands.ALL:
        main.add_command(command)


_register()
