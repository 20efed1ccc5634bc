"""Answering by a word in a DM, on a real SQLite file with the real migrations and a
ManualClock; the reminders are really sent (dispatcher, fake Discord port) so the bot's DMs
exist to reply to."""

from __future__ import annotations

from datetime import timedelta

import aiosqlite
import pytest

from bot.clock import ManualClock
from bot.delivery.dispatcher import Dispatcher
from bot.groups import service as groups
from bot.meetings import cards as meeting_cards
from bot.meetings import queries, rsvp, series
from bot.meetings.model import Answer
from bot.reminders import cards, replies
from tests.test_outbox import FakePort
from tests.test_reminders import POLICY, clock, db, last_thursday, make_group, utc

__all__ = ["clock", "db"]  # the fixtures, shared with test_reminders

RENDERERS = {**meeting_cards.RENDERERS, **cards.RENDERERS}
MEMBER = 1
DM = 100_000 + MEMBER  # FakePort's DM channel for the member


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("going", Answer.GOING),
        ("Going!", Answer.GOING),
        ("YES", Answer.GOING),
        ("yep 👍", Answer.GOING),
        ("  I'll be there. ", Answer.GOING),
        ("maybe", Answer.MAYBE),
        ("Maybe?", Answer.MAYBE),
        ("not sure...", Answer.MAYBE),
        ("can't", Answer.NO),
        ("Can’t", Answer.NO),  # a typographic apostrophe, as phones type it
        ("cant", Answer.NO),
        ("no", Answer.NO),
        ("Can't make it 😔", Answer.NO),
        ("cant make it!!", Answer.NO),
        ("Not this time.", Answer.NO),
        ("no, sorry", Answer.NO),
        ("hello", None),
        ("going to be late, sorry", None),
        ("is it going ahead?", None),
        ("yes " * 30, None),
        ("", None),
    ],
)
def test_a_word_is_read_as_an_answer_only_when_it_is_one(
    text: str, expected: Answer | None
) -> None:
    assert replies.read_answer(text) == expected


async def reminded(db: aiosqlite.Connection, clock: ManualClock, meetings: int = 1) -> FakePort:
    """Member 1, Maybe to the next `meetings` meetings, gets their 7-day reminders by DM."""
    group = await make_group(db, clock)
    await groups.join_group(db, group, MEMBER, clock.now())
    change = await series.create_series(db, group, last_thursday(), 9, clock.now(), POLICY)
    upcoming = await queries.series_meetings(db, change.series.id)
    for meeting in upcoming[:meetings]:
        await rsvp.answer_meeting(db, meeting.id, MEMBER, Answer.MAYBE, clock.now(), POLICY)
    port = FakePort()
    dispatcher = Dispatcher(db, port, clock, RENDERERS)
    # 24 Sep 19:30 BST: the 7d reminder is 17 Sep... already past on 20 Sep; the 1d one is
    # 23 Sep 18:30Z. October's 7d reminder is 22 Oct 18:30Z.
    clock.set(utc(2026, 9, 23, 18, 30))
    await dispatcher.run_due()
    if meetings > 1:
        clock.set(utc(2026, 9, 24, 17, 0))  # the 2h reminder for September; October's later
        await dispatcher.run_due()
    assert port.in_channel(DM)
    return port


async def answer_of(db: aiosqlite.Connection, meeting_id: int) -> str | None:
    async with db.execute(
        "SELECT answer FROM rsvps WHERE meeting_id = :m AND user_id = :u",
        {"m": meeting_id, "u": MEMBER},
    ) as cursor:
        row = await cursor.fetchone()
    return None if row is None else str(row[0])


async def test_a_reply_to_a_reminder_answers_for_that_meeting_as_the_buttons_do(
    db: aiosqlite.Connection, clock: ManualClock
) -> None:
    port = await reminded(db, clock)
    [reminder] = port.in_channel(DM)
    meeting_id = (await queries.upcoming_meetings(db, 1, clock.now(), limit=1))[0].id
    reply = await replies.answer_by_word(db, MEMBER, DM, "Going!", reminder.id, clock.now(), POLICY)
    assert reply.answered_meeting_id == meeting_id
    assert "you're down as going" in (reply.text or "")
    assert await answer_of(db, meeting_id) == "going"
    again = await replies.answer_by_word(db, MEMBER, DM, "yes", reminder.id, clock.now(), POLICY)
    assert "Nothing changed" in (again.text or "")
    # Can't make it: the remaining reminder (2h before) is cancelled, as with the button.
    await replies.answer_by_word(db, MEMBER, DM, "can't make it", None, clock.now(), POLICY)
    assert await answer_of(db, meeting_id) == "no"
    async with db.execute(
        "SELECT COUNT(*) FROM outbox WHERE kind = 'reminder' AND state = 'pending' "
        "AND subject_id = :m",
        {"m": meeting_id},
    ) as cursor:
        assert (await cursor.fetchone())[0] == 0


