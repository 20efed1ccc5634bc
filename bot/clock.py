"""Time as an argument: every time-dependent module asks a Clock for `now`.

Production uses SystemClock; tests use ManualClock and move time explicitly, so no test patches
`datetime` or sleeps.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Protocol


class Clock(Protocol):
    def now(self) -> datetime:
        """The current instant, timezone-aware, in UTC."""
        ...

    @property
    def speed(self) -> float:
        """How many seconds of this clock pass in one real second (1 but for the demo)."""
        ...


class SystemClock:
    speed = 1.0

    def now(self) -> datetime:
        return datetime.now(UTC)


class RunningClock:
    """Starts at a chosen instant and runs at real speed (or `speed` times faster).

    For the emulator and the demo only (`CLOCK_START`): a process can live through a
    reminder's due time, a restart or a clock change without waiting for the calendar.
    """

    def __init__(self, start: datetime, speed: float = 1.0) -> None:
        self.start = _require_aware(start)
        self.speed = speed
        self._t0 = time.monotonic()

    def now(self) -> datetime:
        return self.start + timedelta(seconds=(time.monotonic() - self._t0) * self.speed)


@dataclass
class ManualClock:
    """A clock that only moves when told to.

    Its `speed` is 1: a wait on it lasts as long in real time (tests that move it by hand call
    the delivery alarm themselves rather than wait)."""

    current: datetime = field(default_factory=lambda: datetime(2026, 1, 1, tzinfo=UTC))
    speed: float = 1.0

    def __post_init__(self) -> None:
        self.current = _require_aware(self.current)

    def now(self) -> datetime:
        return self.current

    def advance(self, delta: timedelta) -> datetime:
        if delta < timedelta(0):
            raise ValueError("ManualClock only moves forward; use set() to jump")
        self.current += delta
        return self.current

    def set(self, when: datetime) -> datetime:
        self.current = _require_aware(when)
        return self.current


def real_delay(clock: Clock, delay: timedelta) -> timedelta:
    """How long a wait of `delay` on `clock` takes in real time: the same on the real clock,
    shorter on a demo clock that runs faster (a reminder due in five demo minutes at ten times
    speed is due in thirty real seconds)."""
    return delay / clock.speed


def _require_aware(when: datetime) -> datetime:
    if when.tzinfo is None or when.utcoffset() is None:
        raise ValueError("clock times must be timezone-aware")
    return when.astimezone(UTC)
