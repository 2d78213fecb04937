"""The plugin's ``--evs-*`` options, derived from the one option table, and the settings they resolve to.

Under ``evs-conformance run`` the command hands the plugin its settings object directly (``Provided``);
under plain pytest they are resolved here from the ``--evs-*`` options, the environment and the config file,
by the same code the command uses.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

from conformance.run import config as config_file
from conformance.run.options import META, OPTIONS, Option
from conformance.run.settings import RunSettings, build

GROUP = "evs-conformance"


def spell(option: Option) -> str:
    """How the plugin names an option in messages."""
    return option.plugin_flag


def dest(option: Option) -> str:
    return f"evs_{option.name}"


def add_options(parser: pytest.Parser) -> None:
    """Add an ``--evs-*`` option for every option of the table that the plugin offers."""
    group = parser.getgroup(GROUP, "EVS snapshot conformance suite")
    for option in OPTIONS.values():
        if not option.plugin:
            continue
        default = "" if option.default in (None, (), False) else f"; default {_shown(option.default)}"
        text = f"{option.help} (${option.env}{default})"
        # Every default is None, so what the user gave is told apart from what the resolver fills in.
        if option.is_flag:
            group.addoption(
                option.plugin_flag, dest=dest(option), action="store_const", const=not option.negated,
                default=None, help=text,
            )  # fmt: skip
        elif option.kind == "multiple":
            group.addoption(
                option.plugin_flag, dest=dest(option), action="append", default=None,
                metavar=option.metavar, help=text,
            )  # fmt: skip
        else:
            group.addoption(
                option.plugin_flag, dest=dest(option), default=None, metavar=option.metavar, help=text
            )


def _shown(value: Any) -> str:
    if isinstance(value, tuple):
        return ",".join(str(v) for v in value)
    return str(value)


def given_options(namespace: Any) -> dict[str, Any]:
    """The ``--evs-*`` values the user gave (every unset one is None)."""
    given: dict[str, Any] = {}
    for option in OPTIONS.values():
        if option.plugin:
            value = getattr(namespace, dest(option), None)
            if value is not None:
                given[option.name] = value
    return given


def resolve(namespace: Any, environ: dict[str, str] | None = None, cwd: Path | None = None) -> Any:
    """The resolved options of a plain pytest run (``config.Resolved``)."""
    env = dict(os.environ) if environ is None else environ
    return config_file.resolve(given_options(namespace), env, cwd=cwd or Path.cwd(), spell=spell)


def run_settings(
    namespace: Any, environ: dict[str, str] | None = None, cwd: Path | None = None
) -> RunSettings:
    """The frozen settings of a plain pytest run; raises UsageError (one line) when options clash."""
    return build(resolve(namespace, environ, cwd), spell=spell, front_end="plugin")


__all__ = ["META", "add_options", "given_options", "resolve", "run_settings", "spell"]
