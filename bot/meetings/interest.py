"""Discord's Interested button on a meeting's Events entry (the scheduled event Holdfast mirrors).

A member of the group who clicks Interested and has not answered is down as Maybe (and gets
Maybe's reminders, by the usual re-planning); the origin is stored (`interest_answers`), so
taking the interest back removes that Maybe and only that one: an answer the member gave
themselves (before, or since) is never touched. Someone not in the group yet is offered the Join
button by DM, once per group (the outbox key says so forever). `reconcile` brings everything in
line with Discord's list of interested users (after downtime: clicks made while the bot was
away count too). Each change runs in one transaction with its re-plan.
"""

from __future__ import annotations

import json
from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

import aiosqlite

from bot.db import transaction
from bot.delivery.dispatcher import RenderContext, Skip
from bot.delivery.outbox import Delivery, PlannedDelivery, enqueue, iso, parse
from bot.delivery.port import Button, Destination, OutgoingMessage
from bot.delivery.replanning import MeetingChanged, Replanner, replan_for
from bot.groups import service as groups
from bot.meetings.cards import join_custom_id, subject_meeting, where
from bot.meetings.model import Answer, Meeting
from bot.meetings.queries import get_meeting
from bot.meetings.rsvp import UPSERT_ANSWER
from bot.texts import groups as group_texts
from bot.texts import meetings as texts

INTEREST_JOIN = "interest_join"

Outcome = Literal["maybe", "removed", "offered_join", "nothing"]

SELECT_MEETING_FOR_EVENT = """
SELECT id
FROM meetings
WHERE event_id = :event_id
"""

# Meetings still to come that have an Events entry, and their server.
SELECT_MIRRORED = """
SELECT m.id, m.event_id, g.guild_id
FROM meetings AS m
JOIN series AS s ON s.id = m.series_id
JOIN groups AS g ON g.id = s.group_id
WHERE m.event_id IS NOT NULL AND m.starts_at > :now AND m.cancelled_at IS NULL
  AND g.archived_at IS NULL
ORDER BY m.starts_at, m.id
"""

SELECT_ANSWER = """
SELECT answer, answered_at
FROM rsvps
WHERE meeting_id = :meeting_id AND user_id = :user_id
"""

# The Maybe is written only when the member had no answer, so it is this click's: a row left by
# an earlier click (whose Maybe went when they left the group) takes this one's time, or taking
# the interest back would find the new Maybe "changed since" and leave it.
RECORD_ORIGIN = """
INSERT INTO interest_answers (meeting_id, user_id, created_at)
VALUES (:meeting_id, :user_id, :now)
ON CONFLICT (meeting_id, user_id) DO UPDATE SET created_at = excluded.created_at
"""

SELECT_ORIGIN = """
SELECT created_at
FROM interest_answers
WHERE meeting_id = :meeting_id AND user_id = :user_id
"""

SELECT_ORIGINS = """
SELECT user_id
FROM interest_answers
WHERE meeting_id = :meeting_id
"""

DELETE_ORIGIN = """
DELETE FROM interest_answers
WHERE meeting_id = :meeting_id AND user_id = :user_id
"""

DELETE_MAYBE = """
DELETE FROM rsvps
WHERE meeting_id = :meeting_id AND user_id = :user_id AND answer = 'maybe'
"""

SELECT_ORIGINS_NOT_IN = """
SELECT user_id
FROM interest_answers
WHERE meeting_id = :meeting_id
  AND user_id NOT IN (SELECT value FROM json_each(:user_ids))
"""


@dataclass(frozen=True)
class Mirrored:
    meeting_id: int
    event_id: int
    guild_id: int


def join_offer_key(group_id: int, user_id: int) -> str:
    return f"interest-join:{group_id}:{user_id}"


async def meeting_for_event(conn: aiosqlite.Connection, event_id: int) -> Meeting | None:
    async with conn.execute(SELECT_MEETING_FOR_EVENT, {"event_id": event_id}) as cursor:
        row = await cursor.fetchone()
    return None if row is None else await get_meeting(conn, int(row[0]))


async def mirrored_meetings(conn: aiosqlite.Connection, now: datetime) -> list[Mirrored]:
    """Meetings still to come with an Events entry (whose interested users count)."""
    async with conn.execute(SELECT_MIRRORED, {"now": iso(now)}) as cursor:
        return [Mirrored(int(r[0]), int(r[1]), int(r[2])) for r in await cursor.fetchall()]


