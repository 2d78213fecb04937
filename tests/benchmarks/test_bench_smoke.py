"""The speed benchmark runs end to end with tiny numbers and prints its figures (no timing is asserted)."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

SCRIPT = Path(__file__).resolve().parents[2] / "benchmarks" / "suite_vs_schemathesis.py"
RATE = r"(\d+) cases in [0-9.]+ s = [0-9.]+ cases/s"


def test_benchmark_prints_both_rates_and_their_ratio() -> None:
    done = subprocess.run(
        [sys.executable, str(SCRIPT), "--cases", "20", "--rounds", "1", "--no-pytest", "--no-default-run"],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    out = done.stdout
    theirs = re.search(rf"^schemathesis run: {RATE}$", out, re.MULTILINE)
    ours = re.search(rf"^evs-conformance fuzzing: {RATE}$", out, re.MULTILINE)
    assert theirs is not None, out
    assert ours is not None, out
    # Schemathesis may add a case or two of its own; the suite runs exactly the number asked for.
    assert int(theirs.group(1)) >= 20
    assert int(ours.group(1)) == 20
    assert re.search(
        r"^ratio \(suite loop\): [0-9.]+x schemathesis run \(target >= 5x: (met|NOT met)\)$", out, re.M
    )
    assert re.search(
        r"^median ratio \(suite loop\) over 1 round\(s\): [0-9.]+x \(rounds: [0-9.]+x; target >= 5x: "
        r"(met|NOT met)\)$",
        out,
        re.M,
    )
    # Each side states which checks it applied to every exchange.
    assert "not_a_server_error" in out
    assert "RSP-NO-5XX (20/20)" in out


def test_the_limited_cloud_benchmark_prints_creates_and_both_times() -> None:
    script = SCRIPT.with_name("limited_cloud.py")
    done = subprocess.run(
        [sys.executable, str(script), "--time-scale", "1800", "--examples", "1", "--no-old"],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    out = done.stdout
    assert re.search(r"^  verdict:  pass \(exit 0\): 27 pass, 0 fail, 1 info, 0 skip$", out, re.M), out
    assert re.search(r"^  creates:  [1-6]$", out, re.M), out
    assert re.search(
        r"^  time:     [0-9.]+ s real = .+ of the cloud's time \([0-9]+ s at 1800x\)$", out, re.M
    ), out
    assert re.search(r"^  estimate: about .+ for the planned creates", out, re.M), out
