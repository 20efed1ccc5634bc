"""Time as an argument: every time-dependent module asks a Clock for `now`.

Production uses SystemClock; tests use ManualClock and move time explicitly, so no test patches
`datetime` or sleeps.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Protocol


class Clock(Protocol):
    def now(self) -> datetime:
        """The current instant, timezone-aware, in UTC."""
        ...


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)


@dataclass
class ManualClock:
    """A clock that only moves when told to."""

    current: datetime = field(default_factory=lambda: datetime(2026, 1, 1, tzinfo=UTC))

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


def _require_aware(when: datetime) -> datetime:
    if when.tzinfo is None or when.utcoffset() is None:
        raise ValueError("clock times must be timezone-aware")
    return when.astimezone(UTC)
