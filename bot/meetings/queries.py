"""Reading meetings and series: what is next, what is coming, one meeting in full."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, time

import aiosqlite

from bot.db import Step, run_steps
from bot.errors import NotFound
from bot.groups.model import Group
from bot.groups.service import group_from_row
from bot.meetings.model import Answer, Meeting, Place, PlaceKind, Series
from bot.meetings.recurrence import Rule
from bot.texts import groups as group_texts
from bot.texts import meetings as texts

_MEETING_COLUMNS = """
    m.id, m.series_id, s.group_id, g.guild_id, s.title, s.description, g.timezone,
    m.occurrence_start, m.starts_at, m.duration_minutes, m.place_kind, m.channel_id,
    m.location, m.moved, m.note, m.cancelled_at, m.event_id, m.event_synced, s.capacity,
    m.topic
"""

SELECT_MEETING = f"""
SELECT {_MEETING_COLUMNS}
FROM meetings AS m
JOIN series AS s ON s.id = m.series_id
JOIN groups AS g ON g.id = s.group_id
WHERE m.id = :id
"""

# The group a meeting belongs to (every column, as groups' own reads have them).
SELECT_GROUP_OF_MEETING = """
SELECT g.*
FROM groups AS g
JOIN series AS s ON s.group_id = g.id
JOIN meetings AS m ON m.series_id = s.id
WHERE m.id = :meeting_id
"""

# Meetings still to come or under way (a meeting that started ten minutes ago is "now").
SELECT_UPCOMING_FOR_GROUP = f"""
SELECT {_MEETING_COLUMNS}
FROM meetings AS m
JOIN series AS s ON s.id = m.series_id
JOIN groups AS g ON g.id = s.group_id
WHERE s.group_id = :group_id
  AND m.starts_at > :after
  AND (:include_cancelled OR m.cancelled_at IS NULL)
ORDER BY m.starts_at, m.id
LIMIT :limit
"""

SELECT_UPCOMING_FOR_SERIES = f"""
SELECT {_MEETING_COLUMNS}
FROM meetings AS m
JOIN series AS s ON s.id = m.series_id
JOIN groups AS g ON g.id = s.group_id
WHERE m.series_id = :series_id AND m.starts_at > :after
ORDER BY m.starts_at, m.id
"""

SELECT_ALL_FOR_SERIES = f"""
SELECT {_MEETING_COLUMNS}
FROM meetings AS m
JOIN series AS s ON s.id = m.series_id
JOIN groups AS g ON g.id = s.group_id
WHERE m.series_id = :series_id
ORDER BY m.occurrence_start, m.id
"""

# Events in Discord for meetings that will not happen (cancelled, series ended, group closed).
SELECT_EVENTS_TO_CANCEL = f"""
SELECT {_MEETING_COLUMNS}
FROM meetings AS m
JOIN series AS s ON s.id = m.series_id
JOIN groups AS g ON g.id = s.group_id
WHERE m.event_id IS NOT NULL
  AND coalesce(m.event_synced, '') != 'cancelled'
  AND m.starts_at > :now
  AND (m.cancelled_at IS NOT NULL OR s.ended_at IS NOT NULL OR g.archived_at IS NOT NULL)
ORDER BY m.starts_at
"""

_SERIES_COLUMNS = """
    s.id, s.group_id, s.title, s.rrule, s.local_time, s.anchor_date, g.timezone,
    s.duration_minutes, s.place_kind, s.channel_id, s.location, s.description, s.capacity,
    s.ended_at
