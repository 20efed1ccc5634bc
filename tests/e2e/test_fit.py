"""Every reply fits Discord, whatever the data: every free-text field at its longest, lists with
many rows, and errors that quote back something very long.

The emulator checks every request against Discord's limits (content 2,000 characters, embed
description 4,096, 6,000 across embeds, button labels 80, autocomplete choices 25...) and the
fixture fails the test at teardown if any request broke one; each interaction here must also
be answered (a refused reply is "This interaction failed" for the person).
"""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from typing import Any

import pytest

from bot.app import HoldfastBot
from bot.checkins import entries, trends
from bot.checkins.entries import Answers
from bot.clock import ManualClock
from bot.config import Settings
from bot.groups import service as groups
from bot.groups.model import Group, GroupSettings
from bot.meetings import queries, rsvp, series
from bot.meetings.model import Answer, Place, SeriesDraft
from bot.meetings.recurrence import parse_rule
from bot.reminders import service as reminder_service
from tests.e2e.conftest import start_holdfast
from tests.emulator import Emulator, Server
from tests.emulator.actors import Actor, InteractionHandle
from tests.emulator.factories import build_guild
from tests.emulator.model import message_text

CONTENT_LIMIT = 2000
# The longest each free-text option may be, as declared in cogs/*.py (app_commands.Range).
TITLE, PLACE, DESCRIPTION, NOTE, GROUP_NAME, CHECKIN_NOTE = 80, 200, 1000, 500, 60, 1000
# Options without a declared maximum arrive as long as Discord lets people type (6,000).
UNBOUNDED = 2100


