"""What meeting messages look like, as plain values the Discord port can send.

Custom ids are the buttons' stable addresses: `rsvp:<meeting>:<answer>` works on any message at
any time, even after a restart. Messages the outbox sends add the delivery's marker as a last
segment, which is how a message already sent is recognised after a crash (Discord keeps
custom ids; it does not keep nonces).
"""

from __future__ import annotations

import aiosqlite

from bot.delivery.dispatcher import Current, RenderContext, Skip
from bot.delivery.outbox import Delivery
from bot.delivery.port import Button, Card, OutgoingMessage
from bot.errors import NotFound
from bot.groups import service as groups
from bot.meetings.model import Answer, Meeting, RsvpCounts
from bot.meetings.queries import get_meeting
from bot.meetings.rsvp import count_answers
from bot.texts import meetings as texts

BRAND_COLOUR = 0x4E7D6A
CANCELLED_COLOUR = 0x8A8A8A

RSVP_ANSWERS = (Answer.GOING, Answer.MAYBE, Answer.NO)
_STYLES = {Answer.GOING: "success", Answer.MAYBE: "primary", Answer.NO: "secondary"}


def rsvp_custom_id(meeting_id: int, answer: Answer, marker: str | None = None) -> str:
    base = f"rsvp:{meeting_id}:{answer.value}"
    return f"{base}:{marker}" if marker else base


def join_custom_id(group_id: int) -> str:
    return f"join:{group_id}"


def next_custom_id(group_id: int, marker: str | None = None) -> str:
    base = f"next:{group_id}"
    return f"{base}:{marker}" if marker else base


def where(meeting: Meeting) -> str:
    place = meeting.place
    return texts.place_text(place.kind.value, place.channel_id, place.location)


def rsvp_buttons(meeting: Meeting, marker: str | None = None) -> tuple[Button, ...]:
    return tuple(
        Button(
            label=texts.ANSWER_LABELS[answer.value],
            custom_id=rsvp_custom_id(meeting.id, answer, marker),
            style=_STYLES[answer],  # type: ignore[arg-type]
            disabled=meeting.cancelled,
        )
        for answer in RSVP_ANSWERS
    )


def announcement(
    meeting: Meeting, counts: RsvpCounts, marker: str | None = None
) -> OutgoingMessage:
    card = Card(
        title=texts.announcement_title(meeting.title),
        description=texts.announcement_body(
            meeting.starts_at,
            where(meeting),
            meeting.description,
            meeting.note,
            meeting.cancelled,
            meeting.moved,
            meeting.topic,
        ),
        footer=texts.counts_line(
            counts.going, counts.maybe, counts.no, counts.waitlist, meeting.capacity
        ),
        colour=CANCELLED_COLOUR if meeting.cancelled else BRAND_COLOUR,
    )
    return OutgoingMessage(cards=(card,), buttons=rsvp_buttons(meeting, marker))


async def subject_meeting(
    conn: aiosqlite.Connection, delivery: Delivery, *, cancelled_too: bool = False
) -> Meeting | Skip:
    """The meeting a delivery is about, or why there is nothing to send any more (it was
    removed, or cancelled unless the message is about the cancellation itself)."""
    assert delivery.subject_id is not None
    try:
        meeting = await get_meeting(conn, delivery.subject_id)
    except NotFound:
        return Skip("the meeting no longer exists")
    if meeting.cancelled and not cancelled_too:
        return Skip("the meeting was cancelled")
    return meeting


async def render_announcement(
    conn: aiosqlite.Connection, delivery: Delivery, context: RenderContext
) -> OutgoingMessage | Skip:
    meeting = await subject_meeting(conn, delivery)
    if isinstance(meeting, Skip):
        return meeting
    return announcement(meeting, await count_answers(conn, meeting.id), delivery.marker)


async def current_announcement(
    conn: aiosqlite.Connection, delivery: Delivery
) -> OutgoingMessage | None:
    """What a posted announcement should say now: the meeting as it is (cancelled too), with its
    counts. None when the meeting is gone."""
    assert delivery.subject_id is not None
    try:
        meeting = await get_meeting(conn, delivery.subject_id)
    except NotFound:
        return None
    return announcement(meeting, await count_answers(conn, meeting.id), delivery.marker)


async def render_meeting_changed(
    conn: aiosqlite.Connection, delivery: Delivery, context: RenderContext
) -> OutgoingMessage | Skip:
    meeting = await subject_meeting(conn, delivery, cancelled_too=True)
    if isinstance(meeting, Skip):
        return meeting
    group = await groups.get_group(conn, meeting.group_id)
    if meeting.cancelled:
        return OutgoingMessage(
            content=texts.cancelled_dm(meeting.title, group.name, meeting.starts_at),
            buttons=(
                Button(
                    label=texts.next_meeting_button(),
                    custom_id=next_custom_id(group.id, delivery.marker),
                ),
            ),
        )
    if delivery.key.startswith("cancelled:"):
        return Skip("the meeting is no longer cancelled")
    return OutgoingMessage(
        content=texts.moved_dm(meeting.title, group.name, meeting.starts_at, where(meeting)),
        buttons=rsvp_buttons(meeting, delivery.marker),
    )


async def render_meeting_notice(
    conn: aiosqlite.Connection, delivery: Delivery, context: RenderContext
) -> OutgoingMessage | Skip:
    """The group channel's short notice of a move or cancellation."""
    meeting = await subject_meeting(conn, delivery, cancelled_too=True)
    if isinstance(meeting, Skip):
        return meeting
    if meeting.cancelled:
        return OutgoingMessage(
            content=texts.cancelled_notice(meeting.title, meeting.starts_at),
            buttons=(
                Button(
                    label=texts.next_meeting_button(),
                    custom_id=next_custom_id(meeting.group_id, delivery.marker),
                ),
            ),
        )
    if delivery.key.startswith("notice:cancelled:"):
        return Skip("the meeting is no longer cancelled")
    return OutgoingMessage(
        content=texts.moved_notice(meeting.title, meeting.starts_at, where(meeting)),
        buttons=rsvp_buttons(meeting, delivery.marker),
    )


async def render_promoted(
    conn: aiosqlite.Connection, delivery: Delivery, context: RenderContext
) -> OutgoingMessage | Skip:
    meeting = await subject_meeting(conn, delivery)
    if isinstance(meeting, Skip):
        return meeting
    group = await groups.get_group(conn, meeting.group_id)
    return OutgoingMessage(
        content=texts.promoted_dm(meeting.title, group.name, meeting.starts_at),
        buttons=rsvp_buttons(meeting, delivery.marker),
    )


# Messages that stay on show and are kept true after they are sent (see bot/delivery/dispatcher).
CURRENT: dict[str, Current] = {"announcement": current_announcement}

RENDERERS = {
    "announcement": render_announcement,
    "meeting_changed": render_meeting_changed,
    "waitlist_promoted": render_promoted,
    "meeting_notice": render_meeting_notice,
}
