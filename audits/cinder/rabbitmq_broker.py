"""A private RabbitMQ for the audit: its own epmd, node name, data and log folders, on loopback only.

The broker comes from the system's ``rabbitmq-server`` package; the Debian service is never used. The
harness starts ``epmd`` itself (on a free port, loopback) and then the broker's start script with every
path, name and port set through RabbitMQ's environment variables, so nothing of a system broker is read or
written and two audits can run side by side.

Example::

    broker = Broker.start(BrokerConfig.fresh(state_dir / "rabbitmq"), marker, base_env)
    try:
        broker.wait_ready()
        broker.transport_url     # rabbit://guest:guest@127.0.0.1:<port>/
    finally:
        broker.stop()
"""

from __future__ import annotations

import os
import secrets
import shutil
import socket
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from processes import ChildProcess, RunMarker, free_port, read_exactly

# The start script itself: Debian's /usr/sbin/rabbitmq-server wrapper switches to the rabbitmq user, which
# could not write to our folders.
DEFAULT_SERVER_SCRIPTS = (Path("/usr/lib/rabbitmq/bin/rabbitmq-server"),)
READY_TIMEOUT_S = 120.0
INSTALL_HINT = (
    "RabbitMQ is not installed: install the Debian package (as root: apt-get install rabbitmq-server; "
    "the audit never uses the package's own service, which may stay stopped), or give the start script "
    "with --rabbitmq-server PATH"
)
# AMQP 0-9-1 protocol header, and the frame a broker answers it with: a method frame on channel 0
# carrying connection.start (class 10, method 10).
AMQP_HEADER = b"AMQP\x00\x00\x09\x01"
CONNECTION_START = b"\x00\x0a\x00\x0a"
LOOPBACK = "127.0.0.1"
# The distribution listener on loopback too; epmd is the harness's own, started before the node.
ERL_ARGS = "-kernel inet_dist_use_interface {127,0,0,1} -start_epmd false"


class BrokerError(Exception):
    """RabbitMQ is missing, or did not start; the message says what to do or where its log is."""


def find_server_script(explicit: Path | None = None) -> Path:
    """The ``rabbitmq-server`` start script to run, or a BrokerError saying how to install it."""
    candidates = [explicit] if explicit is not None else list(DEFAULT_SERVER_SCRIPTS)
    if explicit is None:
        found = shutil.which("rabbitmq-server")
        # Debian's wrapper would switch users; any other install's script can be run as it is.
        if found is not None and Path(found).resolve().name == "rabbitmq-server":
            candidates.append(Path(found))
    for candidate in candidates:
        if candidate.is_file() and os.access(candidate, os.X_OK):
            return candidate
    if explicit is not None:
        raise BrokerError(f"--rabbitmq-server {explicit}: not an executable file")
    raise BrokerError(INSTALL_HINT)


def find_epmd(server_script: Path) -> Path:
    """Erlang's port mapper daemon, from PATH or beside the Erlang runtime."""
    found = shutil.which("epmd")
    if found is not None:
        return Path(found)
    for candidate in sorted(Path("/usr/lib/erlang").glob("erts-*/bin/epmd")):
        return candidate
    raise BrokerError(f"epmd (Erlang) not found although {server_script} is installed; reinstall Erlang")


@dataclass(frozen=True)
class BrokerConfig:
    """Where one private broker keeps its files, its node name, and the three loopback ports it uses."""

    base: Path
    node_name: str
    amqp_port: int
    dist_port: int
    epmd_port: int

    @classmethod
    def fresh(cls, base: Path) -> BrokerConfig:
        ports = _distinct_free_ports(3)
        return cls(base, f"evs-audit-{secrets.token_hex(4)}@localhost", *ports)

    @property
    def transport_url(self) -> str:
        # guest may log in from loopback only, which is all this broker listens on.
        return f"rabbit://guest:guest@{LOOPBACK}:{self.amqp_port}/"

    def environ(self) -> dict[str, str]:
        """RabbitMQ's and Erlang's settings for this broker (added to the harness's environment)."""
        base = self.base
        return {
            # Erlang keeps its cookie in $HOME: a home of our own leaves the user's ~/.erlang.cookie alone.
            "HOME": str(base / "home"),
            "RABBITMQ_NODENAME": self.node_name,
            "RABBITMQ_NODE_IP_ADDRESS": LOOPBACK,
            "RABBITMQ_NODE_PORT": str(self.amqp_port),
            "RABBITMQ_DIST_PORT": str(self.dist_port),
            "RABBITMQ_MNESIA_BASE": str(base / "mnesia"),
            "RABBITMQ_LOG_BASE": str(base / "log"),
            "RABBITMQ_CONFIG_FILE": str(base / "rabbitmq.conf"),
            "RABBITMQ_CONF_ENV_FILE": str(base / "rabbitmq-env.conf"),
            "RABBITMQ_ENABLED_PLUGINS_FILE": str(base / "enabled_plugins"),
            "RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS": ERL_ARGS,
            "ERL_EPMD_ADDRESS": LOOPBACK,
            "ERL_EPMD_PORT": str(self.epmd_port),
            "ERL_CRASH_DUMP": str(base / "erl_crash.dump"),
        }

    def write_files(self) -> None:
        """Create the folders and the (deliberately empty) configuration files the environment names."""
        for folder in ("home", "mnesia", "log"):
            (self.base / folder).mkdir(parents=True, exist_ok=True)
        # Empty files stand in for the system's /etc/rabbitmq ones, which must not apply here.
        (self.base / "rabbitmq.conf").write_text("", encoding="utf-8")
        (self.base / "rabbitmq-env.conf").write_text("", encoding="utf-8")
        (self.base / "enabled_plugins").write_text("[].\n", encoding="utf-8")


