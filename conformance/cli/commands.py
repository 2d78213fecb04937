"""The list of subcommands; each lives in a module of its own in this package."""

from __future__ import annotations

import click

ALL: list[click.Command] = []
