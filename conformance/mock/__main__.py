"""``python -m conformance.mock CONFIG_JSON``: the child process behind ``serve_in_subprocess``."""

from __future__ import annotations

from conformance.cli.mock import child_main

raise SystemExit(child_main())
