"""Whole runs against hostile loopback servers: each ends in bounded time with a report and no traceback,
every create the server acted on is counted and listed, and the budget holds against what the server saw."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from conformance.mock.server import MockConfig, serve_in_thread
from tests.safety.live import run_env
from tests.targets.misbehaving import (
    DEEP_JSON,
    LONG_ID,
    Behaviour,
    Misbehaving,
    absurd_length,
    accepted_as,
    accepted_with_fresh_ids,
    acting,
    deep_json,
    hang,
    is_create,
    retry_much_later,
    serve,
    server_error,
    summary,
    trickled_headers,
)

pytestmark = pytest.mark.slow

TOKEN = "tok-hostile-5e1d"
BUDGET = 3
DEADLINE_S = 8.0
CLEANUP_S = 4.0
#: Start-up, pre-flight and writing the reports, on a busy 2-core machine.
SLACK_S = 12.0
LIMITS = (
    "--max-creates", str(BUDGET),
    "--deadline", f"{DEADLINE_S:g}",
    "--cleanup-timeout", f"{CLEANUP_S:g}",
    "--timeout", "1",
    "--retries", "1",
)  # fmt: skip


@dataclass(frozen=True)
class Ran:
    completed: subprocess.CompletedProcess[str]
    took_s: float
    reports: Path

    @property
    def report(self) -> dict[str, Any]:
        loaded: dict[str, Any] = json.loads((self.reports / "conformance.json").read_text())
        return loaded

    @property
    def journal(self) -> list[dict[str, Any]]:
        return [json.loads(line) for line in (self.reports / "creates.jsonl").read_text().splitlines()]


def run_against(server: Misbehaving, reports: Path, *extra: str) -> Ran:
    argv = [
        sys.executable, "-m", "conformance", "run",
        "--base-url", server.base_url,
        "--project-id", "p",
        "--volume-id", "v",
        "--reports", str(reports),
        "--examples", "3",
        *extra,
    ]  # fmt: skip
    started = time.monotonic()
    completed = subprocess.run(argv, env=run_env(TOKEN), capture_output=True, text=True, timeout=180)
    return Ran(completed, time.monotonic() - started, reports)


def assert_ended_well(ran: Ran, bound_s: float) -> None:
    """Bounded in time, no traceback, a report written, and the token in none of it."""
    output = ran.completed.stdout + ran.completed.stderr
    assert ran.took_s < bound_s, f"took {ran.took_s:.1f} s: {output[-2000:]}"
    assert "Traceback" not in output, output[-4000:]
    assert ran.completed.returncode in (0, 1, 2), output[-2000:]
    assert (ran.reports / "conformance.json").is_file(), output[-2000:]
    assert TOKEN not in output


#: Servers that act on every create they receive, and how each then answers.
ACTING: dict[str, Behaviour] = {
    "trickled-headers": acting(trickled_headers),
    "create-then-hang": acting(hang),
    "create-then-500": acting(server_error),
    "202-html": acting(accepted_as(b"<html><body>Created</body></html>", "text/html")),
    "202-invalid-utf8": acting(accepted_as(b'{"snapshot": {"id": "\xff\xfe\xfd"}}')),
    "202-deep-json": acting(accepted_as(DEEP_JSON)),
    "202-absurd-content-length": acting(absurd_length),
    "202-100000-character-id": acting(accepted_as(summary(LONG_ID))),
    "deep-json-on-read-and-cleanup": acting(
        accepted_with_fresh_ids, on_read=deep_json(200), on_delete=accepted_as(b"")
    ),
}


@pytest.mark.parametrize("name", list(ACTING))
def test_a_hostile_target_gets_a_bounded_run_and_every_create_is_accounted_for(
    name: str, tmp_path: Path
) -> None:
    with serve(ACTING[name], disks=True) as server:
        ran = run_against(server, tmp_path, *LIMITS)
        acted = [r for r in server.requests if is_create(r)]
    assert_ended_well(ran, DEADLINE_S + CLEANUP_S + SLACK_S)
    # The budget holds against what the server saw, every create it acted on is counted and listed.
    assert 0 < len(acted) <= BUDGET
    report, journal = ran.report, ran.journal
    assert sum(1 for line in journal if line["e"] == "sent") == len(acted)
    counted = [line for line in journal if line["e"] == "answer" and line["outcome"] != "refused"]
    assert len(counted) == len(acted)
    assert report["stats"]["creates"] == len(acted)
    cleanup = report["cleanup"]
    assert cleanup["deleted"] == 0, "nothing these servers made could be seen gone"
    assert len(cleanup["left"]) == len(acted)
    assert all(len(entry["id"]) < 200 for entry in cleanup["left"])


def test_a_day_long_retry_after_is_not_waited_for(tmp_path: Path) -> None:
    with serve(retry_much_later, disks=True) as server:
        ran = run_against(server, tmp_path, *LIMITS)
    assert_ended_well(ran, DEADLINE_S + CLEANUP_S + SLACK_S)
    failing = " ".join(r["evidence"] for r in ran.report["requirements"] if r["verdict"] == "fail")
    assert "429" in failing
    assert ran.report["cleanup"]["left"] == []  # a 429 made nothing


def test_a_rate_limited_run_stops_at_its_deadline(tmp_path: Path) -> None:
    deadline = 5.0
    with serve_in_thread(MockConfig()) as mock:
        argv = [
            sys.executable, "-m", "conformance", "run",
            "--base-url", mock.base_url,
            "--project-id", mock.project_id,
            "--volume-id", mock.available_volume_id,
            "--in-use-volume-id", mock.in_use_volume_id,
            "--reports", str(tmp_path),
            "--rate-limit", "2/s",
            "--deadline", f"{deadline:g}",
            "--cleanup-timeout", f"{CLEANUP_S:g}",
        ]  # fmt: skip
        started = time.monotonic()
        env = {**run_env(mock.token), "PYTHONUNBUFFERED": "1"}
        completed = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=180)
        took = time.monotonic() - started
        assert mock.backend is not None
        left = mock.backend.list_snapshots(mock.project_id)
    assert "Traceback" not in completed.stdout + completed.stderr
    assert deadline <= took < deadline + CLEANUP_S + SLACK_S, completed.stderr[-2000:]
    report = json.loads((tmp_path / "conformance.json").read_text())
    skipped = " ".join(r["evidence"] for r in report["requirements"] if r["verdict"] == "skip")
    assert "time ran out (--deadline 5 s)" in skipped
    assert left == []
    assert os.path.exists(tmp_path / "creates.jsonl")
