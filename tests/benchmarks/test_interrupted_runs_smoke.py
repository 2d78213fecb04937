"""The interrupted-runs benchmark plays its rounds end to end and prints what each left."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[2] / "benchmarks" / "interrupted_runs.py"


@pytest.mark.slow
def test_benchmark_prints_each_round_and_the_totals() -> None:
    done = subprocess.run(
        [sys.executable, str(SCRIPT), "--runs", "1", "--seed", "5", "--max-wait", "2"],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    rounds = re.findall(
        r"^ 1  (SIG[A-Z, a-z]+?) +[12] +[0-9.]+s +(-?\d+) +(\d+) +(\d+) +(\d+) +(\d+)", done.stdout, re.M
    )
    assert len(rounds) == 1, done.stdout
    assert all(int(created) > 0 for _, _, created, *_ in rounds)
    total = re.search(
        r"^total: (\d+) created, (\d+) cleaned, (\d+) listed, (\d+) left unlisted", done.stdout, re.M
    )
    assert total is not None, done.stdout
    assert int(total.group(4)) == 0
