"""One-off changes to one meeting: cancel, move, add a note, set the topic.

Each kind of change is one function that runs in one transaction, re-plans what the meeting
sends (announcement edits, messages to those who answered), and returns what changed.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import aiosqlite

from bot.db import transaction
from bot.delivery import replanning
from bot.delivery.replanning import Replanner
from bot.errors import Conflict, HoldfastError
from bot.meetings import planning
from bot.meetings.model import Meeting, Place
from bot.meetings.queries import get_meeting
from bot.texts import meetings as texts

MAX_NOTE = 500
MAX_TOPIC = 200

CANCEL_MEETING = """
UPDATE meetings
SET cancelled_at = :now, updated_at = :now
WHERE id = :id AND cancelled_at IS NULL
"""

MOVE_MEETING = """
UPDATE meetings
SET starts_at = :starts_at, place_kind = :place_kind, channel_id = :channel_id,
    location = :location, moved = 1, updated_at = :now
WHERE id = :id
"""

SET_NOTE = """
UPDATE meetings
SET note = :note, updated_at = :now
WHERE id = :id
"""

SET_TOPIC = """
UPDATE meetings
SET topic = :topic, updated_at = :now
WHERE id = :id
"""

# Two meetings of one group may not overlap: members can't be in two places at once.
SELECT_CLASH = """
SELECT m.id
FROM meetings AS m
JOIN series AS s ON s.id = m.series_id
WHERE s.group_id = :group_id
  AND m.id != :id
  AND m.cancelled_at IS NULL
  AND m.starts_at < :ends_at
  AND datetime(m.starts_at, '+' || m.duration_minutes || ' minutes') > datetime(:starts_at)
LIMIT 1
"""


@dataclass(frozen=True)
class MeetingChanged:
    before: Meeting
    after: Meeting


def _require_changeable(meeting: Meeting, now: datetime) -> None:
    if meeting.cancelled:
        raise Conflict(texts.already_cancelled())
    if meeting.starts_at <= now:
        raise Conflict(texts.already_started())


async def cancel_meeting(
    conn: aiosqlite.Connection, meeting: Meeting, now: datetime, policy: Replanner
) -> MeetingChanged:
    _require_changeable(meeting, now)
    async with transaction(conn):
        cursor = await conn.execute(CANCEL_MEETING, {"id": meeting.id, "now": now.isoformat()})
        if cursor.rowcount == 0:
            raise Conflict(texts.already_cancelled())
        await policy.replan_for(conn, replanning.MeetingChanged(meeting.id), now)
        await planning.announce_change(conn, meeting.id, "cancelled", now)
        after = await get_meeting(conn, meeting.id)
    return MeetingChanged(meeting, after)


async def move_meeting(
    conn: aiosqlite.Connection,
    meeting: Meeting,
    starts_at: datetime,
    place: Place | None,
    now: datetime,
    policy: Replanner,
) -> MeetingChanged:
    _require_changeable(meeting, now)
    if starts_at <= now:
        raise HoldfastError(texts.move_into_past())
    new_place = place or meeting.place
    if starts_at == meeting.starts_at and new_place == meeting.place:
        raise HoldfastError(texts.move_changes_nothing())
    ends_at = starts_at + timedelta(minutes=meeting.duration_minutes)
    async with transaction(conn):
        async with conn.execute(
            SELECT_CLASH,
            {
                "group_id": meeting.group_id,
                "id": meeting.id,
                "starts_at": starts_at.isoformat(),
                "ends_at": ends_at.isoformat(),
            },
        ) as cursor:
            clash = await cursor.fetchone()
        if clash is not None:
            other = await get_meeting(conn, clash[0])
            raise Conflict(texts.move_clashes(other.title, other.starts_at))
        await conn.execute(
            MOVE_MEETING,
            {
                "id": meeting.id,
                "starts_at": starts_at.isoformat(),
                "place_kind": new_place.kind.value,
                "channel_id": new_place.channel_id,
                "location": new_place.location,
                "now": now.isoformat(),
            },
        )
        await policy.replan_for(conn, replanning.MeetingChanged(meeting.id), now)
        await planning.announce_change(conn, meeting.id, "moved", now)
        after = await get_meeting(conn, meeting.id)
    return MeetingChanged(meeting, after)


async def set_note(
    conn: aiosqlite.Connection,
    meeting: Meeting,
    note: str | None,
    now: datetime,
    policy: Replanner,
) -> MeetingChanged:
    _require_changeable(meeting, now)
    cleaned = (note or "").strip() or None
    if cleaned and len(cleaned) > MAX_NOTE:
        raise HoldfastError(texts.note_too_long(MAX_NOTE))
    async with transaction(conn):
        await conn.execute(SET_NOTE, {"id": meeting.id, "note": cleaned, "now": now.isoformat()})
        await policy.replan_for(conn, replanning.MeetingChanged(meeting.id), now)
        after = await get_meeting(conn, meeting.id)
    return MeetingChanged(meeting, after)


async def set_topic(
    conn: aiosqlite.Connection,
    meeting: Meeting,
    topic: str | None,
    now: datetime,
    policy: Replanner,
) -> MeetingChanged:
    """Set (or, empty, clear) what the meeting will talk about. Like a note, it tells nobody:
    the announcement is edited, and reminders, the Events entry and the calendar show it."""
    _require_changeable(meeting, now)
    cleaned = " ".join((topic or "").split()) or None
    if cleaned and len(cleaned) > MAX_TOPIC:
        raise HoldfastError(texts.topic_too_long(MAX_TOPIC))
    async with transaction(conn):
        await conn.execute(SET_TOPIC, {"id": meeting.id, "topic": cleaned, "now": now.isoformat()})
        await policy.replan_for(conn, replanning.MeetingChanged(meeting.id), now)
        after = await get_meeting(conn, meeting.id)
    return MeetingChanged(meeting, after)
