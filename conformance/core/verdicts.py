"""The verdict words, in one place: what a requirement gets, and what a whole run gets.

Every report, the waivers, the comparison and the exit code read these names; none spells a verdict itself.

Example::

    run_verdict(["pass", "waived", "info"])                       # "pass"
    run_verdict(["pass"], incomplete_reason="interrupted")        # "incomplete"
    run_verdict(["fail"], incomplete_reason="interrupted")        # "incomplete"; the rows keep the failure
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Final, Literal

PASS: Final = "pass"
FAIL: Final = "fail"
#: A failure the user accepted with a waiver (reason and expiry); it does not fail the run.
WAIVED: Final = "waived"
#: The document is silent: what the target did is recorded, never failed.
INFO: Final = "info"
#: Not tested, for a configuration reason (no in-use disk, the create budget, not selected).
SKIP: Final = "skip"
#: A run verdict only: the run stopped before it reached every requirement it planned to.
INCOMPLETE: Final = "incomplete"

Verdict = Literal["pass", "fail", "waived", "info", "skip"]
RunVerdict = Literal["pass", "fail", "incomplete"]

#: Every requirement verdict, in the order reports list and count them.
VERDICTS: Final[tuple[Verdict, ...]] = (PASS, FAIL, WAIVED, INFO, SKIP)
#: Every run verdict.
RUN_VERDICTS: Final[tuple[RunVerdict, ...]] = (PASS, FAIL, INCOMPLETE)
#: Requirement verdicts that say the run reached the requirement (sent requests that exercised it).
REACHED: Final = frozenset({PASS, FAIL, WAIVED, INFO})


def run_verdict(verdicts: Iterable[str], *, incomplete_reason: str | None = None) -> RunVerdict:
    """The run's verdict from its requirements' verdicts: incomplete when the run stopped early, else fail on
    any failure, else pass.

    A run that stopped early says so first: its rows keep every failure it found, but the run as a whole
    proved less than it set out to, and a CI job must not read it as an ordinary pass or fail.
    """
    if incomplete_reason:
        return INCOMPLETE
    return FAIL if any(verdict == FAIL for verdict in verdicts) else PASS
