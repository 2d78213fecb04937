"""``python -m conformance.mock CONFIG_JSON``: the child process behind ``serve_in_subprocess``.

It prints one JSON ready line (base URL, API prefix, process id) once it serves, then serves until SIGTERM,
or until its standard input, a pipe from the parent, closes: a parent that was killed leaves no mock behind.
"""

from __future__ import annotations

import json
import os
import signal
import stat
import sys
import threading

from conformance.core.errors import ToolError
from conformance.mock.server import MockConfig, RunningMock, ready_line, serve_until_stopped


def _announce(mock: RunningMock) -> None:
    print(ready_line(mock), flush=True)


def _stop_when_the_parent_is_gone() -> None:
    """When stdin is a pipe from the parent, its end (the parent exited or was killed) stops the mock."""
    if not stat.S_ISFIFO(os.fstat(sys.stdin.fileno()).st_mode):
        return

    def watch() -> None:
        while sys.stdin.buffer.read(65536):
            pass
        os.kill(os.getpid(), signal.SIGTERM)

    threading.Thread(target=watch, name="evs-mock-parent", daemon=True).start()


def main(argv: list[str]) -> int:
    """Serve the MockConfig given as one JSON argument; 2 with one line on stderr when it is unusable."""
    try:
        (raw,) = argv
        config = MockConfig.from_json(json.loads(raw))
    except (ValueError, TypeError) as exc:
        print(f"conformance.mock: error: expected one JSON MockConfig argument ({exc})", file=sys.stderr)
        return 2
    except ToolError as exc:
        print(f"conformance.mock: error: {exc}", file=sys.stderr)
        return exc.exit_code
    _stop_when_the_parent_is_gone()
    try:
        serve_until_stopped(config, _announce)
    except ToolError as exc:
        print(f"conformance.mock: error: {exc}", file=sys.stderr)
        return exc.exit_code
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
