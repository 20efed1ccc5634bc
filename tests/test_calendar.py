"""The .ics file read back with icalendar, as a calendar app would read it."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import icalendar
from dateutil.rrule import rrulestr

from bot.meetings.calendar import calendar_file, series_uid
from bot.meetings.model import Meeting, Place, PlaceKind, Series
from bot.meetings.recurrence import Rule

LONDON = ZoneInfo("Europe/London")
NOW = datetime(2026, 9, 20, 12, 0, tzinfo=UTC)
VOICE = Place(PlaceKind.VOICE, channel_id=42)


def series(ended_at: datetime | None = None) -> Series:
    return Series(
        id=7,
        group_id=1,
        title="Monthly meet-up",
        rule=Rule.last_weekday(3),
        local_time=time(19, 30),
        anchor="2026-09-20",
        zone="Europe/London",
        duration_minutes=90,
        place=VOICE,
        description="Tea and talk",
        capacity=None,
        ended_at=ended_at,
    )


def meeting(
    meeting_id: int,
    occurrence: datetime,
    starts: datetime | None = None,
    *,
    cancelled: bool = False,
    note: str | None = None,
) -> Meeting:
    return Meeting(
        id=meeting_id,
        series_id=7,
        group_id=1,
        guild_id=9,
        title="Monthly meet-up",
        description="Tea and talk",
        zone="Europe/London",
        occurrence_start=occurrence,
        starts_at=starts or occurrence,
        duration_minutes=90,
        place=VOICE,
        moved=starts is not None,
        note=note,
        cancelled_at=NOW if cancelled else None,
        event_id=None,
        event_synced=None,
        capacity=None,
    )


SEP = datetime(2026, 9, 24, 18, 30, tzinfo=UTC)
OCT = datetime(2026, 10, 29, 19, 30, tzinfo=UTC)
NOV = datetime(2026, 11, 26, 19, 30, tzinfo=UTC)


def parse(data: bytes) -> list[icalendar.Event]:
    calendar = icalendar.Calendar.from_ical(data)
    assert {tz["TZID"] for tz in calendar.walk("VTIMEZONE")} == {"Europe/London"}
    return list(calendar.walk("VEVENT"))


def test_a_series_is_one_recurring_event_in_the_groups_zone_across_the_clock_change() -> None:
    (master,) = parse(calendar_file("North", "Europe/London", [series()], [], NOW))
    assert master["uid"] == series_uid(7)
    start = master.decoded("dtstart")
    assert start == datetime(2026, 9, 24, 19, 30, tzinfo=LONDON)
    rule = master["rrule"].to_ical().decode()
    local = list(rrulestr(rule, dtstart=start.replace(tzinfo=None)))[:3]
    # Wall time stays 19:30; in UTC the October meeting is an hour later than September's.
    assert [d.replace(tzinfo=LONDON).astimezone(UTC) for d in local] == [SEP, OCT, NOV]
    assert master.decoded("duration") == timedelta(minutes=90)


def test_cancelled_meetings_are_exdates_and_moved_ones_override_their_date() -> None:
    moved_to = datetime(2026, 10, 30, 18, 0, tzinfo=UTC)
    events = parse(
        calendar_file(
            "North",
            "Europe/London",
            [series()],
            [meeting(1, SEP, cancelled=True), meeting(2, OCT, moved_to), meeting(3, NOV)],
            NOW,
        )
    )
    master, override = events
    exdates = [d.dt for d in master["exdate"].dts]
    assert exdates == [SEP.astimezone(LONDON)]
    assert override["uid"] == master["uid"]
    assert override.decoded("recurrence-id").astimezone(UTC) == OCT
    assert override.decoded("dtstart").astimezone(UTC) == moved_to


def test_uids_are_stable_so_a_reimport_updates_rather_than_doubles() -> None:
    first = parse(calendar_file("North", "Europe/London", [series()], [], NOW))
    later = parse(
        calendar_file("North", "Europe/London", [series()], [meeting(1, SEP, cancelled=True)], NOW)
    )
    assert [e["uid"] for e in first] == [e["uid"] for e in later]


def test_an_ended_series_stops_with_until() -> None:
    ended = datetime(2026, 11, 1, tzinfo=UTC)
    (master,) = parse(calendar_file("North", "Europe/London", [series(ended)], [], NOW))
    start = master.decoded("dtstart")
    rule = master["rrule"].to_ical().decode()
    assert "UNTIL=20261101T000000Z" in rule
    dates = list(rrulestr(rule, dtstart=start))
    assert [d.astimezone(UTC) for d in dates] == [SEP, OCT]
