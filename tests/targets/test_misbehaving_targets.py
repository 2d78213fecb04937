"""Targets that hang, reset, babble or flood get a recorded error or a failing verdict, never a hang."""

from __future__ import annotations

import json
import os
import shutil
import ssl
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from conformance.contract import Contract, load_contract
from conformance.run.settings import TargetSettings
from conformance.target import Target
from conformance.target.client import DeadlineReached
from tests.targets.misbehaving import (
    Behaviour,
    drop_mid_body,
    enormous,
    garbage,
    hang,
    not_json,
    ok,
    redirect_to,
    reset,
    serve,
    throttled,
)

TOKEN = "tok-misbehaving-7f3a"
CAP = 1 << 20


@pytest.fixture(scope="module")
def contract() -> Contract:
    return load_contract("huawei")


def open_target(contract: Contract, base_url: str, **changes: object) -> Target:
    values: dict[str, object] = {
        "base_url": base_url,
        "project_id": "p",
        "token": TOKEN,
        "available_volume_id": "v",
        "timeout_s": 2.0,
        "retry_backoff_s": 0.01,
        "max_response_bytes": CAP,
    }
    values.update(changes)
    return Target(contract, TargetSettings(**values))  # type: ignore[arg-type]


# -- through the Target ----------------------------------------------------------------------------------
def test_a_hanging_target_times_out(contract: Contract) -> None:
    with serve(hang) as server, open_target(contract, server.base_url, timeout_s=0.3) as target:
        started = time.monotonic()
        exchange = target.create({"snapshot": {}})
        assert time.monotonic() - started < 2
    assert exchange.response is None
    assert exchange.error is not None
    assert exchange.error.startswith("ReadTimeout")
    assert len(server.requests) == 1


def test_a_hanging_target_stops_at_the_overall_deadline(contract: Contract) -> None:
    with serve(hang) as server, open_target(contract, server.base_url, deadline_s=0.4) as target:
        started = time.monotonic()
        with pytest.raises(DeadlineReached, match="while waiting for the answer"):
            target.list_snapshots()
        with pytest.raises(DeadlineReached, match="overall deadline reached"):
            target.list_snapshots()
        assert time.monotonic() - started < 1.5
    assert len(server.requests) == 1


def test_a_reset_is_recorded_and_only_reads_are_repeated(contract: Contract) -> None:
    with serve(reset) as server, open_target(contract, server.base_url, retries=2) as target:
        read = target.get_snapshot("s")
        reads = len(server.requests)
        create = target.create({"snapshot": {}})
    assert read.response is None
    assert read.error is not None
    assert read.attempts == 3
    assert reads == 3
    assert create.response is None
    assert create.error is not None
    assert create.attempts == 1
    assert len(server.requests) == reads + 1


def test_garbage_is_a_protocol_error(contract: Contract) -> None:
    with serve(garbage) as server, open_target(contract, server.base_url) as target:
        exchange = target.create({"snapshot": {}})
    assert exchange.response is None
    assert exchange.error is not None
    assert exchange.error.startswith("RemoteProtocolError")
    assert "\n" not in exchange.error


def test_an_enormous_body_is_cut_at_the_cap(contract: Contract) -> None:
    with serve(enormous) as server, open_target(contract, server.base_url) as target:
        started = time.monotonic()
        exchange = target.create({"snapshot": {}})
        assert time.monotonic() - started < 5
    assert exchange.response is not None
    assert exchange.response.status == 202
    assert exchange.response.truncated
    assert len(exchange.response.body) == CAP
    with pytest.raises(ValueError, match="truncated"):
        exchange.response.json()
    # It may have created something, so it counts against the budget, but it names nothing to clean.
    assert target.creates == 1
    assert target.created_ids == ()


def test_a_non_json_success_is_recorded_as_it_came(contract: Contract) -> None:
    with serve(not_json) as server, open_target(contract, server.base_url) as target:
        exchange = target.create({"snapshot": {}})
    assert exchange.response is not None
    assert exchange.response.status == 200
    assert exchange.response.content_type == "application/json"
    with pytest.raises(ValueError):  # noqa: PT011 - the JSON decoder's error
        exchange.response.json()


