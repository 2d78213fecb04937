"""The audit leaves nothing behind: marked processes are found and ended, the run's footprint is checked.

Most tests use small stand-in processes; those that start the real RabbitMQ or PostgreSQL, or the whole
script up to its Ctrl-C, are skipped where the Debian packages are not installed.
"""

from __future__ import annotations

import contextlib
import os
import pwd
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.audits.harness import AUDIT_DIR, harness

processes = harness("processes")
broker_module = harness("rabbitmq_broker")
postgresql = harness("postgresql_server")
deploy = harness("cinder_deploy")
run_audit = harness("run_audit")

# A child that starts a daemon of its own: the daemon leaves the child's session and process group, as
# RabbitMQ's epmd does when Erlang starts it.
DAEMONIZING = (
    "import os, time\n"
    "if os.fork() == 0:\n"
    "    os.setsid()\n"
    "    if os.fork() == 0:\n"
    "        time.sleep(300)\n"
    "    os._exit(0)\n"
    "time.sleep(300)\n"
)


def _wait_until(condition: Callable[[], bool], timeout_s: float = 10.0) -> bool:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.05)
    return condition()


@pytest.fixture
def marker() -> Iterator[object]:
    run_marker = processes.RunMarker()
    yield run_marker
    run_marker.sweep(grace_s=1.0)


def _child(marker: object, tmp_path: Path, code: str) -> object:
    env = marker.environ(dict(os.environ))  # type: ignore[attr-defined]
    return processes.ChildProcess("stand-in", [sys.executable, "-c", code], tmp_path / "child.log", env)


# -- RunMarker and ChildProcess ------------------------------------------------------------------------
def test_the_marker_finds_a_child_and_the_daemon_it_started_but_no_other_process(
    marker: object, tmp_path: Path
) -> None:
    unmarked = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(300)"])
    try:
        child = _child(marker, tmp_path, DAEMONIZING)
        assert _wait_until(lambda: len(marker.processes()) == 2)  # type: ignore[attr-defined]
        found = {p.pid for p in marker.processes()}  # type: ignore[attr-defined]
        assert child.pid in found  # type: ignore[attr-defined]
        assert unmarked.pid not in found
    finally:
        unmarked.kill()
        unmarked.wait()


def test_the_marker_finds_a_process_that_shows_the_run_only_in_its_title(marker: object) -> None:
    sleeper = [sys.executable, "-c", "import time; time.sleep(300)"]
    titled = subprocess.Popen([*sleeper, marker.title])  # type: ignore[attr-defined]
    other_run = subprocess.Popen([*sleeper, processes.RunMarker().title])
    try:
        found = {p.pid for p in marker.processes()}  # type: ignore[attr-defined]
        assert titled.pid in found
        assert other_run.pid not in found
    finally:
        for process in (titled, other_run):
            process.kill()
            process.wait()


def test_stopping_a_child_ends_its_group_and_the_sweep_ends_the_daemon_that_left_it(
    marker: object, tmp_path: Path
) -> None:
    child = _child(marker, tmp_path, DAEMONIZING)
    assert _wait_until(lambda: len(marker.processes()) == 2)  # type: ignore[attr-defined]
    child.stop(grace_s=5.0)  # type: ignore[attr-defined]
    left = marker.processes()  # type: ignore[attr-defined]
    assert [p.pid for p in left] != [child.pid]  # type: ignore[attr-defined]
    assert len(left) == 1, "the daemon left the child's group, so stopping the group cannot reach it"
    swept = marker.sweep(grace_s=5.0)  # type: ignore[attr-defined]
    assert [p.pid for p in swept] == [left[0].pid]
    assert _wait_until(lambda: marker.processes() == [])  # type: ignore[attr-defined]


