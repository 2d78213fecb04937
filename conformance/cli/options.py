"""The ``run`` command's click options, derived from the one option table.

Every click option takes its raw text (or a flag's value) with a default of None, so the resolver can tell
what the user typed from what a file, the environment or the default supplies; values are checked by the
table's parsers, never by click, so every bad value gets the same one-line message.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import click

from conformance.run.options import OPTIONS, Option

F = TypeVar("F", bound=Callable[..., Any])


def spell(option: Option) -> str:
    """How the command line names an option in messages."""
    return option.flag


def _help(option: Option) -> str:
    parts = [option.help]
    if option.default not in (None, (), False, True):
        shown = option.default if not isinstance(option.default, tuple) else ",".join(option.default)
        parts.append(f"[default: {shown}]")
    if option.env:
        parts.append(f"[env: {option.env}]")
    return " ".join(parts)


def _decorator(option: Option) -> Callable[[F], F]:
    names = [option.flag, *([option.short] if option.short else []), option.name]
    common: dict[str, Any] = {"help": _help(option), "hidden": option.hidden, "default": None}
    if option.is_flag:
        return click.option(*names, is_flag=True, flag_value=not option.negated, **common)
    if option.kind == "multiple":
        return click.option(*names, multiple=True, metavar=option.metavar, **common)
    return click.option(*names, metavar=option.metavar or "TEXT", **common)


def table_options(function: F) -> F:
    """Decorate a command with every option of the table that the command line offers, in table order."""
    return some_options(*(name for name, option in OPTIONS.items() if option.cli))(function)


def some_options(*names: str) -> Callable[[F], F]:
    """Decorate a command with the named options of the table, as ``run`` offers them."""

    def decorate(function: F) -> F:
        for name in reversed(names):
            function = _decorator(OPTIONS[name])(function)
        return function

    return decorate


def given(values: dict[str, Any]) -> dict[str, Any]:
    """The options the user typed (click gives None, or an empty tuple, for the others)."""
    return {name: value for name, value in values.items() if value is not None and value != ()}
