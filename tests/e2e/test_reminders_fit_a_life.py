"""Reminders that fit a life (issue 16) through the real discord.py client and the emulator:
snooze from a reminder DM, answering by a word in a DM, and Discord's Interested button."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta

import pytest

from bot.app import HoldfastBot
from bot.clock import ManualClock
from bot.config import Settings
from bot.delivery import outbox
from bot.logs import configure_logging
from bot.meetings import queries, rsvp
from tests.e2e.conftest import start_holdfast
from tests.e2e.test_logging_privacy import Everything, debug_logging
from tests.e2e.test_reminders import group_with_series, labels
from tests.emulator import Emulator, ScheduledEvent, Server
from tests.emulator.model import Message, message_text

__all__ = ["debug_logging"]  # the fixture, shared with test_logging_privacy

START = datetime(2026, 11, 26, 19, 30, tzinfo=UTC)  # the November meeting, GMT


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


def snoozed(emulator: Emulator, s: Server) -> list[Message]:
    return [m for m in emulator.dms_to(s.member) if "the reminder you asked for" in message_text(m)]


async def test_snooze_from_a_reminder_dm_comes_once_after_a_restart(
    holdfast: HoldfastBot,
    emulator: Emulator,
    discord_server: Server,
    clock: ManualClock,
    holdfast_settings: Settings,
) -> None:
    s = discord_server
    announcement = await group_with_series(holdfast, emulator, s, joiners=1)
    await (await emulator.as_user(s.member).click(announcement, "Going")).wait_for_text("going")
    # The 2h reminder on the day, 17:30 GMT: before 18:00, so both snoozes are offered.
    clock.set(utc(2026, 11, 26, 17, 30))
    await holdfast.alarm.wake()
    dm = await emulator.wait_for_dm(s.member, contains="A reminder")
    assert labels(dm) == [
        "Going",
        "Maybe",
        "Can't make it",
        "Remind me in an hour",
        "Remind me this evening",
    ]
    clock.advance(timedelta(minutes=1))
    member = emulator.as_user(s.member)
    first = await member.click(dm, "Remind me in an hour")
    due = utc(2026, 11, 26, 18, 31)
    text = await first.wait_for_text("remind you again")
    assert f"<t:{int(due.timestamp())}:t>" in text
    assert first.ephemeral
    # A double click (same instant) and a change of mind (this evening) leave one snooze.
    again = await member.click(dm, "Remind me in an hour")
    await again.wait_for_text("remind you again")
    evening = await member.click(dm, "Remind me this evening")
    assert f"<t:{int(utc(2026, 11, 26, 18, 0).timestamp())}:t>" in await evening.wait_for_text(
        "remind you again"
    )
    back = await member.click(dm, "Remind me in an hour")
    await back.wait_for_text("remind you again")
    pending = [d for d in await outbox.pending(holdfast.db, 50) if d.kind == "snooze"]
    assert [(d.destination.user_id, d.due_at) for d in pending] == [(s.member.id, due)]
    await holdfast.close()

    # Down over the due time; the new process sends it once, late but before the start.
    clock.set(utc(2026, 11, 26, 18, 40))
    async with start_holdfast(emulator, holdfast_settings, clock) as again_bot:
        assert again_bot.alarm.startup is not None
        await again_bot.alarm.startup
        [sent] = await emulator.wait_until(lambda: snoozed(emulator, s) or None, what="snooze")
        assert f"<t:{int(START.timestamp())}:F>" in message_text(sent)
        # 18:40: an hour later is after the start, the evening has begun: no more snoozes.
        assert labels(sent) == ["Going", "Maybe", "Can't make it"]
        clock.advance(timedelta(minutes=30))
        await again_bot.alarm.wake()
        assert snoozed(emulator, s) == [sent]
        # Too close to the start now: the old button says so kindly.
        late = await emulator.as_user(s.member).click(dm, "Remind me in an hour")
        assert "starts too soon" in await late.wait_for_text("won't send")


async def test_answering_cant_make_it_drops_the_snooze(
    holdfast: HoldfastBot, emulator: Emulator, discord_server: Server, clock: ManualClock
) -> None:
    s = discord_server
    announcement = await group_with_series(holdfast, emulator, s, joiners=1)
    await (await emulator.as_user(s.member).click(announcement, "Maybe")).wait_for_text("maybe")
    clock.set(utc(2026, 11, 26, 17, 30))
    await holdfast.alarm.wake()
    dm = await emulator.wait_for_dm(s.member, contains="A reminder")
    member = emulator.as_user(s.member)
    await (await member.click(dm, "Remind me this evening")).wait_for_text("remind you again")
    clock.advance(timedelta(minutes=2))
    await (await member.click(dm, "Can't make it")).wait_for_text("can't make")
    clock.set(utc(2026, 11, 26, 18, 0))
    await holdfast.alarm.wake()
    clock.set(utc(2026, 11, 26, 19, 0))
    await holdfast.alarm.wake()
    assert snoozed(emulator, s) == []
    assert [d for d in await outbox.pending(holdfast.db, 50) if d.kind == "snooze"] == []


def bot_dms(emulator: Emulator, s: Server, contains: str) -> list[Message]:
    return [m for m in emulator.dms_to(s.member) if contains in message_text(m)]


async def test_replying_going_to_a_reminder_answers_and_anything_else_gets_one_hint_a_day(
    holdfast: HoldfastBot, emulator: Emulator, discord_server: Server, clock: ManualClock
) -> None:
    s = discord_server
    announcement = await group_with_series(holdfast, emulator, s, joiners=1)
    await (await emulator.as_user(s.member).click(announcement, "Maybe")).wait_for_text("maybe")
    clock.set(utc(2026, 11, 25, 19, 30))
    await holdfast.alarm.wake()
    reminder = await emulator.wait_for_dm(s.member, contains="A reminder")
    member = emulator.as_user(s.member)

    await member.send_dm("Going! 🙂", reply_to=reminder)
    confirmed = await emulator.wait_for_dm(s.member, contains="you're down as going")
    assert "Monthly meet-up" in message_text(confirmed)
    # The same as the button: the announcement's counts follow (once the burst settles).
    await emulator.wait_until(
        lambda: "Going: 1 · Maybe: 0" in message_text(emulator.messages[announcement.id]) or None,
        what="the announcement to count the answer",
        timeout=10,
    )
    # The reply pings nobody.
    [post] = [
        r
        for r in emulator.requests_to("POST", "/channels/{channel_id}/messages")
        if "you're down as going" in r.body_text()
    ]
    assert post.body["allowed_mentions"]["parse"] == []
    assert post.body["allowed_mentions"].get("users", []) == []

    # Anything else: one hint, and not a second one the same day.
    await member.send_dm("thanks so much, see you")
    await emulator.wait_for_dm(s.member, contains="reply to its reminder with going")
    await member.send_dm("sorry, one more thing")
    # An answer after it is confirmed, so the one before it has been handled: still one hint.
    await member.send_dm("cant make it")
    await emulator.wait_for_dm(s.member, contains="can't make Monthly meet-up")
    assert len(bot_dms(emulator, s, "reply to its reminder with going")) == 1
    # The next day it comes again.
    clock.advance(timedelta(days=1))
    await member.send_dm("hello again")
    await emulator.wait_for_dm(s.member, contains="reply to its reminder with going", count=2)


async def test_a_word_replied_to_a_dm_not_about_a_meeting_answers_none(
    holdfast: HoldfastBot, emulator: Emulator, discord_server: Server, clock: ManualClock
) -> None:
    """A reply names its message: one Holdfast cannot tie to a meeting (the hint, or a DM
    whose record went with /mydata delete) is about none, though exactly one meeting was
    reminded; guessing it answered the wrong meeting (found by the simulation)."""
    s = discord_server
    announcement = await group_with_series(holdfast, emulator, s, joiners=1)
    await (await emulator.as_user(s.member).click(announcement, "Maybe")).wait_for_text("maybe")
    clock.set(utc(2026, 11, 25, 19, 30))
    await holdfast.alarm.wake()
    await emulator.wait_for_dm(s.member, contains="A reminder")
    member = emulator.as_user(s.member)
    await member.send_dm("hello")
    hint = await emulator.wait_for_dm(s.member, contains="reply to its reminder with going")

    await member.send_dm("can't", reply_to=hint)
    await emulator.wait_for_dm(s.member, contains="Which meeting do you mean?")
    assert await rsvp_of(holdfast, s.member.id) == "maybe"
    # (Not replying to anything, the one meeting reminded is the one meant: the test above.)


def meeting_event(emulator: Emulator, s: Server) -> ScheduledEvent:
    [event] = [
        e
        for e in emulator.scheduled_events.values()
        if e.guild_id == s.guild.id and not e.deleted and e.status == 1
    ]
    return event


async def rsvp_of(holdfast: HoldfastBot, user_id: int) -> str | None:
    [meeting] = await queries.upcoming_meetings(holdfast.db, 1, holdfast.clock.now(), limit=1)
    found = await rsvp.attendees(holdfast.db, meeting.id)
    for answer, people in found.items():
        if user_id in people:
            return answer.value
    return None


async def test_interested_on_the_events_entry_is_maybe_and_a_newcomer_is_offered_join(
    holdfast: HoldfastBot,
    emulator: Emulator,
    discord_server: Server,
    clock: ManualClock,
    holdfast_settings: Settings,
) -> None:
    s = discord_server
    member, newcomer = s.members[0], s.members[1]
    announcement = await group_with_series(holdfast, emulator, s, joiners=1)
    event = await emulator.wait_until(lambda: meeting_event(emulator, s), what="the event")

    # A member clicks Interested: Maybe, counted on the announcement, with Maybe's reminders.
    await emulator.mark_interested(member, event)
    await emulator.wait_until(
        lambda: "Maybe: 1" in message_text(emulator.messages[announcement.id]) or None,
        what="the announcement to count the Maybe",
        timeout=10,
    )
    assert await rsvp_of(holdfast, member.id) == "maybe"
    clock.set(utc(2026, 11, 25, 19, 30))
    await holdfast.alarm.wake()
    await emulator.wait_for_dm(member, contains="A reminder")
    # Taking it back removes that Maybe.
    await emulator.unmark_interested(member, event)
    await emulator.wait_until(
        lambda: "Maybe: 0" in message_text(emulator.messages[announcement.id]) or None,
        what="the announcement to drop the Maybe",
        timeout=10,
    )
    assert await rsvp_of(holdfast, member.id) is None

    # Someone not in the group yet: a DM with the Join button, once.
    await emulator.mark_interested(newcomer, event)
    offer = await emulator.wait_for_dm(newcomer, contains="You showed interest")
    assert labels(offer) == ["Join this group"]
    await emulator.unmark_interested(newcomer, event)
    await emulator.mark_interested(newcomer, event)
    joined = await emulator.as_user(newcomer).click(offer, "Join this group")
    await joined.wait_for_text("You're in North adopters")
    await holdfast.alarm.wake()
    assert len([m for m in emulator.dms_to(newcomer) if "showed interest" in message_text(m)]) == 1
    # The newcomer joined after clicking Interested, so is not Maybe yet; while the bot is
    # away the member clicks Interested again. The next start reads Discord's list: both Maybe.
    assert await rsvp_of(holdfast, newcomer.id) is None
    await holdfast.close()
    await emulator.mark_interested(member, event)
    async with start_holdfast(emulator, holdfast_settings, clock) as again:
        await emulator.wait_until(
            lambda: "Maybe: 2" in message_text(emulator.messages[announcement.id]) or None,
            what="the interest shown during the downtime to count",
            timeout=10,
        )
        assert await rsvp_of(again, member.id) == await rsvp_of(again, newcomer.id) == "maybe"


WORDS = "SENTINEL-8f3e my private words"


async def test_at_debug_no_log_line_shows_a_dm_or_who_is_interested(
    emulator: Emulator,
    discord_server: Server,
    holdfast_settings: Settings,
    clock: ManualClock,
    debug_logging: Everything,
    capfd: pytest.CaptureFixture[str],
) -> None:
    configure_logging("DEBUG", [emulator.bot_token])
    logging.getLogger().addHandler(debug_logging)
    s = discord_server
    member = s.members[0]
    async with start_holdfast(emulator, holdfast_settings, clock) as holdfast:
        announcement = await group_with_series(holdfast, emulator, s, joiners=1)
        event = await emulator.wait_until(lambda: meeting_event(emulator, s), what="the event")
        bot = emulator.as_user(member)
        await bot.send_dm(WORDS)
        await emulator.wait_for_dm(member, contains="reply to its reminder with going")
        # Written like a prefix command (a mention first): still no "command not found" line.
        await bot.send_dm(f"<@{emulator.bot_user.id}> {WORDS}")
        await emulator.mark_interested(member, event)
        await emulator.wait_until(
            lambda: "Maybe: 1" in message_text(emulator.messages[announcement.id]) or None,
            what="the Maybe counted",
            timeout=10,
        )
    output = capfd.readouterr()
    assert any(name.startswith("discord") for name, _ in debug_logging.lines)
    for name, text in debug_logging.lines:
        assert WORDS not in text, f"a DM's words in a log record from {name}"
        assert str(member.id) not in text, f"the member's id in a log record from {name}: {text}"
        assert "is not found" not in text
    for stream in (output.out, output.err):
        assert WORDS not in stream
        assert str(member.id) not in stream
