"""Ground rules and the welcome, a meeting's topic, and private topic suggestions, through the real
discord.py client and the emulator, as members and facilitators would use them: the longest
inputs, the most rows, and a restart where it matters.

The emulator checks every request against Discord's limits (content 2,000, embed description
4,096, select option labels 100, ...) and fails the test at teardown if any broke one."""

from __future__ import annotations

from aiohttp import ClientSession

from bot.app import HoldfastBot
from bot.clock import ManualClock
from bot.config import Settings
from bot.groups import service as groups
from bot.groups import suggestions
from bot.groups.rules import MAX_RULES
from bot.meetings import queries
from tests.e2e.conftest import start_holdfast
from tests.e2e.test_meetings import create_group, create_last_thursday, events_in
from tests.e2e.test_reminders import labels, utc
from tests.emulator import Emulator, Server
from tests.emulator.actors import InteractionHandle
from tests.emulator.model import JSON, Message, message_text

CONTENT_LIMIT = 2000
ANSWERS = ["Going", "Maybe", "Can't make it"]


def long(label: str, length: int) -> str:
    filler = ("lorem ipsum " * (length // 12 + 2))[: max(length - len(label) - 1, 0)]
    return f"{label} {filler}"[:length]


def text_inputs(components: list[JSON]) -> list[JSON]:
    found: list[JSON] = []
    for c in components:
        if c.get("type") == 4:
            found.append(c)
        found += text_inputs(c.get("components") or [])
        if isinstance(c.get("component"), dict):
            found += text_inputs([c["component"]])
    return found


def pings(emulator: Emulator, message: Message) -> tuple[set[int], set[int], bool]:
    data = emulator.message_json(message)
    users = {int(u["id"]) for u in data["mentions"]}
    return users, {int(r) for r in data["mention_roles"]}, bool(data["mention_everyone"])


def shown(handle: InteractionHandle) -> Message:
    message = handle.message
    assert message is not None, handle.description
    return message


async def test_rules_are_set_shown_and_carried_by_the_welcome_with_the_next_meeting(
    holdfast: HoldfastBot,
    emulator: Emulator,
    discord_server: Server,
    clock: ManualClock,
    holdfast_settings: Settings,
) -> None:
    s = discord_server
    welcome_card = await create_group(emulator, s)
    facilitator = emulator.as_user(s.facilitator, channel=s.general)
    member = emulator.as_user(s.members[0], channel=s.general)
    victim = s.members[-1]

    # Anyone reads the default rules; only a facilitator is offered Edit.
    read = await member.run("/group rules")
    text = await read.wait_for_text("ground rules of North adopters")
    assert read.ephemeral
    for promise in ("stays here", "never have to speak", "Camera off", "leave at any time"):
        assert promise in text
    assert shown(read).components == []
    offered = await facilitator.run("/group rules")
    await offered.wait_for_text("suggested rules")
    opened = await facilitator.click(offered, "Edit")
    modal = await opened.wait_for_modal()
    (field,) = text_inputs(modal["components"])
    assert field["value"] == text.split("\n", 1)[1].rsplit("\n", 1)[0]  # prefilled
    assert field["max_length"] == MAX_RULES
    # The longest rules, with text that would ping if anything let it through.
    rules = long(f"<@{victim.id}> @everyone Be gentle.", MAX_RULES)
    saved = await facilitator.submit_modal(opened, {field["custom_id"]: rules})
    await saved.wait_for_text("are saved")
    assert saved.ephemeral

    # The next meeting, with a topic, at full length.
    await create_last_thursday(emulator, s, holdfast)
    meeting = (await queries.upcoming_meetings(holdfast.db, 1, clock.now(), limit=1))[0]
    topic = long("Topic", 200)
    await (await facilitator.run("/meeting topic", meeting=meeting.id, topic=topic)).wait_for_text(
        "The topic of"
    )

    # Joining: the welcome DM carries the rules whole and the meeting with its answer buttons.
    await (
        await emulator.as_user(s.members[0]).click(welcome_card, "Join this group")
    ).wait_for_text("You're in North adopters")
    dm = await emulator.wait_for_dm(s.members[0], contains="Welcome to North adopters")
    body = message_text(dm)
    assert rules in body
    assert "Monthly meet-up" in body
    assert topic in body
    assert f"<#{s.voice.id}>" in body
    assert "What I keep about you" in body
    assert labels(dm) == ANSWERS
    assert pings(emulator, dm) == (set(), set(), False)
    going = await emulator.as_user(s.members[0]).click(dm, "Going")
    await going.wait_for_text("you're down as going")
    announcement = await emulator.wait_for_message(s.meetings, contains="Monthly meet-up")
    await emulator.wait_until(
        lambda: "Going: 1" in message_text(emulator.messages[announcement.id]) or None,
        what="the announcement to count the answer given in the welcome",
        timeout=15,
    )

    # After a restart: the rules are kept, the welcome's buttons and the Edit button still work.
    await holdfast.close()
    async with start_holdfast(emulator, holdfast_settings, clock) as again:
        again_read = await member.run("/group rules")
        assert rules in await again_read.wait_for_text("ground rules of North adopters")
        assert "suggested rules" not in again_read.texts()[0]
        repeat = await emulator.as_user(s.members[0]).click(dm, "Going")
        await repeat.wait_for_text("already down as")
        reopened = await facilitator.click(offered, "Edit")
        (field,) = text_inputs((await reopened.wait_for_modal())["components"])
        assert field["value"] == rules
        # Emptied: back to the default.
        reset = await facilitator.submit_modal(reopened, {field["custom_id"]: ""})
        await reset.wait_for_text("back to the suggested ground rules")
        back = await member.run("/group rules")
        assert "never have to speak" in await back.wait_for_text("suggested rules")
        # Someone who lost the role since the form opened, or since the rules were shown, is
        # refused (on the submit, and on the click), and the rules stay as they were.
        half_way = await facilitator.click(offered, "Edit")
        (field,) = text_inputs((await half_way.wait_for_modal())["components"])
        s.guild.members[s.facilitator.id].role_ids = []
        late = await facilitator.submit_modal(half_way, {field["custom_id"]: "Mine now"})
        await late.wait_for_text("Only the facilitators of North adopters")
        refused = await facilitator.click(offered, "Edit")
        await refused.wait_for_text("Only the facilitators of North adopters")
        kept = await member.run("/group rules")
        assert "Mine now" not in await kept.wait_for_text("suggested rules")
        await again.close()


async def test_a_topic_shows_everywhere_messages_nobody_and_can_be_cleared(
    holdfast: HoldfastBot, emulator: Emulator, discord_server: Server, clock: ManualClock
) -> None:
    s = discord_server
    welcome_card = await create_group(emulator, s)
    await (await emulator.as_user(s.member).click(welcome_card, "Join this group")).wait_for_text(
        "You're in"
    )
    await create_last_thursday(emulator, s, holdfast)
    announcement = await emulator.wait_for_message(s.meetings, contains="Monthly meet-up")
    await (await emulator.as_user(s.member).click(announcement, "Going")).wait_for_text("going")
    meeting = (await queries.upcoming_meetings(holdfast.db, 1, clock.now(), limit=1))[0]
    facilitator = emulator.as_user(s.facilitator, channel=s.general)

    refused = await emulator.as_user(s.member, channel=s.general).run(
        "/meeting topic", meeting=meeting.id, topic="Mine"
    )
    await refused.wait_for_text("Only the facilitators of North adopters")

    dms_before = len(emulator.dms_to(s.member))
    posts_before = len(emulator.messages_in(s.meetings))
    topic = long(f"Sleep <@{s.members[3].id}>", 200)
    done = await facilitator.run("/meeting topic", meeting=meeting.id, topic=topic)
    assert "nobody was messaged" in await done.wait_for_text("The topic of")
    await emulator.wait_until(
        lambda: topic in message_text(emulator.messages[announcement.id]) or None,
        what="the topic on the announcement",
        # Edits share Discord's 5-per-5-s bucket per channel: the edit may wait it out.
        timeout=15,
    )
    await emulator.wait_until(
        lambda: any(topic in (e.description or "") for e in events_in(emulator, s)) or None,
        what="the topic in the Events entry",
    )
    member = emulator.as_user(s.member, channel=s.general)
    calendar = await member.run("/meeting calendar")
    await calendar.wait_for_response()
    attachment = shown(calendar).attachments[0]
    async with ClientSession() as http, http.get(attachment["url"]) as got:
        ics = (await got.read()).decode()
    assert "Topic: Sleep" in ics
    info = await member.run("/meeting info", meeting=meeting.id)
    assert topic in await info.wait_for_text("Monthly meet-up")
    # Nobody was told: no DM, no new post (only the announcement was edited).
    assert len(emulator.dms_to(s.member)) == dms_before
    assert len(emulator.messages_in(s.meetings)) == posts_before

    # The reminder a day before carries it.
    clock.set(utc(2026, 11, 25, 19, 30))
    await holdfast.alarm.wake()
    reminder = await emulator.wait_for_dm(s.member, contains="A reminder")
    assert topic in message_text(reminder)
    assert pings(emulator, reminder) == (set(), set(), False)

    cleared = await facilitator.run("/meeting topic", meeting=meeting.id)
    await cleared.wait_for_text("has no topic now")
    await emulator.wait_until(
        lambda: "Topic:" not in message_text(emulator.messages[announcement.id]) or None,
        what="the topic gone from the announcement",
        timeout=15,
    )


async def test_suggestions_are_private_listed_without_names_and_marked_used(
    holdfast: HoldfastBot,
    emulator: Emulator,
    discord_server: Server,
    clock: ManualClock,
    holdfast_settings: Settings,
) -> None:
    s = discord_server
    welcome_card = await create_group(emulator, s)
    author, others, outsider = s.members[0], s.members[1:4], s.members[4]
    for person in (author, *others):
        await (await emulator.as_user(person).click(welcome_card, "Join this group")).wait_for_text(
            "You're in"
        )
    me = emulator.as_user(author, channel=s.general)

    stranger = await emulator.as_user(outsider, channel=s.general).run("/suggest", topic="Hello")
    await stranger.wait_for_text("Join with `/group join` first")
    longest = [long(f"Mine {n}", 200) for n in range(1, suggestions.MAX_OWN_PER_GROUP + 1)]
    for words in longest:
        made = await me.run("/suggest", topic=words)
        assert words in await made.wait_for_text("is saved")
        assert made.ephemeral
    twice = await me.run("/suggest", topic=longest[0])
    await twice.wait_for_text("already suggested")
    too_many = await me.run("/suggest", topic="One more")
    await too_many.wait_for_text("5 suggestions waiting")
    # Many more from other members: the facilitators' list runs to several pages.
    (found,) = await groups.live_groups(holdfast.db, s.guild.id)
    for index, person in enumerate(others):
        for n in range(suggestions.MAX_OWN_PER_GROUP):
            await suggestions.suggest(
                holdfast.db, found, person.id, long(f"Theirs {index}.{n}", 200), clock.now()
            )

    # The member sees their own, each with Withdraw, and withdraws one.
    own = await me.run("/suggest")
    own_text = await own.wait_for_text("Your topic suggestions")
    assert all(words in own_text for words in longest)
    assert "Theirs" not in own_text
    assert labels(shown(own)) == [f"Withdraw {n}" for n in range(1, 6)]
    withdrawn = await me.click(own, "Withdraw 2")
    after = await withdrawn.wait_for_text("Withdrawn")
    assert longest[1] not in after.split("\n\n", 1)[1]
    assert labels(shown(withdrawn)) == [f"Withdraw {n}" for n in range(1, 5)]

    # The facilitators' list: oldest first, no names, pages that fit, a menu to mark one used.
    facilitator = emulator.as_user(s.facilitator, channel=s.general)
    refused = await me.run("/meeting suggestions")
    await refused.wait_for_text("Only the facilitators of North adopters")
    listed = await facilitator.run("/meeting suggestions")
    first_page = await listed.wait_for_text("Page 1 of 3")
    assert listed.ephemeral
    assert first_page.index(longest[0]) < first_page.index(longest[2])
    menu = menu_of(shown(listed))
    assert len(menu["options"]) == suggestions.PER_PAGE
    used = await facilitator.select(listed, menu["custom_id"], [menu["options"][0]["value"]])
    assert longest[0] in (await used.wait_for_followup("Marked as used")).content
    assert longest[0] not in used.texts()[0]
    handle = used
    pages = []
    for number in (2, 3):
        handle = await facilitator.click(handle, "Next")
        pages.append(await handle.wait_for_text(f"Page {number} of 3"))
    everything = "\n".join([*used.texts(), *pages])  # the followup too
    for person in (author, *others):
        assert str(person.id) not in everything
        assert person.username not in everything
        assert f"<@{person.id}>" not in everything
    for text in [*used.texts(), *pages]:
        assert len(text) <= CONTENT_LIMIT

    # After a restart the old page's buttons and menu still work, and the member's list agrees.
    await holdfast.close()
    async with start_holdfast(emulator, holdfast_settings, clock) as again:
        back = await facilitator.click(handle, "Previous")
        await back.wait_for_text("Page 2 of 3")
        menu = menu_of(shown(back))
        picked = menu["options"][0]
        chosen = await facilitator.select(back, menu["custom_id"], [picked["value"]])
        await chosen.wait_for_followup("Marked as used")
        assert picked["label"][3:40] not in chosen.texts()[0]
        # The member's own list: the used one and the withdrawn one have gone.
        mine_now = await me.run("/suggest")
        mine_text = await mine_now.wait_for_text("Your topic suggestions")
        assert longest[0] not in mine_text
        assert longest[1] not in mine_text
        assert longest[2] in mine_text
        await again.close()


def menu_of(message: Message) -> JSON:
    (menu,) = [c for c in message.component_list() if c.get("type") == 3]
    return menu
