"""Handing a meeting over: the facilitator who holds it asks another facilitator to take it.

`offer` records the ask and plans a DM to the other facilitator with Accept / Decline (one open
offer per meeting: a second replaces the first, whose buttons then say it is no longer open).
`accept` makes them the holder, unconfirmed, so the rota's ask and escalation follow them (the
old holder's pending ask is dropped by the same re-plan), and plans a DM back to the one who
asked; `decline` leaves the meeting where it was and tells the one who asked, kindly.

Only whoever holds a meeting may hand it over. A meeting nobody holds has nothing to hand over:
`/rota assign` puts someone down, and they can hand it on from there. An offer closes when it
is answered or replaced, when the rota changes under it (someone else was put down or stepped
in), and when its meeting starts or is cancelled. Every step is in SQLite, and the buttons carry
the offer's id, so a restart between the offer and the answer changes nothing; a second click
on the same answer is harmless.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal

import aiosqlite

from bot.db import transaction
from bot.delivery.outbox import iso, parse
from bot.delivery.replanning import Replanner
from bot.errors import Conflict, NotAllowed
from bot.groups import access
from bot.groups.model import Actor
from bot.groups.service import get_group
from bot.meetings.model import Meeting
from bot.meetings.queries import get_meeting
from bot.reminders.model import ReminderPolicy
from bot.reminders.plan import replan_rota, rota_facts
from bot.reminders.rota import ASSIGN, holder_changed, require_open
from bot.texts import reminders as texts

State = Literal["open", "accepted", "declined", "replaced"]

_OFFER_COLUMNS = """
h.id, h.meeting_id, g.guild_id, h.from_user_id, h.to_user_id, h.state, h.offered_at,
h.answered_at
"""

SELECT_OFFER = f"""
SELECT {_OFFER_COLUMNS}
FROM rota_handovers AS h
JOIN meetings AS m ON m.id = h.meeting_id
JOIN series AS s ON s.id = m.series_id
JOIN groups AS g ON g.id = s.group_id
WHERE h.id = :id
"""

SELECT_OPEN_OFFER = f"""
SELECT {_OFFER_COLUMNS}
FROM rota_handovers AS h
JOIN meetings AS m ON m.id = h.meeting_id
JOIN series AS s ON s.id = m.series_id
JOIN groups AS g ON g.id = s.group_id
WHERE h.meeting_id = :meeting_id AND h.state = 'open'
"""

REPLACE_OPEN_OFFER = """
UPDATE rota_handovers
SET state = 'replaced', answered_at = :now
WHERE meeting_id = :meeting_id AND state = 'open'
"""

INSERT_OFFER = """
INSERT INTO rota_handovers (meeting_id, from_user_id, to_user_id, state, offered_at)
VALUES (:meeting_id, :from_user_id, :to_user_id, 'open', :now)
"""

ANSWER_OFFER = """
UPDATE rota_handovers
SET state = :state, answered_at = :now
WHERE id = :id AND state = 'open'
"""


@dataclass(frozen=True)
class Offer:
    id: int
    meeting_id: int
    guild_id: int
    from_user_id: int
    to_user_id: int
    state: State
    offered_at: datetime
    answered_at: datetime | None


@dataclass(frozen=True)
class Offered:
    offer: Offer
    meeting: Meeting
    replaced: int | None
    """Who the open offer this one replaced had gone to, if any."""
    again: bool
    """The same facilitator had been asked already: nothing new is sent."""


@dataclass(frozen=True)
class Answered:
    offer: Offer
    meeting: Meeting
    group_name: str
    already: bool
    """A second click on the same answer: nothing changed."""


class HandoverClosed(Conflict):
    """The offer can no longer be answered; `str()` says why, kindly (the message's buttons are
    then replaced with it)."""


def _offer(row: aiosqlite.Row) -> Offer:
    return Offer(
        id=int(row["id"]),
        meeting_id=int(row["meeting_id"]),
        guild_id=int(row["guild_id"]),
        from_user_id=int(row["from_user_id"]),
        to_user_id=int(row["to_user_id"]),
        state=row["state"],
        offered_at=parse(row["offered_at"]),
        answered_at=parse(row["answered_at"]) if row["answered_at"] is not None else None,
    )


async def get_offer(conn: aiosqlite.Connection, offer_id: int) -> Offer | None:
    async with conn.execute(SELECT_OFFER, {"id": offer_id}) as cursor:
        row = await cursor.fetchone()
    return _offer(row) if row is not None else None


async def _open_offer(conn: aiosqlite.Connection, meeting_id: int) -> Offer | None:
    async with conn.execute(SELECT_OPEN_OFFER, {"meeting_id": meeting_id}) as cursor:
        row = await cursor.fetchone()
    return _offer(row) if row is not None else None


async def offer(
    conn: aiosqlite.Connection,
    meeting_id: int,
    asker: Actor,
    to: Actor,
    now: datetime,
    policy: ReminderPolicy,
) -> Offered:
    """`asker`, who holds the meeting, asks `to` (another of the group's facilitators, or an
    admin) to take it. Asking the same person again changes nothing; asking someone else
    replaces the open offer."""
    async with transaction(conn):
        meeting = await get_meeting(conn, meeting_id)
        require_open(meeting, now)
        group = await get_group(conn, meeting.group_id)
        access.require_facilitator(group, asker)
        holder = (await rota_facts(conn, meeting_id)).facilitator_id
        if holder != asker.user_id:
            raise NotAllowed(texts.handover_not_holder(holder))
        if to.user_id == asker.user_id:
            raise Conflict(texts.handover_to_yourself())
        if to.is_bot:
            raise NotAllowed(texts.handover_to_a_bot())
        access.require_may_hold_meetings(group, to)
        current = await _open_offer(conn, meeting_id)
        if current is not None and (current.from_user_id, current.to_user_id) == (
            asker.user_id,
            to.user_id,
        ):
            return Offered(current, meeting, replaced=None, again=True)
        stamp = iso(now)
        await conn.execute(REPLACE_OPEN_OFFER, {"meeting_id": meeting_id, "now": stamp})
        cursor = await conn.execute(
            INSERT_OFFER,
            {
                "meeting_id": meeting_id,
                "from_user_id": asker.user_id,
                "to_user_id": to.user_id,
                "now": stamp,
            },
        )
        assert cursor.lastrowid is not None
        made = await get_offer(conn, cursor.lastrowid)
        assert made is not None
        await replan_rota(conn, meeting_id, now, policy)
    replaced = current.to_user_id if current is not None else None
    return Offered(made, meeting, replaced=replaced, again=False)


async def _closed(
    conn: aiosqlite.Connection, offer: Offer, meeting: Meeting, now: datetime
) -> HandoverClosed | None:
    """Why the offer can no longer be answered, if it cannot."""
    if meeting.cancelled:
        return HandoverClosed(texts.handover_closed_cancelled(meeting.title))
    if meeting.starts_at <= now:
        return HandoverClosed(texts.handover_closed_started(meeting.title))
    if offer.state == "replaced":
        return HandoverClosed(texts.handover_closed_replaced(meeting.title, offer.from_user_id))
    if offer.state != "open":
        return HandoverClosed(texts.handover_closed_answered(meeting.title, offer.state))
    if (await rota_facts(conn, meeting.id)).facilitator_id != offer.from_user_id:
        return HandoverClosed(texts.handover_closed_rota_changed(meeting.title))
    return None


async def _answerable(
    conn: aiosqlite.Connection, offer_id: int, user_id: int
) -> tuple[Offer, Meeting, str]:
    found = await get_offer(conn, offer_id)
    if found is None:
        # Withdrawn with someone's data (/mydata delete), or the meeting was removed.
        raise HandoverClosed(texts.handover_closed_gone())
    if found.to_user_id != user_id:
        raise NotAllowed(texts.handover_not_for_you())
    meeting = await get_meeting(conn, found.meeting_id)
    group = await get_group(conn, meeting.group_id)
    return found, meeting, group.name


async def accept(
    conn: aiosqlite.Connection,
    offer_id: int,
    taker: Actor,
    now: datetime,
    policy: ReminderPolicy,
    replanner: Replanner | None = None,
) -> Answered:
    """The facilitator asked takes the meeting: they hold it now, unconfirmed, so the rota asks
    them to confirm nearer the time and escalates if they don't; the one who asked is told.
    `taker` as Discord knows them now: they must still be able to hold the group's meetings."""
    async with transaction(conn):
        found, meeting, group_name = await _answerable(conn, offer_id, taker.user_id)
        if found.state == "accepted":
            return Answered(found, meeting, group_name, already=True)
        closed = await _closed(conn, found, meeting, now)
        if closed is not None:
            raise closed
        access.require_may_hold_meetings(await get_group(conn, meeting.group_id), taker)
        stamp = iso(now)
        await conn.execute(ANSWER_OFFER, {"id": offer_id, "state": "accepted", "now": stamp})
        await conn.execute(
            ASSIGN,
            {
                "meeting_id": meeting.id,
                "facilitator_id": taker.user_id,
                "assigned_by": found.from_user_id,
                "now": stamp,
                "confirmed_at": None,
            },
        )
        await replan_rota(conn, meeting.id, now, policy)
        # Whatever follows the holder (asking them afterwards who came) follows the taker.
        await holder_changed(conn, meeting.id, now, replanner)
        answered = await get_offer(conn, offer_id)
    assert answered is not None
    return Answered(answered, meeting, group_name, already=False)


async def decline(
    conn: aiosqlite.Connection,
    offer_id: int,
    user_id: int,
    now: datetime,
    policy: ReminderPolicy,
) -> Answered:
    """The facilitator asked can't take it: the one who asked still holds it, and is told."""
    async with transaction(conn):
        found, meeting, group_name = await _answerable(conn, offer_id, user_id)
        if found.state == "declined":
            return Answered(found, meeting, group_name, already=True)
        closed = await _closed(conn, found, meeting, now)
        if closed is not None:
            raise closed
        await conn.execute(ANSWER_OFFER, {"id": offer_id, "state": "declined", "now": iso(now)})
        await replan_rota(conn, meeting.id, now, policy)
        answered = await get_offer(conn, offer_id)
    assert answered is not None
    return Answered(answered, meeting, group_name, already=False)
