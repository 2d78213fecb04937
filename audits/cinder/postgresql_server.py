"""A private PostgreSQL for Cinder's database: its own data folder, reachable only through a Unix socket.

Cinder's API, scheduler and volume service write to one database at once, which SQLite refuses ("database
is locked", and Cinder answers 500). PostgreSQL rather than MySQL/MariaDB: there Cinder's tables use plain
DATETIME, which keeps whole seconds, so a snapshot read back would show another ``created_at`` than its 202
body; PostgreSQL's timestamp keeps the microseconds. The programs come from the Debian package
(``/usr/lib/postgresql/<version>/bin``); the package's own service is never used.

``initdb`` makes a data folder inside the run's folder and ``postgres`` serves it with no TCP listener, its
socket in that same folder, and trust authentication for whoever can open the socket: the server's own
account (and root), since the folder is closed to everyone else. PostgreSQL refuses to run as root, so
under root both run as the package's unprivileged ``postgres`` account, which then owns the folder.

Example::

    account = server_account()
    open_passage(state_dir, account)
    database = DatabaseServer.start(DatabaseConfig(state_dir / "postgresql"), marker, base_env, account)
    try:
        database.wait_ready()            # and Cinder's database is created
        database.config.connection_url   # postgresql+psycopg2://cinder@/cinder?host=<the folder>
    finally:
        database.stop()
"""

from __future__ import annotations

import contextlib
import os
import pwd
import re
import shutil
import signal
import socket
import stat
import subprocess
import time
import urllib.parse
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

from processes import Account, ChildProcess, RunMarker, read_exactly

SERVER_ROOT = Path("/usr/lib/postgresql")
PROGRAMS = ("initdb", "postgres")
SERVER_ACCOUNT = "postgres"
DATABASE = "cinder"
SUPERUSER = "cinder"
# initdb's own database, there from the start: the one to connect to before Cinder's exists.
MAINTENANCE_DATABASE = "postgres"
# With no TCP listener the port only names the socket file, .s.PGSQL.<port>; libpq's default finds it.
PORT = 5432
# sockaddr_un holds 108 bytes with the terminating NUL; PostgreSQL refuses a longer socket path.
MAX_SOCKET_PATH = 107
INITDB_TIMEOUT_S = 120.0
READY_TIMEOUT_S = 60.0
SHUTDOWN_TIMEOUT_S = 30.0
# Protocol 3.0, as a StartupMessage gives it; a longer message than this is no PostgreSQL answer we expect.
PROTOCOL_VERSION = 3 << 16
MAX_MESSAGE = 1 << 20
AUTHENTICATION_OK = bytes(4)
INSTALL_HINT = (
    "PostgreSQL is not installed: install the Debian package (as root: apt-get install "
    "--no-install-recommends postgresql; the audit never uses the package's own service), or give the "
    "folder holding initdb and postgres with --postgresql-bin DIR"
)
# A throw-away database: durability is traded for speed, and memory kept small on a 2-core CI machine.
SERVER_SETTINGS = (
    ("listen_addresses", ""),
    ("fsync", "off"),
    ("synchronous_commit", "off"),
    ("full_page_writes", "off"),
    ("shared_buffers", "32MB"),
)
NAME = re.compile(r"[a-z_][a-z0-9_]{0,62}")


class DatabaseError(Exception):
    """PostgreSQL is missing, or could not be set up or started; the message says what to do or look at."""


def find_programs(explicit: Path | None = None, root: Path = SERVER_ROOT) -> Path:
    """The folder holding ``initdb`` and ``postgres`` (the newest Debian version), or a DatabaseError."""
    if explicit is not None:
        if _has_programs(explicit):
            return explicit
        raise DatabaseError(f"--postgresql-bin {explicit}: no executable {' and '.join(PROGRAMS)} there")
    versions = sorted((d for d in root.glob("*/bin") if _has_programs(d)), key=_version, reverse=True)
    on_path = shutil.which("postgres")
    if on_path is not None and _has_programs(Path(on_path).parent):
        versions.append(Path(on_path).parent)
    if not versions:
        raise DatabaseError(INSTALL_HINT)
    return versions[0]


def server_account(euid: int | None = None, name: str = SERVER_ACCOUNT) -> Account | None:
    """Who runs the server: the caller (None), or under root, which PostgreSQL refuses, ``name``."""
    if (os.geteuid() if euid is None else euid) != 0:
        return None
    try:
        entry = pwd.getpwnam(name)
    except KeyError:
        raise DatabaseError(
            f"PostgreSQL refuses to run as root, and there is no {name!r} account to run it as "
            "(the Debian package creates it); run the audit as an unprivileged user instead"
        ) from None
    return Account(name, entry.pw_uid, entry.pw_gid)


