"""The horizon sweep's shortcut (bot/meetings/series.py `_nothing_new`): it may pass a series
over only when the full reckoning would store nothing, whatever the rule, zone and instant."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from bot.meetings import series as series_module
from bot.meetings.model import Place, PlaceKind, Series
from bot.meetings.recurrence import Schedule, occurrences, parse_rule

RULES = (
    "second Tuesday",
    "first Saturday",
    "last Thursday",
    "day 31",
    "weekly Monday",
    "fortnightly Friday",
    "FREQ=YEARLY;BYMONTH=3;BYMONTHDAY=1",
    "FREQ=YEARLY;BYMONTH=3,9;BYMONTHDAY=1",
)
ZONES = ("Europe/London", "America/New_York", "Australia/Sydney", "Asia/Kolkata")
ANCHOR = date(2026, 1, 5)


def _series(rule: str, zone: str, ended: bool) -> Series:
    return Series(
        id=1,
        group_id=1,
        title="Monthly",
        rule=parse_rule(rule),
        local_time=time(19, 30),
        anchor=ANCHOR.isoformat(),
        zone=zone,
        duration_minutes=90,
        place=Place(PlaceKind.EXTERNAL, location="The hall"),
        description=None,
        capacity=None,
        ended_at=datetime(2026, 3, 1, tzinfo=UTC) if ended else None,
    )


@settings(max_examples=300, deadline=None)
@given(
    rule=st.sampled_from(RULES),
    zone=st.sampled_from(ZONES),
    ended=st.booleans(),
    days_in=st.integers(min_value=0, max_value=700),
    stored=st.integers(min_value=0, max_value=12),
    hours_later=st.integers(min_value=0, max_value=24 * 200),
)
def test_the_sweep_passes_a_series_over_only_when_nothing_is_there_to_store(
    rule: str, zone: str, ended: bool, days_in: int, stored: int, hours_later: int
) -> None:
    item = _series(rule, zone, ended)
    schedule = Schedule(item.rule, item.local_time, item.zone, ANCHOR)
    stored_at = datetime(2026, 1, 5, tzinfo=UTC) + timedelta(days=days_in)
    starts = occurrences(schedule, after=stored_at, count=stored)
    if not starts:
        return
    last = starts[-1]
    now = stored_at + timedelta(hours=hours_later)
    wanted = series_module._starts_to_store(item, now, last)
    assert series_module._nothing_new(item, now, last) == (wanted == [])
