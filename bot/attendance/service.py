"""Noting who came: a group's choice, who was seen in a meeting's voice or stage channel, the
facilitator's answer for a meeting elsewhere, and turnout as counts.

Only "came" is stored, one row per member per meeting, for groups that turned it on, and only
for members of the group. Each note re-plans the meeting's "we missed you" messages in the same
transaction.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

import aiosqlite

from bot.attendance.plan import is_on, noted_how, replan_attendance
from bot.db import transaction
from bot.errors import Conflict, HoldfastError, NotAllowed
from bot.groups import access
from bot.groups import service as groups
from bot.groups.model import Actor, Group
from bot.meetings.model import Answer
from bot.meetings.queries import get_meeting, users_with_answers
from bot.reminders.plan import rota_facts
from bot.texts import attendance as texts

How = Literal["voice", "facilitator"]

# People already in the room a little before the start count as having come.
EARLY = timedelta(minutes=10)
# The longest a meeting lasts (series: 15 to 720 minutes): how far back a window can begin.
LONGEST = timedelta(minutes=720)
# `/meeting turnout` looks back this many months.
TURNOUT_MONTHS = 6

TURN_ON = """
INSERT INTO attendance_groups (group_id, turned_on_at)
VALUES (:group_id, :now)
ON CONFLICT (group_id) DO NOTHING
"""

TURN_OFF = """
DELETE FROM attendance_groups
WHERE group_id = :group_id
"""

SELECT_NAMES_ON_IN_GUILD = """
SELECT g.name
FROM attendance_groups AS a
JOIN groups AS g ON g.id = a.group_id
WHERE g.guild_id = :guild_id AND g.archived_at IS NULL
ORDER BY g.name COLLATE NOCASE
"""

# Meetings in a voice or stage channel of a group that notes who came, that may be under way
# (the exact window is checked in Python: it depends on each meeting's length).
SELECT_HELD_IN_VOICE = """
SELECT m.id, m.starts_at, m.duration_minutes, m.channel_id, s.group_id, g.guild_id
FROM meetings AS m
JOIN series AS s ON s.id = m.series_id
JOIN groups AS g ON g.id = s.group_id
JOIN attendance_groups AS a ON a.group_id = g.id
WHERE m.place_kind IN ('voice', 'stage') AND m.cancelled_at IS NULL AND g.archived_at IS NULL
  AND m.starts_at >= :earliest AND m.starts_at <= :latest
  AND (:channel_id IS NULL OR m.channel_id = :channel_id)
ORDER BY m.starts_at, m.id
"""

SELECT_SOME_MEMBERS = """
SELECT user_id
FROM group_members
WHERE group_id = :group_id AND user_id IN (SELECT value FROM json_each(:user_ids))
"""

INSERT_CAME = """
INSERT INTO attendance (meeting_id, user_id, how)
VALUES (:meeting_id, :user_id, :how)
ON CONFLICT (meeting_id, user_id) DO NOTHING
"""

# The facilitator's answer replaces their earlier one; what voice saw stays.
DELETE_FACILITATOR_CAME_EXCEPT = """
DELETE FROM attendance
WHERE meeting_id = :meeting_id AND how = 'facilitator'
  AND user_id NOT IN (SELECT value FROM json_each(:user_ids))
"""

MARK_NOTED = """
INSERT INTO attendance_noted (meeting_id, how, noted_at)
VALUES (:meeting_id, :how, :now)
ON CONFLICT (meeting_id) DO NOTHING
"""

COUNT_CAME = """
SELECT COUNT(*)
FROM attendance
WHERE meeting_id = :meeting_id
"""

SELECT_TURNOUT = """
SELECT m.id, s.title, m.starts_at, m.duration_minutes,
       (SELECT COUNT(*) FROM attendance AS a WHERE a.meeting_id = m.id) AS came,
       (SELECT COUNT(*) FROM rsvps AS r WHERE r.meeting_id = m.id AND r.answer = 'going')
           AS going,
       EXISTS (SELECT 1 FROM attendance_noted AS n WHERE n.meeting_id = m.id) AS noted