def open_passage(folder: Path, account: Account | None) -> None:
    """Let ``account`` pass through ``folder`` (not list it) to its own folder inside; others stay out."""
    if account is None:
        return
    os.chown(folder, -1, account.gid)
    folder.chmod(0o710)


def closed_folder(path: Path, account: Account) -> Path | None:
    """The first folder above ``path`` whose mode bits keep ``account`` from passing through, or None."""
    for folder in reversed(path.absolute().parents):
        info = folder.stat()
        if info.st_uid == account.uid:
            needed = stat.S_IXUSR
        elif info.st_gid == account.gid:
            needed = stat.S_IXGRP
        else:
            needed = stat.S_IXOTH
        if not info.st_mode & needed:
            return folder
    return None


@dataclass(frozen=True)
class DatabaseConfig:
    """Where one private server keeps its files and socket, and the database and user Cinder uses."""

    base: Path
    database: str = DATABASE
    user: str = SUPERUSER

    def __post_init__(self) -> None:
        # Both end up in SQL and in the URL unquoted.
        for name in (self.database, self.user):
            if not NAME.fullmatch(name):
                raise ValueError(f"not a plain PostgreSQL name: {name!r}")

    @property
    def datadir(self) -> Path:
        return self.base / "data"

    @property
    def socket(self) -> Path:
        return self.base / f".s.PGSQL.{PORT}"

    @property
    def log(self) -> Path:
        return self.base / "postgresql.log"

    @property
    def connection_url(self) -> str:
        """The SQLAlchemy URL Cinder connects with (psycopg2; a folder as ``host`` means its socket)."""
        folder = urllib.parse.quote(str(self.base), safe="/")
        return f"postgresql+psycopg2://{self.user}@/{self.database}?host={folder}"

    def initdb_command(self, programs: Path) -> list[str]:
        """A data folder whose superuser is ``user``, trusted on the socket alone (no TCP listener)."""
        return [
            str(programs / "initdb"),
            f"--pgdata={self.datadir}",
            f"--username={self.user}",
            "--auth=trust",
            "--encoding=UTF8",
            "--locale=C",
            "--no-sync",
        ]

    def server_command(self, programs: Path, title: str) -> list[str]:
        """The server's command line: the socket in ``base``, no TCP address, ``title`` in every worker's."""
        # Workers write their titles over their environment, run mark included: the title carries it.
        named = (*SERVER_SETTINGS, ("cluster_name", title))
        settings = [part for key, value in named for part in ("-c", f"{key}={value}")]
        return [
            str(programs / "postgres"),
            "-D",
            str(self.datadir),
            "-p",
            str(PORT),
            "-k",
            str(self.base),
            *settings,
        ]


class DatabaseServer:
    """A running private PostgreSQL."""

    def __init__(self, config: DatabaseConfig, process: ChildProcess) -> None:
        self.config = config
        self.process = process
        self._created = False

    @classmethod
    def start(
        cls,
        config: DatabaseConfig,
        marker: RunMarker,
        base_env: Mapping[str, str],
        account: Account | None,
        programs: Path | None = None,
    ) -> DatabaseServer:
        """Make ``config.base`` (owned by ``account``), run initdb in it and start the server."""
        folder = find_programs(programs)
        if len(os.fsencode(config.socket)) > MAX_SOCKET_PATH:
            raise DatabaseError(
                f"the socket path {config.socket} is longer than {MAX_SOCKET_PATH} bytes; "
                "set TMPDIR to a shorter folder"
            )
        if account is not None:
            closed = closed_folder(config.base, account)
            if closed is not None:
                raise DatabaseError(
                    f"the {account.name} account that runs PostgreSQL may not pass through {closed}; "
                    "set TMPDIR to a folder it can reach"
                )
        config.base.mkdir(mode=0o700)
        if account is not None:
            os.chown(config.base, account.uid, account.gid)
        env = marker.environ(base_env)
        with config.log.open("a", encoding="utf-8") as out:
            try:
                done = subprocess.run(
                    config.initdb_command(folder),
                    stdout=out,
                    stderr=subprocess.STDOUT,
                    stdin=subprocess.DEVNULL,
                    env=env,
                    cwd=config.base,
                    timeout=INITDB_TIMEOUT_S,
                    check=False,
                    user=None if account is None else account.uid,
                    group=None if account is None else account.gid,
                    extra_groups=None if account is None else [],
                )
            except subprocess.TimeoutExpired as exc:
                raise DatabaseError(f"initdb took over {exc.timeout:.0f} s; see {config.log}") from exc
        if done.returncode != 0:
            raise DatabaseError(f"initdb failed with exit code {done.returncode}; see {config.log}")
        command = config.server_command(folder, marker.title)
        process = ChildProcess("postgres", command, config.log, env, cwd=config.base, account=account)
        return cls(config, process)

    def wait_ready(self, timeout_s: float = READY_TIMEOUT_S) -> float:
        """Wait until the server takes sessions, then create Cinder's database; returns the seconds taken."""
        started = time.monotonic()
        config = self.config
        while not takes_sessions(config.socket, config.user, MAINTENANCE_DATABASE):
            if self.process.exited() is not None:
                raise DatabaseError(f"postgres exited with {self.process.exited()}; see {config.log}")
            if time.monotonic() - started > timeout_s:
                raise DatabaseError(f"PostgreSQL did not answer on {config.socket} within {timeout_s:.0f} s")
            time.sleep(0.1)
        if not self._created:
            execute(config.socket, config.user, MAINTENANCE_DATABASE, f"CREATE DATABASE {config.database}")
            self._created = True
        return time.monotonic() - started

    def stop(self) -> None:
        """A fast shutdown (open sessions are ended, a checkpoint written); anything left is then killed."""
        self.process.stop(grace_s=SHUTDOWN_TIMEOUT_S, ask=signal.SIGINT)


