"""Running `evs-conformance run` in a child process against a loopback server, for end-to-end tests."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Protocol

from conformance.contract.requirements import load_requirements

#: The catalogue group whose requirements the suite records but never fails.
ADVISORY = "Advisory"
#: Secrets the parent's environment must not pass on to a run unless a test says so.
SECRET_VARIABLES = ("EVS_TOKEN", "EVS_PASSWORD")


class Endpoint(Protocol):
    """What the reference mock and the independent server both tell about themselves."""

    @property
    def base_url(self) -> str: ...
    @property
    def project_id(self) -> str: ...
    @property
    def available_volume_id(self) -> str: ...
    @property
    def in_use_volume_id(self) -> str: ...


def run_command(
    server: Endpoint,
    reports: Path,
    *extra: str,
    env: Mapping[str, str],
    examples: int = 3,
    timeout_s: float = 600,
) -> subprocess.CompletedProcess[str]:
    """``evs-conformance run`` against ``server`` with its disks, reports in ``reports``; ``env`` adds to a
    copy of this process's environment without its secrets."""
    argv = [
        sys.executable, "-m", "conformance", "run",
        "--base-url", server.base_url,
        "--project-id", server.project_id,
        "--volume-id", server.available_volume_id,
        "--in-use-volume-id", server.in_use_volume_id,
        "--reports", str(reports),
        "--examples", str(examples),
        *extra,
    ]  # fmt: skip
    clean = {k: v for k, v in os.environ.items() if k not in SECRET_VARIABLES}
    return subprocess.run(argv, env={**clean, **env}, capture_output=True, text=True, timeout=timeout_s)


def conformant_verdicts() -> dict[str, str]:
    """The verdict per requirement a conformant target gets: the advisory ones are only recorded (info)."""
    return {r.id: ("info" if r.group == ADVISORY else "pass") for r in load_requirements()}
