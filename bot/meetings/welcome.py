"""The welcome a member gets on joining: the group's ground rules, and its next meeting with the
Going / Maybe / Can't make it buttons (the same buttons as on the announcement).

Groups sit below meetings, so the welcome is put together here, where both are known.
"""

from __future__ import annotations

from datetime import datetime

import aiosqlite

from bot.delivery.port import Card, OutgoingMessage
from bot.groups.model import Group
from bot.groups.rules import rules_of
from bot.meetings.cards import BRAND_COLOUR, rsvp_buttons, where
from bot.meetings.queries import upcoming_meetings
from bot.texts import meetings as meeting_texts
from bot.texts import welcome as texts


async def welcome(
    conn: aiosqlite.Connection, group: Group, now: datetime, noting: str | None = None
) -> OutgoingMessage:
    """An embed (rules of up to 1,500 characters do not fit beside the rest in 2,000 characters
    of content) that mentions nobody; buttons only when a meeting is coming. `noting`: what a
    group that notes who came says about it (a capability above meetings words it)."""
    upcoming = await upcoming_meetings(conn, group.id, now, limit=1)
    meeting = upcoming[0] if upcoming else None
    next_text = (
        texts.next_meeting(
            meeting.title, meeting_texts.when(meeting.starts_at), where(meeting), meeting.topic
        )
        if meeting
        else None
    )
    card = Card(
        title=texts.welcome_title(group.name),
        description=texts.welcome_body(rules_of(group), next_text, noting),
        colour=BRAND_COLOUR,
    )
    return OutgoingMessage(
        cards=(card,), buttons=rsvp_buttons(meeting) if meeting is not None else ()
    )
