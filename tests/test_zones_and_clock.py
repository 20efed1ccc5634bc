from __future__ import annotations

import zoneinfo
from datetime import UTC, datetime, timedelta, timezone

import pytest

from bot.clock import ManualClock, SystemClock
from bot.zones import UnknownTimeZoneError, load_zone


def test_zone_data_comes_from_the_tzdata_package_not_the_host() -> None:
    load_zone("Europe/London")
    assert zoneinfo.TZPATH == ()
    london = load_zone("Europe/London")
    summer = datetime(2026, 7, 1, 12, tzinfo=london)
    assert summer.utcoffset() == timedelta(hours=1)


@pytest.mark.parametrize("name", ["Europe/Londn", "", "../etc/passwd", "/etc/localtime", "UTC+1"])
def test_unknown_zones_are_refused(name: str) -> None:
    with pytest.raises(UnknownTimeZoneError):
        load_zone(name)


def test_system_clock_is_aware_utc() -> None:
    now = SystemClock().now()
    assert now.tzinfo is UTC


def test_manual_clock_moves_only_when_told() -> None:
    clock = ManualClock(datetime(2026, 3, 29, 0, 30, tzinfo=UTC))
    assert clock.now() == clock.now()
    clock.advance(timedelta(hours=1))
    assert clock.now() == datetime(2026, 3, 29, 1, 30, tzinfo=UTC)
    with pytest.raises(ValueError, match="forward"):
        clock.advance(timedelta(seconds=-1))


def test_manual_clock_normalises_to_utc_and_refuses_naive_times() -> None:
    clock = ManualClock(datetime(2026, 1, 1, 9, tzinfo=timezone(timedelta(hours=2))))
    assert clock.now() == datetime(2026, 1, 1, 7, tzinfo=UTC)
    assert clock.now().tzinfo is UTC
    with pytest.raises(ValueError, match="aware"):
        clock.set(datetime(2026, 1, 1))  # noqa: DTZ001
