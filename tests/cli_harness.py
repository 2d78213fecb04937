"""Runs ``evs-conformance`` commands in this process, one per line of stdin, and answers each in JSON.

Tests start it as a child with resource limits (memory, CPU) and a timeout per command, so a command that
hangs or eats the memory fails the test instead of the machine; starting the interpreter once keeps many
generated inputs affordable.

Protocol: each input line is a JSON list of arguments; each output line is
``{"exit": int, "output": str, "exception": str | null}`` where ``exception`` is the traceback of anything
but SystemExit that escaped the command.
"""

from __future__ import annotations

import json
import sys
import traceback
from typing import Any

from click.testing import CliRunner

from conformance.cli import main as cli


def run(argv: list[str]) -> dict[str, Any]:
    """One command through click, as the installed script would run it."""
    result = CliRunner().invoke(cli, argv, catch_exceptions=True)
    escaped = result.exception
    problem = None
    if escaped is not None and not isinstance(escaped, SystemExit):
        problem = "".join(traceback.format_exception(escaped))
    return {"exit": result.exit_code, "output": result.output, "exception": problem}


def main() -> None:
    for line in sys.stdin:
        answer = run(json.loads(line))
        sys.stdout.write(json.dumps(answer) + "\n")
        sys.stdout.flush()


if __name__ == "__main__":
    main()
