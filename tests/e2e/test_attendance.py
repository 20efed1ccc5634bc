"""Noting who came, through the real discord.py client and the emulator: the group's choice,
members seen in the meeting's voice channel (also across a restart, from GUILD_CREATE's voice
states), the facilitator's "who came?" after a meeting elsewhere, "we missed you" the next
morning, and turnout as counts only.

The e2e clock starts on Wednesday 25 November 2026, 09:00 UTC; the group's last-Thursday meeting
is 26 November, 19:30 GMT (19:30 UTC); the next is 31 December."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta

from bot.app import HoldfastBot
from bot.clock import ManualClock
from bot.config import Settings
from bot.meetings import queries
from bot.meetings.model import Meeting
from tests.e2e.conftest import start_holdfast
from tests.e2e.test_meetings import create_group, create_last_thursday
from tests.e2e.test_reminders import labels
from tests.emulator import Emulator, Server
from tests.emulator.model import Message, message_text

NEXT_MORNING = datetime(2026, 11, 27, 10, 0, tzinfo=UTC)  # 10:00 GMT
DECEMBER = datetime(2026, 12, 31, 19, 30, tzinfo=UTC)


async def eventually(check: Callable[[], Awaitable[bool]], what: str, timeout: float = 5) -> None:
    """Wait for something the bot writes to its database (it reacts to gateway events)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not await check():
        if loop.time() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.01)


async def came_to(bot: HoldfastBot, meeting_id: int) -> set[int]:
    async with bot.db.execute(
        "SELECT user_id FROM attendance WHERE meeting_id = :m", {"m": meeting_id}
    ) as cursor:
        return {int(row[0]) for row in await cursor.fetchall()}


async def next_meeting(bot: HoldfastBot, clock: ManualClock) -> Meeting:
    [meeting] = await queries.upcoming_meetings(bot.db, 1, clock.now(), limit=1)
    return meeting


async def turn_on(emulator: Emulator, s: Server) -> None:
    facilitator = emulator.as_user(s.facilitator, channel=s.general)
    on = await facilitator.run("/group attendance", on=True)
    text = await on.wait_for_text("now **on**")
    assert on.ephemeral
    assert "nothing about who didn't" in text


async def answer(
    emulator: Emulator, message: Message, *people_and_answers: tuple[object, str]
) -> None:
    for person, label in people_and_answers:
        clicked = await emulator.as_user(person).click(message, label)  # type: ignore[arg-type]
        await clicked.wait_for_response()


def missed_you_to(emulator: Emulator, person: object) -> list[Message]:
    return [m for m in emulator.dms_to(person) if "We missed you" in message_text(m)]  # type: ignore[arg-type]


