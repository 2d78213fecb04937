"""``evs-conformance run``: options into a pytest command line, one-line errors, exit codes, the reports."""

from __future__ import annotations

import contextlib
import json
import os
import re
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from conformance.cli import main
from conformance.cli.run import pytest_args
from conformance.run.settings import RunSettings


def test_the_suite_runs_in_this_process_with_only_its_own_plugins() -> None:
    settings = RunSettings(profile="huawei", target=None, reports_dir=Path("out"), workers=3)
    args = pytest_args(settings, verbose=False)
    assert args[:4] == ["--pyargs", "conformance.suite", "-p", "conformance.plugin"]
    assert ["-c", os.devnull] == args[args.index("-c") : args.index("-c") + 2]
    assert "no:terminal" in args
    assert args[args.index("-n") + 1] == "3"
    # Settings travel as an object, never as command-line text a process list could show.
    assert not any(a.startswith("--evs-") for a in args)
    assert "-v" in pytest_args(settings, verbose=True)


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--examples", "0"], "--examples must be at least 1"),
        (["--workers", "0"], "--workers must be at least 1"),
        (["--workers", "1000"], "--workers must be at most 32"),
        (["--max-creates", "-1"], "--max-creates must not be negative"),
        (["--project-id", "p"], "--project-id need --base-url"),
        (["--base-url", "http://127.0.0.1:9", "--token", "t"], "needs --project-id, --volume-id"),
        (["--base-url", "127.0.0.1:9"], "must be an http:// or https:// URL"),
    ],
)
def test_bad_options_are_one_line_and_exit_2(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, argv: list[str], message: str
) -> None:
    monkeypatch.delenv("EVS_TOKEN", raising=False)
    result = CliRunner().invoke(main, ["run", "--reports", str(tmp_path), *argv])
    assert result.exit_code == 2
    assert message in result.output
    assert "Traceback" not in result.output


def test_an_unreachable_target_is_exit_2(tmp_path: Path) -> None:
    argv = ["--base-url", "http://127.0.0.1:9", "--project-id", "p", "--volume-id", "v", "--token", "t"]
    result = CliRunner().invoke(main, ["run", "--reports", str(tmp_path), *argv])
    assert result.exit_code == 2
    assert "http://127.0.0.1:9 is not reachable" in result.output


def test_a_reports_folder_holding_the_users_files_is_refused_and_left_untouched(tmp_path: Path) -> None:
    secret_line = b"EVS_TOKEN=mock-token-0b6c3e1f9a2d4e57\n"
    (tmp_path / ".env").write_bytes(secret_line)
    result = CliRunner().invoke(main, ["run", "--reports", str(tmp_path), "--examples", "1"])
    assert result.exit_code == 2
    assert "holds files no earlier run wrote (.env)" in result.output
    assert len(result.output.strip().splitlines()) == 1
    assert sorted(p.name for p in tmp_path.iterdir()) == [".env"]
    assert (tmp_path / ".env").read_bytes() == secret_line


def test_a_second_run_replaces_only_what_the_first_wrote(tmp_path: Path) -> None:
    first = CliRunner().invoke(main, ["run", "--reports", str(tmp_path), "--examples", "1"])
    assert first.exit_code == 0, first.output
    (tmp_path / "README.md").write_text("kept")  # a name the folder may hold beside the reports
    second = CliRunner().invoke(main, ["run", "--reports", str(tmp_path), "--examples", "1"])
    assert second.exit_code == 0, second.output
    assert (tmp_path / "README.md").read_text() == "kept"
    assert (tmp_path / "conformance.json").is_file()


def test_a_run_against_the_embedded_mock_passes_and_writes_reports(tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["run", "--reports", str(tmp_path), "--examples", "3"])
    assert result.exit_code == 0, result.output
    report = json.loads((tmp_path / "conformance.json").read_text(encoding="utf-8"))
    assert report["verdict"] == "pass"
    assert report["target"]["embedded_mock"] is True
    assert report["stats"]["cases"] > 0
    assert (tmp_path / "junit.xml").exists()
    assert any((tmp_path / "allure-results").iterdir())
    assert (tmp_path / "conformance.md").exists()


