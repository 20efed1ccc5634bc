"""Reminders, /reminders and the rota through the real discord.py client and the emulator, as
members and facilitators would use them (in-process, with the shared ManualClock)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from bot.app import NUDGES_JOB, HoldfastBot
from bot.clock import ManualClock
from bot.config import Settings
from bot.meetings import queries
from tests.e2e.conftest import start_holdfast
from tests.e2e.test_meetings import create_group, create_last_thursday
from tests.emulator import Emulator, Server
from tests.emulator.model import Message, message_text


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


def labels(message: Message) -> list[str]:
    return [
        button["label"]
        for row in message.components
        for button in row.get("components", [])
        if "label" in button
    ]


async def group_with_series(
    holdfast: HoldfastBot, emulator: Emulator, s: Server, joiners: int
) -> Message:
    welcome = await create_group(emulator, s)
    for person in s.members[:joiners]:
        joined = await emulator.as_user(person).click(welcome, "Join this group")
        await joined.wait_for_text("You're in North adopters")
    await create_last_thursday(emulator, s, holdfast)
    # 26 Nov 19:30 GMT is inside the 14-day lead: announced at once.
    return await emulator.wait_for_message(s.meetings, contains="Monthly meet-up")


async def test_reminder_dm_offers_the_answers_and_cant_make_it_stops_the_rest(
    holdfast: HoldfastBot, emulator: Emulator, discord_server: Server, clock: ManualClock
) -> None:
    s = discord_server
    announcement = await group_with_series(holdfast, emulator, s, joiners=1)
    going = await emulator.as_user(s.member).click(announcement, "Going")
    await going.wait_for_text("going")

    # 1d before: 25 Nov 19:30 GMT. The DM says what, when (Discord timestamps) and where.
    clock.set(utc(2026, 11, 25, 19, 30))
    await holdfast.alarm.wake()
    dm = await emulator.wait_for_dm(s.member, contains="A reminder")
    text = message_text(dm)
    unix = int(utc(2026, 11, 26, 19, 30).timestamp())
    assert f"<t:{unix}:F>" in text
    assert f"<#{s.voice.id}>" in text
    assert "late" not in text
    # The evening has passed (19:30), so the snooze offered is "in an hour" (issue 16).
    assert labels(dm) == ["Going", "Maybe", "Can't make it", "Remind me in an hour"]

    # Can't make it, straight from the reminder: the 2h reminder is cancelled.
    no = await emulator.as_user(s.member).click(dm, "Can't make it")
    await no.wait_for_text("can't make Monthly meet-up")
    clock.set(utc(2026, 11, 26, 17, 30))
    await holdfast.alarm.wake()
    reminders = [m for m in emulator.dms_to(s.member) if "A reminder" in message_text(m)]
    assert reminders == [dm]


async def test_reminders_command_shows_and_changes_settings(
    holdfast: HoldfastBot, emulator: Emulator, discord_server: Server, clock: ManualClock
) -> None:
    s = discord_server
    announcement = await group_with_series(holdfast, emulator, s, joiners=1)
    await (await emulator.as_user(s.member).click(announcement, "Going")).wait_for_text("going")
    member = emulator.as_user(s.member, channel=s.general)
    shown = await member.run("/reminders show")
    text = await shown.wait_for_text("You get reminders")
    assert "7d, 1d, 2h" in text
    assert "default" in text
    changed = await member.run("/reminders times", times="3h")
    await changed.wait_for_text("Saved")
    quiet = await member.run("/reminders quiet", start="22:00", end="07:00")
    text = await quiet.wait_for_text("Saved")
    assert "**3h**" in text
    assert "22:00–07:00 (Europe/London)" in text
    bad = await member.run("/reminders times", times="soon")
    assert "not a reminder time" in await bad.wait_for_text("For example: 1d,2h")

    # The 3h reminder (16:30 GMT on the day) is the only one left, and it comes on time.
    clock.set(utc(2026, 11, 25, 19, 30))
    await holdfast.alarm.wake()
    assert [m for m in emulator.dms_to(s.member) if "A reminder" in message_text(m)] == []
    clock.set(utc(2026, 11, 26, 16, 30))
    await holdfast.alarm.wake()
    await emulator.wait_for_dm(s.member, contains="A reminder")


async def test_closed_dms_are_recorded_told_privately_once_and_counted_for_facilitators(
    holdfast: HoldfastBot, emulator: Emulator, discord_server: Server, clock: ManualClock
) -> None:
    s = discord_server
    closed = s.members[1]
    announcement = await group_with_series(holdfast, emulator, s, joiners=2)
    closed.dms_closed = True
    await (await emulator.as_user(closed).click(announcement, "Going")).wait_for_text("going")
    clock.set(utc(2026, 11, 25, 19, 30))
    await holdfast.alarm.wake()
    assert not any("A reminder" in message_text(m) for m in emulator.dms_to(closed))

    # Facilitators see a count, never who.
    facilitator = emulator.as_user(s.facilitator, channel=s.general)
    rota_view = await facilitator.run("/rota show")
    text = await rota_view.wait_for_text("Rota for North adopters")
    assert "1 member could not be reached" in text
    assert str(closed.id) not in text
    assert closed.username not in text

    # The member hears it privately the next time they use the bot, and only once.
    member = emulator.as_user(closed, channel=s.general)
    first = await member.run("/reminders show")
    told = await first.wait_for_followup("couldn't send you a reminder")
    assert told.ephemeral
    second = await member.run("/reminders show")
    await second.wait_for_text("You get reminders")
    assert second.followups == []

    # The 2h reminder is tried again at its time (a new reminder, not a retry wall).
    clock.set(utc(2026, 11, 26, 17, 30))
    await holdfast.alarm.wake()
    status = await emulator.as_user(s.admin, channel=s.general).run("/status")
    status_text = await status.wait_for_text("Deliveries")
    assert "failed" in status_text
    assert "50007" in status_text
    assert str(closed.id) not in status_text


async def test_rota_confirm_escalate_once_and_step_in(
    holdfast: HoldfastBot, emulator: Emulator, discord_server: Server, clock: ManualClock
) -> None:
    s = discord_server
    await group_with_series(holdfast, emulator, s, joiners=0)
    group_meetings = await queries.upcoming_meetings(holdfast.db, 1, clock.now(), limit=3)
    november, december = group_meetings[0], group_meetings[1]
    facilitator = emulator.as_user(s.facilitator, channel=s.general)

    # Assigned inside the 3-day window: asked at once by DM, with a button.
    assigned = await facilitator.run("/rota assign", meeting=november.id)
    await assigned.wait_for_text("is down to hold")
    await holdfast.alarm.wake()
    ask = await emulator.wait_for_dm(s.facilitator, contains="Can you confirm")
    confirmed = await facilitator.click(ask, "I'll be there")
    await confirmed.wait_for_text("you're confirmed")

    # Confirmed: no escalation 24 h before.
    clock.set(utc(2026, 11, 25, 19, 30))
    await holdfast.alarm.wake()
    assert [m for m in emulator.messages_in(s.meetings) if "no confirmed" in message_text(m)] == []

    # December: nobody assigned, so 24 h before it the facilitators are asked, once.
    clock.set(december.starts_at - timedelta(hours=24))
    await holdfast.alarm.wake()
    escalation = await emulator.wait_for_message(s.meetings, contains="no confirmed facilitator")
    assert "Nobody is down to hold it yet" in message_text(escalation)
    # The facilitator role is mentioned and may be notified; nobody else.
    [post] = [
        r
        for r in emulator.requests_to("POST", "/channels/{channel_id}/messages")
        if "no confirmed facilitator" in r.body_text()
    ]
    assert [int(r) for r in post.body["allowed_mentions"]["roles"]] == [s.facilitator_role.id]
    assert post.body["allowed_mentions"]["parse"] == []
    assert post.body["allowed_mentions"]["users"] == []
    clock.advance(timedelta(hours=1))
    await holdfast.alarm.wake()
    escalations = [m for m in emulator.messages_in(s.meetings) if "no confirmed" in message_text(m)]
    assert escalations == [escalation]

    # A member cannot step in; a facilitator can, and the message says so.
    refused = await emulator.as_user(s.member).click(escalation, "I'll step in")
    await refused.wait_for_text("facilitators")
    stepped = await facilitator.click(escalation, "I'll step in")
    await stepped.wait_for_response()
    await emulator.wait_until(
        lambda: "is holding" in message_text(emulator.messages[escalation.id]) or None,
        what="the escalation to say who holds the meeting",
    )
    shown = await facilitator.run("/rota show")
    assert "(confirmed)" in await shown.wait_for_text("Rota for")


async def test_a_members_second_reminder_costs_one_request_even_after_a_restart(
    holdfast: HoldfastBot,
    emulator: Emulator,
    discord_server: Server,
    clock: ManualClock,
    holdfast_settings: Settings,
) -> None:
    s = discord_server
    announcement = await group_with_series(holdfast, emulator, s, joiners=1)
    await (await emulator.as_user(s.member).click(announcement, "Going")).wait_for_text("going")
    opened_before = len(emulator.requests_to("POST", "/users/@me/channels"))
    clock.set(utc(2026, 11, 25, 19, 30))
    await holdfast.alarm.wake()
    await emulator.wait_for_dm(s.member, contains="A reminder")
    opened = len(emulator.requests_to("POST", "/users/@me/channels"))
    await holdfast.close()

    # A new process knows nothing in memory; the stored DM channel is used.
    clock.set(utc(2026, 11, 26, 17, 30))
    async with start_holdfast(emulator, holdfast_settings, clock) as again:
        assert again.alarm.startup is not None
        await again.alarm.startup
        await emulator.wait_for_dm(s.member, contains="A reminder", count=2)
    assert len(emulator.requests_to("POST", "/users/@me/channels")) == opened
    assert opened <= opened_before + 1


async def test_a_reminder_that_would_land_in_quiet_hours_arrives_just_before_they_begin(
    holdfast: HoldfastBot, emulator: Emulator, discord_server: Server, clock: ManualClock
) -> None:
    s = discord_server
    announcement = await group_with_series(holdfast, emulator, s, joiners=1)
    await (await emulator.as_user(s.member).click(announcement, "Going")).wait_for_text("going")
    member = emulator.as_user(s.member, channel=s.general)
    await (await member.run("/reminders times", times="13h")).wait_for_text("Saved")
    quiet = await member.run(
        "/reminders quiet", start="22:00", end="08:00", timezone="Europe/Berlin"
    )
    assert "22:00–08:00 (Europe/Berlin)" in await quiet.wait_for_text("Saved")

    # 13 h before 26 Nov 19:30 GMT is 06:30 GMT, 07:30 in Berlin (CET): inside the member's
    # quiet hours. It comes 5 minutes before they begin the evening before: 21:55 CET, which is
    # 20:55 GMT on 25 Nov.
    def reminders() -> list[Message]:
        return [m for m in emulator.dms_to(s.member) if "A reminder" in message_text(m)]

    clock.set(utc(2026, 11, 25, 20, 54, 59))
    await holdfast.alarm.wake()
    assert reminders() == [], "not before"
    clock.set(utc(2026, 11, 25, 20, 55))
    await holdfast.alarm.wake()
    dm = await emulator.wait_for_dm(s.member, contains="A reminder")
    assert dm.timestamp == utc(2026, 11, 25, 20, 55)
    assert "late" not in message_text(dm)
    # Nothing more: not in the night, nor at the lead's own time.
    for when in (utc(2026, 11, 25, 23, 0), utc(2026, 11, 26, 6, 30), utc(2026, 11, 26, 19, 0)):
        clock.set(when)
        await holdfast.alarm.wake()
    assert reminders() == [dm]


async def test_a_meeting_coming_within_reach_is_nudged_once_by_the_running_bots_hourly_sweep(
    holdfast: HoldfastBot, emulator: Emulator, discord_server: Server, clock: ManualClock
) -> None:
    """Nudges are planned only for meetings within reach (3 days + 19): December's meeting is
    nudged because the bot's own hourly job sweeps it into reach, not because anyone changed it.
    """
    s = discord_server
    await group_with_series(holdfast, emulator, s, joiners=1)
    [_, december, *_] = await queries.upcoming_meetings(holdfast.db, 1, clock.now(), limit=2)
    assert december.starts_at == utc(2026, 12, 31, 19, 30)

    async def nudges() -> list[tuple[str, str]]:
        async with holdfast.db.execute(
            "SELECT idempotency_key, due_at FROM outbox WHERE kind = 'nudge' "
            "AND subject_id = :m AND state = 'pending'",
            {"m": december.id},
        ) as cursor:
            return [(str(k), str(d)) for k, d in await cursor.fetchall()]

    job = holdfast.scheduler.get_job(NUDGES_JOB)
    assert job is not None  # registered at start-up, hourly
    assert await nudges() == []  # 5 weeks away: out of reach
    clock.set(utc(2026, 12, 12, 12, 0))
    await holdfast.alarm.wake()
    assert await nudges() == []  # time alone plans nothing: the sweep does
    await job.func()
    [(_, due)] = await nudges()

    clock.set(datetime.fromisoformat(due))
    await holdfast.alarm.wake()
    unix = int(december.starts_at.timestamp())
    dm = await emulator.wait_for_dm(s.member, contains=f"<t:{unix}:F>")
    assert "Will you come?" in message_text(dm)
    await job.func()
    clock.advance(timedelta(hours=1))
    await holdfast.alarm.wake()
    assert [m for m in emulator.dms_to(s.member) if f"<t:{unix}:F>" in message_text(m)] == [dm]
