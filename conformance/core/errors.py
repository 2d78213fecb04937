"""The tool's own errors, kept apart from contract failures of a target.

A ``ToolError`` means the tool could not do its job (bad options, an unreadable page or spec, an
unreachable target); the command line prints its message on one line and exits with ``exit_code``.
A target breaking the contract is never a ToolError: it is a failing verdict.
"""

from __future__ import annotations


class ToolError(Exception):
    """The tool cannot go on; the message is one line meant for the user."""

    exit_code = 2


class UsageError(ToolError):
    """Options or arguments that do not make sense."""


class SpecError(ToolError):
    """A page, overlay or OpenAPI file that cannot be read or understood."""


class TargetError(ToolError):
    """The target cannot be tested at all (unreachable, wrong disks, refuses the token everywhere)."""
