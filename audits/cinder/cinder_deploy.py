"""A throw-away Cinder API: its own virtual environment, cinder.conf, db sync and a cinder-api child.

Cinder's pins (SQLAlchemy, oslo.*, eventlet, WebOb) live only in the virtual environment built here; the
harness talks to it over loopback HTTP and through the SQLite file, never by importing it.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from string import Template
from typing import IO

CINDER_REQUIREMENT = "cinder==29.0.0"
TEMPLATE = Path(__file__).with_name("cinder.conf.in")
# Written last by an install that finished; a venv without it is rebuilt from scratch.
COMPLETE_MARKER = ".evs-conformance-complete"
READY_TIMEOUT_S = 90.0


class DeployError(Exception):
    """Cinder could not be installed or started; the message says which step and where its log is."""


@dataclass(frozen=True)
class ApiConfig:
    """What a cinder.conf for the audit is rendered from."""

    api_paste_config: Path
    port: int
    state_dir: Path
    identity_url: str
    service_user: str
    service_password: str
    project_name: str


def default_venv_dir() -> Path:
    return Path.home() / ".cache" / "evs-conformance" / CINDER_REQUIREMENT.replace("==", "-")


def venv_is_complete(venv: Path, requirement: str = CINDER_REQUIREMENT) -> bool:
    """True when an earlier install of exactly ``requirement`` finished in ``venv``."""
    marker = venv / COMPLETE_MARKER
    try:
        return (
            marker.read_text(encoding="utf-8").strip() == requirement
            and (venv / "bin" / "cinder-api").exists()
        )
    except OSError:
        return False


def ensure_venv(venv: Path, log: Path, requirement: str = CINDER_REQUIREMENT) -> bool:
    """Build ``venv`` with ``requirement`` unless a complete one is there; True when it was built now."""
    if venv_is_complete(venv, requirement):
        return False
    if venv.exists():
        shutil.rmtree(venv)
    venv.parent.mkdir(parents=True, exist_ok=True)
    with log.open("w", encoding="utf-8") as out:
        _run_logged([sys.executable, "-m", "venv", str(venv)], out, log, "creating the virtual environment")
        pip = [
            str(venv / "bin" / "python"),
            "-m",
            "pip",
            "install",
            "--no-input",
            "--disable-pip-version-check",
        ]
        _run_logged([*pip, requirement], out, log, f"pip install {requirement}")
    (venv / COMPLETE_MARKER).write_text(requirement + "\n", encoding="utf-8")
    return True


def render_config(config: ApiConfig, template: str | None = None) -> str:
    """The cinder.conf text for ``config`` (every placeholder must be filled)."""
    text = TEMPLATE.read_text(encoding="utf-8") if template is None else template
    return Template(text).substitute(
        api_paste_config=str(config.api_paste_config),
        port=str(config.port),
        state_dir=str(config.state_dir),
        identity_url=config.identity_url,
        service_user=config.service_user,
        service_password=config.service_password,
        project_name=config.project_name,
    )


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


def isolated_env(venv: Path) -> dict[str, str]:
    """The environment for Cinder's commands: our interpreter's settings removed, the venv first on PATH."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTHON") and k != "VIRTUAL_ENV"}
    env["PATH"] = f"{venv / 'bin'}{os.pathsep}{env.get('PATH', '')}"
    env["VIRTUAL_ENV"] = str(venv)
    return env


def db_sync(venv: Path, conf: Path, log: Path) -> None:
    with log.open("a", encoding="utf-8") as out:
        command = [str(venv / "bin" / "cinder-manage"), "--config-file", str(conf), "db", "sync"]
        _run_logged(command, out, log, "cinder-manage db sync", env=isolated_env(venv))


class ApiProcess:
    """A running ``cinder-api`` in a process group of its own, so that stopping it stops its workers too."""

    def __init__(self, venv: Path, conf: Path, log: Path) -> None:
        self.log = log
        self._out = log.open("a", encoding="utf-8")
        command = [str(venv / "bin" / "cinder-api"), "--config-file", str(conf)]
        self.process = subprocess.Popen(
            command,
            stdout=self._out,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            env=isolated_env(venv),
            start_new_session=True,
        )

    def wait_ready(self, url: str, timeout_s: float = READY_TIMEOUT_S) -> float:
        """Poll ``url`` until the API answers; returns the seconds it took."""
        started = time.monotonic()
        while time.monotonic() - started < timeout_s:
            if self.process.poll() is not None:
                raise DeployError(f"cinder-api exited with {self.process.returncode}; see {self.log}")
            try:
                with urllib.request.urlopen(url, timeout=2):
                    return time.monotonic() - started
            except urllib.error.HTTPError:
                # Version discovery answers 300: any HTTP answer means the server is up.
                return time.monotonic() - started
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                time.sleep(0.25)
        raise DeployError(f"cinder-api did not answer {url} within {timeout_s:.0f} s; see {self.log}")

    def stop(self, grace_s: float = 10.0) -> None:
        """Stop the whole process group: politely first, then for good."""
        try:
            if self.process.poll() is None:
                _signal_group(self.process.pid, signal.SIGTERM)
                with contextlib.suppress(subprocess.TimeoutExpired):
                    self.process.wait(timeout=grace_s)
            # Workers forked by cinder-api may outlive their parent; the group still names them.
            _signal_group(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=grace_s)
        finally:
            self._out.close()


def _signal_group(pgid: int, sig: signal.Signals) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(pgid, sig)


def _run_logged(
    command: list[str], out: IO[str], log: Path, step: str, env: Mapping[str, str] | None = None
) -> None:
    result = subprocess.run(
        command, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, env=env, check=False
    )
    if result.returncode != 0:
        raise DeployError(f"{step} failed with exit code {result.returncode}; see {log}")