def test_a_429_with_retry_after_is_waited_out(contract: Contract) -> None:
    with serve(throttled(1)) as server, open_target(contract, server.base_url) as target:
        started = time.monotonic()
        exchange = target.create({"snapshot": {}})
        waited = time.monotonic() - started
    assert 0.9 <= waited < 3
    assert exchange.response is not None
    assert exchange.response.status == 200
    assert exchange.attempts == 2
    assert len(server.requests) == 2


def test_a_drop_mid_body_is_an_error_naming_the_status(contract: Contract) -> None:
    with serve(drop_mid_body) as server, open_target(contract, server.base_url) as target:
        create = target.create({"snapshot": {}})
        creates = len(server.requests)
        read = target.get_snapshot("s")
    assert create.response is None
    assert create.error is not None
    assert "after HTTP 202 and 100 bytes of body" in create.error
    assert creates == 1
    assert read.attempts == 3


def test_a_redirect_is_recorded_and_the_token_stays_home(contract: Contract) -> None:
    with (
        serve(ok) as elsewhere,
        serve(redirect_to(elsewhere.base_url)) as server,
        open_target(contract, server.base_url) as target,
    ):
        create = target.create({"snapshot": {}})
        read = target.list_snapshots()
    assert create.response is not None
    assert create.response.status == 307
    assert create.response.headers["location"].startswith(elsewhere.base_url)
    assert read.response is not None
    assert read.response.status == 307
    assert [r.headers["x-auth-token"] for r in server.requests] == [TOKEN, TOKEN]
    assert elsewhere.requests == []


# -- TLS -------------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1 and its key, made with the openssl command."""
    openssl = shutil.which("openssl")
    if openssl is None:
        pytest.skip("the openssl command is not installed")
    where = tmp_path_factory.mktemp("tls")
    cert, key = where / "cert.pem", where / "key.pem"
    subprocess.run(
        [openssl, "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
         "-keyout", str(key), "-out", str(cert), "-days", "1", "-subj", "/CN=127.0.0.1",
         "-addext", "subjectAltName=IP:127.0.0.1"],
        check=True, capture_output=True, timeout=30,
    )  # fmt: skip
    return cert, key


@pytest.fixture
def tls_server(certificate: tuple[Path, Path]) -> Iterator[str]:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(*certificate)
    with serve(ok, tls=context) as server:
        yield server.base_url


def test_an_untrusted_certificate_is_refused_by_default(contract: Contract, tls_server: str) -> None:
    with open_target(contract, tls_server) as target:
        exchange = target.list_snapshots()
    assert exchange.response is None
    assert exchange.error is not None
    assert "CERTIFICATE_VERIFY_FAILED" in exchange.error


def test_a_ca_bundle_or_insecure_reaches_a_self_signed_target(
    contract: Contract, tls_server: str, certificate: tuple[Path, Path]
) -> None:
    for changes in ({"ca_bundle": certificate[0]}, {"insecure": True}):
        with open_target(contract, tls_server, **changes) as target:
            exchange = target.list_snapshots()
        assert exchange.response is not None, exchange.error
        assert exchange.response.status == 200


# -- end to end through `evs-conformance run` ------------------------------------------------------------
def evs_conformance() -> list[str]:
    script = Path(sys.executable).with_name("evs-conformance")
    return (
        [str(script)]
        if script.exists()
        else [sys.executable, "-c", "from conformance.cli import main; main()"]
    )


def run_against(base_url: str, reports: Path) -> subprocess.CompletedProcess[str]:
    command = [
        *evs_conformance(),
        "run",
        "--base-url", base_url,
        "--project-id", "p",
        "--token", TOKEN,
        "--volume-id", "v",
        "--no-lifecycle",
        "--examples", "3",
        "--reports", str(reports),
    ]  # fmt: skip
    started = time.monotonic()
    completed = subprocess.run(command, capture_output=True, text=True, timeout=180, check=False)
    assert time.monotonic() - started < 180
    assert "Traceback" not in completed.stderr
    assert "Traceback" not in completed.stdout
    return completed


