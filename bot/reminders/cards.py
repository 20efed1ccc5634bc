"""Renderers for reminders, nudges and the rota: what each delivery says when it goes out.

A renderer runs at send time, so it checks the world as it is then (meeting cancelled, the
member said Can't make it, paused, a later reminder for the same meeting also due after
downtime) and answers Skip with a reason that holds nothing private.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import aiosqlite

from bot.delivery.dispatcher import Defer, RenderContext, Skip
from bot.delivery.outbox import Delivery, iso
from bot.delivery.port import Button, OutgoingMessage
from bot.groups import service as groups
from bot.groups.model import Group
from bot.meetings.cards import next_custom_id, rsvp_buttons, subject_meeting, where
from bot.meetings.model import Answer, Meeting
from bot.reminders import handover, snooze
from bot.reminders import prefs as prefs_store
from bot.reminders.model import (
    NUDGE,
    REMINDER,
    ROTA_ASK,
    ROTA_ESCALATION,
    ROTA_HANDOVER_ANSWER,
    ROTA_HANDOVER_OFFER,
    SNOOZE,
    Prefs,
)
from bot.reminders.plan import offer_id_of, quiet_window, reminder_key_prefix, rota_facts
from bot.texts import meetings as meeting_texts
from bot.texts import reminders as texts

COLLAPSED = "collapsed into a later reminder for the same meeting"
QUIET = "waiting for the end of quiet hours"

# Another reminder for the same member and meeting that is also due now and comes later in
# the plan: after downtime only the last one goes (saying it is late).
SELECT_LATER_DUE = """
SELECT 1
FROM outbox
WHERE scope = :scope AND state = 'pending' AND kind = :kind
  AND idempotency_key >= :low AND idempotency_key < :high
  AND next_attempt_at <= :now
  AND (due_at > :due_at OR (due_at = :due_at AND id > :id))
LIMIT 1
"""

SELECT_ANSWER = """
SELECT answer
FROM rsvps
WHERE meeting_id = :meeting_id AND user_id = :user_id
"""


def rota_custom_id(action: str, meeting_id: int, marker: str | None = None) -> str:
    base = f"rota:{action}:{meeting_id}"
    return f"{base}:{marker}" if marker else base


def handover_custom_id(action: str, offer_id: int, marker: str | None = None) -> str:
    """Accept / Decline on a handover offer: the offer's id is all the state a click needs."""
    base = f"handover:{action}:{offer_id}"
    return f"{base}:{marker}" if marker else base


async def _after_quiet_hours(
    conn: aiosqlite.Connection, user_id: int, zone: str, now: datetime, latest: datetime
) -> Defer | None:
    """A DM to a facilitator that comes up inside their quiet hours (from `/reminders quiet`)
    waits for them to end, if they end before `latest` (else it goes now, as reminders do)."""
    prefs = await prefs_store.get_prefs(conn, user_id)
    if prefs.quiet is None:
        return None
    _start, end = quiet_window(now, prefs.quiet, prefs.timezone or zone)
    if now < end < latest:
        return Defer(end, QUIET)
    return None


def recipient_of(delivery: Delivery) -> int:
    """The member a reminder or nudge is for (a channel mention has no user_id on the row)."""
    return int(delivery.key.split(":")[2])


async def _answer(conn: aiosqlite.Connection, meeting_id: int, user_id: int) -> Answer | None:
    async with conn.execute(
        SELECT_ANSWER, {"meeting_id": meeting_id, "user_id": user_id}
    ) as cursor:
        row = await cursor.fetchone()
    return Answer(row[0]) if row is not None else None


async def _later_one_due(
    conn: aiosqlite.Connection, delivery: Delivery, user_id: int, context: RenderContext
) -> bool:
    assert delivery.subject_id is not None
    prefix = reminder_key_prefix(delivery.subject_id, user_id)
    high = prefix[:-1] + chr(ord(prefix[-1]) + 1)
    async with conn.execute(
        SELECT_LATER_DUE,
        {
            "scope": delivery.scope,
            "kind": delivery.kind,
            "low": prefix,
            "high": high,
            "now": iso(context.now),
            "due_at": iso(delivery.due_at),
            "id": delivery.id,
        },
    ) as cursor:
        return await cursor.fetchone() is not None


@dataclass(frozen=True)
class _StillWanted:
    meeting: Meeting
    group: Group
    prefs: Prefs
    answer: Answer | None


async def _still_wanted(
    conn: aiosqlite.Connection, delivery: Delivery, user_id: int, context: RenderContext
) -> _StillWanted | Skip:
    """What every reminder checks at send time: the meeting is still on and to come, and
    its member is still in the group with reminders not paused."""
    meeting = await subject_meeting(conn, delivery)
    if isinstance(meeting, Skip):
        return meeting
    if meeting.starts_at <= context.now:
        return Skip("the meeting has started")
    group = await groups.get_group(conn, meeting.group_id)
    if not await groups.is_member(conn, group, user_id):
        return Skip("no longer in the group")
    prefs = await prefs_store.get_prefs(conn, user_id)
    if prefs.paused:
        return Skip("reminders paused")
    return _StillWanted(meeting, group, prefs, await _answer(conn, meeting.id, user_id))


