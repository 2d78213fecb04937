"""Print what a whole verdict costs against a limited cloud: creates, real seconds and the cloud's time.

The target is the mock with Huawei EVS's limits (one snapshot of a disk at a time, seven per disk, a
snapshot being made cannot be deleted; three minutes to settle, one to delete), its time running
``--time-scale`` times faster than the cloud's: a real second stands for that many cloud seconds. Two runs of
``evs-conformance run`` go against a fresh mock each:

* the planned creates, with ``--max-creates 6``;
* the plan as it was before (the many small positive tests, no scheduling), from the revision
  ``OLD_PLAN_REVISION`` of this repository, with the same options. It is charged the cloud's refusals as
  failures; what it reached is printed.

Then the dry run's estimate for the same settle time, beside the measured time.

Run: ``python benchmarks/limited_cloud.py [--time-scale 60] [--examples 5] [--profile huawei]``. The old plan
needs this repository's git history (``--no-old`` skips it).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tarfile
import tempfile
import time
from dataclasses import dataclass
from io import BytesIO
from pathlib import Path
from typing import Any

from conformance.contract import PROFILES
from conformance.mock import MockConfig, serve_in_subprocess
from conformance.mock.limits import PRESETS
from conformance.rules.creates.cost import shown_duration

ROOT = Path(__file__).resolve().parents[1]
#: The last revision whose suite made many small creates without scheduling them.
OLD_PLAN_REVISION = "857c8f13201f86627be55dc0935989e07dfd91ad"
RUN_TIMEOUT_S = 3600


@dataclass(frozen=True)
class Measured:
    """One run: its verdict line, requirement verdicts, creates, and real seconds."""

    label: str
    verdicts: dict[str, str]
    creates: int
    seconds: float
    verdict: str
    exit_code: int

    def reached(self) -> int:
        return sum(1 for v in self.verdicts.values() if v != "skip")

    def count(self, verdict: str) -> int:
        return sum(1 for v in self.verdicts.values() if v == verdict)


def run_suite(
    label: str, *, profile: str, scale: float, examples: int, reports: Path, pythonpath: Path | None
) -> Measured:
    """``evs-conformance run --max-creates 6`` against a fresh limited mock; what came of it."""
    config = MockConfig(profile=profile, limits="huawei", time_scale=scale)
    env = {k: v for k, v in os.environ.items() if k not in ("EVS_TOKEN", "EVS_PASSWORD", "PYTHONPATH")}
    if pythonpath is not None:
        env["PYTHONPATH"] = str(pythonpath)
    with serve_in_subprocess(config) as mock:
        env["EVS_TOKEN"] = mock.token
        argv = [
            sys.executable, "-m", "conformance", "run", "--base-url", mock.base_url, "--profile", profile,
            "--project-id", mock.project_id, "--volume-id", mock.available_volume_id,
            "--in-use-volume-id", mock.in_use_volume_id, "--reports", str(reports),
            "--max-creates", "6", "--examples", str(examples),
        ]  # fmt: skip
        started = time.monotonic()
        # From the reports folder: ``python -m`` puts the working folder first on the import path.
        done = subprocess.run(
            argv, env=env, cwd=reports, capture_output=True, text=True, timeout=RUN_TIMEOUT_S, check=False
        )
        seconds = time.monotonic() - started
    report_path = reports / "conformance.json"
    if not report_path.exists():
        raise SystemExit(
            f"{label}: no report (exit {done.returncode}):\n{done.stdout[-2000:]}{done.stderr[-2000:]}"
        )
    report: dict[str, Any] = json.loads(report_path.read_text(encoding="utf-8"))
    verdicts = {row["id"]: row["verdict"] for row in report["requirements"]}
    return Measured(
        label, verdicts, int(report["stats"]["creates"]), seconds, report["verdict"], done.returncode
    )


def old_suite(into: Path) -> Path | None:
    """The old plan's package, unpacked from this repository's history; None without the history."""
    done = subprocess.run(
        ["git", "-C", str(ROOT), "archive", "--format=tar", OLD_PLAN_REVISION, "conformance", "spec"],
        capture_output=True,
        check=False,
    )
    if done.returncode != 0:
        return None
    with tarfile.open(fileobj=BytesIO(done.stdout)) as archive:
        archive.extractall(into, filter="data")
    return into


def estimate(profile: str, settle_s: float, scratch: Path) -> str:
    """The dry run's time line for the planned creates at ``settle_s``."""
    argv = [
        sys.executable, "-m", "conformance", "run", "--dry-run", "--base-url", "http://127.0.0.1:9",
        "--project-id", "p", "--volume-id", "v", "--in-use-volume-id", "u", "--token", "dry-run-token-0123",
        "--profile", profile, "--max-creates", "6", "--settle-time", f"{settle_s:g}",
        "--reports", str(scratch),
    ]  # fmt: skip
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    out = subprocess.run(argv, capture_output=True, text=True, env=env, timeout=300, check=False).stdout
    line = next((line.strip() for line in out.splitlines() if line.strip().startswith("time:")), "")
    return line.removeprefix("time:").strip() or "(no estimate printed)"


