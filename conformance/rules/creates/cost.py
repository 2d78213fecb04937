"""What a run costs on a limited cloud: the wall time of its creates, estimated before anything is sent.

On a cloud that makes one snapshot of a disk at a time, each create on a disk waits for the one before it to
settle; the run spreads its creates over the available disks, the in-use disk's creates run beside them, and
the deletions run while the next snapshot settles. Two deletions are waited for: the one LIFE-DELETE follows
and the last one of cleanup, each taken to last as long as settling (a cloud states neither). So the time is
the settle time once per create on the busiest disk and twice more, plus a fixed share per request.

Example::

    wall_time_s(on_available=5, on_in_use=1, disks=1, settle_s=180, requests=600)   # 1380.0
"""

from __future__ import annotations

import math

#: Seconds one request to a remote endpoint takes, for the estimate (round trips of a cloud API).
REQUEST_S = 0.2
#: Deletions the run waits for in full: LIFE-DELETE's, and cleanup's last.
DELETIONS_WAITED = 2


def wall_time_s(
    *,
    on_available: int,
    on_in_use: int,
    disks: int,
    settle_s: float,
    requests: int,
    one_at_a_time: bool = True,
) -> float:
    """Seconds ``on_available`` creates on ``disks`` available disks and ``on_in_use`` on the in-use one take,
    each snapshot ``settle_s`` to settle (``one_at_a_time`` off: every snapshot settles at once)."""
    if not on_available and not on_in_use:
        return requests * REQUEST_S
    busiest = max(math.ceil(on_available / max(disks, 1)), on_in_use) if one_at_a_time else 1
    return (busiest + DELETIONS_WAITED) * settle_s + requests * REQUEST_S


def shown_duration(seconds: float) -> str:
    """``seconds`` as a reader takes it in: seconds, minutes or hours."""
    if seconds < 120:
        return f"{seconds:.0f} s"
    if seconds < 2 * 3600:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"
