"""What meetings plan: each meeting's announcement, notices of a change, waitlist DMs.

The announcement is re-planned whenever its meeting changes (registered with the delivery
layer's re-planning registry by `register`); notices and waitlist DMs are sent once, by the
change that causes them. Everything runs inside the caller's transaction: the change and its
re-plan commit together, pending rows are replaced and sent rows are never touched.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Literal

import aiosqlite

from bot.delivery.outbox import PlannedDelivery, replan, replan_many, sent_message
from bot.delivery.port import Destination
from bot.delivery.replanning import MeetingChanged, MeetingDeleted, Registry
from bot.groups import service as groups
from bot.meetings.model import Answer, Meeting
from bot.meetings.queries import get_meeting, users_with_answers

ANNOUNCEMENT = "announcement"
MEETING_CHANGED = "meeting_changed"
MEETING_NOTICE = "meeting_notice"
WAITLIST_PROMOTED = "waitlist_promoted"

# A cancellation is the one thing still worth sending after a meeting's start time: someone
# may be waiting in the room.
CANCELLATION_STAYS_USEFUL = timedelta(hours=2)

Notice = Literal["moved", "cancelled"]


DEFAULT_ANNOUNCE_LEAD = timedelta(days=14)


def register(registry: Registry, announce_lead: timedelta = DEFAULT_ANNOUNCE_LEAD) -> None:
    """What meetings plan for which subject: the announcement, with every change to its meeting
    (`announce_lead`: how long before the meeting it goes out, ANNOUNCE_DAYS_BEFORE)."""

    async def on_meeting_changed(
        conn: aiosqlite.Connection, subject: MeetingChanged, now: datetime
    ) -> None:
        if subject.user_ids is None:  # members' answers do not change the announcement
            await replan_announcement(conn, subject.meeting_id, now, announce_lead)

    async def on_meeting_deleted(
        conn: aiosqlite.Connection, subject: MeetingDeleted, now: datetime
    ) -> None:
        await replan(conn, _announce_scope(subject.meeting_id), [], now)

    registry.register(MeetingChanged, "meetings:announcement", on_meeting_changed)
    registry.register(MeetingDeleted, "meetings:announcement", on_meeting_deleted)


def announcement_key(meeting_id: int) -> str:
    return f"announce:{meeting_id}"


async def replan_announcement(
    conn: aiosqlite.Connection, meeting_id: int, now: datetime, announce_lead: timedelta
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
                due_at=max(meeting.starts_at - announce_lead, now),
                not_after=meeting.starts_at,
                guild_id=group.guild_id,
                subject_id=meeting.id,
            )
        )
    await replan(conn, _announce_scope(meeting.id), desired, now)


def _announce_scope(meeting_id: int) -> str:
    return f"meeting:{meeting_id}:announce"


async def was_announced(conn: aiosqlite.Connection, meeting_id: int) -> bool:
    return await sent_message(conn, announcement_key(meeting_id)) is not None


async def announce_change(
    conn: aiosqlite.Connection, meeting_id: int, what: Notice, now: datetime
) -> list[int]:
    """Tell people about a change once: a notice in the group's channel (when the meeting was
    already announced there) and a DM to each person who said they might come."""
    meeting = await get_meeting(conn, meeting_id)
    if await was_announced(conn, meeting_id):
        group = await groups.get_group(conn, meeting.group_id)
        await _send_once(
            conn,
            f"notice:{what}:{meeting_id}:{_stamp(now)}",
            MEETING_NOTICE,
            Destination(channel_id=group.announce_channel_id),
            meeting,
            _still_useful(meeting, what),
            now,
        )
    return await tell_answered(conn, meeting_id, what, now)


def _still_useful(meeting: Meeting, what: Notice) -> datetime:
    if what == "cancelled":
        return meeting.starts_at + CANCELLATION_STAYS_USEFUL
    return meeting.starts_at


def _stamp(now: datetime) -> int:
    # In the key, so a second change is news again while a retry of this one is not.
    return int(now.timestamp() * 1000)


async def _send_once(
    conn: aiosqlite.Connection,
    key: str,
    kind: str,
    destination: Destination,
    meeting: Meeting,
    not_after: datetime,
    now: datetime,
) -> None:
    """One message about one change, now: its own scope, so nothing else replaces it."""
    await replan(
        conn,
        key,
        [
            PlannedDelivery(
                key=key,
                scope=key,
                kind=kind,
                destination=destination,
                due_at=now,
                not_after=not_after,
                guild_id=meeting.guild_id,
                subject_id=meeting.id,
            )
        ],
        now,
    )


async def tell_answered(
    conn: aiosqlite.Connection, meeting_id: int, what: Notice, now: datetime
) -> list[int]:
    """DM everyone who said Going or Maybe (or waits for a place) that the meeting changed."""
    meeting = await get_meeting(conn, meeting_id)
    users = await users_with_answers(
        conn, meeting_id, (Answer.GOING, Answer.MAYBE, Answer.WAITLIST)
    )
    # One message each, each in its own scope (nothing else replaces it), written at once.
    notices = {
        key: [
            PlannedDelivery(
                key=key,
                scope=key,
                kind=MEETING_CHANGED,
                destination=Destination(user_id=user_id),
                due_at=now,
                not_after=_still_useful(meeting, what),
                guild_id=meeting.guild_id,
                subject_id=meeting.id,
            )
        ]
        for user_id in users
        for key in [f"{what}:{meeting_id}:{_stamp(now)}:{user_id}"]
    }
    await replan_many(conn, notices, now)
    return users


async def tell_promoted(
    conn: aiosqlite.Connection, meeting: Meeting, user_id: int, now: datetime
) -> None:
    await _send_once(
        conn,
        f"promoted:{meeting.id}:{user_id}:{_stamp(now)}",
        WAITLIST_PROMOTED,
        Destination(user_id=user_id),
        meeting,
        meeting.starts_at,
        now,
    )
