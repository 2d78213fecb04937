#!/usr/bin/env python3
"""The project's two everyday commands, runnable on a fresh machine with nothing but Python >= 3.11.

    python3 tasks.py run [RUN OPTIONS]   # the suite against the embedded mock (or any target: see --help)
    python3 tasks.py test [PYTEST ARGS]  # lint, type check, spec drift check and our own tests

Each creates ``.venv/`` on first use and installs the project into it with the pinned versions of
``constraints.txt``; later calls reuse it (and reinstall when pyproject.toml or constraints.txt change).
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
STAMP = VENV / ".installed"
BIN = VENV / ("Scripts" if os.name == "nt" else "bin")


def _fingerprint() -> str:
    digest = hashlib.sha256()
    for name in ("pyproject.toml", "constraints.txt"):
        path = ROOT / name
        if path.exists():
            digest.update(path.read_bytes())
    return digest.hexdigest()


def _ensure_venv() -> None:
    if sys.version_info < (3, 11):  # noqa: UP036 - tasks.py may be started by an older python3
        sys.exit(f"tasks.py: error: Python >= 3.11 is needed, this is {sys.version.split()[0]}")
    wanted = _fingerprint()
    if STAMP.exists() and STAMP.read_text() == wanted:
        return
    if not (BIN / "python").exists():
        print(f"tasks.py: creating {VENV.relative_to(ROOT)}/", flush=True)
        venv.EnvBuilder(with_pip=True).create(VENV)
    pip = [str(BIN / "python"), "-m", "pip", "install", "--disable-pip-version-check", "-q"]
    constraints = ["-c", str(ROOT / "constraints.txt")] if (ROOT / "constraints.txt").exists() else []
    print("tasks.py: installing evs-conformance and its pinned dependencies", flush=True)
    subprocess.run([*pip, "--upgrade", "pip"], check=True)
    subprocess.run([*pip, *constraints, "-e", f"{ROOT}[dev]"], check=True)
    STAMP.write_text(wanted)


def _run(*argv: str) -> int:
    print("+ " + " ".join(argv), flush=True)
    return subprocess.run(argv, cwd=ROOT).returncode


def run_suite(args: list[str]) -> int:
    return _run(str(BIN / "evs-conformance"), "run", *args)


def run_tests(args: list[str]) -> int:
    steps = [
        (str(BIN / "ruff"), "check", "."),
        (str(BIN / "ruff"), "format", "--check", "."),
        (str(BIN / "mypy"),),
        (str(BIN / "evs-conformance"), "spec", "check"),
    ]
    for step in steps:
        code = _run(*step)
        if code:
            return code
    return _run(str(BIN / "python"), "-m", "pytest", *args)


def main(argv: list[str]) -> int:
    commands = {"run": run_suite, "test": run_tests}
    if not argv or argv[0] not in commands:
        print(__doc__)
        return 2
    _ensure_venv()
    return commands[argv[0]](argv[1:])


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
