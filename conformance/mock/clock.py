"""The mock's sense of time: a clock to inject, the timestamp format it shows, and a time scale.

Every duration the mock keeps (settle, deletion, token lifetimes) is stated in the cloud's seconds and
passes through ``TimeScale.real`` once: with a scale of 60, a snapshot that settles after 180 cloud seconds
does so 3 real seconds after it was created. Timestamps stay real, so a client comparing ``created_at`` with
its own clock sees nothing odd.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from conformance.core.errors import UsageError

Clock = Callable[[], datetime]

TIME_FORMAT = "%Y-%m-%dT%H:%M:%S.%f"
#: How much faster than real time the mock may run, at most (and, inverted, how much slower).
MAX_TIME_SCALE = 1_000_000.0
MIN_TIME_SCALE = 1 / 1000


def utc_now() -> datetime:
    """The default clock: the current UTC time."""
    return datetime.now(UTC)


def stamp(moment: datetime | None) -> str | None:
    """A moment as the API shows it (UTC, six fraction digits, no zone), or None."""
    return None if moment is None else moment.astimezone(UTC).strftime(TIME_FORMAT)


def check_time_scale(scale: object) -> float:
    """``scale`` as a float after checking it is a sane factor; anything else is a UsageError."""
    # The range test also turns away NaN, for which no comparison holds.
    if (
        isinstance(scale, bool)
        or not isinstance(scale, int | float)
        or not MIN_TIME_SCALE <= scale <= MAX_TIME_SCALE
    ):
        shown = repr(scale)[:40]
        raise UsageError(
            f"the time scale must be a number from {MIN_TIME_SCALE:g} to {MAX_TIME_SCALE:g} "
            f"(how many times faster than real time the mock runs), not {shown}"
        )
    return float(scale)


class TimeScale:
    """Turns the cloud's seconds into real time; ``factor`` 60 makes a cloud minute last a real second."""

    def __init__(self, factor: float = 1.0) -> None:
        self.factor = factor

    @property
    def factor(self) -> float:
        return self._factor

    @factor.setter
    def factor(self, value: float) -> None:
        self._factor = check_time_scale(value)

    def real(self, cloud_seconds: float) -> timedelta:
        """How long ``cloud_seconds`` of the cloud's time last in real time."""
        return timedelta(seconds=cloud_seconds / self._factor)
