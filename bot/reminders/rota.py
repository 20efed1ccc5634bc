"""The facilitator rota: who holds each meeting, and whether they confirmed.

Every change re-plans the rota's messages in the same transaction: an ask to the assigned
facilitator ahead of the meeting, and one escalation to the facilitators' channel if nobody
has confirmed by the second deadline (cancelled the moment someone confirms or steps in).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import aiosqlite

from bot.db import transaction
from bot.delivery.replanning import MeetingChanged, Replanner, replan_for
from bot.errors import Conflict, NotAllowed
from bot.groups import access
from bot.groups.model import Actor
from bot.groups.service import get_group
from bot.meetings.model import Meeting
from bot.meetings.queries import get_meeting, upcoming_meetings
from bot.reminders.model import ReminderPolicy
from bot.reminders.plan import replan_rota, rota_facts
from bot.texts import meetings as meeting_texts
from bot.texts import reminders as texts

ASSIGN = """
INSERT INTO rota (meeting_id, facilitator_user_id, assigned_by, assigned_at, confirmed_at)
VALUES (:meeting_id, :facilitator_id, :assigned_by, :now, :confirmed_at)
ON CONFLICT (meeting_id) DO UPDATE
SET facilitator_user_id = excluded.facilitator_user_id, assigned_by = excluded.assigned_by,
    assigned_at = excluded.assigned_at, confirmed_at = excluded.confirmed_at
"""

CONFIRM = """
UPDATE rota
SET confirmed_at = :now
WHERE meeting_id = :meeting_id AND facilitator_user_id = :user_id AND confirmed_at IS NULL
"""


@dataclass(frozen=True)
class RotaEntry:
    meeting: Meeting
    facilitator_id: int | None
    confirmed: bool


async def holder_changed(
    conn: aiosqlite.Connection, meeting_id: int, now: datetime, replanner: Replanner | None
) -> None:
    """Whoever plans around who holds a meeting (e.g. asking them afterwards who came)
    re-plans: the meeting changed, no member's part of it (`replanner`: the planners; None:
    the default ones)."""
    await replan_for(conn, MeetingChanged(meeting_id, ()), now, replanner)


def require_open(meeting: Meeting, now: datetime) -> None:
    if meeting.cancelled:
        raise Conflict(meeting_texts.already_cancelled())
    if meeting.starts_at <= now:
        raise Conflict(meeting_texts.already_started())


async def assign(
    conn: aiosqlite.Connection,
    meeting_id: int,
    holder: Actor,
    by: int,
    now: datetime,
    policy: ReminderPolicy,
    replanner: Replanner | None = None,
) -> RotaEntry:
    """Put someone down to hold a meeting (themselves or another facilitator). They are
    asked to confirm nearer the time; a new assignment starts unconfirmed. Only the group's
    facilitators and admins may hold a meeting."""
    facilitator_id = holder.user_id
    async with transaction(conn):
        meeting = await get_meeting(conn, meeting_id)
        require_open(meeting, now)
        access.require_may_hold_meetings(await get_group(conn, meeting.group_id), holder)
        await conn.execute(
            ASSIGN,
            {
                "meeting_id": meeting_id,
                "facilitator_id": facilitator_id,
                "assigned_by": by,
                "now": now.isoformat(),
                "confirmed_at": None,
            },
        )
        await replan_rota(conn, meeting_id, now, policy)
        await holder_changed(conn, meeting_id, now, replanner)
    return RotaEntry(meeting, facilitator_id, confirmed=False)


async def confirm(
    conn: aiosqlite.Connection,
    meeting_id: int,
    user_id: int,
    now: datetime,
    policy: ReminderPolicy,
) -> RotaEntry:
    """The assigned facilitator says they will be there (the DM's button). Twice is fine."""
    async with transaction(conn):
        meeting = await get_meeting(conn, meeting_id)
        require_open(meeting, now)
        facts = await rota_facts(conn, meeting_id)
        if facts.facilitator_id != user_id:
            raise NotAllowed(texts.rota_not_yours())
        await conn.execute(
            CONFIRM, {"meeting_id": meeting_id, "user_id": user_id, "now": now.isoformat()}
        )
        await replan_rota(conn, meeting_id, now, policy)
    return RotaEntry(meeting, user_id, confirmed=True)


async def step_in(
    conn: aiosqlite.Connection,
    meeting_id: int,
    user_id: int,
    now: datetime,
    policy: ReminderPolicy,
    replanner: Replanner | None = None,
) -> RotaEntry:
    """A facilitator takes the meeting from the escalation's button: assigned and confirmed."""
    async with transaction(conn):
        meeting = await get_meeting(conn, meeting_id)
        require_open(meeting, now)
        await conn.execute(
            ASSIGN,
            {
                "meeting_id": meeting_id,
                "facilitator_id": user_id,
                "assigned_by": user_id,
                "now": now.isoformat(),
                "confirmed_at": now.isoformat(),
            },
        )
        await replan_rota(conn, meeting_id, now, policy)
        await holder_changed(conn, meeting_id, now, replanner)
    return RotaEntry(meeting, user_id, confirmed=True)


async def rota_for_group(
    conn: aiosqlite.Connection, group_id: int, now: datetime, limit: int = 6
) -> list[RotaEntry]:
    entries: list[RotaEntry] = []
    for meeting in await upcoming_meetings(conn, group_id, now, limit=limit):
        facts = await rota_facts(conn, meeting.id)
        entries.append(RotaEntry(meeting, facts.facilitator_id, facts.confirmed))
    return entries