@pytest.mark.slow
@pytest.mark.parametrize("behaviour", [reset, garbage], ids=["reset", "garbage"])
def test_run_against_an_unusable_target_is_a_tool_error(tmp_path: Path, behaviour: Behaviour) -> None:
    with serve(behaviour) as server:
        completed = run_against(server.base_url, tmp_path)
    assert completed.returncode == 2, completed.stderr
    lines = completed.stderr.strip().splitlines()
    assert len(lines) == 1
    assert lines[0].startswith("evs-conformance: error:")
    assert "is not reachable" in lines[0]
    assert TOKEN not in completed.stderr


@pytest.mark.slow
@pytest.mark.parametrize(
    ("behaviour", "reason"),
    [
        (enormous, "truncated"),
        (not_json, "Received: 200 OK"),
    ],
    ids=["enormous", "not-json"],
)
def test_run_against_a_target_that_breaks_on_creates_fails_with_the_reason(
    tmp_path: Path, behaviour: Behaviour, reason: str
) -> None:
    with serve(behaviour, disks=True) as server:
        completed = run_against(server.base_url, tmp_path)
    assert completed.returncode == 1, completed.stderr
    report = json.loads((tmp_path / "conformance.json").read_text())
    assert report["verdict"] == "fail"
    failing = [r for r in report["requirements"] if r["verdict"] == "fail"]
    assert any(reason in r["evidence"] for r in failing), [r["evidence"] for r in failing]
    written = [p for p in tmp_path.rglob("*") if p.is_file()]
    assert all(TOKEN not in p.read_text(errors="replace") for p in written)


@pytest.mark.slow
def test_a_target_that_drops_every_create_ends_the_run_early_with_the_reason(tmp_path: Path) -> None:
    """Every create breaks off mid-body: after a few in a row the run stops, cleans up and says why."""
    with serve(drop_mid_body, disks=True) as server:
        completed = run_against(server.base_url, tmp_path)
    assert completed.returncode == 2, completed.stderr
    assert "the run did not complete: the target stopped answering" in completed.stderr
    report = json.loads((tmp_path / "conformance.json").read_text())
    assert report["verdict"] == "incomplete"
    failing = " ".join(r["evidence"] for r in report["requirements"] if r["verdict"] == "fail")
    assert "after HTTP 202 and 100 bytes of body" in failing
    # Each create the target may have acted on is listed, though none has an ID to delete it by.
    left = report["cleanup"]["left"]
    assert left
    assert all("outcome unknown" in entry["reason"] for entry in left)
    creates = [json.loads(line) for line in (tmp_path / "creates.jsonl").read_text().splitlines()]
    assert len(left) == sum(1 for c in creates if c.get("outcome") == "unknown")


@pytest.mark.slow
def test_a_suite_against_a_hanging_target_ends_by_the_deadline(tmp_path: Path) -> None:
    """Every create hangs: the breaker ends the run early, with the reason, and lists every create."""
    env = {**os.environ, "EVS_TOKEN": TOKEN}
    env.pop("PYTEST_ADDOPTS", None)
    with serve(hang, disks=True) as server:
        command = [
            sys.executable, "-m", "pytest", "--pyargs", "conformance.suite", "-q", "-p", "no:cacheprovider",
            "-c", os.devnull, "--rootdir", str(tmp_path), f"--evs-reports={tmp_path}",
            f"--evs-base-url={server.base_url}", "--evs-project-id=p", "--evs-volume-id=v",
            "--evs-no-lifecycle", "--evs-examples=3", "--evs-timeout=0.3", "--evs-deadline=3",
        ]  # fmt: skip
        started = time.monotonic()
        completed = subprocess.run(command, capture_output=True, text=True, env=env, timeout=120, check=False)
        took = time.monotonic() - started
    assert completed.returncode == 2, completed.stdout[-2000:]
    assert took < 60
    report = json.loads((tmp_path / "conformance.json").read_text())
    assert report["verdict"] == "incomplete"
    assert "stopped answering" in report["incomplete_reason"]
    evidence = " ".join(r["evidence"] for r in report["requirements"] if r["verdict"] == "fail")
    assert "ReadTimeout" in evidence
    skipped = " ".join(r["evidence"] for r in report["requirements"] if r["verdict"] == "skip")
    assert "not reached" in skipped
