"""A meeting's topic (`/meeting topic`): shown in the announcement, the reminders, the Events entry
and the calendar file, and changing it messages nobody. Real SQLite, real migrations."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, time, timedelta
from pathlib import Path

import aiosqlite
import icalendar
import pytest
import pytest_asyncio

from bot.clock import ManualClock
from bot.db import open_database
from bot.delivery.dispatcher import Dispatcher
from bot.errors import Conflict, HoldfastError
from bot.groups import service as groups
from bot.groups.model import Group, GroupSettings
from bot.meetings import cards as meeting_cards
from bot.meetings import changes, events, queries, rsvp, series
from bot.meetings.announcements import refresh_announcement
from bot.meetings.calendar import calendar_for_group
from bot.meetings.model import Answer, Meeting, Place, PlaceKind, SeriesDraft
from bot.meetings.recurrence import Rule
from bot.migrate import migrate
from bot.planning import Policy
from bot.reminders import cards as reminder_cards
from bot.reminders.model import PrefsChange
from bot.reminders.service import update_prefs
from tests.test_outbox import FakePort

GUILD, CHANNEL, ROLE, VOICE = 1111, 2222, 3333, 4444
POLICY = Policy(announce_lead=timedelta(days=14))
RENDERERS = {**meeting_cards.RENDERERS, **reminder_cards.RENDERERS}
TOPIC = "Contact with birth family"
LONGEST = ("Letterbox contact " * 20)[: changes.MAX_TOPIC - 1] + "!"


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(datetime(2026, 9, 20, 12, 0, tzinfo=UTC))


@pytest_asyncio.fixture
async def db(tmp_path: Path, clock: ManualClock) -> AsyncIterator[aiosqlite.Connection]:
    path = tmp_path / "holdfast.sqlite3"
    await migrate(path, clock.now())
    conn = await open_database(path)
    try:
        yield conn
    finally:
        await conn.close()


async def first_meeting(db: aiosqlite.Connection, clock: ManualClock) -> tuple[Group, Meeting]:
    group = await groups.create_group(
        db, GUILD, GroupSettings("North", CHANNEL, ROLE, None, "Europe/London"), clock.now()
    )
    draft = SeriesDraft(
        title="Monthly meet-up",
        rule=Rule.last_weekday(3),
        local_time=time(19, 30),
        duration_minutes=90,
        place=Place.channel(PlaceKind.VOICE, VOICE),
        description="Tea and talk",
    )
    change = await series.create_series(db, group, draft, 9, clock.now(), POLICY)
    return group, (await queries.series_meetings(db, change.series.id))[0]


async def planned(db: aiosqlite.Connection) -> set[tuple[str, str]]:
    async with db.execute("SELECT idempotency_key, kind FROM outbox") as cursor:
        return {(str(r[0]), str(r[1])) for r in await cursor.fetchall()}


async def test_a_topic_shows_everywhere_and_messages_nobody(
    db: aiosqlite.Connection, clock: ManualClock
) -> None:
    group, meeting = await first_meeting(db, clock)
    for user in (1, 2):
        await groups.join_group(db, group, user, clock.now())
        await rsvp.answer_meeting(db, meeting.id, user, Answer.GOING, clock.now(), POLICY)
    await update_prefs(db, 2, PrefsChange(via="channel"), clock.now(), POLICY.reminders)
    port = FakePort()
    dispatcher = Dispatcher(db, port, clock, RENDERERS)
    await dispatcher.run_due()
    (posted,) = port.in_channel(CHANNEL)
    assert TOPIC not in posted.message.cards[0].description
    event_before = events.fingerprint(events.spec_for(meeting))
    before = await planned(db)

    change = await changes.set_topic(
        db, meeting, "  Contact  with\nbirth family ", clock.now(), POLICY
    )

    assert change.after.topic == TOPIC
    # Nobody is messaged: no notice, no DM, nothing new planned at all.
    assert await planned(db) == before
    # The announcement, edited in place.
    assert await refresh_announcement(db, port, meeting.id)
    (posted,) = port.in_channel(CHANNEL)
    assert f"Topic: {TOPIC}" in posted.message.cards[0].description
    # The Events entry: the topic first, so Discord's 1,000 characters never cut it off.
    spec = events.spec_for(change.after)
    assert spec.description is not None
    assert spec.description.startswith(f"💬 Topic: {TOPIC}")
    assert events.fingerprint(spec) != event_before
    # The calendar file: that date's entry carries it.
    data = await calendar_for_group(db, group, clock.now())
    described = [
        str(e.get("description", "")) for e in icalendar.Calendar.from_ical(data).walk("VEVENT")
    ]
    assert [d for d in described if TOPIC in d] == [f"💬 Topic: {TOPIC}\n\nTea and talk"]
    # The reminders, by DM and in the channel.
    clock.set(meeting.starts_at - timedelta(minutes=30))
    await dispatcher.run_due()
    dm = [m for m in port.messages if m.channel_id == 100_000 + 1]
    mention = [m for m in port.in_channel(CHANNEL) if "A reminder" in m.message.content]
    assert dm
    assert mention
    assert all(f"Topic: {TOPIC}" in m.message.content for m in dm + mention)


async def test_an_empty_topic_clears_it_and_a_long_one_is_refused_kindly(
    db: aiosqlite.Connection, clock: ManualClock
) -> None:
    _, meeting = await first_meeting(db, clock)
    longest = await changes.set_topic(db, meeting, LONGEST, clock.now(), POLICY)
    assert longest.after.topic == LONGEST
    with pytest.raises(HoldfastError, match="keep it to 200 characters"):
        await changes.set_topic(db, longest.after, LONGEST + "x", clock.now(), POLICY)
    assert (await queries.get_meeting(db, meeting.id)).topic == LONGEST
    for empty in ("", "   ", None):
        cleared = await changes.set_topic(db, longest.after, empty, clock.now(), POLICY)
        assert cleared.after.topic is None
    # At its longest, with the longest note, the announcement still fits an embed.
    noted = await changes.set_note(db, longest.after, "n" * changes.MAX_NOTE, clock.now(), POLICY)
    topical = await changes.set_topic(db, noted.after, LONGEST, clock.now(), POLICY)
    card = meeting_cards.announcement(topical.after, await rsvp.count_answers(db, meeting.id))
    assert LONGEST in card.cards[0].description


async def test_a_cancelled_or_started_meeting_keeps_its_topic(
    db: aiosqlite.Connection, clock: ManualClock
) -> None:
    _, meeting = await first_meeting(db, clock)
    cancelled = await changes.cancel_meeting(db, meeting, clock.now(), POLICY)
    with pytest.raises(Conflict, match="already cancelled"):
        await changes.set_topic(db, cancelled.after, TOPIC, clock.now(), POLICY)
    _, later = (await queries.series_meetings(db, meeting.series_id))[:2]
    clock.set(later.starts_at + timedelta(minutes=1))
    with pytest.raises(Conflict, match="already started"):
        await changes.set_topic(db, later, TOPIC, clock.now(), POLICY)
