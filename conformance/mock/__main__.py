"""``python -m conformance.mock CONFIG_JSON``: the child process behind ``serve_in_subprocess``.

It prints one JSON ready line (base URL, API prefix, process id) once it serves, then serves until SIGTERM.
"""

from __future__ import annotations

import json
import sys

from conformance.errors import ToolError
from conformance.mock.server import MockConfig, RunningMock, ready_line, serve_until_stopped


def _announce(mock: RunningMock) -> None:
    print(ready_line(mock), flush=True)


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
    try:
        serve_until_stopped(config, _announce)
    except ToolError as exc:
        print(f"conformance.mock: error: {exc}", file=sys.stderr)
        return exc.exit_code
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
