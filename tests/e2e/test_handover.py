"""/rota handover through the real discord.py client and the emulator: a facilitator who holds a
meeting asks another to take it; the DM's Accept / Decline; the rota's ask then goes to whoever
holds it; a second offer replaces the first; an offer closes when the meeting starts; and a
restart between the offer and the answer changes nothing."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest

from bot.app import HoldfastBot
from bot.clock import ManualClock
from bot.config import Settings
from bot.meetings import queries
from bot.meetings.model import Meeting
from tests.e2e.conftest import start_holdfast
from tests.e2e.test_reminders import group_with_series, labels
from tests.emulator import Emulator, Server
from tests.emulator.factories import build_guild
from tests.emulator.model import Message, message_text

OFFER = "has asked whether you could hold"
ACCEPT = "Yes, I'll take it"
DECLINE = "Sorry, I can't"


@pytest.fixture
def discord_server(emulator: Emulator) -> Server:
    """Three facilitators (someone to hand over to, and someone else), an admin, two members."""
    return build_guild(emulator, facilitators=3, members=2, admins=1)


async def two_meetings(
    holdfast: HoldfastBot, emulator: Emulator, s: Server, clock: ManualClock
) -> tuple[Meeting, Meeting]:
    """26 Nov 19:30 GMT (inside the rota's 3-day ask) and 31 Dec."""
    await group_with_series(holdfast, emulator, s, joiners=0)
    november, december, *_ = await queries.upcoming_meetings(holdfast.db, 1, clock.now(), limit=3)
    return november, december


async def hand_over(
    emulator: Emulator, s: Server, meeting: Meeting, to_index: int, holder_index: int = 0
) -> str:
    asker = emulator.as_user(s.facilitators[holder_index], channel=s.general)
    run = await asker.run("/rota handover", meeting=meeting.id, to=s.facilitators[to_index])
    text = await run.wait_for_text("I've asked")
    assert run.ephemeral
    return text


def edited(emulator: Emulator, message: Message) -> Message:
    return emulator.messages[message.id]


async def test_accepted_the_new_holder_is_asked_to_confirm_and_both_are_told(
    holdfast: HoldfastBot, emulator: Emulator, discord_server: Server, clock: ManualClock
) -> None:
    s = discord_server
    first, second = s.facilitators[0], s.facilitators[1]
    november, _ = await two_meetings(holdfast, emulator, s, clock)
    holder = emulator.as_user(first, channel=s.general)
    await (await holder.run("/rota assign", meeting=november.id)).wait_for_text("is down to hold")
    await holdfast.alarm.wake()
    old_ask = await emulator.wait_for_dm(first, contains="Can you confirm")

    said = await hand_over(emulator, s, november, to_index=1)
    assert f"I've asked <@{second.id}>" in said
    offer = await emulator.wait_for_dm(second, contains=OFFER)
    assert f"<@{first.id}> {OFFER} **Monthly meet-up** (North adopters)" in message_text(offer)
    assert labels(offer) == [ACCEPT, DECLINE]
    # The DM pings nobody, whatever it names.
    [post] = [
        r
        for r in emulator.requests_to("POST", "/channels/{channel_id}/messages")
        if OFFER in r.body_text()
    ]
    assert post.body["allowed_mentions"] == {"parse": [], "users": [], "roles": []}

    # Two quick clicks on Accept: one takeover, told once.
    taker = emulator.as_user(second)
    clicks = await asyncio.gather(taker.click(offer, ACCEPT), taker.click(offer, ACCEPT))
    for click in clicks:
        assert "is yours now" in await click.wait_for_text("is yours now")
    assert labels(edited(emulator, offer)) == []
    told = await emulator.wait_for_dm(first, contains="Good news")
    assert f"<@{second.id}> has taken **Monthly meet-up**" in message_text(told)
    # Inside the 3-day window: the new holder is asked to confirm at once, the old one no more.
    ask = await emulator.wait_for_dm(second, contains="Can you confirm")
    await holdfast.alarm.wake()
    assert len([m for m in emulator.dms_to(first) if "Good news" in message_text(m)]) == 1
    assert len([m for m in emulator.dms_to(second) if "Can you confirm" in message_text(m)]) == 1
    stale = await holder.click(old_ask, "I'll be there")
    await stale.wait_for_text("down for another facilitator")
    confirmed = await emulator.as_user(second).click(ask, "I'll be there")
    await confirmed.wait_for_text("you're confirmed")
    shown = await holder.run("/rota show")
    assert f"<@{second.id}> (confirmed)" in await shown.wait_for_text("Rota for")


async def test_declined_the_asker_still_holds_it_and_can_confirm_from_the_answer(
    holdfast: HoldfastBot, emulator: Emulator, discord_server: Server, clock: ManualClock
) -> None:
    s = discord_server
    first, second = s.facilitators[0], s.facilitators[1]
    _, december = await two_meetings(holdfast, emulator, s, clock)
    holder = emulator.as_user(first, channel=s.general)
    await (await holder.run("/rota assign", meeting=december.id)).wait_for_text("is down to hold")
    await hand_over(emulator, s, december, to_index=1)
    offer = await emulator.wait_for_dm(second, contains=OFFER)
    no = await emulator.as_user(second).click(offer, DECLINE)
    text = await no.wait_for_text("Thanks for letting them know")
    assert f"<@{first.id}> still holds **Monthly meet-up**" in text
    assert labels(edited(emulator, offer)) == []
    answer = await emulator.wait_for_dm(first, contains="can't take")
    assert "still yours" in message_text(answer)
    assert labels(answer) == ["I'll be there"]
    confirmed = await holder.click(answer, "I'll be there")
    await confirmed.wait_for_text("you're confirmed")
    shown = await holder.run("/rota show")
    assert f"<@{first.id}> (confirmed)" in await shown.wait_for_text("Rota for")


async def test_a_second_offer_replaces_the_first_whose_buttons_say_it_is_closed(
    holdfast: HoldfastBot, emulator: Emulator, discord_server: Server, clock: ManualClock
) -> None:
    s = discord_server
    first, second, third = s.facilitators
    _, december = await two_meetings(holdfast, emulator, s, clock)
    holder = emulator.as_user(first, channel=s.general)
    await (await holder.run("/rota assign", meeting=december.id)).wait_for_text("is down to hold")
    await hand_over(emulator, s, december, to_index=1)
    old = await emulator.wait_for_dm(second, contains=OFFER)
    said = await hand_over(emulator, s, december, to_index=2)
    assert f"replaces your earlier ask to <@{second.id}>" in said
    new = await emulator.wait_for_dm(third, contains=OFFER)

    late = await emulator.as_user(second).click(old, ACCEPT)
    assert "no longer open" in await late.wait_for_text("has made other plans")
    assert labels(edited(emulator, old)) == []
    taken = await emulator.as_user(third).click(new, ACCEPT)
    await taken.wait_for_text("is yours now")
    shown = await holder.run("/rota show")
    assert f"<@{third.id}> (not confirmed yet)" in await shown.wait_for_text("Rota for")


async def test_an_offer_closes_when_the_meeting_starts(
    holdfast: HoldfastBot, emulator: Emulator, discord_server: Server, clock: ManualClock
) -> None:
    s = discord_server
    second = s.facilitators[1]
    november, _ = await two_meetings(holdfast, emulator, s, clock)
    holder = emulator.as_user(s.facilitators[0], channel=s.general)
    await (await holder.run("/rota assign", meeting=november.id)).wait_for_text("is down to hold")
    await hand_over(emulator, s, november, to_index=1)
    offer = await emulator.wait_for_dm(second, contains=OFFER)
    clock.set(november.starts_at + timedelta(minutes=1))
    late = await emulator.as_user(second).click(offer, ACCEPT)
    assert "no longer open" in await late.wait_for_text("the meeting has started")
    assert labels(edited(emulator, offer)) == []
    shown = await holder.run("/rota show")
    assert f"<@{second.id}>" not in await shown.wait_for_text("Rota for")


async def test_refused_kindly_with_nothing_sent(
    holdfast: HoldfastBot, emulator: Emulator, discord_server: Server, clock: ManualClock
) -> None:
    s = discord_server
    first, second = s.facilitators[0], s.facilitators[1]
    _, december = await two_meetings(holdfast, emulator, s, clock)
    holder = emulator.as_user(first, channel=s.general)

    async def refused(by: object, to: object, contains: str) -> None:
        run = await emulator.as_user(by, channel=s.general).run(  # type: ignore[arg-type]
            "/rota handover", meeting=december.id, to=to
        )
        await run.wait_for_text(contains)
        assert run.ephemeral

    await refused(first, second, "Nobody holds this meeting yet")
    await (await holder.run("/rota assign", meeting=december.id)).wait_for_text("is down to hold")
    await refused(second, s.facilitators[2], f"<@{first.id}> holds this one")
    await refused(first, first, "You already hold this meeting")
    await refused(first, s.member, "Only the facilitators of North adopters")
    await refused(first, emulator.app.bot_user, "A bot can't hold a meeting")
    await refused(s.member, second, "facilitators")
    await holdfast.alarm.wake()
    for person in (second, s.facilitators[2], s.member):
        assert [m for m in emulator.dms_to(person) if OFFER in message_text(m)] == []


async def test_a_restart_between_the_offer_and_the_answer_changes_nothing(
    holdfast: HoldfastBot,
    emulator: Emulator,
    discord_server: Server,
    clock: ManualClock,
    holdfast_settings: Settings,
) -> None:
    s = discord_server
    first, second = s.facilitators[0], s.facilitators[1]
    _, december = await two_meetings(holdfast, emulator, s, clock)
    holder = emulator.as_user(first, channel=s.general)
    await (await holder.run("/rota assign", meeting=december.id)).wait_for_text("is down to hold")
    await hand_over(emulator, s, december, to_index=1)
    offer = await emulator.wait_for_dm(second, contains=OFFER)
    await holdfast.close()

    # A new process knows nothing in memory: the button's custom_id and SQLite are enough.
    async with start_holdfast(emulator, holdfast_settings, clock) as again:
        assert again.alarm.startup is not None
        await again.alarm.startup
        taken = await emulator.as_user(second).click(offer, ACCEPT)
        await taken.wait_for_text("is yours now")
        await emulator.wait_for_dm(first, contains="Good news")
        shown = await holder.run("/rota show")
        assert f"<@{second.id}> (not confirmed yet)" in await shown.wait_for_text("Rota for")
    # The offer went out once, not again after the restart.
    posts = emulator.requests_to("POST", "/channels/{channel_id}/messages")
    assert len([r for r in posts if OFFER in r.body_text()]) == 1