@pytest.mark.slow
def test_workers_share_one_mock_and_one_report(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        main, ["run", "--reports", str(tmp_path), "--examples", "3", "--workers", "2"]
    )
    assert result.exit_code == 0, result.output
    report = json.loads((tmp_path / "conformance.json").read_text(encoding="utf-8"))
    assert report["verdict"] == "pass"
    assert report["target"]["embedded_mock"] is True
    assert not (tmp_path / ".ledger").exists()


# -- credentials, transport, dry run and waivers ------------------------------------------------------------
@contextlib.contextmanager
def listener() -> Iterator[tuple[str, socket.socket]]:
    """A loopback port that accepts nothing by itself: any connection attempt stays queued for checking."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen(8)
        sock.setblocking(False)
        yield f"http://127.0.0.1:{sock.getsockname()[1]}", sock


def connected(sock: socket.socket) -> bool:
    try:
        conn, _ = sock.accept()
    except BlockingIOError:
        return False
    conn.close()
    return True


def external(base_url: str) -> list[str]:
    return ["--base-url", base_url, "--project-id", "p", "--volume-id", "v", "--token", "token-0123456789"]


def test_a_dry_run_prints_the_plan_and_sends_nothing(tmp_path: Path) -> None:
    with listener() as (base_url, sock):
        result = CliRunner().invoke(
            main, ["run", "--reports", str(tmp_path), "--dry-run", *external(base_url)]
        )
        assert result.exit_code == 0, result.output
        assert not connected(sock)
    out = result.output
    assert "dry run, nothing is sent" in out
    assert f"target:   {base_url}, project p, disk v" in out
    assert "creates:  at most 60 (--max-creates): 6 planned, up to 54 generated" in out
    assert "    combined (available disk): every class that combines" in out
    assert "limits:   1 being created per disk (--creating-per-disk), 3 alive per disk" in out
    # Six planned creates one after the other on the one disk, two deletions, 180 s each, and the requests.
    assert "time:     about 24 min for the planned creates" in out
    assert "at 180 s for a snapshot to settle (--settle-time); the run stops at --deadline 7200 s" in out
    assert (
        "    OP-ACCEPT: test_create_plan.py::test_combined_body_is_accepted_read_settled_and_deleted" in out
    )
    assert "LIFE-DELETE: test_create_plan.py::test_combined_body_is_accepted_read_settled_and_deleted" in out
    assert "token-0123456789" not in out
    assert not (tmp_path / "conformance.json").exists()


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--rate-limit", "fast"], "--rate-limit must be a number, got 'fast' (a rate such as 5/s)"),
        (["--rate-limit", "0/s"], "--rate-limit must be more than 0"),
        (["--rate-limit", "1e-300"], "--rate-limit must be at least 0.01"),
        (["--timeout", "0"], "--timeout must be more than 0"),
        (["--timeout", "inf"], "--timeout must be a finite number"),
        (["--deadline", "-1"], "--deadline must not be negative"),
        (["--retries", "-1"], "--retries must not be negative"),
        (["--cleanup-timeout", "nan"], "--cleanup-timeout must be a finite number"),
        (["--iam-url", "http://127.0.0.1:9/v3"], "needs --username, --domain"),
    ],
)
def test_transport_and_credential_options_are_checked_before_any_request(
    tmp_path: Path, argv: list[str], message: str
) -> None:
    with listener() as (base_url, sock):
        args = external(base_url)
        if "--iam-url" in argv:
            args = args[:-2]
        result = CliRunner().invoke(main, ["run", "--reports", str(tmp_path), *args, *argv])
        assert not connected(sock)
    assert result.exit_code == 2
    assert message in result.output
    assert len(result.output.strip().splitlines()) == 1


def test_insecure_warns_loudly(tmp_path: Path) -> None:
    with listener() as (base_url, _):
        argv = ["run", "--reports", str(tmp_path), "--dry-run", "--insecure", *external(base_url)]
        result = CliRunner().invoke(main, argv)
    assert result.exit_code == 0
    assert "WARNING: --insecure: TLS certificates are NOT verified" in result.stderr


def test_the_password_is_asked_for_when_not_in_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("EVS_PASSWORD", raising=False)
    monkeypatch.delenv("EVS_TOKEN", raising=False)
    argv = ["--base-url", "http://127.0.0.1:9", "--project-id", "p", "--volume-id", "v"]
    argv += ["--iam-url", "http://127.0.0.1:9/v3", "--username", "qa", "--domain", "d"]
    result = CliRunner().invoke(main, ["run", "--reports", str(tmp_path), *argv], input="typed-password-1\n")
    assert "Password for qa at http://127.0.0.1:9/v3" in result.output
    assert result.exit_code == 2
    assert "cannot reach the identity service" in result.output
    assert "typed-password-1" not in result.output


def test_the_password_is_never_an_option() -> None:
    result = CliRunner().invoke(main, ["run", "--password", "x"])
    assert result.exit_code == 2
    assert "No such option" in result.output


def test_a_bad_waiver_file_stops_the_run_before_any_request(tmp_path: Path) -> None:
    waivers = tmp_path / "waivers.yaml"
    waivers.write_text("waivers:\n  - id: REQ-NOPE\n    reason: x\n", encoding="utf-8")
    with listener() as (base_url, sock):
        argv = ["run", "--reports", str(tmp_path), "--waivers", str(waivers), *external(base_url)]
        result = CliRunner().invoke(main, argv)
        assert not connected(sock)
    assert result.exit_code == 2
    assert "waiver 1 (REQ-NOPE): unknown requirement ID" in result.output


def test_waived_failures_do_not_fail_the_run(tmp_path: Path) -> None:
    waivers = tmp_path / "waivers.yaml"
    waivers.write_text(
        "waivers:\n"
        "  - id: RSP-ECHO\n    reason: vendor ticket 42\n    expires: 2999-12-31\n"
        "  - id: REQ-NAME\n    reason: no longer needed\n",
        encoding="utf-8",
    )
    reports = tmp_path / "reports"
    argv = ["run", "--reports", str(reports), "--examples", "3", "--waivers", str(waivers)]
    result = CliRunner().invoke(main, [*argv, "--mock-quirk", "echo-drops-metadata"])
    assert result.exit_code == 0, result.output
    report = json.loads((reports / "conformance.json").read_text(encoding="utf-8"))
    rows = {row["id"]: row for row in report["requirements"]}
    assert report["verdict"] == "pass"
    assert rows["RSP-ECHO"]["verdict"] == "waived"
    assert rows["RSP-ECHO"]["waiver"] == {"reason": "vendor ticket 42", "expires": "2999-12-31"}
    assert report["waivers"]["unused"][0]["id"] == "REQ-NAME"
    markdown = (reports / "conformance.md").read_text(encoding="utf-8")
    assert "## Waived" in markdown
    assert "Waived: vendor ticket 42 (until 2999-12-31)" in markdown
    out = result.output
    assert re.search(r"RSP-ECHO +WAIVED +waived: vendor ticket 42 \(until 2999-12-31\)", out)
    assert "waiver for REQ-NAME is unused" in out


def test_a_token_is_not_sent_over_plain_http_to_another_host(tmp_path: Path) -> None:
    # Refused before any connection is opened, so the address is never contacted.
    argv = ["run", "--reports", str(tmp_path), *external("http://evs.example.invalid")]
    result = CliRunner().invoke(main, argv)
    assert result.exit_code == 2
    assert "refusing to send the token over plain HTTP to evs.example.invalid" in result.output