def takes_sessions(path: Path, user: str, database: str, timeout_s: float = 2.0) -> bool:
    """True when the server on the socket ``path`` opens a session for ``user`` on ``database``."""
    try:
        with _session(path, user, database, timeout_s):
            return True
    except (OSError, DatabaseError):
        return False


def execute(path: Path, user: str, database: str, statement: str, timeout_s: float = 60.0) -> None:
    """Run one SQL statement in a session of its own; the server's refusal becomes a DatabaseError."""
    with _session(path, user, database, timeout_s) as sock:
        sock.sendall(_frame(b"Q", statement.encode() + b"\0"))
        _until_ready(sock)


@contextlib.contextmanager
def _session(path: Path, user: str, database: str, timeout_s: float) -> Iterator[socket.socket]:
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
        sock.settimeout(timeout_s)
        sock.connect(str(path))
        parameters = f"user\0{user}\0database\0{database}\0\0".encode()
        sock.sendall(_frame(b"", PROTOCOL_VERSION.to_bytes(4, "big") + parameters))
        _until_ready(sock)
        yield sock
        sock.sendall(_frame(b"X", b""))


def _until_ready(sock: socket.socket) -> None:
    """Read the server's messages up to ReadyForQuery; an ErrorResponse becomes a DatabaseError."""
    error: str | None = None
    while True:
        try:
            kind, body = _read_message(sock)
        except ConnectionError:
            # A refused session (the server starting up, an unknown database) ends after its error.
            if error is not None:
                raise DatabaseError(error) from None
            raise
        if kind == b"E":
            error = error_text(body)
        elif kind == b"R" and body[:4] != AUTHENTICATION_OK:
            raise DatabaseError(f"PostgreSQL asks for authentication (method {int.from_bytes(body[:4])})")
        elif kind == b"Z":
            if error is not None:
                raise DatabaseError(error)
            return


def error_text(body: bytes) -> str:
    """An ErrorResponse's severity, message and SQLSTATE code, as one line."""
    fields = {field[:1]: field[1:].decode(errors="replace") for field in body.split(b"\0") if field}
    return f"{fields.get(b'S', 'ERROR')}: {fields.get(b'M', '(no message)')} ({fields.get(b'C', '?')})"


def _frame(kind: bytes, body: bytes) -> bytes:
    return kind + (len(body) + 4).to_bytes(4, "big") + body


def _read_message(sock: socket.socket) -> tuple[bytes, bytes]:
    head = read_exactly(sock, 5)
    length = int.from_bytes(head[1:], "big")
    if not 4 <= length <= MAX_MESSAGE:
        raise DatabaseError(f"not a PostgreSQL message (type {head[:1]!r}, length {length})")
    return head[:1], read_exactly(sock, length - 4)


def _has_programs(folder: Path) -> bool:
    return all((folder / name).is_file() and os.access(folder / name, os.X_OK) for name in PROGRAMS)


def _version(folder: Path) -> tuple[int, ...]:
    # /usr/lib/postgresql/15/bin: the version is the parent's name.
    return tuple(int(part) for part in folder.parent.name.split(".") if part.isdigit())