class Broker:
    """A running private epmd and RabbitMQ node."""

    def __init__(self, config: BrokerConfig, epmd: ChildProcess, server: ChildProcess | None) -> None:
        self.config = config
        self.epmd = epmd
        self.server = server

    @classmethod
    def start(
        cls,
        config: BrokerConfig,
        marker: RunMarker,
        base_env: Mapping[str, str],
        server_script: Path | None = None,
    ) -> Broker:
        script = find_server_script(server_script)
        config.write_files()
        env = marker.environ({**base_env, **config.environ()})
        log = config.base / "log" / "console.log"
        epmd = ChildProcess(
            "epmd",
            [str(find_epmd(script)), "-port", str(config.epmd_port), "-address", LOOPBACK],
            log,
            env,
            cwd=config.base,
        )
        broker = cls(config, epmd, None)
        try:
            _wait_for_port(epmd, config.epmd_port, 20.0)
            broker.server = ChildProcess("rabbitmq-server", [str(script)], log, env, cwd=config.base)
        except BaseException:
            broker.stop()
            raise
        return broker

    @property
    def transport_url(self) -> str:
        return self.config.transport_url

    @property
    def log(self) -> Path:
        return self.config.base / "log" / "console.log"

    def wait_ready(self, timeout_s: float = READY_TIMEOUT_S) -> float:
        """Wait until the broker speaks AMQP on its port; returns the seconds it took."""
        assert self.server is not None
        started = time.monotonic()
        while time.monotonic() - started < timeout_s:
            for process in (self.epmd, self.server):
                if process.exited() is not None:
                    raise BrokerError(f"{process.name} exited with {process.exited()}; see {self.log}")
            if amqp_answers(LOOPBACK, self.config.amqp_port):
                return time.monotonic() - started
            time.sleep(0.25)
        raise BrokerError(f"RabbitMQ did not answer AMQP within {timeout_s:.0f} s; see {self.log}")

    def stop(self) -> None:
        """Stop the node (it shuts down cleanly on SIGTERM), then epmd."""
        try:
            if self.server is not None:
                self.server.stop()
        finally:
            self.epmd.stop()


def amqp_answers(host: str, port: int, timeout_s: float = 2.0) -> bool:
    """True when an AMQP 0-9-1 broker on ``host:port`` answers the protocol header with connection.start."""
    try:
        with socket.create_connection((host, port), timeout=timeout_s) as sock:
            sock.sendall(AMQP_HEADER)
            head = read_exactly(sock, 7 + len(CONNECTION_START))
    except OSError:
        return False
    frame_type, channel = head[0], head[1:3]
    return frame_type == 1 and channel == b"\x00\x00" and head[7:] == CONNECTION_START


def _wait_for_port(process: ChildProcess, port: int, timeout_s: float) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if process.exited() is not None:
            raise BrokerError(f"{process.name} exited with {process.exited()}; see {process.log}")
        try:
            with socket.create_connection((LOOPBACK, port), timeout=1.0):
                return
        except OSError:
            time.sleep(0.1)
    raise BrokerError(f"{process.name} did not listen on {LOOPBACK}:{port} within {timeout_s:.0f} s")


def _distinct_free_ports(count: int) -> list[int]:
    ports: list[int] = []
    while len(ports) < count:
        port = free_port()
        if port not in ports:
            ports.append(port)
    return ports