"""

SELECT_SERIES = f"""
SELECT {_SERIES_COLUMNS}
FROM series AS s
JOIN groups AS g ON g.id = s.group_id
WHERE s.id = :id
"""

SELECT_LIVE_SERIES_FOR_GROUP = f"""
SELECT {_SERIES_COLUMNS}
FROM series AS s
JOIN groups AS g ON g.id = s.group_id
WHERE s.group_id = :group_id AND s.ended_at IS NULL
ORDER BY s.id
"""

SELECT_ALL_LIVE_SERIES = f"""
SELECT {_SERIES_COLUMNS}
FROM series AS s
JOIN groups AS g ON g.id = s.group_id
WHERE s.ended_at IS NULL AND g.archived_at IS NULL
ORDER BY s.id
"""


SELECT_USERS_WITH_ANSWERS = """
SELECT user_id
FROM rsvps
WHERE meeting_id = :meeting_id AND answer IN ({placeholders})
ORDER BY user_id
"""


def _when(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


def _place(kind: str, channel_id: int | None, location: str | None) -> Place:
    return Place(PlaceKind(kind), channel_id=channel_id, location=location)


def meeting_from_row(row: aiosqlite.Row) -> Meeting:
    occurrence = datetime.fromisoformat(row["occurrence_start"])
    starts = datetime.fromisoformat(row["starts_at"])
    return Meeting(
        id=row["id"],
        series_id=row["series_id"],
        group_id=row["group_id"],
        guild_id=row["guild_id"],
        title=row["title"],
        description=row["description"],
        zone=row["timezone"],
        occurrence_start=occurrence,
        starts_at=starts,
        duration_minutes=row["duration_minutes"],
        place=_place(row["place_kind"], row["channel_id"], row["location"]),
        moved=bool(row["moved"]),
        note=row["note"],
        cancelled_at=_when(row["cancelled_at"]),
        event_id=row["event_id"],
        event_synced=row["event_synced"],
        capacity=row["capacity"],
        topic=row["topic"],
    )


def series_from_row(row: aiosqlite.Row) -> Series:
    return Series(
        id=row["id"],
        group_id=row["group_id"],
        title=row["title"],
        rule=Rule.from_rrule(row["rrule"]),
        local_time=time.fromisoformat(row["local_time"]),
        anchor=row["anchor_date"],
        zone=row["timezone"],
        duration_minutes=row["duration_minutes"],
        place=_place(row["place_kind"], row["channel_id"], row["location"]),
        description=row["description"],
        capacity=row["capacity"],
        ended_at=_when(row["ended_at"]),
    )


async def get_meeting(conn: aiosqlite.Connection, meeting_id: int) -> Meeting:
    async with conn.execute(SELECT_MEETING, {"id": meeting_id}) as cursor:
        row = await cursor.fetchone()
    if row is None:
        raise NotFound(texts.meeting_gone())
    return meeting_from_row(row)


async def get_meeting_and_group(
    conn: aiosqlite.Connection, meeting_id: int, *also: Step
) -> tuple[Meeting, Group, list[list[aiosqlite.Row]]]:
    """A meeting, its group and the rows of `also` (reads that need only the meeting's id), in
    one trip to the database: what a click on a meeting reads first."""
    steps = [
        Step(SELECT_MEETING, {"id": meeting_id}),
        Step(SELECT_GROUP_OF_MEETING, {"meeting_id": meeting_id}),
        *also,
    ]
    [meeting_rows, group_rows, *rest] = await run_steps(conn, steps)
    if not meeting_rows:
        raise NotFound(texts.meeting_gone())
    if not group_rows:
        raise NotFound(group_texts.group_gone())
    return meeting_from_row(meeting_rows[0]), group_from_row(group_rows[0]), rest


async def upcoming_meetings(
    conn: aiosqlite.Connection,
    group_id: int,
    after: datetime,
    limit: int = 10,
    *,
    include_cancelled: bool = False,
) -> list[Meeting]:
    async with conn.execute(
        SELECT_UPCOMING_FOR_GROUP,
        {
            "group_id": group_id,
            "after": after.isoformat(),
            "limit": limit,
            "include_cancelled": include_cancelled,
        },
    ) as cursor:
        return [meeting_from_row(row) for row in await cursor.fetchall()]


async def series_meetings(
    conn: aiosqlite.Connection, series_id: int, after: datetime | None = None
) -> list[Meeting]:
    if after is None:
        async with conn.execute(SELECT_ALL_FOR_SERIES, {"series_id": series_id}) as cursor:
            return [meeting_from_row(row) for row in await cursor.fetchall()]
    async with conn.execute(
        SELECT_UPCOMING_FOR_SERIES, {"series_id": series_id, "after": after.isoformat()}
    ) as cursor:
        return [meeting_from_row(row) for row in await cursor.fetchall()]


async def get_series(conn: aiosqlite.Connection, series_id: int) -> Series:
    async with conn.execute(SELECT_SERIES, {"id": series_id}) as cursor:
        row = await cursor.fetchone()
    if row is None:
        raise NotFound(texts.series_gone())
    return series_from_row(row)


async def live_series(conn: aiosqlite.Connection, group_id: int | None = None) -> list[Series]:
    if group_id is None:
        async with conn.execute(SELECT_ALL_LIVE_SERIES) as cursor:
            return [series_from_row(row) for row in await cursor.fetchall()]
    async with conn.execute(SELECT_LIVE_SERIES_FOR_GROUP, {"group_id": group_id}) as cursor:
        return [series_from_row(row) for row in await cursor.fetchall()]


async def users_with_answers(
    conn: aiosqlite.Connection, meeting_id: int, answers: Sequence[Answer]
) -> list[int]:
    names = {f"a{i}": answer.value for i, answer in enumerate(answers)}
    query = SELECT_USERS_WITH_ANSWERS.format(placeholders=", ".join(f":{k}" for k in names))
    async with conn.execute(query, {"meeting_id": meeting_id, **names}) as cursor:
        return [int(row[0]) for row in await cursor.fetchall()]


async def meetings_with_stale_events(conn: aiosqlite.Connection, now: datetime) -> list[Meeting]:
    async with conn.execute(SELECT_EVENTS_TO_CANCEL, {"now": now.isoformat()}) as cursor:
        return [meeting_from_row(row) for row in await cursor.fetchall()]
