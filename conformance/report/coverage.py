"""The exit code a report earns: failures, skips and the share of requirements reached.

Example::

    decision = gate(report, fail_on_skip=True, min_reached=0.9)
    decision.exit_code, decision.reasons
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from conformance.core.errors import UsageError
from conformance.core.verdicts import FAIL, INCOMPLETE, REACHED, SKIP

EXIT_OK = 0
EXIT_FAILED = 1
#: An interrupted run proves nothing either way; it is reported like a tool error.
EXIT_INCOMPLETE = 2


@dataclass(frozen=True)
class GateDecision:
    """The exit code a report earns and, when it is not 0, why (one line each)."""

    exit_code: int
    reasons: tuple[str, ...]
    reached: float


def gate(
    report: Mapping[str, Any], *, fail_on_skip: bool = False, min_reached: float | None = None
) -> GateDecision:
    """The exit code: 2 for a run that did not complete (whatever it found); 1 on a failure, a skip (with
    ``fail_on_skip``) or too few requirements reached (``min_reached``, a share from 0 to 1); else 0.

    Requirements left out by ``--requirements`` count neither as skips nor in the share.
    """
    if min_reached is not None and not 0.0 <= min_reached <= 1.0:
        raise UsageError(f"the share of requirements to reach must be between 0 and 1, not {min_reached}")
    rows = [row for row in report.get("requirements", []) if row.get("selected", True)]
    reached = sum(1 for row in rows if row["verdict"] in REACHED)
    share = reached / len(rows) if rows else 0.0
    reasons: list[str] = []
    failed = [row["id"] for row in rows if row["verdict"] == FAIL]
    if failed or report.get("verdict") == FAIL:
        reasons.append(f"failed: {', '.join(failed) or 'the run'}")
    skipped = [row["id"] for row in rows if row["verdict"] == SKIP]
    if fail_on_skip and skipped:
        reasons.append(f"skipped (--fail-on-skip): {', '.join(skipped)}")
    if min_reached is not None and share < min_reached:
        reasons.append(
            f"reached {reached} of {len(rows)} requirements ({share:.0%}), below {min_reached:.0%}"
        )
    if report.get("verdict") == INCOMPLETE:
        why = report.get("incomplete_reason") or "no reason given"
        return GateDecision(EXIT_INCOMPLETE, (f"the run did not complete: {why}", *reasons), share)
    if reasons:
        return GateDecision(EXIT_FAILED, tuple(reasons), share)
    return GateDecision(EXIT_OK, (), share)
