"""A private MariaDB for Cinder's database: its own data folder, reachable only through a Unix socket.

Cinder's API, scheduler and volume service write to one database at once; SQLite refuses such writers with
"database is locked" (and Cinder answers 500), so the audit runs the server real deployments use. It
comes from the Debian package ``mariadb-server-core`` (the bare server, no system service). The data
folder is bootstrapped with the package's system-table scripts; the server listens on no TCP port, and
the socket lies in the run's private folder, so ``root`` without a password reaches it only from here.

Example::

    database = DatabaseServer.start(DatabaseConfig(state_dir / "mariadb"), marker, base_env)
    try:
        database.wait_ready()
        database.config.connection_url   # mysql+pymysql://root@localhost/cinder?unix_socket=...
    finally:
        database.stop()
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from processes import ChildProcess, RunMarker

DEFAULT_SERVERS = (Path("/usr/sbin/mariadbd"), Path("/usr/sbin/mysqld"))
SYSTEM_TABLE_SCRIPTS = ("mysql_system_tables.sql", "mysql_system_tables_data.sql")
SCRIPT_DIRS = (Path("/usr/share/mariadb"), Path("/usr/share/mysql"))
DATABASE = "cinder"
READY_TIMEOUT_S = 60.0
# sockaddr_un holds 108 bytes with the terminating NUL; MariaDB refuses a longer socket path.
MAX_SOCKET_PATH = 107
BOOTSTRAP_TIMEOUT_S = 120.0
INSTALL_HINT = (
    "MariaDB is not installed: install the Debian package (as root: apt-get install --no-install-recommends "
    "mariadb-server-core; it brings the bare server and no system service), or give the server binary "
    "with --mariadbd PATH"
)
# The MySQL protocol's first packet, sent by the server on connect, starts with protocol version 10.
PROTOCOL_VERSION = 10
# A throw-away database: durability is traded for speed, and memory kept small on a 2-core CI machine.
SERVER_OPTIONS = (
    "--skip-networking",
    "--skip-log-bin",
    "--innodb-flush-log-at-trx-commit=0",
    "--innodb-doublewrite=0",
    "--innodb-buffer-pool-size=64M",
    "--character-set-server=utf8mb4",
    "--collation-server=utf8mb4_general_ci",
)


class DatabaseError(Exception):
    """MariaDB is missing, or could not be set up or started; the message says what to do or where to look."""


def find_server(explicit: Path | None = None) -> Path:
    """The ``mariadbd`` binary to run, or a DatabaseError saying how to install it."""
    if explicit is not None:
        if explicit.is_file() and os.access(explicit, os.X_OK):
            return explicit
        raise DatabaseError(f"--mariadbd {explicit}: not an executable file")
    candidates = [*DEFAULT_SERVERS, *(Path(p) for p in (shutil.which("mariadbd"),) if p)]
    for candidate in candidates:
        if candidate.is_file() and os.access(candidate, os.X_OK):
            return candidate
    raise DatabaseError(INSTALL_HINT)


def bootstrap_sql(script_dirs: tuple[Path, ...] = SCRIPT_DIRS, database: str = DATABASE) -> str:
    """The statements that create the system tables, the root account and Cinder's empty database."""
    parts = ["CREATE DATABASE IF NOT EXISTS mysql;", "USE mysql;"]
    for name in SYSTEM_TABLE_SCRIPTS:
        script = next((d / name for d in script_dirs if (d / name).is_file()), None)
        if script is None:
            raise DatabaseError(f"{name} not found in {', '.join(map(str, script_dirs))}; reinstall MariaDB")
        if name == "mysql_system_tables_data.sql":
            # root@localhost with an empty password: reachable only through the private socket.
            parts.append("SET @auth_root_socket=NULL;")
        parts.append(script.read_text(encoding="utf-8"))
    parts.append(f"CREATE DATABASE {database} CHARACTER SET utf8mb4;")
    return "\n".join(parts) + "\n"


