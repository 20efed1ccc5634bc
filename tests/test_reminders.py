"""Member reminders, nudges and quiet hours on a real SQLite file with the real migrations, a
ManualClock, and (for sending) the dispatcher with the fake Discord port of test_outbox.

Expected instants are written out by hand from the calendar (the oracle), never computed
with the code under test.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import UTC, datetime, time, timedelta
from pathlib import Path

import aiosqlite
import pytest
import pytest_asyncio

from bot.clock import ManualClock
from bot.db import open_database, transaction
from bot.delivery import outbox as outbox_mod
from bot.delivery.dispatcher import Dispatcher
from bot.delivery.port import Destination
from bot.groups import service as groups
from bot.groups.model import Group, GroupSettings
from bot.meetings import cards as meeting_cards
from bot.meetings import changes, queries, rsvp, series
from bot.meetings.model import Answer, Meeting, Place, PlaceKind, SeriesDraft
from bot.meetings.recurrence import Lead, Rule, parse_leads
from bot.migrate import migrate
from bot.planning import Policy
from bot.reminders import cards, plan, service
from bot.reminders.model import PrefsChange, QuietHours, ReminderPolicy
from bot.reminders.plan import reminder_times
from tests.test_outbox import FakePort

# Only the members' kinds: the rota's escalations (also due in these tests) have their own.
MEMBER_RENDERERS = {k: v for k, v in cards.RENDERERS.items() if k in ("reminder", "nudge")}

GUILD = 111111111111111111
CHANNEL = 222222222222222222
ROLE = 333333333333333333
VOICE = 444444444444444444
POLICY = Policy(announce_lead=timedelta(days=14))


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


@pytest.fixture
def clock() -> ManualClock:
    # A Sunday in September: the next "last Thursday" is 24 Sep (BST), then 29 Oct (GMT).
    return ManualClock(utc(2026, 9, 20, 12, 0))


@pytest_asyncio.fixture
async def db(tmp_path: Path, clock: ManualClock) -> AsyncIterator[aiosqlite.Connection]:
    path = tmp_path / "holdfast.sqlite3"
    await migrate(path, clock.now())
    conn = await open_database(path)
    try:
        yield conn
    finally:
        await conn.close()


async def make_group(
    db: aiosqlite.Connection, clock: ManualClock, zone: str = "Europe/London"
) -> Group:
    return await groups.create_group(
        db, GUILD, GroupSettings("North", CHANNEL, ROLE, None, zone), clock.now()
    )


def last_thursday(at: time = time(19, 30)) -> SeriesDraft:
    return SeriesDraft(
        title="Monthly meet-up",
        rule=Rule.last_weekday(3),
        local_time=at,
        duration_minutes=90,
        place=Place.channel(PlaceKind.VOICE, VOICE),
    )


async def october_meeting(
    db: aiosqlite.Connection, clock: ManualClock, zone: str = "Europe/London"
) -> tuple[Group, Meeting]:
    group = await make_group(db, clock, zone)
    change = await series.create_series(db, group, last_thursday(), 9, clock.now(), POLICY)
    meetings = await queries.series_meetings(db, change.series.id)
    return group, meetings[1]  # 29 October, after the clock change


SELECT_MEMBER_ROWS = """
SELECT idempotency_key AS key, kind, state, due_at, not_after, channel_id, user_id, last_error
FROM outbox
WHERE kind IN ('reminder', 'nudge') AND subject_id = :meeting_id
ORDER BY due_at, id
"""


async def member_rows(db: aiosqlite.Connection, meeting_id: int) -> list[aiosqlite.Row]:
    async with db.execute(SELECT_MEMBER_ROWS, {"meeting_id": meeting_id}) as cursor:
        return list(await cursor.fetchall())


async def pending_dues(db: aiosqlite.Connection, meeting_id: int, user: int) -> list[datetime]:
    return [
        datetime.fromisoformat(r["due_at"])
        for r in await member_rows(db, meeting_id)
        if r["state"] == "pending" and r["key"].split(":")[2] == str(user)
    ]


async def join_and_answer(
    db: aiosqlite.Connection, group: Group, meeting: Meeting, clock: ManualClock, **answers: Answer
) -> None:
    for name, answer in answers.items():
        user = int(name.removeprefix("u"))
        await groups.join_group(db, group, user, clock.now())
        await rsvp.answer_meeting(db, meeting.id, user, answer, clock.now(), POLICY)


# --- who gets what ------------------------------------------------------------------------------


async def test_going_and_maybe_get_each_lead_cant_make_it_gets_none_others_one_nudge(
    db: aiosqlite.Connection, clock: ManualClock
) -> None:
    group, meeting = await october_meeting(db, clock)
    await join_and_answer(db, group, meeting, clock, u1=Answer.GOING, u2=Answer.MAYBE, u3=Answer.NO)
    await groups.join_group(db, group, 4, clock.now())  # never answers
    # 29 Oct 19:30 GMT. 7d: 22 Oct 19:30 BST = 18:30Z (same wall time, across the change);
    # 1d: 28 Oct 19:30 GMT; 2h: 17:30 GMT; the nudge 3 days before: 26 Oct 19:30 GMT.
    leads = [utc(2026, 10, 22, 18, 30), utc(2026, 10, 28, 19, 30), utc(2026, 10, 29, 17, 30)]
    assert await pending_dues(db, meeting.id, 1) == leads
    assert await pending_dues(db, meeting.id, 2) == leads
    assert await pending_dues(db, meeting.id, 3) == []
    # 39 days ahead the nudge is not planned yet; the sweep plans it once the meeting is within
    # reach (22 days before it, with the default nudge of 3 days), and not twice.
    assert [r for r in await member_rows(db, meeting.id) if r["kind"] == "nudge"] == []
    assert plan.nudges_reach(POLICY.reminders) == timedelta(days=22)
    await plan.plan_nudges_in_reach(db, clock.now(), POLICY.reminders)
    clock.advance(timedelta(days=19))
    # A change to the meeting before the sweep comes round (a topic, say) plans no nudge: it
    # draws the line where the sweep left it, so the change itself plans, moves nothing.
    async with transaction(db):
        await plan.replan_reminders(db, meeting.id, clock.now(), POLICY.reminders)
    assert [r for r in await member_rows(db, meeting.id) if r["kind"] == "nudge"] == []
    assert await plan.plan_nudges_in_reach(db, clock.now(), POLICY.reminders) == 1
    assert await plan.plan_nudges_in_reach(db, clock.now(), POLICY.reminders) == 0
    rows = await member_rows(db, meeting.id)
    [nudge] = [r for r in rows if r["kind"] == "nudge" and r["state"] == "pending"]
    assert (nudge["user_id"], nudge["due_at"]) == (4, "2026-10-26T19:30:00.000000+00:00")
    assert {r["not_after"] for r in rows} == {"2026-10-29T19:30:00.000000+00:00"}
    live = [r for r in rows if r["state"] == "pending"]
    assert {r["user_id"] for r in live if r["kind"] == "reminder"} == {1, 2}


async def test_nudges_come_into_reach_after_downtime_and_a_long_nudge_is_planned_early_enough(
    db: aiosqlite.Connection, clock: ManualClock
) -> None:
    group, meeting = await october_meeting(db, clock)
    await groups.join_group(db, group, 4, clock.now())  # never answers
    assert await plan.plan_nudges_in_reach(db, clock.now(), POLICY.reminders) >= 1  # September's
    assert await pending_dues(db, meeting.id, 4) == []
    # The bot is down for a month: at start-up the sweep plans what came into reach meanwhile.
    clock.advance(timedelta(days=30))
    await plan.plan_nudges_in_reach(db, clock.now(), POLICY.reminders)
    assert await pending_dues(db, meeting.id, 4) == [utc(2026, 10, 26, 19, 30)]
    # An admin's nudge of 30 days is planned 48 days ahead: never out of reach when it is due.
    long_nudge = ReminderPolicy(nudge=Lead(30, "d", "30d"))
    assert plan.nudges_reach(long_nudge) == timedelta(days=49)
    stored = await queries.series_meetings(db, meeting.series_id)
    [november] = [m for m in stored if m.starts_at.month == 11]
    assert await pending_dues(db, november.id, 4) == [], "37 days ahead: not yet in reach"
    assert await plan.plan_nudges_in_reach(db, clock.now(), long_nudge) >= 1
    [due] = await pending_dues(db, november.id, 4)
    assert due.date() == (november.starts_at - timedelta(days=30)).date()


async def test_a_shorter_nudge_after_a_restart_still_nudges_a_meeting_planned_under_the_longer(
    db: aiosqlite.Connection, clock: ManualClock
) -> None:
    group, meeting = await october_meeting(db, clock)  # 29 October, 39 days ahead
    await groups.join_group(db, group, 4, clock.now())  # never answers
    longer = ReminderPolicy(nudge=Lead(21, "d", "21d"))  # reach 40 days: planned at once
    await plan.plan_nudges_in_reach(db, clock.now(), longer)
    assert len(await pending_dues(db, meeting.id, 4)) == 1
    # Restarted with the default nudge (reach 22 days): the meeting is re-planned (moved by a
    # minute, say) and its nudge is now out of reach; it comes back once the meeting is close.
    await plan.plan_nudges_in_reach(db, clock.now(), POLICY.reminders)
    async with transaction(db):
        await plan.replan_reminders(db, meeting.id, clock.now(), POLICY.reminders)
    assert await pending_dues(db, meeting.id, 4) == []
    clock.advance(timedelta(days=18))
    assert await plan.plan_nudges_in_reach(db, clock.now(), POLICY.reminders) >= 1
    assert await pending_dues(db, meeting.id, 4) == [utc(2026, 10, 26, 19, 30)]


async def test_opt_in_for_every_meeting_pause_and_nudges_off(
    db: aiosqlite.Connection, clock: ManualClock
) -> None:
    group, meeting = await october_meeting(db, clock)
    for user in (5, 6, 7):
        await groups.join_group(db, group, user, clock.now())
    policy = POLICY.reminders
    await service.set_every_meeting(db, group, 5, True, clock.now(), policy)
    await service.update_prefs(db, 6, PrefsChange(nudge=False), clock.now(), policy)
    await service.update_prefs(db, 7, PrefsChange(paused=True), clock.now(), policy)
    assert len(await pending_dues(db, meeting.id, 5)) == 3, "reminded without answering"
    assert await pending_dues(db, meeting.id, 6) == [], "no nudge"
    assert await pending_dues(db, meeting.id, 7) == []
    await rsvp.answer_meeting(db, meeting.id, 7, Answer.GOING, clock.now(), POLICY)
    assert await pending_dues(db, meeting.id, 7) == [], "paused means nothing at all"
    await service.update_prefs(db, 7, PrefsChange(paused=False), clock.now(), policy)
    assert len(await pending_dues(db, meeting.id, 7)) == 3


async def test_own_leads_and_the_admin_default(
    db: aiosqlite.Connection, clock: ManualClock
) -> None:
    group, meeting = await october_meeting(db, clock)
    await join_and_answer(db, group, meeting, clock, u1=Answer.GOING)
    change = PrefsChange(leads=tuple(parse_leads("2d,30m")))
    await service.update_prefs(db, 1, change, clock.now(), POLICY.reminders)
    assert await pending_dues(db, meeting.id, 1) == [
        utc(2026, 10, 27, 19, 30),
        utc(2026, 10, 29, 19, 0),
    ]
    await service.update_prefs(
        db, 1, PrefsChange(use_default_leads=True), clock.now(), POLICY.reminders
    )
    assert len(await pending_dues(db, meeting.id, 1)) == 3


async def test_the_admins_leads_from_the_policy(
    db: aiosqlite.Connection, clock: ManualClock
) -> None:
    policy = Policy(reminders=ReminderPolicy(leads=tuple(parse_leads("1h")), nudge=None))
    group, meeting = await october_meeting(db, clock)
    await groups.join_group(db, group, 1, clock.now(), policy)
    await groups.join_group(db, group, 2, clock.now(), policy)
    await rsvp.answer_meeting(db, meeting.id, 1, Answer.GOING, clock.now(), policy)
    assert await pending_dues(db, meeting.id, 1) == [utc(2026, 10, 29, 18, 30)]
    assert await pending_dues(db, meeting.id, 2) == [], "nudges are off"


async def test_reminder_times_already_past_when_planned_are_not_planned(
    db: aiosqlite.Connection, clock: ManualClock
) -> None:
    group, meeting = await october_meeting(db, clock)
    # Going on Sunday 25 Oct, after the 7d time (22 Oct 18:30Z) and before the 1d one.
    clock.set(utc(2026, 10, 25, 12, 0))
    await join_and_answer(db, group, meeting, clock, u1=Answer.GOING)
    assert await pending_dues(db, meeting.id, 1) == [
        utc(2026, 10, 28, 19, 30),
        utc(2026, 10, 29, 17, 30),
    ]
    rows = await member_rows(db, meeting.id)
    assert [r["key"].split(":")[3] for r in rows if r["kind"] == "reminder"] == ["1d", "120m"]
    # Nothing is sent now: a "week to go" reminder four days before would be wrong.
    port = FakePort()
    dispatcher = Dispatcher(db, port, clock, MEMBER_RENDERERS)
    assert await dispatcher.run_due() == 0
    assert port.send_calls == []
    clock.set(utc(2026, 10, 28, 19, 30))
    assert await dispatcher.run_due() == 1
    assert "late" not in port.messages[0].message.content


async def test_a_waitlisted_member_gets_no_reminders_even_when_reminded_of_every_meeting(
    db: aiosqlite.Connection, clock: ManualClock
) -> None:
    group = await make_group(db, clock)
    draft = replace(last_thursday(), capacity=1)
    change = await series.create_series(db, group, draft, 9, clock.now(), POLICY)
    meeting = (await queries.series_meetings(db, change.series.id))[1]  # 29 October
    await join_and_answer(db, group, meeting, clock, u1=Answer.GOING)
    await groups.join_group(db, group, 2, clock.now())
    # Member 2 asks to hear about every meeting of the group, then says Going to a full one.
    await service.set_every_meeting(db, group, 2, True, clock.now(), POLICY.reminders)
    waiting = await rsvp.answer_meeting(db, meeting.id, 2, Answer.GOING, clock.now(), POLICY)
    assert waiting.answer is Answer.WAITLIST

    port = FakePort()
    dispatcher = Dispatcher(db, port, clock, MEMBER_RENDERERS)
    for when in (utc(2026, 10, 22, 18, 30), utc(2026, 10, 28, 19, 30), utc(2026, 10, 29, 17, 30)):
        clock.set(when)
        await dispatcher.run_due()
    dm_to = {port.channel_of(Destination(user_id=user)): user for user in (1, 2)}
    received = [dm_to.get(m.channel_id) for m in port.messages]
    assert received == [1, 1, 1], "member 1 going gets each lead; member 2 waiting gets none"


# --- edits while pending ------------------------------------------------------------------------


async def test_edits_replan_and_a_sent_reminder_is_never_sent_again(
    db: aiosqlite.Connection, clock: ManualClock
) -> None:
    group, meeting = await october_meeting(db, clock)
    await join_and_answer(db, group, meeting, clock, u1=Answer.GOING, u2=Answer.GOING)
    port = FakePort()
    dispatcher = Dispatcher(db, port, clock, MEMBER_RENDERERS)
    # The 7d reminders go out on time.
    clock.set(utc(2026, 10, 22, 18, 30))
    assert await dispatcher.run_due() == 2
    assert len(port.messages) == 2

    # Moved a week later: the pending 1d and 2h follow, a new 7d is planned, the sent one stays.
    moved = await changes.move_meeting(
        db, meeting, utc(2026, 11, 5, 19, 30), None, clock.now(), POLICY
    )
    rows = await member_rows(db, meeting.id)
    sent = [r for r in rows if r["state"] == "sent"]
    old_start = str(int(meeting.starts_at.timestamp()))
    assert len(sent) == 2
    assert all(r["key"].endswith(old_start) for r in sent)
    assert await pending_dues(db, meeting.id, 1) == [
        utc(2026, 10, 29, 19, 30),
        utc(2026, 11, 4, 19, 30),
        utc(2026, 11, 5, 17, 30),
    ]
    # Member 2 says Can't make it: their pending reminders are cancelled at once.
    await rsvp.answer_meeting(db, meeting.id, 2, Answer.NO, clock.now(), POLICY)
    assert await pending_dues(db, meeting.id, 2) == []
    # Member 1 leaves the group: nothing more for them.
    await rsvp.leave_group(db, group, 1, clock.now(), POLICY)
    assert await pending_dues(db, meeting.id, 1) == []
    # Member 1 comes back and answers again: planned again; cancelling stops everything.
    await groups.join_group(db, group, 1, clock.now())
    await rsvp.answer_meeting(db, meeting.id, 1, Answer.GOING, clock.now(), POLICY)
    assert len(await pending_dues(db, meeting.id, 1)) == 3
    await changes.cancel_meeting(db, moved.after, clock.now(), POLICY)
    assert await pending_dues(db, meeting.id, 1) == []
    # Days pass: nothing more is sent, and the two sent rows were never touched.
    clock.set(utc(2026, 11, 5, 19, 0))
    sent_before = len(port.messages)
    await dispatcher.run_due()
    reminders_sent = [m for m in port.messages if m.message.content.startswith("A reminder")]
    assert len(reminders_sent) == 2
    assert sent_before == 2
    assert [r["state"] for r in await member_rows(db, meeting.id)].count("sent") == 2


async def test_preference_change_moves_pending_reminders_only(
    db: aiosqlite.Connection, clock: ManualClock
) -> None:
    group, meeting = await october_meeting(db, clock)
    await join_and_answer(db, group, meeting, clock, u1=Answer.GOING)
    port = FakePort()
    dispatcher = Dispatcher(db, port, clock, MEMBER_RENDERERS)
    clock.set(utc(2026, 10, 22, 18, 30))
    assert await dispatcher.run_due() == 1
    await service.update_prefs(
        db, 1, PrefsChange(leads=tuple(parse_leads("7d,3h"))), clock.now(), POLICY.reminders
    )
    assert await pending_dues(db, meeting.id, 1) == [utc(2026, 10, 29, 16, 30)]
    await service.update_prefs(db, 1, PrefsChange(via="channel"), clock.now(), POLICY.reminders)
    [row] = [r for r in await member_rows(db, meeting.id) if r["state"] == "pending"]
    assert (row["channel_id"], row["user_id"]) == (CHANNEL, None)
    clock.set(utc(2026, 10, 29, 16, 30))
    assert await dispatcher.run_due() == 1
    mention = port.messages[-1]
    assert mention.channel_id == CHANNEL
    assert mention.message.content.startswith("<@1>")
    delivery = await outbox_mod.by_key(db, row["key"])
    assert delivery is not None
    assert mention.message.carries_marker(delivery.marker)


# --- content, lateness, collapse ----------------------------------------------------------------


async def test_a_reminder_says_what_when_where_and_offers_the_answers_again(
    db: aiosqlite.Connection, clock: ManualClock
) -> None:
    group, meeting = await october_meeting(db, clock)
    await join_and_answer(db, group, meeting, clock, u1=Answer.GOING)
    port = FakePort()
    dispatcher = Dispatcher(db, port, clock, MEMBER_RENDERERS)
    clock.set(utc(2026, 10, 28, 19, 30))
    assert await dispatcher.run_due() == 1
    [sent] = port.messages
    content = sent.message.content
    unix = int(utc(2026, 10, 29, 19, 30).timestamp())
    assert "Monthly meet-up" in content
    assert "North" in content
    assert f"<t:{unix}:F>" in content
    assert f"<t:{unix}:R>" in content
    assert f"<#{VOICE}>" in content
    assert "late" not in content
    ids = [b.custom_id for b in sent.message.buttons]
    delivery_id = int(ids[0].rsplit(":d", 1)[1])
    assert ids == [
        *(
            meeting_cards.rsvp_custom_id(meeting.id, a, f"d{delivery_id}")
            for a in (Answer.GOING, Answer.MAYBE, Answer.NO)
        ),
        # A DM reminder offers a snooze (issue 16); at 19:30 the evening before, 18:00 has
        # passed, so only "in an hour".
        f"snooze:{meeting.id}:hour",
    ]
    assert sent.channel_id == port.channel_of(Destination(user_id=1))


async def test_after_downtime_overdue_reminders_collapse_into_one_late_one_and_stale_skip(
    db: aiosqlite.Connection, clock: ManualClock
) -> None:
    group, meeting = await october_meeting(db, clock)
    await join_and_answer(db, group, meeting, clock, u1=Answer.GOING)
    port = FakePort()
    dispatcher = Dispatcher(db, port, clock, MEMBER_RENDERERS)
    # Down from before the 7d reminder until after the 1d one: one message, saying it is late.
    clock.set(utc(2026, 10, 28, 22, 0))
    assert await dispatcher.run_due() == 1
    [late] = port.messages  # the two overdue ones collapse into one
    assert "late" in late.message.content
    states = [
        (r["key"].split(":")[3], r["state"], r["last_error"])
        for r in await member_rows(db, meeting.id)
        if r["kind"] == "reminder"
    ]
    assert states == [
        ("7d", "skipped", cards.COLLAPSED),
        ("1d", "sent", None),
        ("120m", "pending", None),
    ]
    # Down again across the meeting's start: the 2h one is stale and skipped, never sent.
    clock.set(utc(2026, 10, 29, 19, 45))
    assert await dispatcher.run_due() == 0
    assert len(port.messages) == 1
    last = (await member_rows(db, meeting.id))[-1]
    assert (last["state"], last["last_error"]) == ("skipped", "too late")


async def test_a_late_reminder_that_comes_up_in_quiet_hours_waits_for_them_to_end(
    db: aiosqlite.Connection, clock: ManualClock
) -> None:
    # Found by the simulation (tests/sim, seed 3): after downtime the overdue reminder went out
    # at once, in the middle of the member's quiet hours.
    group, meeting = await october_meeting(db, clock)  # 29 Oct 19:30 GMT
    await join_and_answer(db, group, meeting, clock, u1=Answer.GOING)
    quiet = PrefsChange(leads=tuple(parse_leads("1d")), quiet=QuietHours(time(21, 0), time(8, 0)))
    await service.update_prefs(db, 1, quiet, clock.now(), POLICY.reminders)
    port = FakePort()
    dispatcher = Dispatcher(db, port, clock, MEMBER_RENDERERS)
    # Down from before the 1d reminder (28 Oct 19:30) until 23:00, inside quiet hours.
    clock.set(utc(2026, 10, 28, 23, 0))
    assert await dispatcher.run_due() == 0
    assert port.messages == []
    [row] = [r for r in await member_rows(db, meeting.id) if r["state"] != "cancelled"]
    assert (row["state"], row["last_error"]) == ("pending", cards.QUIET)
    assert await outbox_mod.next_due(db) == utc(2026, 10, 29, 8, 0)
    clock.set(utc(2026, 10, 29, 7, 59))
    assert await dispatcher.run_due() == 0
    clock.set(utc(2026, 10, 29, 8, 0))  # quiet hours end: it goes, saying it is late
    assert await dispatcher.run_due() == 1
    [late] = port.messages
    assert "late" in late.message.content


# --- DST and quiet hours ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("zone", "start", "expected"),
    [
        # London: clocks go back 25 Oct 2026. 19:30 GMT on 29 Oct; 7d is 19:30 BST on 22 Oct.
        (
            "Europe/London",
            utc(2026, 10, 29, 19, 30),
            [utc(2026, 10, 22, 18, 30), utc(2026, 10, 28, 19, 30), utc(2026, 10, 29, 17, 30)],
        ),
        # London: clocks go forward 29 Mar 2026. 19:30 BST on 2 Apr; 7d is 19:30 GMT on 26 Mar.
        (
            "Europe/London",
            utc(2026, 4, 2, 18, 30),
            [utc(2026, 3, 26, 19, 30), utc(2026, 4, 1, 18, 30), utc(2026, 4, 2, 16, 30)],
        ),
        # New York: clocks go back 1 Nov 2026. 19:30 EST on 5 Nov; 7d is 19:30 EDT on 29 Oct.
        (
            "America/New_York",
            utc(2026, 11, 6, 0, 30),
            [utc(2026, 10, 29, 23, 30), utc(2026, 11, 5, 0, 30), utc(2026, 11, 5, 22, 30)],
        ),
        # New York: forward 8 Mar 2026. 19:30 EDT on 12 Mar; 7d is 19:30 EST on 5 Mar.
        (
            "America/New_York",
            utc(2026, 3, 12, 23, 30),
            [utc(2026, 3, 6, 0, 30), utc(2026, 3, 11, 23, 30), utc(2026, 3, 12, 21, 30)],
        ),
    ],
)
def test_day_leads_keep_local_time_and_hour_leads_are_real_hours(
    zone: str, start: datetime, expected: list[datetime]
) -> None:
    assert reminder_times(start, parse_leads("7d,1d,2h"), zone) == expected


@pytest.mark.parametrize(
    ("zone", "when_utc", "expected_due"),
    [
        # London, 01:30 on 29 Mar 2026 does not exist (01:00 GMT → 02:00 BST): a 1d lead
        # before 01:30 BST on 30 Mar (00:30Z) moves forward by the gap, to 02:30 BST (01:30Z).
        ("Europe/London", utc(2026, 3, 30, 0, 30), utc(2026, 3, 29, 1, 30)),
        # New York, 02:30 on 8 Mar 2026 does not exist: forward to 03:30 EDT (07:30Z).
        ("America/New_York", utc(2026, 3, 9, 6, 30), utc(2026, 3, 8, 7, 30)),
    ],
)
def test_a_lead_in_a_nonexistent_local_time_moves_forward(
    zone: str, when_utc: datetime, expected_due: datetime
) -> None:
    assert reminder_times(when_utc, parse_leads("1d"), zone) == [expected_due]


@pytest.mark.parametrize(
    ("zone", "expected"),
    [
        # Quiet 21:00–08:00. A 09:00 meeting on Thu 29 Oct (GMT): 1d = 09:00 Wed (fine);
        # 2h = 07:00 Thu, inside quiet hours, so 20:55 Wed (GMT) instead.
        (
            "Europe/London",
            [utc(2026, 10, 28, 9, 0), utc(2026, 10, 28, 20, 55)],
        ),
        # Same in New York (EDT→EST on 1 Nov; 29 Oct is still EDT, UTC-4).
        (
            "America/New_York",
            [utc(2026, 10, 28, 13, 0), utc(2026, 10, 29, 0, 55)],
        ),
    ],
)
async def test_quiet_hours_bring_a_dm_forward_never_drop_it(
    db: aiosqlite.Connection, clock: ManualClock, zone: str, expected: list[datetime]
) -> None:
    group = await make_group(db, clock, zone)
    change = await series.create_series(
        db, group, last_thursday(time(9, 0)), 9, clock.now(), POLICY
    )
    meeting = (await queries.series_meetings(db, change.series.id))[1]
    await join_and_answer(db, group, meeting, clock, u1=Answer.GOING)
    change_prefs = PrefsChange(
        leads=tuple(parse_leads("1d,2h")), quiet=QuietHours(time(21, 0), time(8, 0))
    )
    await service.update_prefs(db, 1, change_prefs, clock.now(), POLICY.reminders)
    assert await pending_dues(db, meeting.id, 1) == expected


async def test_quiet_hours_in_the_members_own_zone_across_the_clock_change(
    db: aiosqlite.Connection, clock: ManualClock
) -> None:
    # A London group; the member lives in New York with quiet hours 22:00–07:00 there. The
    # 2h reminder before 19:30 GMT on 29 Oct is 17:30Z = 13:30 EDT: not quiet, unchanged.
    # The 1d reminder, 19:30Z on 28 Oct = 15:30 EDT: not quiet. A 30m lead before a 09:00
    # London meeting would be 08:30Z = 04:30 EDT: quiet, so 21:55 EDT the evening before.
    group = await make_group(db, clock)
    change = await series.create_series(
        db, group, last_thursday(time(9, 0)), 9, clock.now(), POLICY
    )
    meeting = (await queries.series_meetings(db, change.series.id))[1]
    await join_and_answer(db, group, meeting, clock, u1=Answer.GOING)
    prefs = PrefsChange(
        leads=tuple(parse_leads("30m")),
        quiet=QuietHours(time(22, 0), time(7, 0)),
        timezone="America/New_York",
    )
    await service.update_prefs(db, 1, prefs, clock.now(), POLICY.reminders)
    assert await pending_dues(db, meeting.id, 1) == [utc(2026, 10, 29, 1, 55)]


async def test_a_change_while_a_reminder_is_overdue_keeps_it_unless_it_is_no_longer_wanted(
    db: aiosqlite.Connection, clock: ManualClock
) -> None:
    # Due and not yet sent (a long fan-out under way, or the bot was down): a member's change
    # must not drop it, nor turn it into a fresh on-time one; Can't make it still stops it.
    group, meeting = await october_meeting(db, clock)
    await join_and_answer(db, group, meeting, clock, u1=Answer.GOING, u2=Answer.GOING)
    clock.set(utc(2026, 10, 28, 19, 45))  # the 7d and 1d reminders never went: overdue
    await rsvp.answer_meeting(db, meeting.id, 1, Answer.MAYBE, clock.now(), POLICY)
    await service.update_prefs(db, 1, PrefsChange(nudge=False), clock.now(), POLICY.reminders)
    await rsvp.answer_meeting(db, meeting.id, 2, Answer.NO, clock.now(), POLICY)
    await changes.set_note(db, meeting, "Bring a friend", clock.now(), POLICY)
    assert await pending_dues(db, meeting.id, 1) == [
        utc(2026, 10, 22, 18, 30),
        utc(2026, 10, 28, 19, 30),
        utc(2026, 10, 29, 17, 30),
    ]
    assert await pending_dues(db, meeting.id, 2) == []
    port = FakePort()
    assert await Dispatcher(db, port, clock, MEMBER_RENDERERS).run_due() == 1
    [late] = port.messages  # the two overdue ones collapse into one
    assert "late" in late.message.content