def long(label: str, length: int) -> str:
    """`length` characters that start with `label`, with spaces so words can wrap."""
    filler = ("lorem ipsum " * (length // 12 + 2))[: max(length - len(label) - 1, 0)]
    return f"{label} {filler}"[:length]


@pytest.fixture
def discord_server(emulator: Emulator) -> Server:
    """Ninety members, enough answers to run well past one message."""
    return build_guild(emulator, facilitators=1, members=90, admins=1)


async def shown(handle: InteractionHandle, contains: str) -> str:
    """What the person read (it was answered, and it contains `contains`), checked to fit."""
    text = await handle.wait_for_text(contains, timeout=10)
    for each in handle.texts():
        assert len(each) <= CONTENT_LIMIT, f"{handle.description}: {len(each)} characters"
    return text


def draft(title: str, rule: str = "weekly Thursday") -> SeriesDraft:
    return SeriesDraft(
        title=title,
        rule=parse_rule(rule),
        local_time=time(19, 30),
        duration_minutes=720,
        place=Place.external(long("Place", PLACE)),
        description=long("Description", DESCRIPTION),
        capacity=500,
    )


async def make_group(bot: HoldfastBot, server: Server, name: str) -> Group:
    return await groups.create_group(
        bot.db,
        server.guild.id,
        GroupSettings(
            name=name,
            announce_channel_id=server.meetings.id,
            facilitator_role_id=server.facilitator_role.id,
            facilitator_channel_id=server.facilitators_channel.id,
            timezone="Europe/London",
        ),
        bot.clock.now(),
    )


async def test_a_long_meeting_list_and_ninety_answers_page_and_the_pages_survive_a_restart(
    holdfast: HoldfastBot,
    emulator: Emulator,
    discord_server: Server,
    clock: ManualClock,
    holdfast_settings: Settings,
) -> None:
    s = discord_server
    await emulator.wait_for_commands("group", guild=s.guild)
    admin = emulator.as_user(s.admin, channel=s.general)
    name = long("North", GROUP_NAME)
    made = await admin.run(
        "/group create",
        name=name,
        announcements=s.meetings,
        facilitator_role=s.facilitator_role,
        facilitators_channel=s.facilitators_channel,
    )
    await shown(made, "is ready")
    (group,) = await groups.live_groups(holdfast.db, s.guild.id)

    # Every field of the series at its longest, through the real client.
    facilitator = emulator.as_user(s.facilitator, channel=s.general)
    title = long("Weekly", TITLE)
    preview = await facilitator.run(
        "/series create",
        title=title,
        when="weekly Thursday",
        time="19:30",
        minutes=720,
        place=long("Place", PLACE),
        description=long("Description", DESCRIPTION),
        places=500,
    )
    await shown(preview, "next dates")
    await shown(await facilitator.click(preview, "Save"), "is saved")
    meetings = await queries.upcoming_meetings(holdfast.db, group.id, clock.now(), limit=10)
    assert len(meetings) == 10
    first = meetings[0]
    noted = await facilitator.run("/meeting note", meeting=first.id, note=long("Note", NOTE))
    await shown(noted, "is updated")

    # Ten meetings with long titles and places run well past 2,000 characters: pages.
    member = emulator.as_user(s.members[0], channel=s.general)
    listed = await member.run("/meeting list", count=10)
    page_one = await shown(listed, "Page 1 of")
    pages = int(page_one.rsplit("Page 1 of ", 1)[1].split()[0])
    assert pages >= 2
    seen = [page_one]
    handle = listed
    for number in range(2, pages + 1):
        handle = await member.click(handle, "Next")
        seen.append(await shown(handle, f"Page {number} of {pages}"))
    # Every meeting is on exactly one page, in order, none lost between pages.
    timestamps = [f"<t:{int(m.starts_at.timestamp())}:F>" for m in meetings]
    listed_stamps = [t for page in seen for t in timestamps if t in page]
    assert listed_stamps == timestamps
    with pytest.raises(LookupError):
        await member.click(handle, "Next")  # the last page has no Next

    # Ninety answers (made through the service: this is about showing them).
    for person in s.members:
        await groups.join_group(holdfast.db, group, person.id, clock.now())
    answers = [Answer.GOING] * 60 + [Answer.MAYBE] * 20 + [Answer.NO] * 10
    for person, answer in zip(s.members, answers, strict=True):
        await rsvp.answer_meeting(holdfast.db, first.id, person.id, answer, clock.now())
    who = await facilitator.run("/meeting attendees", meeting=first.id)
    attendee_pages = [await shown(who, "Page 1 of")]
    total = int(attendee_pages[0].rsplit("Page 1 of ", 1)[1].split()[0])
    assert total >= 2
    page_handle = who
    for number in range(2, total + 1):
        page_handle = await facilitator.click(page_handle, "Next")
        attendee_pages.append(await shown(page_handle, f"Page {number} of {total}"))
    everyone = "\n".join(attendee_pages)
    for person in s.members:
        assert everyone.count(f"<@{person.id}>") == 1, "each answer is on exactly one page"
    assert "Going (60)" in everyone
    assert "Maybe (20)" in everyone

    # After a restart the buttons on pages shown before still work.
    await holdfast.close()
    async with start_holdfast(emulator, holdfast_settings, clock) as again:
        back = await facilitator.click(page_handle, "Previous")
        await shown(back, f"Page {total - 1} of {total}")
        previous = await member.click(handle, "Previous")
        await shown(previous, f"Page {pages - 1} of {pages}")
        # A page is shown to whoever may see it now: someone who lost the role is refused.
        s.guild.members[s.facilitator.id].role_ids = []
        refused = await facilitator.click(back, "Next")
        await shown(refused, "Only the facilitators")
        await again.close()


async def test_every_command_at_full_length_fits(
    holdfast: HoldfastBot, emulator: Emulator, discord_server: Server, clock: ManualClock
) -> None:
    s = discord_server
    await emulator.wait_for_commands("group", guild=s.guild)
    admin = emulator.as_user(s.admin, channel=s.general)
    facilitator = emulator.as_user(s.facilitator, channel=s.general)
    member = emulator.as_user(s.members[0], channel=s.general)
    made = await admin.run(
        "/group create",
        name=long("Kinship", GROUP_NAME),
        announcements=s.meetings,
        facilitator_role=s.facilitator_role,
        facilitators_channel=s.facilitators_channel,
    )
    await shown(made, "is ready")
    welcome = await emulator.wait_for_message(s.meetings, contains="Welcome to Kinship")
    await shown(await emulator.as_user(s.members[0]).click(welcome, "Join this group"), "You're in")
    await emulator.wait_for_dm(s.members[0], contains="Welcome to Kinship")
    (group,) = await groups.live_groups(holdfast.db, s.guild.id)

    # A series inside the announcement lead, at full length: its announcement is posted too.
    preview = await facilitator.run(
        "/series create",
        title=long("Weekly", TITLE),
        when="weekly Friday",
        time="19:30",
        minutes=720,
        place=long("Place", PLACE),
        description=long("Description", DESCRIPTION),
        places=500,
    )
    await shown(preview, "next dates")
    await shown(await facilitator.click(preview, "Save"), "is saved")
    meeting = (await queries.upcoming_meetings(holdfast.db, group.id, clock.now(), limit=1))[0]
    await shown(
        await facilitator.run("/meeting note", meeting=meeting.id, note=long("Note", NOTE)),
        "is updated",
    )
    announcement = await emulator.wait_for_message(s.meetings, contains="Weekly")
    await shown(await emulator.as_user(s.members[0]).click(announcement, "Going"), "going")
    info = await shown(await member.run("/meeting info", meeting=meeting.id), "Note")
    assert "Description" in info
    assert "Going: 1" in info
    await shown(await member.run("/meeting next"), "Weekly")
    await shown(await member.run("/meeting calendar"), "calendar")
    await shown(await facilitator.run("/meeting attendees", meeting=meeting.id), "Answers for")
    await shown(await facilitator.run("/series list"), "Regular meetings")
    edit = await facilitator.run(
        "/series edit",
        series=meeting.series_id,
        title=long("Edited", TITLE),
        place=long("Elsewhere", PLACE),
        description=long("Changed", DESCRIPTION),
    )
    await shown(edit, "next dates")
    await shown(await facilitator.click(edit, "Save"), "is updated")
    moved = await facilitator.run(
        "/meeting move", meeting=meeting.id, time="18:00", place=long("Moved", PLACE)
    )
    await shown(moved, "will hear")
    await emulator.wait_for_dm(s.members[0], contains="A change to")
    await shown(await facilitator.run("/rota assign", meeting=meeting.id), "is down to hold")
    await shown(await facilitator.run("/rota show"), "Rota for")
    await shown(await member.run("/reminders show"), "reminders")
    await shown(await member.run("/help"), "What you can do")
    await shown(await admin.run("/group list"), "Groups here")
    await shown(await admin.run("/status"), "Deliveries")

    # A check-in with the longest note, then its author's own views.
    card = await member.run("/checkin")
    await card.wait_for_response()
    for label in ("Okay", "Some", "Mostly"):
        card = await member.click(card, label)
        await card.wait_for_response()
    opened = await member.click(card, "Add a few words")
    await opened.wait_for_modal()
    saved = await member.submit_modal(opened, {"words": long("Words", CHECKIN_NOTE)})
    await shown(saved, "Saved")
    await shown(await member.run("/mycheckins"), "Your check-ins")
    await shown(await member.run("/mydata export"), "I've sent everything")
    await shown(await member.run("/reachout"), "I've asked the facilitators")
    await emulator.wait_for_message(s.facilitators_channel, contains="would like one of you")
    renamed = await admin.run("/group edit", group=group.name, name=long("Renamed", GROUP_NAME))
    await shown(renamed, "is updated")
    await shown(await facilitator.run("/meeting cancel", meeting=meeting.id), "is cancelled")
    cancelled = await emulator.wait_for_dm(s.members[0], contains="is cancelled")
    next_one = await emulator.as_user(s.members[0]).click(cancelled, "Show the next meeting")
    await shown(next_one, "Changed lorem")
    asked = await member.run("/mydata delete")
    await shown(asked, "can't be undone")
    await shown(await member.click(asked, "Yes, delete everything"), "Done")
    for message in emulator.messages.values():
        assert len(message.content) <= CONTENT_LIMIT


async def test_many_rows_fit_groups_series_checkins_trends_and_the_audit(
    holdfast: HoldfastBot, emulator: Emulator, discord_server: Server, clock: ManualClock
) -> None:
    s = discord_server
    await emulator.wait_for_commands("group", guild=s.guild)
    member_user, admin_user = s.members[0], s.admin
    made = [await make_group(holdfast, s, long(f"Group {i:02}", GROUP_NAME)) for i in range(25)]
    policy = holdfast.policy
    for group in made:
        await groups.join_group(holdfast.db, group, member_user.id, clock.now())
        await reminder_service.set_every_meeting(
            holdfast.db, group, member_user.id, True, clock.now(), policy.reminders
        )
    # 25 series in the first group; "day 20" is beyond the announcement lead, so nothing posts.
    first = made[0]
    for i in range(25):
        await series.create_series(
            holdfast.db,
            first,
            draft(long(f"Series {i:02}", TITLE), "day 20"),
            s.facilitator.id,
            clock.now(),
            policy,
        )
    member = emulator.as_user(member_user, channel=s.general)
    admin = emulator.as_user(admin_user, channel=s.general)
    facilitator = emulator.as_user(s.facilitator, channel=s.general)

    groups_page = await shown(await admin.run("/group list"), "Page 1 of")
    assert "Group 00" in groups_page
    series_list = await facilitator.run("/series list", group=first.name)
    series_page = await shown(series_list, "Page 1 of")
    assert "Series 00" in series_page
    await shown(await facilitator.click(series_list, "Next"), "Page 2 of")
    # Which group? names all 25 (as many as fit).
    await shown(await member.run("/meeting next"), "Which group do you mean?")
    await shown(await member.run("/help"), "What you can do")
    settings = await shown(await member.run("/reminders show"), "every meeting of")
    assert "Group 00" in settings
    choices = await facilitator.autocomplete("/meeting info meeting:", focused="meeting")
    assert len((await choices.wait_for_response()).data["choices"]) == 25
    named = await member.autocomplete("/meeting next group:", focused="group")
    assert len((await named.wait_for_response()).data["choices"]) == 25

    # A year of check-ins with long notes from ten members, so every month shows.
    people = s.members[:10]
    for person in people[1:]:
        await groups.join_group(holdfast.db, first, person.id, clock.now())
    start = datetime(2025, 11, 10, 12, 0, tzinfo=UTC)
    for month in range(12):
        when = start + timedelta(days=30 * month)
        for n, person in enumerate(people):
            await entries.record_checkin(
                holdfast.db,
                holdfast.note_keys,
                first,
                person.id,
                Answers(mood=1 + n % 5, stress=1 + (n + 2) % 5, supported=1 + (n + 4) % 5),
                long(f"Note {month}", CHECKIN_NOTE),
                when,
            )
    await entries.remember_group(
        holdfast.db, holdfast.note_keys, member_user.id, first, clock.now()
    )
    history = await shown(await member.run("/mycheckins"), "Your check-ins")
    assert "more" in history
    await shown(await member.run("/mydata export"), "I've sent everything")
    for _ in range(30):
        await trends.view_trends(holdfast.db, first, s.facilitator.id, 5, clock.now())
    # Twelve shown months (with their spread) in the embed, which has its own limits.
    shown_trends = await facilitator.run("/trends", group=first.name)
    month_text = await shown_trends.wait_for_text("people checked in", timeout=15)
    assert month_text.count("people checked in. Mood") == 12
    audit = await shown(await admin.run("/audit"), "Who has looked at trends")
    assert "more" in audit
    await shown(await facilitator.run("/rota show", group=first.name), "Rota for")
    await shown(await admin.run("/status"), "Deliveries")


async def said(actor: Actor, command: str, quoted: str = "lorem ipsum", **options: Any) -> str:
    """Run a command whose reply quotes `options`' long value back: the start of it, clipped."""
    handle = await actor.run(command, **options)
    text = await shown(handle, quoted)
    assert "…" in text
    assert len(text) < 400
    return text


async def test_errors_that_quote_very_long_input_quote_the_start_of_it(
    holdfast: HoldfastBot, emulator: Emulator, discord_server: Server, clock: ManualClock
) -> None:
    s = discord_server
    await emulator.wait_for_commands("group", guild=s.guild)
    group = await make_group(holdfast, s, "North adopters")
    await series.create_series(
        holdfast.db, group, draft("Monthly"), s.facilitator.id, clock.now(), holdfast.policy
    )
    await groups.join_group(holdfast.db, group, s.members[0].id, clock.now())
    meeting = (await queries.upcoming_meetings(holdfast.db, group.id, clock.now(), limit=1))[0]
    facilitator = emulator.as_user(s.facilitator, channel=s.general)
    member = emulator.as_user(s.members[0], channel=s.general)
    admin = emulator.as_user(s.admin, channel=s.general)
    huge = long("Huge", UNBOUNDED)

    await said(facilitator, "/meeting move", meeting=meeting.id, date=huge)
    await said(facilitator, "/meeting move", meeting=meeting.id, time=huge)
    await said(facilitator, "/series create", title="T", when=huge, time="19:30", place="Café")
    await said(facilitator, "/series create", title="T", when="day 3", time=huge, place="Café")
    one_word = "lorem" + "ipsum" * 420
    await said(
        facilitator,
        "/series create",
        title="T",
        when="day " + one_word,
        time="19:30",
        quoted="loremipsum",
    )
    await said(
        facilitator,
        "/series create",
        title="T",
        when="last " + one_word,
        time="19:30",
        quoted="loremipsum",
    )
    await said(member, "/reminders times", times=huge)
    await said(member, "/reminders times", times="1d," + huge)
    await said(member, "/reminders quiet", start="22:00", end="07:00", timezone=huge)
    await said(member, "/meeting next", group=huge)
    await said(member, "/checkin", group=huge)
    await said(member, "/checkin-nudge", how="weekly", day="Sunday", at=huge)
    await said(member, "/checkin-nudge", how="weekly", day="Sunday", timezone=huge)
    await said(
        admin,
        "/group create",
        name="South",
        announcements=s.meetings,
        facilitator_role=s.facilitator_role,
        timezone=huge,
    )
    # The same values typed into options that suggest as you type.
    for command, focused in (
        ("/meeting next", "group"),
        ("/series create", "when"),
        ("/reminders quiet", "timezone"),
        ("/checkin", "group"),
    ):
        typed = await facilitator.autocomplete(f'{command} "{focused}:{huge}"', focused=focused)
        assert (await typed.wait_for_response()).data["choices"] == []
    assert all(len(message_text(m)) <= CONTENT_LIMIT for m in emulator.messages.values())
