"""``--rate-limit`` is one limit for the whole run, however many ``--workers`` send."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from conformance.mock.server import MockConfig, serve_in_thread
from tests.runs import run_command
from tests.safety.live import Front
from tests.targets.misbehaving import passed_on, serve

pytestmark = pytest.mark.slow

RATE = 5.0


def busiest_second(times: list[float]) -> int:
    """The most requests that arrived within any one second."""
    times = sorted(times)
    return max(sum(1 for t in times[i:] if t - start < 1.0) for i, start in enumerate(times))


def test_two_workers_share_one_rate_limit(tmp_path: Path) -> None:
    with serve_in_thread(MockConfig()) as mock, serve(passed_on(mock.base_url)) as front:
        # The mock is thrown away afterwards: no cleanup, whose paced requests would only add time.
        options = ("--workers", "2", "--rate-limit", f"{RATE:g}/s", "--deadline", "6", "--no-cleanup")
        completed = run_command(Front.of(front, mock), tmp_path, *options, env={"EVS_TOKEN": mock.token})
        seen = [r.at for r in front.requests]
    report = json.loads((tmp_path / "conformance.json").read_text())
    assert "Traceback" not in completed.stdout + completed.stderr
    assert report["stats"]["cases"] > 0
    # Both workers created: the run had two senders to keep to one limit.
    journal = [json.loads(line) for line in (tmp_path / "creates.jsonl").read_text().splitlines()]
    assert {line["key"].split("-")[0] for line in journal if line["e"] == "sent"} == {"gw0", "gw1"}
    assert len(seen) > 3 * RATE
    # A request may arrive a little early or late against its slot: one more than the rate in any second.
    assert busiest_second(seen) <= RATE + 1
    assert len(seen) / (max(seen) - min(seen)) <= RATE * 1.1