async def render_reminder(
    conn: aiosqlite.Connection, delivery: Delivery, context: RenderContext
) -> OutgoingMessage | Skip | Defer:
    user_id = recipient_of(delivery)
    wanted = await _still_wanted(conn, delivery, user_id, context)
    if isinstance(wanted, Skip):
        return wanted
    meeting, group, prefs, answer = wanted.meeting, wanted.group, wanted.prefs, wanted.answer
    if delivery.kind == REMINDER and answer in (Answer.NO, Answer.WAITLIST):
        return Skip("not coming")
    if delivery.kind == NUDGE and answer is not None:
        return Skip("already answered")
    if await _later_one_due(conn, delivery, user_id, context):
        return Skip(COLLAPSED)
    if prefs.quiet is not None:
        # Planning keeps reminders out of quiet hours; one that comes up inside them anyway
        # (sent late after downtime, or retried into them) waits for them to end, if they end
        # before the meeting. (If not, it goes now, as planning's own fallback does.)
        _start, end = quiet_window(context.now, prefs.quiet, prefs.timezone or meeting.zone)
        if context.now < end < meeting.starts_at:
            return Defer(end, QUIET)
    if delivery.kind == NUDGE:
        content = texts.nudge(
            meeting.title,
            group.name,
            meeting.starts_at,
            where(meeting),
            context.late,
            meeting.topic,
        )
    else:
        content = texts.reminder(
            meeting.title,
            group.name,
            meeting.starts_at,
            where(meeting),
            context.late,
            None if delivery.destination.is_dm else user_id,
            meeting.topic,
        )
    buttons = rsvp_buttons(meeting, delivery.marker)
    if delivery.kind == REMINDER and delivery.destination.is_dm:
        # A reminder by DM offers one more, later ("Remind me in an hour"), if still in time.
        buttons += snooze.buttons(meeting, prefs.timezone or meeting.zone, context.now)
    return OutgoingMessage(
        content=content,
        buttons=buttons,
        # In the channel the reminder mentions its member, and only them; a DM needs no ping.
        ping_user_ids=() if delivery.destination.is_dm else (user_id,),
    )


async def render_snooze(
    conn: aiosqlite.Connection, delivery: Delivery, context: RenderContext
) -> OutgoingMessage | Skip:
    """The reminder a member asked for with a snooze button (always by DM, no ping)."""
    user_id = delivery.destination.user_id
    assert user_id is not None
    wanted = await _still_wanted(conn, delivery, user_id, context)
    if isinstance(wanted, Skip):
        return wanted
    meeting, group, prefs = wanted.meeting, wanted.group, wanted.prefs
    if wanted.answer in (Answer.NO, Answer.WAITLIST):
        return Skip("not coming")
    return OutgoingMessage(
        content=texts.snoozed_reminder(
            meeting.title,
            group.name,
            meeting.starts_at,
            where(meeting),
            context.late,
            meeting.topic,
        ),
        buttons=rsvp_buttons(meeting, delivery.marker)
        + snooze.buttons(meeting, prefs.timezone or meeting.zone, context.now),
    )


async def render_rota_ask(
    conn: aiosqlite.Connection, delivery: Delivery, context: RenderContext
) -> OutgoingMessage | Skip | Defer:
    meeting = await subject_meeting(conn, delivery)
    if isinstance(meeting, Skip):
        return meeting
    rota = await rota_facts(conn, meeting.id)
    holder = rota.facilitator_id
    if rota.confirmed or holder is None or holder != delivery.destination.user_id:
        return Skip("the rota changed")
    # Asked in their own quiet hours? The ask waits for them to end (if before the escalation).
    quiet = await _after_quiet_hours(conn, holder, meeting.zone, context.now, delivery.not_after)
    if quiet is not None:
        return quiet
    group = await groups.get_group(conn, meeting.group_id)
    return OutgoingMessage(
        content=texts.rota_ask(meeting.title, group.name, meeting.starts_at, context.late),
        buttons=(
            Button(
                texts.rota_confirm_button(),
                rota_custom_id("confirm", meeting.id, delivery.marker),
                "success",
            ),
        ),
    )