async def test_members_seen_in_voice_are_noted_and_the_one_who_missed_it_hears_next_morning(
    holdfast: HoldfastBot, emulator: Emulator, discord_server: Server, clock: ManualClock
) -> None:
    s = discord_server
    welcome = await create_group(emulator, s)
    came, missed, quiet, rather_not = s.members[:4]
    for person in (came, missed, quiet, rather_not):
        joined = await emulator.as_user(person).click(welcome, "Join this group")
        await joined.wait_for_text("You're in North adopters")
    await create_last_thursday(emulator, s, holdfast)
    announcement = await emulator.wait_for_message(s.meetings, contains="Monthly meet-up")
    # Only facilitators choose it.
    refused = await emulator.as_user(quiet, channel=s.general).run("/group attendance", on=True)
    await refused.wait_for_text("Only the facilitators")
    await turn_on(emulator, s)
    await answer(emulator, announcement, (came, "Going"), (missed, "Going"), (rather_not, "Maybe"))
    # Each member can turn the message off for themselves.
    off = await emulator.as_user(rather_not, channel=s.general).run(
        "/reminders missed-you", on=False
    )
    assert "“We missed you” messages: off." in await off.wait_for_text("Saved")
    shown = await emulator.as_user(missed, channel=s.general).run("/reminders show")
    assert "“we missed you” message after a meeting you meant to come to: on" in (
        await shown.wait_for_text("You get reminders")
    )
    meeting = await next_meeting(holdfast, clock)

    # Ten minutes before the start the room counts; someone not in the group is not stored.
    clock.set(meeting.starts_at - timedelta(minutes=5))
    await emulator.as_user(came).join_voice(s.voice)
    await emulator.as_user(s.members[4]).join_voice(s.voice)

    async def noted() -> bool:
        return await came_to(holdfast, meeting.id) == {came.id}

    await eventually(noted, "the member in the voice channel to be noted")
    await emulator.as_user(came).leave_voice()

    # The next morning: one warm DM to the one who said Going and did not come.
    clock.set(NEXT_MORNING)
    await holdfast.alarm.wake()
    dm = await emulator.wait_for_dm(missed, contains="We missed you")
    text = message_text(dm)
    assert "no need to explain" in text
    assert f"<t:{int(DECEMBER.timestamp())}:F>" in text
    assert "welcome whenever you're ready" in text
    assert labels(dm) == ["Going", "Maybe", "Can't make it"]
    # Its buttons answer for December's meeting.
    going = await emulator.as_user(missed).click(dm, "Going")
    await going.wait_for_text("going")
    async with holdfast.db.execute(
        "SELECT m.starts_at FROM rsvps AS r JOIN meetings AS m ON m.id = r.meeting_id "
        "WHERE r.user_id = :u ORDER BY m.starts_at DESC LIMIT 1",
        {"u": missed.id},
    ) as cursor:
        assert datetime.fromisoformat((await cursor.fetchone())[0]) == DECEMBER
    # Nobody else hears, and the DM pings nobody.
    assert missed_you_to(emulator, came) == []
    assert missed_you_to(emulator, quiet) == []
    assert missed_you_to(emulator, rather_not) == []
    [post] = [
        r
        for r in emulator.requests_to("POST", "/channels/{channel_id}/messages")
        if "We missed you" in r.body_text()
    ]
    assert post.body["allowed_mentions"]["users"] == []
    assert post.body["allowed_mentions"]["parse"] == []
    # Never twice.
    clock.set(NEXT_MORNING + timedelta(hours=3))
    await holdfast.alarm.wake()
    assert len(missed_you_to(emulator, missed)) == 1


async def test_the_welcome_and_about_say_what_is_noted_only_while_it_is_on(
    holdfast: HoldfastBot, emulator: Emulator, discord_server: Server, clock: ManualClock
) -> None:
    s = discord_server
    welcome = await create_group(emulator, s)
    member = emulator.as_user(s.member, channel=s.general)
    about = await (await member.run("/about")).wait_for_response()
    assert "Who came" not in about.content
    await turn_on(emulator, s)
    about = await (await member.run("/about")).wait_for_response()
    assert "**Who came** (in North adopters)" in about.content
    assert len(about.content) <= 2000
    joined = await emulator.as_user(s.member).click(welcome, "Join this group")
    await joined.wait_for_text("You're in North adopters")
    dm = await emulator.wait_for_dm(s.member, contains="Welcome to North adopters")
    assert "notes only *that* you came" in message_text(dm)
    off = await emulator.as_user(s.facilitator, channel=s.general).run(
        "/group attendance", on=False
    )
    await off.wait_for_text("now **off**")
    about = await (await member.run("/about")).wait_for_response()
    assert "Who came" not in about.content