FROM meetings AS m
JOIN series AS s ON s.id = m.series_id
WHERE s.group_id = :group_id AND m.cancelled_at IS NULL
  AND m.starts_at >= :since AND m.starts_at <= :now
ORDER BY m.starts_at, m.id
"""

SELECT_UPCOMING_AND_RECENT = """
SELECT m.id
FROM meetings AS m
JOIN series AS s ON s.id = m.series_id
WHERE s.group_id = :group_id AND m.starts_at >= :since
ORDER BY m.starts_at, m.id
"""


@dataclass(frozen=True)
class HeldInVoice:
    """A meeting whose voice or stage channel is being watched right now."""

    meeting_id: int
    guild_id: int
    channel_id: int


@dataclass(frozen=True)
class TurnoutRow:
    title: str
    starts_at: datetime
    came: int | None
    """None: attendance was not noted for this meeting."""
    going: int


async def set_attendance(
    conn: aiosqlite.Connection, group: Group, actor: Actor, on: bool, now: datetime
) -> bool:
    """A group's facilitators turn noting who came on or off; True if that changed anything.
    Every meeting of the group still to come (or just held) is planned again."""
    access.require_facilitator(group, actor)
    async with transaction(conn):
        was_on = await is_on(conn, group.id)
        if was_on == on:
            return False
        params = {"group_id": group.id, "now": now.isoformat()}
        await conn.execute(TURN_ON if on else TURN_OFF, params)
        since = {"group_id": group.id, "since": (now - LONGEST - timedelta(days=4)).isoformat()}
        async with conn.execute(SELECT_UPCOMING_AND_RECENT, since) as cursor:
            meeting_ids = [int(row[0]) for row in await cursor.fetchall()]
        for meeting_id in meeting_ids:
            await replan_attendance(conn, meeting_id, now)
    return True


async def groups_noting(conn: aiosqlite.Connection, guild_id: int) -> list[str]:
    """The names of this server's groups that note who came (for /about)."""
    async with conn.execute(SELECT_NAMES_ON_IN_GUILD, {"guild_id": guild_id}) as cursor:
        return [str(row[0]) for row in await cursor.fetchall()]


async def welcome_note(conn: aiosqlite.Connection, group: Group) -> str | None:
    """The welcome's extra paragraph while the group notes who came; None otherwise."""
    return texts.welcome_note(group.name) if await is_on(conn, group.id) else None


async def held_in_voice(
    conn: aiosqlite.Connection, now: datetime, channel_id: int | None = None
) -> list[HeldInVoice]:
    """Meetings being held now (from a little before the start to the end) in a voice or stage
    channel (`channel_id`, or any), in groups that note who came."""
    params = {
        "earliest": (now - LONGEST).isoformat(),
        "latest": (now + EARLY).isoformat(),
        "channel_id": channel_id,
    }
    found: list[HeldInVoice] = []
    async with conn.execute(SELECT_HELD_IN_VOICE, params) as cursor:
        for row in await cursor.fetchall():
            starts = datetime.fromisoformat(row["starts_at"])
            ends = starts + timedelta(minutes=int(row["duration_minutes"]))
            if starts - EARLY <= now <= ends:
                found.append(HeldInVoice(int(row["id"]), int(row["guild_id"]), row["channel_id"]))
    return found


async def note_in_voice(
    conn: aiosqlite.Connection, channel_id: int, user_ids: Iterable[int], now: datetime
) -> int:
    """These people are in `channel_id` now: each member of the group holding a meeting there
    now is noted as having come. Returns how many were noted for the first time."""
    present = sorted(set(user_ids))
    if not present:
        return 0
    held = await held_in_voice(conn, now, channel_id)
    if not held:
        return 0
    added = 0
    async with transaction(conn):
        for meeting in held:
            found = await get_meeting(conn, meeting.meeting_id)
            params = {"group_id": found.group_id, "user_ids": json.dumps(present)}
            async with conn.execute(SELECT_SOME_MEMBERS, params) as cursor:
                members = [int(row[0]) for row in await cursor.fetchall()]
            if not members:
                continue
            new = await _note(conn, meeting.meeting_id, members, "voice", now)
            if new:
                added += new
                await replan_attendance(conn, meeting.meeting_id, now)
    return added