async def render_rota_escalation(
    conn: aiosqlite.Connection, delivery: Delivery, context: RenderContext
) -> OutgoingMessage | Skip | Defer:
    meeting = await subject_meeting(conn, delivery)
    if isinstance(meeting, Skip):
        return meeting
    rota = await rota_facts(conn, meeting.id)
    if rota.confirmed:
        return Skip("a facilitator confirmed")
    group = await groups.get_group(conn, meeting.group_id)
    if delivery.destination.user_id is not None:
        quiet = await _after_quiet_hours(
            conn, delivery.destination.user_id, meeting.zone, context.now, delivery.not_after
        )
        if quiet is not None:
            return quiet
        # An admin's copy: no role to mention; stepping in happens in the server, so the
        # button shows the meeting instead.
        return OutgoingMessage(
            content=texts.rota_escalation_to_admin(
                meeting.title, group.name, meeting.starts_at, rota.facilitator_id
            ),
            buttons=(
                Button(
                    meeting_texts.next_meeting_button(),
                    next_custom_id(group.id, delivery.marker),
                ),
            ),
        )
    return OutgoingMessage(
        content=texts.rota_escalation(
            meeting.title, meeting.starts_at, rota.facilitator_id, group.facilitator_role_id
        ),
        ping_role_ids=(group.facilitator_role_id,),
        # The one who was down to hold it is named, so they hear about it too.
        ping_user_ids=() if rota.facilitator_id is None else (rota.facilitator_id,),
        buttons=(
            Button(
                texts.rota_step_in_button(),
                rota_custom_id("step", meeting.id, delivery.marker),
                "primary",
            ),
        ),
    )


async def render_handover_offer(
    conn: aiosqlite.Connection, delivery: Delivery, context: RenderContext
) -> OutgoingMessage | Skip | Defer:
    """To the facilitator asked: who asks, which meeting, and Accept / Decline."""
    meeting = await subject_meeting(conn, delivery)
    if isinstance(meeting, Skip):
        return meeting
    if meeting.starts_at <= context.now:
        return Skip("the meeting has started")
    offer = await handover.get_offer(conn, offer_id_of(delivery.key))
    if offer is None or offer.state != "open":
        return Skip("the offer was answered or withdrawn")
    if (await rota_facts(conn, meeting.id)).facilitator_id != offer.from_user_id:
        return Skip("the rota changed")
    quiet = await _after_quiet_hours(
        conn, offer.to_user_id, meeting.zone, context.now, meeting.starts_at
    )
    if quiet is not None:
        return quiet
    group = await groups.get_group(conn, meeting.group_id)
    return OutgoingMessage(
        content=texts.handover_offer(
            offer.from_user_id, meeting.title, group.name, meeting.starts_at, context.late
        ),
        buttons=(
            Button(
                texts.handover_accept_button(),
                handover_custom_id("accept", offer.id, delivery.marker),
                "success",
            ),
            Button(
                texts.handover_decline_button(),
                handover_custom_id("decline", offer.id, delivery.marker),
            ),
        ),
    )


async def render_handover_answer(
    conn: aiosqlite.Connection, delivery: Delivery, context: RenderContext
) -> OutgoingMessage | Skip | Defer:
    """To the facilitator who asked: taken (with the group's next meeting a tap away), or not
    (with "I'll be there", as it is still theirs)."""
    meeting = await subject_meeting(conn, delivery)
    if isinstance(meeting, Skip):
        return meeting
    if meeting.starts_at <= context.now:
        return Skip("the meeting has started")
    offer = await handover.get_offer(conn, offer_id_of(delivery.key))
    if offer is None or offer.state not in ("accepted", "declined"):
        return Skip("the offer was withdrawn")
    quiet = await _after_quiet_hours(
        conn, offer.from_user_id, meeting.zone, context.now, meeting.starts_at
    )
    if quiet is not None:
        return quiet
    group = await groups.get_group(conn, meeting.group_id)
    if offer.state == "accepted":
        return OutgoingMessage(
            content=texts.handover_accepted_to_asker(
                offer.to_user_id, meeting.title, group.name, meeting.starts_at
            ),
            buttons=(
                Button(
                    meeting_texts.next_meeting_button(),
                    next_custom_id(group.id, delivery.marker),
                ),
            ),
        )
    still_yours = (await rota_facts(conn, meeting.id)).facilitator_id == offer.from_user_id
    return OutgoingMessage(
        content=texts.handover_declined_to_asker(
            offer.to_user_id, meeting.title, group.name, meeting.starts_at, still_yours
        ),
        buttons=(
            Button(
                texts.rota_confirm_button(),
                rota_custom_id("confirm", meeting.id, delivery.marker),
                "success",
            )
            if still_yours
            else Button(
                meeting_texts.next_meeting_button(), next_custom_id(group.id, delivery.marker)
            ),
        ),
    )


RENDERERS = {
    REMINDER: render_reminder,
    NUDGE: render_reminder,
    ROTA_ASK: render_rota_ask,
    ROTA_ESCALATION: render_rota_escalation,
    ROTA_HANDOVER_OFFER: render_handover_offer,
    ROTA_HANDOVER_ANSWER: render_handover_answer,
    SNOOZE: render_snooze,
}
