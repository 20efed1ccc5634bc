"""A group's ground rules and the welcome a member gets on joining (rules, the next meeting and its
answer buttons). Real SQLite, real migrations."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, time, timedelta
from pathlib import Path

import aiosqlite
import pytest
import pytest_asyncio

from bot.clock import ManualClock
from bot.db import open_database
from bot.errors import Conflict, HoldfastError
from bot.groups import rules
from bot.groups import service as groups
from bot.groups.model import Group, GroupSettings
from bot.meetings import changes, queries, series
from bot.meetings.cards import rsvp_custom_id
from bot.meetings.model import Answer, Place, SeriesDraft
from bot.meetings.recurrence import Rule
from bot.meetings.welcome import welcome
from bot.migrate import migrate
from bot.planning import Policy
from bot.texts import attendance as attendance_texts
from bot.texts import welcome as texts

GUILD, CHANNEL, ROLE = 1111, 2222, 3333
POLICY = Policy(announce_lead=timedelta(days=14))
# The longest each may be (cogs: group name 60, title 80, place 200; topic 200; rules 1,500).
NAME, TITLE, PLACE = "N" * 60, "T" * 80, "P" * 200
EMBED_DESCRIPTION_LIMIT, EMBED_TOTAL_LIMIT = 4096, 6000


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


async def make_group(db: aiosqlite.Connection, clock: ManualClock, name: str = "North") -> Group:
    return await groups.create_group(
        db, GUILD, GroupSettings(name, CHANNEL, ROLE, None, "Europe/London"), clock.now()
    )


async def test_a_group_has_warm_default_rules_until_its_facilitators_set_their_own(
    db: aiosqlite.Connection, clock: ManualClock
) -> None:
    group = await make_group(db, clock)
    default = rules.rules_of(group)
    for promise in ("stays here", "never have to speak", "Camera off", "leave at any time"):
        assert promise in default
    saved = await rules.set_rules(db, group, "  Be gentle.\r\nPhones on silent.  \n\n", clock.now())
    assert rules.rules_of(saved) == "Be gentle.\nPhones on silent."
    # Stored: a fresh read (as after a restart) has them.
    assert rules.rules_of(await groups.get_group(db, group.id)) == "Be gentle.\nPhones on silent."
    # Empty (or the default itself, unchanged in the form) goes back to the default.
    for back in ("", "  \n ", None, texts.default_rules()):
        reset = await rules.set_rules(db, saved, back, clock.now())
        assert reset.rules is None
        assert rules.rules_of(reset) == default
        saved = await rules.set_rules(db, reset, "Be gentle.", clock.now())


async def test_rules_up_to_1500_characters_and_a_kind_refusal_beyond(
    db: aiosqlite.Connection, clock: ManualClock
) -> None:
    group = await make_group(db, clock)
    longest = ("Listen more than you speak. " * 60)[: rules.MAX_RULES - 1] + "!"
    saved = await rules.set_rules(db, group, longest, clock.now())
    assert saved.rules == longest
    with pytest.raises(HoldfastError, match="keep them to 1,500 characters"):
        await rules.set_rules(db, saved, longest + "!", clock.now())
    assert (await groups.get_group(db, group.id)).rules == longest
    closed = await groups.archive_group(db, saved, clock.now())
    with pytest.raises(Conflict, match="has been closed"):
        await rules.set_rules(db, closed, "New rules", clock.now())


async def test_the_welcome_carries_the_rules_and_the_next_meeting_with_its_buttons(
    db: aiosqlite.Connection, clock: ManualClock
) -> None:
    group = await make_group(db, clock)
    nothing_yet = await welcome(db, group, clock.now())
    assert nothing_yet.buttons == ()
    (card,) = nothing_yet.cards
    assert card.title == "Welcome to North"
    assert texts.default_rules() in card.description
    assert "no meeting planned just yet" in card.description

    draft = SeriesDraft(
        title="Monthly meet-up",
        rule=Rule.last_weekday(3),
        local_time=time(19, 30),
        duration_minutes=90,
        place=Place.external("the library"),
    )
    change = await series.create_series(db, group, draft, 9, clock.now(), POLICY)
    first, second, *_ = await queries.series_meetings(db, change.series.id)
    await changes.set_topic(db, second, "Starting school", clock.now(), POLICY)
    await changes.cancel_meeting(db, first, clock.now(), POLICY)
    group = await rules.set_rules(db, group, "Be gentle.", clock.now())
    message = await welcome(db, group, clock.now())
    (card,) = message.cards
    # The next meeting that will happen (the cancelled one is skipped), with its topic.
    assert f"<t:{int(second.starts_at.timestamp())}:F>" in card.description
    assert "Topic: Starting school" in card.description
    assert "the library" in card.description
    assert "**Our ground rules**\nBe gentle." in card.description
    assert "What I keep about you" in card.description
    assert [b.custom_id for b in message.buttons] == [
        rsvp_custom_id(second.id, answer) for answer in (Answer.GOING, Answer.MAYBE, Answer.NO)
    ]
    assert [b.label for b in message.buttons] == ["Going", "Maybe", "Can't make it"]


async def test_the_welcome_at_its_longest_fits_one_embed(
    db: aiosqlite.Connection, clock: ManualClock
) -> None:
    group = await make_group(db, clock, NAME)
    group = await rules.set_rules(db, group, "R" * rules.MAX_RULES, clock.now())
    draft = SeriesDraft(
        title=TITLE,
        rule=Rule.last_weekday(3),
        local_time=time(19, 30),
        duration_minutes=90,
        place=Place.external(PLACE),
        description="D" * 1000,
    )
    change = await series.create_series(db, group, draft, 9, clock.now(), POLICY)
    first = (await queries.series_meetings(db, change.series.id))[0]
    await changes.set_topic(db, first, "t" * changes.MAX_TOPIC, clock.now(), POLICY)
    # A group that notes who came says so in the welcome too (bot/attendance).
    noting = attendance_texts.welcome_note(NAME)
    (card,) = (await welcome(db, group, clock.now(), noting)).cards
    for whole in ("R" * rules.MAX_RULES, TITLE, PLACE, "t" * changes.MAX_TOPIC, noting):
        assert whole in card.description
    assert len(card.description) <= EMBED_DESCRIPTION_LIMIT
    assert len(card.title) + len(card.description) <= EMBED_TOTAL_LIMIT
