"""Planners: turn meetings and answers into the deliveries the outbox should hold.

Planning is a pure reading of the database inside the caller's transaction: the change and its
re-plan commit together, pending rows are replaced and sent rows are never touched.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Literal

import aiosqlite

from bot.delivery.outbox import PlannedDelivery, replan, sent_message
from bot.delivery.port import Destination
from bot.errors import NotFound
from bot.groups import service as groups
from bot.meetings.model import Answer, Meeting
from bot.meetings.queries import get_meeting, users_with_answers
from bot.reminders.model import ReminderPolicy
from bot.reminders.plan import forget_reminders, replan_reminders

ANNOUNCEMENT = "announcement"
MEETING_CHANGED = "meeting_changed"
MEETING_NOTICE = "meeting_notice"
WAITLIST_PROMOTED = "waitlist_promoted"

# A cancellation is the one thing still worth sending after a meeting's start time: someone
# may be waiting in the room.
CANCELLATION_STAYS_USEFUL = timedelta(hours=2)

Notice = Literal["moved", "cancelled"]


@dataclass(frozen=True)
class Policy:
    """Admin-configured planning choices (from `.env`)."""

    announce_lead: timedelta = timedelta(days=14)
    reminders: ReminderPolicy = field(default_factory=ReminderPolicy)


def announcement_key(meeting_id: int) -> str:
    return f"announce:{meeting_id}"


async def replan_meeting(
    conn: aiosqlite.Connection, meeting_id: int, now: datetime, policy: Policy
) -> None:
    """Bring a meeting's announcement in line with the meeting as it now is."""
    meeting = await get_meeting(conn, meeting_id)
    group = await groups.get_group(conn, meeting.group_id)
    desired: list[PlannedDelivery] = []
    if not meeting.cancelled and not group.archived and meeting.starts_at > now:
        desired.append(
            PlannedDelivery(
                key=announcement_key(meeting.id),
                scope=_announce_scope(meeting.id),
                kind=ANNOUNCEMENT,
                destination=Destination(channel_id=group.announce_channel_id),
                due_at=max(meeting.starts_at - policy.announce_lead, now),
                not_after=meeting.starts_at,
                guild_id=group.guild_id,
                subject_id=meeting.id,
            )
        )
    await replan(conn, _announce_scope(meeting.id), desired, now)
    # Members' reminders and nudges, and the rota's asks and escalation, move with it.
    await replan_reminders(conn, meeting.id, now, policy.reminders)


async def forget_meeting(conn: aiosqlite.Connection, meeting_id: int, now: datetime) -> None:
    """A meeting that is about to be deleted: nothing pending about it may go out."""
    await replan(conn, _announce_scope(meeting_id), [], now)
    await forget_reminders(conn, meeting_id, now)


def _announce_scope(meeting_id: int) -> str:
    return f"meeting:{meeting_id}:announce"


async def was_announced(conn: aiosqlite.Connection, meeting_id: int) -> bool:
    return await sent_message(conn, announcement_key(meeting_id)) is not None


async def announce_change(
    conn: aiosqlite.Connection, meeting_id: int, what: Notice, now: datetime
) -> list[int]:
    """Tell people about a change once: a notice in the group's channel (when the meeting was
    already announced there) and a DM to each person who said they might come."""
    if await was_announced(conn, meeting_id):
        meeting = await get_meeting(conn, meeting_id)
        group = await groups.get_group(conn, meeting.group_id)
        stamp = int(now.timestamp() * 1000)
        key = f"notice:{what}:{meeting_id}:{stamp}"
        await replan(
            conn,
            key,
            [
                PlannedDelivery(
                    key=key,
                    scope=key,
                    kind=MEETING_NOTICE,
                    destination=Destination(channel_id=group.announce_channel_id),
                    due_at=now,
                    not_after=_still_useful(meeting, what),
                    guild_id=meeting.guild_id,
                    subject_id=meeting_id,
                )
            ],
            now,
        )
    return await tell_answered(conn, meeting_id, what, now)


def _still_useful(meeting: Meeting, what: Notice) -> datetime:
    if what == "cancelled":
        return meeting.starts_at + CANCELLATION_STAYS_USEFUL
    return meeting.starts_at


async def tell_answered(
    conn: aiosqlite.Connection, meeting_id: int, what: Notice, now: datetime
) -> list[int]:
    """DM everyone who said Going or Maybe (or waits for a place) that the meeting changed.

    One delivery per person per change: the key carries the change's time, so a second change
    is news again, while a retry of this one is not.
    """
    meeting = await get_meeting(conn, meeting_id)
    users = await users_with_answers(
        conn, meeting_id, (Answer.GOING, Answer.MAYBE, Answer.WAITLIST)
    )
    stamp = int(now.timestamp() * 1000)
    not_after = _still_useful(meeting, what)
    for user_id in users:
        await replan(
            conn,
            f"meeting:{meeting_id}:{what}:{stamp}:{user_id}",
            [
                PlannedDelivery(
                    key=f"{what}:{meeting_id}:{stamp}:{user_id}",
                    scope=f"meeting:{meeting_id}:{what}:{stamp}:{user_id}",
                    kind=MEETING_CHANGED,
                    destination=Destination(user_id=user_id),
                    due_at=now,
                    not_after=not_after,
                    guild_id=meeting.guild_id,
                    subject_id=meeting_id,
                )
            ],
            now,
        )
    return users


async def tell_promoted(
    conn: aiosqlite.Connection, meeting: Meeting, user_id: int, now: datetime
) -> None:
    stamp = int(now.timestamp() * 1000)
    key = f"promoted:{meeting.id}:{user_id}:{stamp}"
    await replan(
        conn,
        key,
        [
            PlannedDelivery(
                key=key,
                scope=key,
                kind=WAITLIST_PROMOTED,
                destination=Destination(user_id=user_id),
                due_at=now,
                not_after=meeting.starts_at,
                guild_id=meeting.guild_id,
                subject_id=meeting.id,
            )
        ],
        now,
    )


async def meeting_or_none(conn: aiosqlite.Connection, meeting_id: int) -> Meeting | None:
    try:
        return await get_meeting(conn, meeting_id)
    except NotFound:
        return None