async def _interested(
    conn: aiosqlite.Connection, meeting: Meeting, user_id: int, now: datetime, policy: Replanner
) -> Outcome:
    """Inside the caller's transaction."""
    group = await groups.get_group(conn, meeting.group_id)
    if group.archived:
        return "nothing"
    if not await groups.is_member(conn, group, user_id):
        offer = PlannedDelivery(
            key=join_offer_key(group.id, user_id),
            scope=f"interest-join:{user_id}",
            kind=INTEREST_JOIN,
            destination=Destination(user_id=user_id),
            due_at=now,
            not_after=meeting.starts_at,
            guild_id=group.guild_id,
            subject_id=meeting.id,
        )
        await enqueue(conn, offer, now)
        return "offered_join"
    params = {"meeting_id": meeting.id, "user_id": user_id}
    async with conn.execute(SELECT_ANSWER, params) as cursor:
        if await cursor.fetchone() is not None:
            return "nothing"  # their own answer stands, whatever it is
    await conn.execute(
        UPSERT_ANSWER, {**params, "answer": Answer.MAYBE.value, "now": now.isoformat()}
    )
    await conn.execute(RECORD_ORIGIN, {**params, "now": iso(now)})
    await replan_for(conn, MeetingChanged(meeting.id, (user_id,)), now, policy)
    return "maybe"


async def _uninterested(
    conn: aiosqlite.Connection, meeting: Meeting, user_id: int, now: datetime, policy: Replanner
) -> Outcome:
    """Inside the caller's transaction."""
    params = {"meeting_id": meeting.id, "user_id": user_id}
    async with conn.execute(SELECT_ORIGIN, params) as cursor:
        origin = await cursor.fetchone()
    if origin is None:
        return "nothing"
    await conn.execute(DELETE_ORIGIN, params)
    async with conn.execute(SELECT_ANSWER, params) as cursor:
        answer = await cursor.fetchone()
    # Still the Maybe the click gave (an answer changed since has a later time).
    if answer is None or answer[0] != Answer.MAYBE.value or parse(answer[1]) > parse(origin[0]):
        return "nothing"
    await conn.execute(DELETE_MAYBE, params)
    await replan_for(conn, MeetingChanged(meeting.id, (user_id,)), now, policy)
    return "removed"


def _open(meeting: Meeting | None, now: datetime) -> Meeting | None:
    if meeting is None or meeting.cancelled or meeting.starts_at <= now:
        return None
    return meeting


async def set_interest(
    conn: aiosqlite.Connection,
    event_id: int,
    user_id: int,
    interested: bool,
    now: datetime,
    policy: Replanner,
) -> tuple[Outcome, int | None]:
    """Someone clicked Interested (or took it back) on an Events entry: (what happened, the
    meeting). Events Holdfast does not mirror, and meetings past or cancelled, change nothing."""
    async with transaction(conn):
        meeting = _open(await meeting_for_event(conn, event_id), now)
        if meeting is None:
            return "nothing", None
        if interested:
            return await _interested(conn, meeting, user_id, now, policy), meeting.id
        return await _uninterested(conn, meeting, user_id, now, policy), meeting.id


async def reconcile(
    conn: aiosqlite.Connection,
    meeting_id: int,
    interested_ids: Collection[int],
    now: datetime,
    policy: Replanner,
) -> dict[int, Outcome]:
    """Bring the meeting's Maybes-from-Interested in line with Discord's list of interested
    users (what happened for each user it changed)."""
    changed: dict[int, Outcome] = {}
    async with transaction(conn):
        meeting = _open(await get_meeting(conn, meeting_id), now)
        if meeting is None:
            return changed
        for user_id in sorted(interested_ids):
            outcome = await _interested(conn, meeting, user_id, now, policy)
            if outcome != "nothing":
                changed[user_id] = outcome
        params = {"meeting_id": meeting_id, "user_ids": json.dumps(sorted(interested_ids))}
        async with conn.execute(SELECT_ORIGINS_NOT_IN, params) as cursor:
            gone = [int(row[0]) for row in await cursor.fetchall()]
        for user_id in gone:
            outcome = await _uninterested(conn, meeting, user_id, now, policy)
            if outcome != "nothing":
                changed[user_id] = outcome
    return changed


async def render_join_offer(
    conn: aiosqlite.Connection, delivery: Delivery, context: RenderContext
) -> OutgoingMessage | Skip:
    """The DM to someone interested in a meeting of a group they are not in: the Join button."""
    meeting = await subject_meeting(conn, delivery)
    if isinstance(meeting, Skip):
        return meeting
    user_id = delivery.destination.user_id
    assert user_id is not None
    group = await groups.get_group(conn, meeting.group_id)
    if group.archived:
        return Skip("the group was archived")
    if await groups.is_member(conn, group, user_id):
        return Skip("joined already")
    return OutgoingMessage(
        content=texts.interest_join_offer(
            meeting.title, group.name, meeting.starts_at, where(meeting)
        ),
        buttons=(
            Button(
                group_texts.join_button(),
                f"{join_custom_id(group.id)}:{delivery.marker}",
                "success",
            ),
        ),
    )


RENDERERS = {INTEREST_JOIN: render_join_offer}