async def test_without_a_reply_two_meetings_reminded_is_ambiguous(
    db: aiosqlite.Connection, clock: ManualClock
) -> None:
    port = await reminded(db, clock, meetings=2)
    september, october = await queries.upcoming_meetings(db, 1, utc(2026, 9, 20), limit=2)
    clock.set(utc(2026, 9, 24, 17, 5))
    # Only September has been reminded so far (October's first reminder is in October).
    plain = await replies.answer_by_word(db, MEMBER, DM, "maybe", None, clock.now(), POLICY)
    assert plain.answered_meeting_id == september.id
    # A reminder for October goes out while September is still to come: now it's ambiguous.
    clock.set(utc(2026, 9, 24, 17, 10))
    dispatcher = Dispatcher(db, port, clock, RENDERERS)
    async with db.execute(
        "UPDATE outbox SET due_at = :t, next_attempt_at = :t WHERE kind = 'reminder' "
        "AND subject_id = :m AND state = 'pending' AND idempotency_key LIKE '%:7d:%'",
        {"t": "2026-09-24T17:10:00.000000+00:00", "m": october.id},
    ):
        pass
    await db.commit()
    assert await dispatcher.run_due() == 1
    which = await replies.answer_by_word(db, MEMBER, DM, "no", None, clock.now(), POLICY)
    assert which == replies.Reply(replies.texts.reply_which_meeting())
    # Replying to October's reminder settles it.
    to_october = port.in_channel(DM)[-1]
    answered = await replies.answer_by_word(
        db, MEMBER, DM, "no", to_october.id, clock.now(), POLICY
    )
    assert answered.answered_meeting_id == october.id
    assert await answer_of(db, september.id) == "maybe"


async def test_a_reply_to_a_message_no_longer_tied_to_a_meeting_answers_none(
    db: aiosqlite.Connection, clock: ManualClock
) -> None:
    # Found by the simulation (tests/sim, seed 0 of a year with 4 groups at --ops 3): a member
    # deleted their data, rejoined, and replied "can't" to an old DM about a cancelled meeting;
    # the reply was taken as an answer for the one meeting still to come.
    port = await reminded(db, clock)
    [reminder] = port.in_channel(DM)
    meeting_id = (await queries.upcoming_meetings(db, 1, clock.now(), limit=1))[0].id
    async with db.execute("DELETE FROM outbox WHERE user_id = :u", {"u": MEMBER}):
        pass  # as /mydata delete leaves it: the DM is still in Discord, its record is gone
    await db.commit()
    reply = await replies.answer_by_word(db, MEMBER, DM, "can't", reminder.id, clock.now(), POLICY)
    assert reply == replies.Reply(replies.texts.reply_which_meeting())
    assert await answer_of(db, meeting_id) == "maybe"


async def test_anything_else_gets_a_hint_at_most_once_a_day(
    db: aiosqlite.Connection, clock: ManualClock
) -> None:
    await reminded(db, clock)
    first = await replies.answer_by_word(db, MEMBER, DM, "thank you!", None, clock.now(), POLICY)
    assert first.text == replies.texts.reply_hint()
    clock.advance(timedelta(hours=23, minutes=59))
    assert (await replies.answer_by_word(db, MEMBER, DM, "hi", None, clock.now())).text is None
    clock.advance(timedelta(minutes=1))
    later = await replies.answer_by_word(db, MEMBER, DM, "hi", None, clock.now(), POLICY)
    assert later.text == replies.texts.reply_hint()
    # Another member has their own day.
    other = await replies.answer_by_word(db, 2, 100_002, "hi", None, clock.now(), POLICY)
    assert other.text == replies.texts.reply_hint()


async def test_an_answer_with_no_meeting_to_answer_gets_the_hint(
    db: aiosqlite.Connection, clock: ManualClock
) -> None:
    reply = await replies.answer_by_word(db, MEMBER, DM, "going", None, clock.now(), POLICY)
    assert reply.text == replies.texts.reply_hint()
    assert reply.answered_meeting_id is None


def test_the_new_words_fit_discord_at_the_longest_title_group_and_place() -> None:
    """Titles are at most 80 characters, group names 60, a place 200 (series.py, groups)."""
    from bot.texts import meetings as meeting_texts

    title, group, place = "T" * 80, "G" * 60, "P" * 200
    start = utc(2026, 10, 29, 19, 30)
    for text in (
        replies.texts.snoozed_reminder(title, group, start, place, True),
        replies.texts.snooze_set(start),
        replies.texts.reply_hint(),
        replies.texts.reply_which_meeting(),
        replies.texts.snooze_too_close(),
        replies.texts.snooze_evening_passed(),
        replies.texts.snooze_not_possible(),
        meeting_texts.interest_join_offer(title, group, start, place),
    ):
        assert 0 < len(text) <= 2000
    assert len(replies.texts.snooze_hour_button()) <= 80  # a button label's limit
    assert len(replies.texts.snooze_evening_button()) <= 80