def show(measured: Measured, scale: float) -> None:
    cloud = measured.seconds * scale
    print(f"{measured.label}:")
    print(
        f"  verdict:  {measured.verdict} (exit {measured.exit_code}): {measured.count('pass')} pass, "
        f"{measured.count('fail')} fail, {measured.count('info')} info, {measured.count('skip')} skip"
    )
    print(f"  reached:  {measured.reached()} of {len(measured.verdicts)} requirements")
    print(f"  creates:  {measured.creates}")
    print(
        f"  time:     {measured.seconds:.1f} s real = {shown_duration(cloud)} of the cloud's time "
        f"({cloud:.0f} s at {scale:g}x)"
    )
    failed = sorted(rid for rid, v in measured.verdicts.items() if v == "fail")
    if failed:
        print(f"  failed:   {', '.join(failed)}")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--time-scale", type=float, default=60.0, help="cloud seconds per real second")
    parser.add_argument("--examples", type=int, default=5)
    parser.add_argument("--profile", choices=PROFILES, default="huawei")
    parser.add_argument("--no-old", action="store_true", help="measure the planned creates only")
    options = parser.parse_args()
    preset = PRESETS["huawei"]
    settle = preset.settle_seconds
    print(
        f"target: the mock with Huawei EVS's limits, {settle:g} s to settle and {preset.delete_seconds:g} s "
        f"to delete a snapshot, {options.time_scale:g}x faster; profile {options.profile}; --max-creates 6"
    )
    with tempfile.TemporaryDirectory(prefix="evs-limited-") as scratch:
        root = Path(scratch)
        (root / "new").mkdir()
        new = run_suite(
            "planned creates (this revision)",
            profile=options.profile,
            scale=options.time_scale,
            examples=options.examples,
            reports=root / "new",
            pythonpath=None,
        )
        show(new, options.time_scale)
        (root / "dry").mkdir()
        print(f"  estimate: {estimate(options.profile, settle, root / 'dry')}")
        if options.no_old:
            return
        package = old_suite(root / "old-package")
        if package is None:
            print(f"old plan: not measured (revision {OLD_PLAN_REVISION[:10]} is not in this repository)")
            return
        (root / "old").mkdir()
        old = run_suite(
            f"old plan (revision {OLD_PLAN_REVISION[:10]})",
            profile=options.profile,
            scale=options.time_scale,
            examples=options.examples,
            reports=root / "old",
            pythonpath=package,
        )
        show(old, options.time_scale)
        if old.count("fail") > new.count("fail"):
            print(
                "  the old plan cannot finish within the limits: the cloud's refusals of a busy disk are "
                "charged to it as failures (the target is conformant)"
            )
        print(
            f"ratio: the planned creates use {new.creates}/{old.creates} of the old plan's creates and "
            f"{new.seconds / old.seconds:.2f}x its time, reaching {new.reached()} requirements "
            f"({new.count('fail')} fail) against {old.reached()} ({old.count('fail')} fail)"
        )


if __name__ == "__main__":
    main()
