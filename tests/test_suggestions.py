"""Members' private topic suggestions: stored for their group, seen and withdrawn by their author,
listed for the facilitators oldest first and without names. Real SQLite, real migrations."""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import aiosqlite
import pytest
import pytest_asyncio

from bot.clock import ManualClock
from bot.db import open_database
from bot.errors import Conflict, HoldfastError
from bot.groups import service as groups
from bot.groups import suggestions
from bot.groups.model import Group, GroupSettings
from bot.meetings import rsvp
from bot.migrate import migrate
from bot.texts import suggestions as texts

GUILD, CHANNEL, ROLE = 1111, 2222, 3333
ANNA, BEN, CARA = 501, 502, 503
CONTENT_LIMIT = 2000


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
    group = await groups.create_group(
        db, GUILD, GroupSettings(name, CHANNEL, ROLE, None, "Europe/London"), clock.now()
    )
    for person in (ANNA, BEN):
        await groups.join_group(db, group, person, clock.now())
    return group


async def test_a_member_suggests_and_a_second_click_stores_nothing_more(
    db: aiosqlite.Connection, clock: ManualClock
) -> None:
    group = await make_group(db, clock)
    first = await suggestions.suggest(
        db, group, ANNA, "  Contact\n with  birth family ", clock.now()
    )
    assert first.changed
    assert first.suggestion.text == "Contact with birth family"
    again = await suggestions.suggest(db, group, ANNA, "contact with birth family", clock.now())
    assert not again.changed
    assert again.suggestion == first.suggestion
    # The same words from someone else are their own suggestion.
    assert (
        await suggestions.suggest(db, group, BEN, "Contact with birth family", clock.now())
    ).changed
    assert len(await suggestions.group_suggestions(db, group)) == 2


async def test_kind_refusals_empty_too_long_not_a_member_closed_and_too_many(
    db: aiosqlite.Connection, clock: ManualClock
) -> None:
    group = await make_group(db, clock)
    longest = ("Sleep " * 40)[: suggestions.MAX_SUGGESTION - 1] + "!"
    assert (
        await suggestions.suggest(db, group, ANNA, longest, clock.now())
    ).suggestion.text == longest
    with pytest.raises(HoldfastError, match="keep it to 200 characters"):
        await suggestions.suggest(db, group, ANNA, longest + "!", clock.now())
    with pytest.raises(HoldfastError, match="a few words"):
        await suggestions.suggest(db, group, ANNA, " \n ", clock.now())
    with pytest.raises(HoldfastError, match="Join with `/group join` first"):
        await suggestions.suggest(db, group, CARA, "Respite", clock.now())
    for n in range(2, suggestions.MAX_OWN_PER_GROUP + 1):
        await suggestions.suggest(db, group, ANNA, f"Topic {n}", clock.now())
    with pytest.raises(Conflict, match="5 suggestions waiting"):
        await suggestions.suggest(db, group, ANNA, "One too many", clock.now())
    # Withdrawing one makes room.
    (own, *_) = await suggestions.own_suggestions(db, GUILD, ANNA)
    assert await suggestions.withdraw(db, own.id, ANNA)
    assert (await suggestions.suggest(db, group, ANNA, "One too many", clock.now())).changed
    closed = await groups.archive_group(db, group, clock.now())
    with pytest.raises(Conflict, match="has been closed"):
        await suggestions.suggest(db, closed, BEN, "Respite", clock.now())


async def test_only_its_author_withdraws_a_suggestion_and_twice_is_harmless(
    db: aiosqlite.Connection, clock: ManualClock
) -> None:
    group = await make_group(db, clock)
    mine = (await suggestions.suggest(db, group, ANNA, "Respite", clock.now())).suggestion
    assert not await suggestions.withdraw(db, mine.id, BEN)
    assert [s.text for s in await suggestions.own_suggestions(db, GUILD, ANNA)] == ["Respite"]
    assert await suggestions.withdraw(db, mine.id, ANNA)
    assert not await suggestions.withdraw(db, mine.id, ANNA)
    assert await suggestions.own_suggestions(db, GUILD, ANNA) == []
    assert await suggestions.group_suggestions(db, group) == []


async def test_leaving_the_group_takes_the_members_suggestions_for_it(
    db: aiosqlite.Connection, clock: ManualClock
) -> None:
    group = await make_group(db, clock)
    other = await make_group(db, clock, "South")
    await suggestions.suggest(db, group, ANNA, "Respite", clock.now())
    await suggestions.suggest(db, group, BEN, "Sleep", clock.now())
    await suggestions.suggest(db, other, ANNA, "Elsewhere", clock.now())
    await rsvp.leave_group(db, group, ANNA, clock.now())
    assert [s.text for s in await suggestions.group_suggestions(db, group)] == ["Sleep"]
    assert [s.text for s in await suggestions.own_suggestions(db, GUILD, ANNA)] == ["Elsewhere"]


async def test_facilitators_see_them_oldest_first_without_names_and_mark_one_used(
    db: aiosqlite.Connection, clock: ManualClock
) -> None:
    group = await make_group(db, clock)
    other = await make_group(db, clock, "South")
    for person, text in ((BEN, "Starting school"), (ANNA, "Respite"), (BEN, "Contact")):
        await suggestions.suggest(db, group, person, text, clock.now())
        clock.advance(timedelta(minutes=1))
    await suggestions.suggest(db, other, ANNA, "Elsewhere", clock.now())
    listed = await suggestions.group_suggestions(db, group)
    assert [s.text for s in listed] == ["Starting school", "Respite", "Contact"]
    # What facilitators are handed holds the words and an id, nothing that names a person.
    assert {f.name for f in dataclasses.fields(suggestions.Suggestion)} == {"id", "text"}
    assert await suggestions.mark_used(db, other, listed[1].id) is None
    used = await suggestions.mark_used(db, group, listed[1].id)
    assert used == listed[1]
    assert await suggestions.mark_used(db, group, listed[1].id) is None
    assert [s.text for s in await suggestions.group_suggestions(db, group)] == [
        "Starting school",
        "Contact",
    ]
    # The author's own list no longer has it either.
    assert [s.text for s in await suggestions.own_suggestions(db, GUILD, ANNA)] == ["Elsewhere"]


def test_many_long_suggestions_page_eight_at_a_time_and_every_page_fits() -> None:
    words = [f"{n:03d} " + "w" * (suggestions.MAX_SUGGESTION - 4) for n in range(1, 42)]
    pages = texts.group_pages("N" * 60, words, suggestions.PER_PAGE)
    assert len(pages) == 6
    assert all(len(page) <= CONTENT_LIMIT for page in pages)
    for n, word in enumerate(words):
        holding = [i for i, page in enumerate(pages) if word in page]
        assert holding == [n // suggestions.PER_PAGE]
    assert "Page 6 of 6" in pages[-1]
    assert texts.group_pages("North", [], suggestions.PER_PAGE)[0].startswith("There are no")
    own = texts.own_list([("N" * 60, w) for w in words[:5]], more=36)
    assert len(own) <= CONTENT_LIMIT
    assert all(w in own for w in words[:5])
    assert "36 more" in own