async def test_the_facilitator_says_who_came_to_a_meeting_elsewhere_and_turnout_shows_counts(
    holdfast: HoldfastBot, emulator: Emulator, discord_server: Server, clock: ManualClock
) -> None:
    s = discord_server
    welcome = await create_group(emulator, s)
    first, second, maybe, silent = s.members[:4]
    for person in (first, second, maybe, silent):
        joined = await emulator.as_user(person).click(welcome, "Join this group")
        await joined.wait_for_text("You're in North adopters")
    facilitator = emulator.as_user(s.facilitator, channel=s.general)
    preview = await facilitator.run(
        "/series create",
        title="Monthly meet-up",
        when="last Thursday",
        time="19:30",
        place="The library, Mill Street",
    )
    await preview.wait_for_text("next dates")
    await (await facilitator.click(preview, "Save")).wait_for_text("is saved")
    announcement = await emulator.wait_for_message(s.meetings, contains="Monthly meet-up")
    await turn_on(emulator, s)
    await answer(emulator, announcement, (first, "Going"), (second, "Going"), (maybe, "Maybe"))
    meeting = await next_meeting(holdfast, clock)
    assigned = await facilitator.run("/rota assign", meeting=meeting.id)
    await assigned.wait_for_text("is down to hold")

    # When it ends, the facilitator holding it is asked, once, by DM.
    clock.set(meeting.ends_at)
    await holdfast.alarm.wake()
    ask = await emulator.wait_for_dm(s.facilitator, contains="who came?")
    [menu] = [c for c in ask.component_list() if c.get("type") == 5]
    assert {int(v["id"]) for v in menu["default_values"]} == {first.id, second.id, maybe.id}
    assert menu["min_values"] == 0
    assert labels(ask) == ["Everyone who said Going came"]
    holder = emulator.as_user(s.facilitator)
    picked = await holder.select(ask, "Who came?", [first])
    assert "1 person came" in await picked.wait_for_text("noted")
    again = await holder.select(ask, "Who came?", [first])  # a double submission
    assert "1 person came" in await again.wait_for_text("noted")
    everyone = await holder.click(ask, "Everyone who said Going came")
    assert "2 people came" in await everyone.wait_for_text("noted")
    # The next morning only the Maybe who did not come hears; nobody who didn't answer does.
    clock.set(NEXT_MORNING)
    await holdfast.alarm.wake()
    await emulator.wait_for_dm(maybe, contains="We missed you")
    for person in (first, second, silent):
        assert missed_you_to(emulator, person) == []
    asks = [m for m in emulator.dms_to(s.facilitator) if "who came?" in message_text(m)]
    assert asks == [ask]

    # Turnout: counts, never names.
    shown = await facilitator.run("/meeting turnout")
    text = await shown.wait_for_text("Turnout for North adopters")
    assert shown.ephemeral
    assert "2 came · 2 said Going" in text
    for person in (first, second, maybe, silent):
        assert str(person.id) not in text
        assert person.username not in text
    refused = await emulator.as_user(silent, channel=s.general).run("/meeting turnout")
    await refused.wait_for_text("Only the facilitators")


async def test_someone_already_in_the_room_when_the_bot_restarts_is_noted_from_guild_create(
    emulator: Emulator,
    discord_server: Server,
    clock: ManualClock,
    holdfast_settings: Settings,
) -> None:
    s = discord_server
    async with start_holdfast(emulator, holdfast_settings, clock) as bot:
        welcome = await create_group(emulator, s)
        joined = await emulator.as_user(s.member).click(welcome, "Join this group")
        await joined.wait_for_text("You're in North adopters")
        await create_last_thursday(emulator, s, bot)
        announcement = await emulator.wait_for_message(s.meetings, contains="Monthly meet-up")
        await turn_on(emulator, s)
        await answer(emulator, announcement, (s.member, "Going"))
        meeting = await next_meeting(bot, clock)
    # While Holdfast is away, the member comes into the room.
    clock.set(meeting.starts_at + timedelta(minutes=20))
    await emulator.join_voice(s.member, s.voice)
    async with start_holdfast(emulator, holdfast_settings, clock) as bot:

        async def noted() -> bool:
            return await came_to(bot, meeting.id) == {s.member.id}

        await eventually(noted, "the member already in the room to be noted at start-up")
        clock.set(NEXT_MORNING)
        await bot.alarm.wake()
        # They came: no "we missed you".
        assert missed_you_to(emulator, s.member) == []