@dataclass(frozen=True)
class DatabaseConfig:
    """Where one private server keeps its files, and the database Cinder uses."""

    base: Path
    database: str = DATABASE

    @property
    def socket(self) -> Path:
        return self.base / "mysqld.sock"

    @property
    def datadir(self) -> Path:
        return self.base / "data"

    @property
    def log(self) -> Path:
        return self.base / "mariadb.log"

    @property
    def connection_url(self) -> str:
        """The SQLAlchemy URL Cinder connects with (PyMySQL over the Unix socket)."""
        return f"mysql+pymysql://root@localhost/{self.database}?unix_socket={self.socket}&charset=utf8mb4"

    def command(self, server: Path, *extra: str) -> list[str]:
        """The server's command line: no option file is read, only what is given here."""
        user = ["--user=root"] if os.geteuid() == 0 else []
        return [
            str(server),
            "--no-defaults",
            f"--datadir={self.datadir}",
            f"--socket={self.socket}",
            f"--pid-file={self.base / 'mariadbd.pid'}",
            f"--tmpdir={self.base}",
            *user,
            *SERVER_OPTIONS,
            *extra,
        ]


class DatabaseServer:
    """A running private MariaDB."""

    def __init__(self, config: DatabaseConfig, process: ChildProcess) -> None:
        self.config = config
        self.process = process

    @classmethod
    def start(
        cls,
        config: DatabaseConfig,
        marker: RunMarker,
        base_env: Mapping[str, str],
        server: Path | None = None,
    ) -> DatabaseServer:
        binary = find_server(server)
        if len(os.fsencode(config.socket)) > MAX_SOCKET_PATH:
            raise DatabaseError(
                f"the socket path {config.socket} is longer than {MAX_SOCKET_PATH} bytes; "
                "set TMPDIR to a shorter folder"
            )
        config.datadir.mkdir(parents=True, exist_ok=True)
        env = marker.environ(base_env)
        sql = bootstrap_sql(database=config.database)
        with config.log.open("a", encoding="utf-8") as out:
            try:
                done = subprocess.run(
                    config.command(binary, "--bootstrap", "--log-warnings=0"),
                    input=sql,
                    text=True,
                    stdout=out,
                    stderr=subprocess.STDOUT,
                    env=env,
                    cwd=config.base,
                    timeout=BOOTSTRAP_TIMEOUT_S,
                    check=False,
                )
            except subprocess.TimeoutExpired as exc:
                raise DatabaseError(
                    f"bootstrapping MariaDB took over {exc.timeout:.0f} s; see {config.log}"
                ) from exc
        if done.returncode != 0:
            raise DatabaseError(f"bootstrapping MariaDB failed with {done.returncode}; see {config.log}")
        process = ChildProcess("mariadbd", config.command(binary), config.log, env, cwd=config.base)
        return cls(config, process)

    def wait_ready(self, timeout_s: float = READY_TIMEOUT_S) -> float:
        """Wait until the server greets on its socket; returns the seconds it took."""
        started = time.monotonic()
        while time.monotonic() - started < timeout_s:
            if self.process.exited() is not None:
                raise DatabaseError(f"mariadbd exited with {self.process.exited()}; see {self.config.log}")
            if greets(self.config.socket):
                return time.monotonic() - started
            time.sleep(0.1)
        raise DatabaseError(f"MariaDB did not answer on {self.config.socket} within {timeout_s:.0f} s")

    def stop(self) -> None:
        """Stop the server (it shuts down cleanly on SIGTERM)."""
        self.process.stop(grace_s=30.0)


def greets(path: Path, timeout_s: float = 2.0) -> bool:
    """True when a MySQL-protocol server on the Unix socket ``path`` sends its handshake."""
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
            sock.settimeout(timeout_s)
            sock.connect(str(path))
            head = sock.recv(5)
    except OSError:
        return False
    # Three bytes of length, one of sequence number, then the protocol version.
    return len(head) == 5 and head[4] == PROTOCOL_VERSION