def test_a_child_that_ignores_sigterm_is_killed(marker: object, tmp_path: Path) -> None:
    code = (
        "import signal, time\n"
        "signal.signal(signal.SIGTERM, signal.SIG_IGN)\n"
        "print('up', flush=True)\n"
        "time.sleep(300)\n"
    )
    child = _child(marker, tmp_path, code)
    assert _wait_until(lambda: "up" in (tmp_path / "child.log").read_text())
    started = time.monotonic()
    child.stop(grace_s=0.5)  # type: ignore[attr-defined]
    assert child.exited() == -signal.SIGKILL  # type: ignore[attr-defined]
    assert time.monotonic() - started < 5


def _cleanup_hit_by_ctrl_c(steps: list[str]) -> None:
    with processes.signals_held():
        os.kill(os.getpid(), signal.SIGINT)
        steps.append("cleanup finished")


def test_signals_held_defers_ctrl_c_until_cleanup_is_done() -> None:
    steps: list[str] = []
    with pytest.raises(KeyboardInterrupt):
        _cleanup_hit_by_ctrl_c(steps)
    assert steps == ["cleanup finished"]
    with processes.signals_held(reraise=False):
        os.kill(os.getpid(), signal.SIGINT)
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler


# -- the run's footprint --------------------------------------------------------------------------------
def test_the_footprint_reports_every_kind_of_leftover_and_removes_it(marker: object, tmp_path: Path) -> None:
    folder = tmp_path / "state"
    (folder / "data").mkdir(parents=True)
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen()
    port = listener.getsockname()[1]
    footprint = run_audit.RunFootprint(marker, [folder], [port])
    _child(marker, tmp_path, "import time; time.sleep(300)")
    thread = threading.Thread(target=time.sleep, args=(1.0,), name=run_audit.IDENTITY_THREAD)
    thread.start()
    try:
        assert _wait_until(lambda: bool(marker.processes()))  # type: ignore[attr-defined]
        left = run_audit.check_clean(footprint)
        kinds = sorted(item.split(" ", 1)[0] for item in left)
        assert kinds == ["folder", "port", "process", "thread"], left
        assert not folder.exists()
        assert _wait_until(lambda: marker.processes() == [])  # type: ignore[attr-defined]
    finally:
        listener.close()
        thread.join()
    assert run_audit.check_clean(footprint) == []


