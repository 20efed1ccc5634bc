"""The demo's clock: real time from a chosen instant, which "skip" moves forward."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta


class DemoClock:
    """Discord's wall clock in the demo (the emulator stamps messages with it). The bot runs on
    its own RunningClock started at the same instant (CLOCK_START); after a skip the demo
    restarts the bot at the new instant, so the two never drift apart by more than a start-up."""

    speed = 1.0

    def __init__(self, start: datetime) -> None:
        self._base = _aware(start)
        self._t0 = time.monotonic()

    def now(self) -> datetime:
        return self._base + timedelta(seconds=time.monotonic() - self._t0)

    def jump_to(self, when: datetime) -> datetime:
        """Move to `when` (never back: a demo's Discord does not un-send messages)."""
        when = _aware(when)
        if when < self.now():
            raise ValueError("the demo clock only moves forward")
        self._base = when
        self._t0 = time.monotonic()
        return when


def _aware(when: datetime) -> datetime:
    if when.tzinfo is None:
        raise ValueError("demo clock times must be timezone-aware")
    return when.astimezone(UTC)
