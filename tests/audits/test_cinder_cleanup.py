"""The audit leaves nothing behind: marked processes are found and ended, the run's footprint is checked.

Most tests use small stand-in processes; those that start the real RabbitMQ or MariaDB, or the whole
script up to its Ctrl-C, are skipped where the Debian packages are not installed.
"""

from __future__ import annotations

import os
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
mariadb = harness("mariadb_server")
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


# -- MariaDB --------------------------------------------------------------------------------------------
def test_mariadb_reads_no_option_file_and_listens_on_no_tcp_port(tmp_path: Path) -> None:
    config = mariadb.DatabaseConfig(tmp_path / "db")
    command = config.command(Path("/usr/sbin/mariadbd"))
    assert command[1] == "--no-defaults", "MariaDB reads --no-defaults only as its first option"
    assert "--skip-networking" in command
    assert f"--socket={config.socket}" in command
    assert f"--datadir={config.datadir}" in command
    assert config.connection_url == (
        f"mysql+pymysql://root@localhost/cinder?unix_socket={config.socket}&charset=utf8mb4"
    )


def test_mariadb_bootstrap_creates_the_system_tables_and_cinders_database(tmp_path: Path) -> None:
    for name in mariadb.SYSTEM_TABLE_SCRIPTS:
        (tmp_path / name).write_text(f"-- {name}\n")
    sql = mariadb.bootstrap_sql((tmp_path,), database="cinder")
    assert sql.index("USE mysql;") < sql.index("-- mysql_system_tables.sql")
    assert sql.index("SET @auth_root_socket=NULL;") < sql.index("-- mysql_system_tables_data.sql")
    assert sql.rstrip().endswith("CREATE DATABASE cinder CHARACTER SET utf8mb4;")
    (tmp_path / "mysql_system_tables.sql").unlink()
    with pytest.raises(mariadb.DatabaseError, match=r"mysql_system_tables\.sql not found"):
        mariadb.bootstrap_sql((tmp_path,))


def test_mariadb_readiness_needs_a_protocol_10_greeting(tmp_path: Path) -> None:
    path = tmp_path / "s.sock"

    def serve(greeting: bytes) -> threading.Thread:
        server = socket.socket(socket.AF_UNIX)
        server.bind(str(path))
        server.listen()

        def answer() -> None:
            connection, _ = server.accept()
            with connection, server:
                connection.sendall(greeting)

        thread = threading.Thread(target=answer, daemon=True)
        thread.start()
        return thread

    thread = serve(b"\x5b\x00\x00\x00\x0a5.5.5-10.11")
    assert mariadb.greets(path)
    thread.join()
    path.unlink()
    thread = serve(b"\x5b\x00\x00\x00\x09old")
    assert not mariadb.greets(path)
    thread.join()
    path.unlink()
    assert not mariadb.greets(path)


def test_a_socket_path_too_long_for_unix_sockets_is_refused_with_the_remedy(tmp_path: Path) -> None:
    config = mariadb.DatabaseConfig(tmp_path / ("d" * 120))
    with pytest.raises(mariadb.DatabaseError, match="set TMPDIR to a shorter folder"):
        mariadb.DatabaseServer.start(config, processes.RunMarker(), dict(os.environ), Path(sys.executable))
    assert not config.base.exists()


def test_a_missing_mariadb_says_how_to_install_it(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(mariadb, "DEFAULT_SERVERS", (tmp_path / "absent",))
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(
        mariadb.DatabaseError, match=r"apt-get install --no-install-recommends mariadb-server-core"
    ):
        mariadb.find_server()


# -- the real servers, where installed ------------------------------------------------------------------
needs_rabbitmq = pytest.mark.skipif(
    not Path("/usr/lib/rabbitmq/bin/rabbitmq-server").exists(), reason="rabbitmq-server is not installed"
)
needs_mariadb = pytest.mark.skipif(not Path("/usr/sbin/mariadbd").exists(), reason="MariaDB is not installed")


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


@needs_mariadb
def test_a_private_mariadb_starts_on_its_socket_and_stops(marker: object, tmp_path: Path) -> None:
    config = mariadb.DatabaseConfig(tmp_path / "mariadb")
    config.base.mkdir()
    database = mariadb.DatabaseServer.start(config, marker, dict(os.environ))
    try:
        database.wait_ready()
        assert (config.datadir / "cinder").is_dir()
    finally:
        database.stop()
    assert marker.processes() == []  # type: ignore[attr-defined]
    assert not mariadb.greets(config.socket)


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
@needs_mariadb
def test_ctrl_c_while_cinder_starts_stops_every_process_and_removes_the_state_folder(tmp_path: Path) -> None:
    tag = f"EVS_AUDIT_TEST_TAG={secrets.token_hex(6)}"
    # A short folder of its own: MariaDB's socket path must stay within 107 bytes.
    scratch = Path(tempfile.mkdtemp(prefix="evs-t-", dir="/tmp"))
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