async def _note(
    conn: aiosqlite.Connection, meeting_id: int, user_ids: Sequence[int], how: How, now: datetime
) -> int:
    rows = [{"meeting_id": meeting_id, "user_id": user_id, "how": how} for user_id in user_ids]
    added = 0
    if rows:
        cursor = await conn.executemany(INSERT_CAME, rows)
        added = max(cursor.rowcount, 0)
    await conn.execute(MARK_NOTED, {"meeting_id": meeting_id, "how": how, "now": now.isoformat()})
    return added


async def note_from_facilitator(
    conn: aiosqlite.Connection,
    meeting_id: int,
    actor: Actor,
    picked: Sequence[int] | None,
    now: datetime,
) -> int:
    """The facilitator's answer after a meeting: who came (`picked`), or None for "everyone
    who said Going came". Answering again corrects the last answer; the same answer twice
    changes nothing. Returns how many are noted as having come."""
    async with transaction(conn):
        meeting = await get_meeting(conn, meeting_id)
        group = await groups.get_group(conn, meeting.group_id)
        holder = (await rota_facts(conn, meeting.id)).facilitator_id
        if actor.user_id != holder and not access.may_facilitate(group, actor):
            raise NotAllowed(texts.form_not_yours())
        if not await is_on(conn, group.id):
            raise Conflict(texts.attendance_off(group.name))
        if meeting.cancelled:
            raise Conflict(texts.form_not_over())
        if now < meeting.starts_at:
            raise Conflict(texts.form_not_over())
        if picked is None:
            chosen = await users_with_answers(conn, meeting.id, [Answer.GOING])
        else:
            # Only the group's members are noted; anyone else picked is left out.
            params = {"group_id": group.id, "user_ids": json.dumps(sorted(set(picked)))}
            async with conn.execute(SELECT_SOME_MEMBERS, params) as cursor:
                chosen = sorted(int(row[0]) for row in await cursor.fetchall())
            await conn.execute(
                DELETE_FACILITATOR_CAME_EXCEPT,
                {"meeting_id": meeting.id, "user_ids": json.dumps(chosen)},
            )
        await _note(conn, meeting.id, chosen, "facilitator", now)
        await replan_attendance(conn, meeting.id, now)
        async with conn.execute(COUNT_CAME, {"meeting_id": meeting.id}) as cursor:
            row = await cursor.fetchone()
    return int(row[0]) if row is not None else 0


async def turnout(
    conn: aiosqlite.Connection, group: Group, actor: Actor, now: datetime
) -> list[TurnoutRow]:
    """Counts per meeting held over the last months (came / said Going): never who."""
    access.require_facilitator(group, actor)
    if not await is_on(conn, group.id):
        raise HoldfastError(texts.turnout_off(group.name))
    since = now - timedelta(days=31 * TURNOUT_MONTHS)
    params = {"group_id": group.id, "since": since.isoformat(), "now": now.isoformat()}
    found: list[TurnoutRow] = []
    async with conn.execute(SELECT_TURNOUT, params) as cursor:
        for row in await cursor.fetchall():
            starts = datetime.fromisoformat(row["starts_at"])
            if starts + timedelta(minutes=int(row["duration_minutes"])) > now:
                continue  # still under way
            came = int(row["came"]) if row["noted"] else None
            found.append(TurnoutRow(str(row["title"]), starts, came, int(row["going"])))
    return found


async def was_noted(conn: aiosqlite.Connection, meeting_id: int) -> bool:
    return await noted_how(conn, meeting_id) is not None
