"""No secret in any artefact: a whole run with a recognisable token, and one with password authentication."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from conformance.mock.server import MockConfig, RunningMock, serve_in_thread
from conformance.plugin.redaction import MIN_SECRET_LENGTH
from tests.runs import run_command

TOKEN = "TOKEN-recognisable-5f1e0c2a9b7d"
PASSWORD = "PASSWORD-recognisable-8c3b1e"
USER = "evs-tester"
#: Quirks that make tests fail, so the failure paths (messages, reproductions, attachments) are written.
QUIRKS = frozenset({"echo-drops-metadata", "accepts-invalid-token"})


@pytest.fixture
def mock() -> Iterator[RunningMock]:
    config = MockConfig(token=TOKEN, users=((USER, PASSWORD),), quirks=QUIRKS, settle_seconds=0.05)
    with serve_in_thread(config) as running:
        yield running


def run_cli(
    mock: RunningMock, reports: Path, env: dict[str, str], *extra: str
) -> subprocess.CompletedProcess[str]:
    return run_command(mock, reports, "--cleanup-timeout", "5", *extra, env=env, timeout_s=300)


def written(reports: Path, result: subprocess.CompletedProcess[str]) -> dict[str, str]:
    """Every file under the reports directory, and the captured output, as text."""
    texts = {str(p): p.read_bytes().decode("utf-8", "replace") for p in reports.rglob("*") if p.is_file()}
    texts["<stdout>"] = result.stdout
    texts["<stderr>"] = result.stderr
    return texts


def assert_absent(texts: dict[str, str], *secrets: str) -> None:
    for secret in secrets:
        assert len(secret) >= MIN_SECRET_LENGTH
        leaks = [name for name, text in texts.items() if secret in text]
        assert not leaks, f"{secret[:6]}... found in {leaks}"


def assert_failures_were_written(reports: Path, result: subprocess.CompletedProcess[str]) -> None:
    assert result.returncode == 1, result.stdout[-2000:] + result.stderr[-2000:]
    attachments = list((reports / "allure-results").glob("*-attachment*"))
    assert attachments, "the failure paths wrote no attachment"
    assert "failure" in (reports / "junit.xml").read_text(encoding="utf-8")
    assert "curl -i -X POST" in (reports / "conformance.md").read_text(encoding="utf-8")


def test_a_token_appears_in_no_artefact(mock: RunningMock, tmp_path: Path) -> None:
    reports = tmp_path / "reports"
    result = run_cli(mock, reports, {"EVS_TOKEN": TOKEN})
    assert_failures_were_written(reports, result)
    texts = written(reports, result)
    assert len(texts) > 10
    assert_absent(texts, TOKEN)


def test_a_password_and_the_tokens_it_got_appear_in_no_artefact(mock: RunningMock, tmp_path: Path) -> None:
    issued: list[str] = []
    backend: Any = mock.backend
    original = backend.issue_token

    def recording(user: str, password: str, project_id: str) -> Any:
        token, body = original(user, password, project_id)
        issued.append(token)
        return token, body

    backend.issue_token = recording
    reports = tmp_path / "reports"
    auth = ["--iam-url", f"{mock.base_url}/v3", "--username", USER, "--domain", "Default"]
    result = run_cli(mock, reports, {"EVS_PASSWORD": PASSWORD}, *auth)
    assert_failures_were_written(reports, result)
    assert issued, "password authentication fetched no token"
    assert_absent(written(reports, result), PASSWORD, *issued)


def test_a_refused_password_is_one_line_without_the_password(mock: RunningMock, tmp_path: Path) -> None:
    auth = ["--iam-url", f"{mock.base_url}/v3", "--username", USER, "--domain", "Default"]
    wrong = "WRONG-password-0d9c8b7a"
    result = run_cli(mock, tmp_path / "reports", {"EVS_PASSWORD": wrong}, *auth)
    assert result.returncode == 2
    assert "refused a token" in result.stderr
    assert "Traceback" not in result.stderr
    assert wrong not in result.stderr + result.stdout
