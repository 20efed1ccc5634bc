"""Renderers for the facilitator's question and "we missed you": the world is checked again at
send time (the group stopped noting, the member came after all, left, turned the message off or
paused everything), and a Skip's reason holds nothing private."""

from __future__ import annotations

import aiosqlite

from bot.attendance.plan import (
    ATTENDANCE_ASK,
    MISSED_YOU,
    is_on,
    missed_by,
    noted_how,
)
from bot.delivery.dispatcher import RenderContext, Skip
from bot.delivery.outbox import Delivery
from bot.delivery.port import Button, OutgoingMessage, PeopleMenu
from bot.groups import service as groups
from bot.meetings.cards import next_custom_id, rsvp_buttons, subject_meeting, where
from bot.meetings.model import Answer, PlaceKind
from bot.meetings.queries import upcoming_meetings, users_with_answers
from bot.reminders import prefs as prefs_store
from bot.reminders.plan import rota_facts
from bot.texts import attendance as texts
from bot.texts import meetings as meeting_texts

# Discord: a select menu holds at most 25 values ("Select Menu Structure", max_values).
MENU_LIMIT = 25


def came_menu_id(meeting_id: int) -> str:
    return f"came:{meeting_id}"


def everyone_going_id(meeting_id: int, marker: str | None = None) -> str:
    base = f"came-all:{meeting_id}"
    return f"{base}:{marker}" if marker else base


async def render_ask(
    conn: aiosqlite.Connection, delivery: Delivery, context: RenderContext
) -> OutgoingMessage | Skip:
    meeting = await subject_meeting(conn, delivery)
    if isinstance(meeting, Skip):
        return meeting
    if meeting.place.kind is not PlaceKind.EXTERNAL:
        return Skip("the meeting moved to a voice channel")
    group = await groups.get_group(conn, meeting.group_id)
    if not await is_on(conn, group.id):
        return Skip("the group no longer notes who came")
    if await noted_how(conn, meeting.id) == "facilitator":
        return Skip("already answered")
    if delivery.destination.is_dm:
        holder = (await rota_facts(conn, meeting.id)).facilitator_id
        if holder != delivery.destination.user_id:
            return Skip("the rota changed")
    answered = await users_with_answers(conn, meeting.id, [Answer.GOING, Answer.MAYBE])
    if not answered:
        return Skip("nobody said they would come")
    return OutgoingMessage(
        content=texts.form_question(meeting.title, group.name, meeting.starts_at, context.late),
        menus=(
            PeopleMenu(
                custom_id=came_menu_id(meeting.id),
                placeholder=texts.form_placeholder(),
                picked=tuple(answered[:MENU_LIMIT]),
                max_values=MENU_LIMIT,
            ),
        ),
        buttons=(
            Button(
                texts.everyone_going_button(),
                everyone_going_id(meeting.id, delivery.marker),
                "success",
            ),
        ),
    )


async def render_missed_you(
    conn: aiosqlite.Connection, delivery: Delivery, context: RenderContext
) -> OutgoingMessage | Skip:
    meeting = await subject_meeting(conn, delivery)
    if isinstance(meeting, Skip):
        return meeting
    user_id = delivery.destination.user_id
    assert user_id is not None
    group = await groups.get_group(conn, meeting.group_id)
    if group.archived or not await is_on(conn, group.id):
        return Skip("the group no longer notes who came")
    if await noted_how(conn, meeting.id) is None:
        return Skip("attendance was not noted")
    prefs = await prefs_store.get_prefs(conn, user_id)
    if prefs.paused or not prefs.missed_you:
        return Skip("turned off")
    if user_id not in await missed_by(conn, meeting, group):
        return Skip("no longer missed")
    upcoming = await upcoming_meetings(conn, group.id, context.now, limit=1)
    if upcoming:
        following = upcoming[0]
        content = texts.missed_you(meeting.title, group.name, following.starts_at, where(following))
        buttons = rsvp_buttons(following, delivery.marker)
    else:
        content = texts.missed_you(meeting.title, group.name, None, None)
        buttons = (
            Button(meeting_texts.next_meeting_button(), next_custom_id(group.id, delivery.marker)),
        )
    return OutgoingMessage(content=content, buttons=buttons)


RENDERERS = {
    ATTENDANCE_ASK: render_ask,
    MISSED_YOU: render_missed_you,
}
