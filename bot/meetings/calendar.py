"""A group's meetings as an iCalendar (.ics) file that phones and calendar apps understand.

Each series is one recurring event: its RRULE from the series' own rule, in the group's zone with
a VTIMEZONE, so the app repeats it correctly across clock changes. Cancelled meetings are
EXDATEs and moved ones override their date (RECURRENCE-ID). UIDs are stable, so importing the
file again updates the calendar instead of doubling it.

icalendar is imported when a file is first built (only /meeting calendar needs it), not when the
bot starts.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

import aiosqlite

from bot.groups.model import Group
from bot.meetings.model import Meeting, Series
from bot.meetings.queries import live_series, series_meetings
from bot.meetings.recurrence import Schedule, occurrences
from bot.texts import meetings as texts

if TYPE_CHECKING:
    from icalendar import Event

PRODUCT_ID = "-//Holdfast//Support group meetings//EN"


def series_uid(series_id: int) -> str:
    return f"series-{series_id}@holdfast"


def meeting_uid(meeting_id: int) -> str:
    return f"meeting-{meeting_id}@holdfast"


def _where(meeting_or_series: Meeting | Series) -> str:
    place = meeting_or_series.place
    if place.location:
        return place.location
    return texts.calendar_channel_place()


def calendar_file(
    group_name: str,
    zone_name: str,
    series_list: Sequence[Series],
    meetings: Sequence[Meeting],
    now: datetime,
) -> bytes:
    from icalendar import Calendar

    zone = ZoneInfo(zone_name)
    calendar = Calendar()
    calendar.add("prodid", PRODUCT_ID)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("method", "PUBLISH")
    calendar.add("x-wr-calname", group_name)
    calendar.add("x-wr-timezone", zone_name)
    by_series: dict[int, list[Meeting]] = {}
    for meeting in meetings:
        by_series.setdefault(meeting.series_id, []).append(meeting)
    for series in series_list:
        own = by_series.get(series.id, [])
        for event in _series_events(series, own, zone, now):
            calendar.add_component(event)
    calendar.add_missing_timezones()
    return bytes(calendar.to_ical())


async def calendar_for_group(conn: aiosqlite.Connection, group: Group, now: datetime) -> bytes:
    """The .ics for a group's live series, with every meeting change still worth knowing."""
    series_list = await live_series(conn, group.id)
    meetings: list[Meeting] = []
    for series in series_list:
        meetings += await series_meetings(conn, series.id, after=now - timedelta(days=31))
    return calendar_file(group.name, group.timezone, series_list, meetings, now)


def _series_events(
    series: Series, meetings: Sequence[Meeting], zone: ZoneInfo, now: datetime
) -> list[Event]:
    schedule = Schedule(
        rule=series.rule,
        local_time=series.local_time,
        zone=series.zone,
        anchor=datetime.fromisoformat(series.anchor).date(),
    )
    anchor_start = datetime.combine(schedule.anchor, datetime.min.time(), zone)
    first = occurrences(schedule, after=anchor_start, count=1)
    if not first:
        return []
    start = first[0]
    from icalendar import vRecur

    rule = vRecur.from_ical(series.rule.to_rrule())
    if series.ended_at is not None:
        rule["UNTIL"] = series.ended_at.astimezone(ZoneInfo("UTC"))
    master = _event(series_uid(series.id), series.title, series.description, _where(series), now)
    master.add("dtstart", start.astimezone(zone))
    master.add("duration", timedelta(minutes=series.duration_minutes))
    master.add("rrule", rule)
    events = [master]
    # What the rule itself produces: overrides and exceptions may only name these dates.
    last = max([m.occurrence_start for m in meetings], default=start)
    produced = set(occurrences(schedule, after=start, before=last + timedelta(seconds=1)))
    for meeting in meetings:
        if meeting.cancelled:
            if meeting.occurrence_start in produced:
                master.add("exdate", meeting.occurrence_start.astimezone(zone))
            continue
        if not meeting.moved and meeting.note is None and meeting.topic is None:
            continue
        topic = texts.topic_line(meeting.topic) if meeting.topic else None
        description = "\n\n".join(p for p in (topic, series.description, meeting.note) if p) or None
        if meeting.occurrence_start in produced:
            override = _event(
                series_uid(series.id), series.title, description, _where(meeting), now
            )
            override.add("recurrence-id", meeting.occurrence_start.astimezone(zone))
        else:
            # Its original date is no longer in the rule (the series was edited since).
            override = _event(
                meeting_uid(meeting.id), series.title, description, _where(meeting), now
            )
        override.add("dtstart", meeting.starts_at.astimezone(zone))
        override.add("duration", timedelta(minutes=meeting.duration_minutes))
        events.append(override)
    return events


def _event(uid: str, title: str, description: str | None, where: str, now: datetime) -> Event:
    from icalendar import Event

    event = Event()
    event.add("uid", uid)
    event.add("summary", title)
    event.add("dtstamp", now)
    event.add("location", where)
    if description:
        event.add("description", description)
    return event
