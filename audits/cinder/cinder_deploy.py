"""A throw-away Cinder: its own virtual environment, cinder.conf, db sync and the three service processes.

Cinder's pins (SQLAlchemy, oslo.*, eventlet, WebOb) live only in the virtual environment built here; the
harness talks to the services over loopback HTTP (the API) and starts them as marked child processes.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from string import Template
from typing import IO

from processes import ChildProcess, RunMarker

CINDER_REQUIREMENT = "cinder==29.0.0"
# The fake driver's module imports Cinder's unit-test helpers, which need this test-only dependency that
# the wheel does not declare.
DRIVER_REQUIREMENT = "fixtures==4.3.2"
# Cinder reaches PostgreSQL through psycopg2 (the wheel with libpq inside: nothing to compile).
DATABASE_DRIVER_REQUIREMENT = "psycopg2-binary==2.9.13"
VENV_REQUIREMENTS = (CINDER_REQUIREMENT, DRIVER_REQUIREMENT, DATABASE_DRIVER_REQUIREMENT)
TEMPLATE = Path(__file__).with_name("cinder.conf.in")
# Written last by an install that finished; a venv without it is rebuilt from scratch.
COMPLETE_MARKER = ".evs-conformance-complete"
READY_TIMEOUT_S = 90.0


class DeployError(Exception):
    """Cinder could not be installed or started; the message says which step and where its log is."""


SERVICES = ("cinder-api", "cinder-scheduler", "cinder-volume")
SERVICE_HOST = "evs-audit"
BACKEND = "fake"
# Ships inside the cinder wheel: its creates and deletes only log, so operations complete without disks.
FAKE_DRIVER = "cinder.tests.fake_driver.FakeLoggingVolumeDriver"


@dataclass(frozen=True)
class CinderConfig:
    """What a cinder.conf for the audit is rendered from."""

    api_paste_config: Path
    port: int
    state_dir: Path
    identity_url: str
    service_user: str
    service_password: str
    project_name: str
    transport_url: str
    database_url: str
    host: str = SERVICE_HOST
    backend: str = BACKEND
    volume_driver: str = FAKE_DRIVER


def default_venv_dir(requirements: Sequence[str] = VENV_REQUIREMENTS) -> Path:
    """A folder per set of requirements, so checkouts that pin different ones never rebuild each other's."""
    digest = hashlib.sha256("\n".join(requirements).encode()).hexdigest()[:8]
    return Path.home() / ".cache" / "evs-conformance" / f"{CINDER_REQUIREMENT.replace('==', '-')}-{digest}"


def venv_is_complete(venv: Path, requirements: Sequence[str] = VENV_REQUIREMENTS) -> bool:
    """True when an earlier install of exactly ``requirements`` finished in ``venv``."""
    marker = venv / COMPLETE_MARKER
    try:
        return (
            marker.read_text(encoding="utf-8").split() == list(requirements)
            and (venv / "bin" / "cinder-api").exists()
        )
    except OSError:
        return False


def ensure_venv(venv: Path, log: Path, requirements: Sequence[str] = VENV_REQUIREMENTS) -> bool:
    """Build ``venv`` with ``requirements`` unless a complete one is there; True when it was built now."""
    if venv_is_complete(venv, requirements):
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
        wanted = " ".join(requirements)
        _run_logged([*pip, *requirements], out, log, f"pip install {wanted}")
    (venv / COMPLETE_MARKER).write_text("\n".join(requirements) + "\n", encoding="utf-8")
    return True


def render_config(config: CinderConfig, template: str | None = None) -> str:
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
        transport_url=config.transport_url,
        database_url=config.database_url,
        host=config.host,
        backend=config.backend,
        volume_driver=config.volume_driver,
    )


def isolated_env(venv: Path) -> dict[str, str]:
    """The environment for Cinder's commands: our interpreter's settings removed, the venv first on PATH."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTHON") and k != "VIRTUAL_ENV"}
    env["PATH"] = f"{venv / 'bin'}{os.pathsep}{env.get('PATH', '')}"
    env["VIRTUAL_ENV"] = str(venv)
    return env


def db_sync(venv: Path, conf: Path, log: Path, marker: RunMarker) -> None:
    """Create Cinder's tables in the database the configuration names."""
    with log.open("a", encoding="utf-8") as out:
        command = [str(venv / "bin" / "cinder-manage"), "--config-file", str(conf), "db", "sync"]
        _run_logged(command, out, log, "cinder-manage db sync", env=marker.environ(isolated_env(venv)))


def start_service(
    service: str, venv: Path, conf: Path, log: Path, marker: RunMarker, cwd: Path
) -> ChildProcess:
    """Start one of Cinder's services (``cinder-api``, ``cinder-scheduler``, ``cinder-volume``)."""
    if service not in SERVICES:
        raise ValueError(f"not a Cinder service this audit runs: {service}")
    command = [str(venv / "bin" / service), "--config-file", str(conf)]
    return ChildProcess(service, command, log, marker.environ(isolated_env(venv)), cwd=cwd)


def wait_for_api(api: ChildProcess, url: str, timeout_s: float = READY_TIMEOUT_S) -> float:
    """Poll ``url`` until the API answers; returns the seconds it took."""
    started = time.monotonic()
    while time.monotonic() - started < timeout_s:
        if api.exited() is not None:
            raise DeployError(f"cinder-api exited with {api.exited()}; see {api.log}")
        try:
            with urllib.request.urlopen(url, timeout=2):
                return time.monotonic() - started
        except urllib.error.HTTPError:
            # Version discovery answers 300: any HTTP answer means the server is up.
            return time.monotonic() - started
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            time.sleep(0.25)
    raise DeployError(f"cinder-api did not answer {url} within {timeout_s:.0f} s; see {api.log}")


def _run_logged(
    command: list[str], out: IO[str], log: Path, step: str, env: Mapping[str, str] | None = None
) -> None:
    result = subprocess.run(
        command, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, env=env, check=False
    )
    if result.returncode != 0:
        raise DeployError(f"{step} failed with exit code {result.returncode}; see {log}")