def test_main_reports_what_an_interrupted_run_left_and_still_exits_130(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = tmp_path / "state"

    def interrupted_audit(args: object, timings: object, footprint: object) -> int:
        folder.mkdir()
        footprint.folders.append(folder)  # type: ignore[attr-defined]
        _child(footprint.marker, tmp_path, "import time; time.sleep(300)")  # type: ignore[attr-defined]
        raise KeyboardInterrupt

    monkeypatch.setattr(run_audit, "audit", interrupted_audit)
    assert run_audit.main([]) == run_audit.EXIT_INTERRUPTED
    err = capsys.readouterr().err
    assert "left these behind" in err
    assert f"folder {folder}" in err
    assert "process pid" in err
    assert not folder.exists()


def test_main_turns_a_leftover_after_a_clean_verdict_into_a_harness_error(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    def leaky_audit(args: object, timings: object, footprint: object) -> int:
        _child(footprint.marker, tmp_path, "import time; time.sleep(300)")  # type: ignore[attr-defined]
        return run_audit.EXIT_MATCH

    monkeypatch.setattr(run_audit, "audit", leaky_audit)
    assert run_audit.main([]) == run_audit.EXIT_HARNESS


def test_main_says_so_when_nothing_is_left(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(run_audit, "audit", lambda args, timings, footprint: run_audit.EXIT_DIFFERENT)
    assert run_audit.main([]) == run_audit.EXIT_DIFFERENT
    assert "cleanup: no process, folder, port or thread of this run is left" in capsys.readouterr().out


# -- RabbitMQ -------------------------------------------------------------------------------------------
def test_the_broker_environment_keeps_every_file_in_its_folder_and_every_socket_on_loopback(
    tmp_path: Path,
) -> None:
    config = broker_module.BrokerConfig.fresh(tmp_path / "rabbitmq")
    env = config.environ()
    assert len({config.amqp_port, config.dist_port, config.epmd_port}) == 3
    assert env["RABBITMQ_NODE_IP_ADDRESS"] == env["ERL_EPMD_ADDRESS"] == "127.0.0.1"
    assert env["RABBITMQ_NODE_PORT"] == str(config.amqp_port)
    assert env["RABBITMQ_DIST_PORT"] == str(config.dist_port)
    assert env["ERL_EPMD_PORT"] == str(config.epmd_port)
    assert "inet_dist_use_interface {127,0,0,1}" in env["RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS"]
    assert "-start_epmd false" in env["RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS"]
    assert env["RABBITMQ_NODENAME"].startswith("evs-audit-")
    for name in ("HOME", "RABBITMQ_MNESIA_BASE", "RABBITMQ_LOG_BASE", "RABBITMQ_CONFIG_FILE"):
        assert Path(env[name]).is_relative_to(config.base), name
    assert config.transport_url == f"rabbit://guest:guest@127.0.0.1:{config.amqp_port}/"


def _one_shot_server(reply: bytes) -> tuple[int, threading.Thread]:
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen()

    def answer() -> None:
        connection, _ = server.accept()
        with connection, server:
            connection.recv(8)
            connection.sendall(reply)

    thread = threading.Thread(target=answer, daemon=True)
    thread.start()
    return server.getsockname()[1], thread


def test_amqp_readiness_needs_a_connection_start_frame() -> None:
    start = b"\x01\x00\x00\x00\x00\x01\x00" + b"\x00\x0a\x00\x0a" + b"\x00" * 8
    port, thread = _one_shot_server(start)
    assert broker_module.amqp_answers("127.0.0.1", port)
    thread.join()
    port, thread = _one_shot_server(b"HTTP/1.1 400 Bad Request\r\n\r\n")
    assert not broker_module.amqp_answers("127.0.0.1", port)
    thread.join()
    assert not broker_module.amqp_answers("127.0.0.1", processes.free_port())


def test_a_missing_broker_says_how_to_install_it(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(broker_module, "DEFAULT_SERVER_SCRIPTS", (tmp_path / "absent",))
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(broker_module.BrokerError, match="apt-get install rabbitmq-server"):
        broker_module.find_server_script()
    with pytest.raises(broker_module.BrokerError, match="not an executable file"):
        broker_module.find_server_script(tmp_path / "nope")


# -- PostgreSQL -----------------------------------------------------------------------------------------
def test_postgresql_keeps_its_socket_in_its_folder_and_opens_no_tcp_listener(tmp_path: Path) -> None:
    config = postgresql.DatabaseConfig(tmp_path / "db")
    programs = Path("/usr/lib/postgresql/15/bin")
    command = config.server_command(programs, "evs-audit-run-0123")
    assert command[:3] == [str(programs / "postgres"), "-D", str(config.datadir)]
    assert "cluster_name=evs-audit-run-0123" in command, "the run's mark in every worker's title"
    assert command[command.index("-k") + 1] == str(config.base)
    assert "listen_addresses=" in command, "an empty listen_addresses: no TCP socket at all"
    assert config.socket == config.base / ".s.PGSQL.5432"
    assert config.connection_url == f"postgresql+psycopg2://cinder@/cinder?host={config.base}"
    initdb = config.initdb_command(programs)
    assert initdb[0] == str(programs / "initdb")
    wanted = {f"--pgdata={config.datadir}", "--username=cinder", "--auth=trust", "--encoding=UTF8"}
    assert wanted <= set(initdb)


def test_the_connection_url_quotes_a_folder_with_unusual_characters(tmp_path: Path) -> None:
    config = postgresql.DatabaseConfig(tmp_path / "a b&c")
    assert config.connection_url.endswith(f"?host={tmp_path}/a%20b%26c")


@pytest.mark.parametrize("name", ["Cinder", "ci-nder", 'x"; DROP', ""])
def test_database_and_user_names_must_be_plain(tmp_path: Path, name: str) -> None:
    with pytest.raises(ValueError, match="not a plain PostgreSQL name"):
        postgresql.DatabaseConfig(tmp_path, database=name)
    with pytest.raises(ValueError, match="not a plain PostgreSQL name"):
        postgresql.DatabaseConfig(tmp_path, user=name)


def _message(kind: bytes, body: bytes) -> bytes:
    return kind + (len(body) + 4).to_bytes(4, "big") + body


AUTH_OK = _message(b"R", bytes(4))
READY = _message(b"Z", b"I")
STARTING_UP = _message(b"E", b"SFATAL\0C57P03\0Mthe database system is starting up\0\0")


def _unix_server(path: Path, replies: list[bytes], received: list[bytes]) -> threading.Thread:
    """Answers one connection: after each read from the client, the next reply; then closes."""
    server = socket.socket(socket.AF_UNIX)
    server.bind(str(path))
    server.listen()

    def answer() -> None:
        connection, _ = server.accept()
        with connection, server:
            for reply in replies:
                received.append(connection.recv(4096))
                connection.sendall(reply)
            connection.settimeout(2.0)
            with contextlib.suppress(OSError):
                received.append(connection.recv(4096))

    thread = threading.Thread(target=answer, daemon=True)
    thread.start()
    return thread


def _served(
    tmp_path: Path, replies: list[bytes], call: Callable[[Path], object]
) -> tuple[object, list[bytes]]:
    path = tmp_path / "s.sock"
    path.unlink(missing_ok=True)
    received: list[bytes] = []
    thread = _unix_server(path, replies, received)
    try:
        return call(path), received
    finally:
        thread.join(timeout=5)


def test_a_session_is_ready_only_after_authentication_ok_and_ready_for_query(tmp_path: Path) -> None:
    parameters = _message(b"S", b"server_version\x0015.18\x00") + _message(b"K", bytes(8))
    opened, received = _served(
        tmp_path,
        [AUTH_OK + parameters + READY],
        lambda path: postgresql.takes_sessions(path, "cinder", "postgres"),
    )
    assert opened is True
    startup = received[0]
    assert int.from_bytes(startup[:4], "big") == len(startup)
    assert startup[4:8] == (3 << 16).to_bytes(4, "big")
    assert startup[8:] == b"user\0cinder\0database\0postgres\0\0"
    assert received[1] == b"X\0\0\0\x04", "the session ends with a Terminate message"


@pytest.mark.parametrize(
    "reply",
    [STARTING_UP, _message(b"R", (5).to_bytes(4, "big")), AUTH_OK, b"\x0a5.5.5-10.11-MariaDB", b""],
    ids=["starting-up", "asks-for-a-password", "no-ready-for-query", "another-protocol", "closed"],
)
def test_no_session_without_a_complete_postgresql_startup(tmp_path: Path, reply: bytes) -> None:
    opened, _ = _served(tmp_path, [reply], lambda path: postgresql.takes_sessions(path, "u", "d", 0.5))
    assert opened is False


def test_no_session_where_no_socket_is(tmp_path: Path) -> None:
    assert not postgresql.takes_sessions(tmp_path / "absent", "cinder", "postgres")


def test_a_statement_is_sent_as_a_simple_query_and_its_error_raised(tmp_path: Path) -> None:
    done = _message(b"C", b"CREATE DATABASE\0") + READY
    _, received = _served(
        tmp_path,
        [AUTH_OK + READY, done],
        lambda path: postgresql.execute(path, "cinder", "postgres", "CREATE DATABASE cinder"),
    )
    assert received[1] == _message(b"Q", b"CREATE DATABASE cinder\0")
    refused = _message(b"E", b'SERROR\0C42P04\0Mdatabase "cinder" already exists\0\0') + READY
    with pytest.raises(postgresql.DatabaseError, match=r'ERROR: database "cinder" already exists \(42P04\)'):
        _served(
            tmp_path,
            [AUTH_OK + READY, refused],
            lambda path: postgresql.execute(path, "cinder", "postgres", "CREATE DATABASE cinder"),
        )


def test_a_socket_path_too_long_for_unix_sockets_is_refused_with_the_remedy(tmp_path: Path) -> None:
    config = postgresql.DatabaseConfig(tmp_path / ("d" * 120))
    programs = _fake_programs(tmp_path / "bin")
    with pytest.raises(postgresql.DatabaseError, match="set TMPDIR to a shorter folder"):
        postgresql.DatabaseServer.start(config, processes.RunMarker(), dict(os.environ), None, programs)
    assert not config.base.exists()


def _fake_programs(folder: Path) -> Path:
    folder.mkdir(parents=True)
    for name in postgresql.PROGRAMS:
        (folder / name).write_text("#!/bin/sh\nexit 0\n")
        (folder / name).chmod(0o755)
    return folder


def test_the_newest_installed_version_is_used_and_a_missing_one_says_how_to_install_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path / "nowhere"))
    with pytest.raises(postgresql.DatabaseError, match="apt-get install --no-install-recommends postgresql"):
        postgresql.find_programs(root=tmp_path)
    for version in ("9.6", "13", "15"):
        _fake_programs(tmp_path / version / "bin")
    (tmp_path / "17" / "bin").mkdir(parents=True)  # a client-only install: no server programs
    assert postgresql.find_programs(root=tmp_path) == tmp_path / "15" / "bin"
    assert postgresql.find_programs(tmp_path / "13" / "bin", root=tmp_path) == tmp_path / "13" / "bin"
    with pytest.raises(postgresql.DatabaseError, match="no executable initdb and postgres there"):
        postgresql.find_programs(tmp_path / "17" / "bin")


def test_the_server_runs_as_the_caller_unless_the_caller_is_root() -> None:
    assert postgresql.server_account(euid=1000) is None
    me = pwd.getpwuid(os.getuid())
    account = postgresql.server_account(euid=0, name=me.pw_name)
    assert account == processes.Account(me.pw_name, me.pw_uid, me.pw_gid)
    with pytest.raises(postgresql.DatabaseError, match=r"refuses to run as root.*no 'no-such-x' account"):
        postgresql.server_account(euid=0, name="no-such-x")


@pytest.fixture
def scratch() -> Iterator[Path]:
    """A short folder (mode 0700) directly in /tmp: pytest's own lie in folders closed to other accounts."""
    folder = Path(tempfile.mkdtemp(prefix="evs-t-", dir="/tmp"))
    yield folder
    shutil.rmtree(folder, ignore_errors=True)


def test_a_folder_the_servers_account_cannot_pass_is_found_and_the_passage_opened(scratch: Path) -> None:
    # An account other than ours whose group is ours: opening the passage needs no privilege then.
    other = processes.Account("other", os.getuid() + 4242, os.getgid())
    state = scratch / "state"
    state.mkdir(mode=0o700)
    assert postgresql.closed_folder(state / "postgresql", other) == scratch
    scratch.chmod(0o711)
    assert postgresql.closed_folder(state / "postgresql", other) == state
    postgresql.open_passage(state, other)
    assert state.stat().st_mode & 0o777 == 0o710
    assert postgresql.closed_folder(state / "postgresql", other) is None
    state.chmod(0o700)
    postgresql.open_passage(state, None)
    assert state.stat().st_mode & 0o777 == 0o700, "running as ourselves, nothing is changed"


def test_a_server_that_cannot_reach_its_folder_is_refused_before_anything_is_made(
    scratch: Path, tmp_path: Path
) -> None:
    other = processes.Account("other", os.getuid() + 4242, os.getgid() + 4242)
    config = postgresql.DatabaseConfig(scratch / "postgresql")
    with pytest.raises(postgresql.DatabaseError, match=f"other account .* may not pass through {scratch};"):
        postgresql.DatabaseServer.start(
            config, processes.RunMarker(), dict(os.environ), other, _fake_programs(tmp_path / "bin")
        )
    assert not config.base.exists()


def test_a_server_is_asked_to_stop_with_its_own_signal_before_the_group_is_killed(
    marker: object, tmp_path: Path
) -> None:
    code = (
        "import signal, sys, time\n"
        "signal.signal(signal.SIGTERM, signal.SIG_IGN)\n"
        "signal.signal(signal.SIGINT, lambda *a: sys.exit(3))\n"
        "print('up', flush=True)\n"
        "time.sleep(300)\n"
    )
    child = _child(marker, tmp_path, code)
    assert _wait_until(lambda: "up" in (tmp_path / "child.log").read_text())
    child.stop(grace_s=5.0, ask=signal.SIGINT)  # type: ignore[attr-defined]
    assert child.exited() == 3  # type: ignore[attr-defined]


# -- the real servers, where installed ------------------------------------------------------------------
needs_rabbitmq = pytest.mark.skipif(
    not Path("/usr/lib/rabbitmq/bin/rabbitmq-server").exists(), reason="rabbitmq-server is not installed"
)


def _postgresql_missing() -> str:
    try:
        postgresql.find_programs()
        postgresql.server_account()
    except postgresql.DatabaseError as exc:
        return str(exc)
    return ""


needs_postgresql = pytest.mark.skipif(bool(_postgresql_missing()), reason="PostgreSQL is not installed")


@needs_rabbitmq
def test_a_private_rabbitmq_starts_on_loopback_and_leaves_no_beam_or_epmd(
    marker: object, tmp_path: Path
) -> None:
    config = broker_module.BrokerConfig.fresh(tmp_path / "rabbitmq")
    broker = broker_module.Broker.start(config, marker, dict(os.environ))
    try:
        broker.wait_ready()
        commands = " ".join(p.command for p in marker.processes())  # type: ignore[attr-defined]
        assert "beam" in commands
        assert "epmd" in commands
    finally:
        broker.stop()
    assert marker.processes() == []  # type: ignore[attr-defined]
    for port in (config.amqp_port, config.dist_port, config.epmd_port):
        assert not run_audit._listening(port)


def _tcp_listeners(pids: list[int]) -> list[str]:
    """The local addresses of listening TCP sockets that these processes hold open."""
    inodes = set()
    for pid in pids:
        with contextlib.suppress(OSError):
            for fd in Path(f"/proc/{pid}/fd").iterdir():
                with contextlib.suppress(OSError):
                    target = os.readlink(fd)
                    if target.startswith("socket:["):
                        inodes.add(target[len("socket:[") : -1])
    found = []
    for table in (Path("/proc/net/tcp"), Path("/proc/net/tcp6")):
        for line in table.read_text().splitlines()[1:]:
            fields = line.split()
            if fields[3] == "0A" and fields[9] in inodes:
                found.append(fields[1])
    return found


def test_the_tcp_listener_probe_finds_a_listening_socket() -> None:
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        assert _tcp_listeners([os.getpid()]) == []
        listener.listen()
        port = listener.getsockname()[1]
        assert [address.endswith(f":{port:04X}") for address in _tcp_listeners([os.getpid()])] == [True]


def _owners(pids: list[int]) -> set[int]:
    """The real user IDs of those processes still alive (a session's backend may just have ended)."""
    owners = set()
    for pid in pids:
        with contextlib.suppress(OSError):
            status = Path(f"/proc/{pid}/status").read_text()
            owners.add(int(next(line for line in status.splitlines() if line.startswith("Uid:")).split()[1]))
    return owners


@needs_postgresql
def test_a_private_postgresql_serves_cinders_database_on_its_socket_only_and_stops(
    marker: object, scratch: Path
) -> None:
    # The socket path must stay within 107 bytes, and under root the server's account must pass through
    # every folder above its own.
    account = postgresql.server_account()
    postgresql.open_passage(scratch, account)
    config = postgresql.DatabaseConfig(scratch / "postgresql")
    database = postgresql.DatabaseServer.start(config, marker, dict(os.environ), account)
    try:
        assert not postgresql.takes_sessions(config.socket, "cinder", "cinder", timeout_s=0.5)
        database.wait_ready()
        assert postgresql.takes_sessions(config.socket, "cinder", "cinder")
        marked = marker.processes()  # type: ignore[attr-defined]
        pids = [p.pid for p in marked]
        assert database.process.pid in pids
        # Its workers write their titles over their environment; the mark is in the title instead.
        assert any("checkpointer" in p.command for p in marked), [p.command for p in marked]
        assert _tcp_listeners(pids) == []
        assert _owners(pids) == {os.getuid() if account is None else account.uid}
    finally:
        database.stop()
    assert marker.processes() == []  # type: ignore[attr-defined]
    assert not postgresql.takes_sessions(config.socket, "cinder", "cinder")
    assert "received fast shutdown request" in config.log.read_text()


def _fake_cinder_venv(root: Path) -> Path:
    """A venv that counts as complete, whose Cinder commands do nothing (the API never answers)."""
    venv = root / "venv"
    (venv / "bin").mkdir(parents=True)
    (venv / deploy.COMPLETE_MARKER).write_text("\n".join(deploy.VENV_REQUIREMENTS) + "\n")
    (venv / "bin" / "cinder-manage").write_text("#!/bin/sh\nexit 0\n")
    for service in deploy.SERVICES:
        # No exec: the shell keeps the service's name on its command line.
        (venv / "bin" / service).write_text("#!/bin/sh\nsleep 300\n")
    for script in (venv / "bin").iterdir():
        script.chmod(0o755)
    return venv


def _tagged(tag: str) -> list[int]:
    """Processes whose environment carries ``tag`` (every process the script under test started)."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if tag.encode() in (entry / "environ").read_bytes().split(b"\0"):
                    found.append(int(entry.name))
            except OSError:
                continue
    return found


def _command(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_text()
    except OSError:
        return ""


@needs_rabbitmq
@needs_postgresql
def test_ctrl_c_while_cinder_starts_stops_every_process_and_removes_the_state_folder(tmp_path: Path) -> None:
    tag = f"EVS_AUDIT_TEST_TAG={secrets.token_hex(6)}"
    # A short folder of its own: PostgreSQL's socket path must stay within 107 bytes. Under root the
    # server's account must pass through it to the run's folder inside.
    scratch = Path(tempfile.mkdtemp(prefix="evs-t-", dir="/tmp"))
    scratch.chmod(0o711)
    try:
        _interrupt_while_cinder_starts(tag, tmp_path, scratch)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


def _interrupt_while_cinder_starts(tag: str, tmp_path: Path, scratch: Path) -> None:
    env = {**os.environ, tag.split("=")[0]: tag.split("=")[1], "TMPDIR": str(scratch)}
    command = [
        sys.executable,
        str(AUDIT_DIR / "run_audit.py"),
        "--venv",
        str(_fake_cinder_venv(tmp_path)),
        "--reports",
        str(tmp_path / "reports"),
    ]
    script = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        # The fake cinder-api runs once the bus and the database are up; interrupt while waiting for it.
        assert _wait_until(
            lambda: script.poll() is not None or any("cinder-api" in _command(pid) for pid in _tagged(tag)),
            timeout_s=120,
        )
        assert script.poll() is None, script.communicate()[0]
        assert [p for p in scratch.iterdir() if p.name.startswith(run_audit.STATE_PREFIX)]
        script.send_signal(signal.SIGINT)
        out, _ = script.communicate(timeout=120)
    finally:
        if script.poll() is None:
            script.kill()
            script.wait()
    assert script.returncode == run_audit.EXIT_INTERRUPTED, out
    assert "cleanup: no process, folder, port or thread of this run is left" in out
    remaining = [pid for pid in _tagged(tag) if pid != script.pid]
    assert remaining == []
    assert not [p for p in scratch.iterdir() if p.name.startswith(run_audit.STATE_PREFIX)]
