"""Snooze ("Remind me in an hour / this evening") on a real SQLite file with the real migrations
and a ManualClock; sending through the dispatcher with the fake Discord port.

The meeting is 29 Oct 2026 19:30 GMT (Europe/London, after the clock change): expected instants
are written out by hand.
"""

from __future__ import annotations

from datetime import datetime, time

import aiosqlite
import pytest

from bot.clock import ManualClock
from bot.delivery.dispatcher import Dispatcher
from bot.errors import Conflict, NotAMember
from bot.groups import service as groups
from bot.meetings import changes, queries, rsvp
from bot.meetings.model import Answer
from bot.reminders import cards, snooze
from bot.reminders.model import PrefsChange, QuietHours
from bot.reminders.service import update_prefs
from tests.test_outbox import FakePort
from tests.test_reminders import POLICY, clock, db, october_meeting, utc

__all__ = ["clock", "db"]  # the fixtures, shared with test_reminders

SNOOZE_ROWS = """
SELECT idempotency_key AS key, scope, state, due_at, not_after, user_id
FROM outbox
WHERE kind = 'snooze'
ORDER BY id
"""

START = utc(2026, 10, 29, 19, 30)


async def snooze_rows(db: aiosqlite.Connection) -> list[aiosqlite.Row]:
    async with db.execute(SNOOZE_ROWS) as cursor:
        return list(await cursor.fetchall())


async def pending(db: aiosqlite.Connection) -> list[tuple[int, datetime]]:
    return [
        (int(r["user_id"]), datetime.fromisoformat(r["due_at"]))
        for r in await snooze_rows(db)
        if r["state"] == "pending"
    ]


@pytest.mark.parametrize(
    ("now", "zone", "expected"),
    [
        # The afternoon of the day: an hour later, and 18:00 GMT (= UTC in winter).
        (
            utc(2026, 10, 29, 14, 0),
            "Europe/London",
            {"hour": utc(2026, 10, 29, 15, 0), "evening": utc(2026, 10, 29, 18, 0)},
        ),
        # Half past five: both still come before 19:30.
        (
            utc(2026, 10, 29, 17, 30),
            "Europe/London",
            {"hour": utc(2026, 10, 29, 18, 30), "evening": utc(2026, 10, 29, 18, 0)},
        ),
        # 18:45: an hour later is after the start; the evening has begun.
        (utc(2026, 10, 29, 18, 45), "Europe/London", {}),
        # 18:29:59 an hour later is just before the start; 18:30 exactly is not.
        (utc(2026, 10, 29, 18, 29, 59), "Europe/London", {"hour": utc(2026, 10, 29, 19, 29, 59)}),
        (utc(2026, 10, 29, 18, 30), "Europe/London", {}),
        # The evening before, after 18:00 there: only the hour.
        (utc(2026, 10, 28, 20, 0), "Europe/London", {"hour": utc(2026, 10, 28, 21, 0)}),
        # In Berlin (CET, UTC+1) 18:00 is 17:00 UTC.
        (
            utc(2026, 10, 29, 9, 0),
            "Europe/Berlin",
            {"hour": utc(2026, 10, 29, 10, 0), "evening": utc(2026, 10, 29, 17, 0)},
        ),
        # In New York (EDT, UTC-4) 18:00 is 22:00 UTC, after the meeting: no "this evening".
        (utc(2026, 10, 29, 9, 0), "America/New_York", {"hour": utc(2026, 10, 29, 10, 0)}),
    ],
)
def test_options_come_before_the_meeting_or_not_at_all(
    now: datetime, zone: str, expected: dict[str, datetime]
) -> None:
    assert snooze.options(START, zone, now) == expected


async def test_one_snooze_per_member_and_meeting_a_second_click_replaces_it(
    db: aiosqlite.Connection, clock: ManualClock
) -> None:
    group, meeting = await october_meeting(db, clock)
    for user in (1, 2):
        await groups.join_group(db, group, user, clock.now())
    clock.set(utc(2026, 10, 29, 14, 0))
    first = await snooze.snooze(db, meeting.id, 1, "hour", clock.now())
    assert first.due_at == utc(2026, 10, 29, 15, 0)
    again = await snooze.snooze(db, meeting.id, 1, "hour", clock.now())  # a double click
    assert again.due_at == first.due_at
    assert await pending(db) == [(1, utc(2026, 10, 29, 15, 0))]
    clock.set(utc(2026, 10, 29, 14, 5))
    await snooze.snooze(db, meeting.id, 1, "evening", clock.now())
    await snooze.snooze(db, meeting.id, 2, "hour", clock.now())
    assert sorted(await pending(db)) == [
        (1, utc(2026, 10, 29, 18, 0)),
        (2, utc(2026, 10, 29, 15, 5)),
    ]
    rows = await snooze_rows(db)
    assert {r["not_after"] for r in rows} == {"2026-10-29T19:30:00.000000+00:00"}
    assert {r["scope"] for r in rows if r["user_id"] == 1} == {f"meeting:{meeting.id}:snooze:1"}


async def test_too_close_to_the_start_is_refused_kindly_and_plans_nothing(
    db: aiosqlite.Connection, clock: ManualClock
) -> None:
    group, meeting = await october_meeting(db, clock)
    await groups.join_group(db, group, 1, clock.now())
    clock.set(utc(2026, 10, 29, 18, 45))
    with pytest.raises(Conflict, match="starts too soon"):
        await snooze.snooze(db, meeting.id, 1, "hour", clock.now())
    clock.set(utc(2026, 10, 29, 18, 15))
    with pytest.raises(Conflict, match="already evening"):
        await snooze.snooze(db, meeting.id, 1, "evening", clock.now())
    with pytest.raises(NotAMember):
        await snooze.snooze(db, meeting.id, 99, "hour", clock.now())
    assert await snooze_rows(db) == []


async def test_going_or_cant_after_asking_drops_the_snooze_maybe_keeps_it(
    db: aiosqlite.Connection, clock: ManualClock
) -> None:
    group, meeting = await october_meeting(db, clock)
    for user in (1, 2, 3):
        await groups.join_group(db, group, user, clock.now())
    # Member 3 said Going before the reminder came: snoozing it is what the button is for.
    await rsvp.answer_meeting(db, meeting.id, 3, Answer.GOING, clock.now(), POLICY)
    clock.set(utc(2026, 10, 29, 14, 0))
    for user in (1, 2, 3):
        await snooze.snooze(db, meeting.id, user, "evening", clock.now())
    assert len(await pending(db)) == 3
    clock.set(utc(2026, 10, 29, 14, 1))
    await rsvp.answer_meeting(db, meeting.id, 1, Answer.GOING, clock.now(), POLICY)
    await rsvp.answer_meeting(db, meeting.id, 2, Answer.MAYBE, clock.now(), POLICY)
    assert sorted(u for u, _ in await pending(db)) == [2, 3]
    await rsvp.answer_meeting(db, meeting.id, 2, Answer.NO, clock.now(), POLICY)
    assert [u for u, _ in await pending(db)] == [3]


async def test_a_moved_or_cancelled_meeting_takes_its_snoozes_along(
    db: aiosqlite.Connection, clock: ManualClock
) -> None:
    group, meeting = await october_meeting(db, clock)
    await groups.join_group(db, group, 1, clock.now())
    clock.set(utc(2026, 10, 29, 14, 0))
    await snooze.snooze(db, meeting.id, 1, "evening", clock.now())
    # Moved to 17:00: the 18:00 snooze would come after the start.
    await changes.move_meeting(db, meeting, utc(2026, 10, 29, 17, 0), None, clock.now(), POLICY)
    assert await pending(db) == []
    [row] = await snooze_rows(db)
    assert row["state"] == "cancelled"
    # Moved back later: the snooze holds again.
    meeting = await queries.get_meeting(db, meeting.id)
    await changes.move_meeting(db, meeting, utc(2026, 10, 29, 20, 0), None, clock.now(), POLICY)
    assert await pending(db) == [(1, utc(2026, 10, 29, 18, 0))]
    meeting = await queries.get_meeting(db, meeting.id)
    await changes.cancel_meeting(db, meeting, clock.now(), POLICY)
    assert await pending(db) == []


async def test_leaving_the_group_takes_the_snooze_along_and_joining_again_brings_none(
    db: aiosqlite.Connection, clock: ManualClock
) -> None:
    # Found by the simulation (tests/sim/regressions.txt, seed 12): leaving re-planned the
    # member's reminders but not their snooze, which stayed planned for someone not in the group
    # (and came back to them had they joined again before it was due).
    group, meeting = await october_meeting(db, clock)
    for user in (1, 2):
        await groups.join_group(db, group, user, clock.now(), POLICY)
    clock.set(utc(2026, 10, 29, 14, 0))
    for user in (1, 2):
        await snooze.snooze(db, meeting.id, user, "evening", clock.now())
    await rsvp.leave_group(db, group, 1, clock.now(), POLICY)
    assert await pending(db) == [(2, utc(2026, 10, 29, 18, 0))]
    async with db.execute("SELECT user_id FROM snoozes") as cursor:
        assert [int(row[0]) for row in await cursor.fetchall()] == [2]
    clock.set(utc(2026, 10, 29, 14, 30))
    await groups.join_group(db, group, 1, clock.now(), POLICY)
    await rsvp.answer_meeting(db, meeting.id, 1, Answer.MAYBE, clock.now(), POLICY)
    assert await pending(db) == [(2, utc(2026, 10, 29, 18, 0))]


async def test_the_snooze_is_sent_once_with_the_answers_and_no_snooze_past_the_start(
    db: aiosqlite.Connection, clock: ManualClock
) -> None:
    group, meeting = await october_meeting(db, clock)
    await groups.join_group(db, group, 1, clock.now())
    # Quiet hours never hold back a reminder the member asked for a moment ago.
    quiet = PrefsChange(quiet=QuietHours(time(17), time(23)))
    await update_prefs(db, 1, quiet, clock.now(), POLICY.reminders)
    clock.set(utc(2026, 10, 29, 17, 0))
    await snooze.snooze(db, meeting.id, 1, "hour", clock.now())
    port = FakePort()
    dispatcher = Dispatcher(db, port, clock, {"snooze": cards.render_snooze})
    assert await dispatcher.run_due() == 0
    clock.set(utc(2026, 10, 29, 18, 0))
    assert await dispatcher.run_due() == 1
    [sent] = port.messages
    assert "the reminder you asked for" in sent.message.content
    assert f"<t:{int(START.timestamp())}:F>" in sent.message.content
    labels = [b.label for b in sent.message.buttons]
    # At 18:00 an hour later is 19:00, still before 19:30; the evening has come.
    assert labels == ["Going", "Maybe", "Can't make it", "Remind me in an hour"]
    assert sent.message.ping_user_ids == ()
    clock.set(utc(2026, 10, 29, 18, 10))
    assert await dispatcher.run_due() == 0
    [row] = await snooze_rows(db)
    assert row["state"] == "sent"


async def test_a_snooze_for_someone_who_then_said_cant_is_not_sent(
    db: aiosqlite.Connection, clock: ManualClock
) -> None:
    group, meeting = await october_meeting(db, clock)
    await groups.join_group(db, group, 1, clock.now())
    clock.set(utc(2026, 10, 29, 17, 0))
    await snooze.snooze(db, meeting.id, 1, "hour", clock.now())
    # Said Can't make it at the very instant the snooze was asked for: not after it, so the
    # plan keeps the row; the renderer still checks at send time.
    await rsvp.answer_meeting(db, meeting.id, 1, Answer.NO, clock.now(), POLICY)
    port = FakePort()
    dispatcher = Dispatcher(db, port, clock, {"snooze": cards.render_snooze})
    clock.set(utc(2026, 10, 29, 18, 0))
    await dispatcher.run_due()
    assert port.messages == []
    [row] = await snooze_rows(db)
    assert (row["state"], row["user_id"]) == ("skipped", 1)


async def test_the_snoozed_reminder_carries_the_meetings_topic_like_every_reminder(
    db: aiosqlite.Connection, clock: ManualClock
) -> None:
    group, meeting = await october_meeting(db, clock)
    await groups.join_group(db, group, 1, clock.now())
    await changes.set_topic(db, meeting, "Contact with birth family", clock.now(), POLICY)
    clock.set(utc(2026, 10, 29, 17, 0))
    await snooze.snooze(db, meeting.id, 1, "hour", clock.now())
    port = FakePort()
    dispatcher = Dispatcher(db, port, clock, {"snooze": cards.render_snooze})
    clock.set(utc(2026, 10, 29, 18, 0))
    assert await dispatcher.run_due() == 1
    [sent] = port.messages
    assert "Topic: Contact with birth family" in sent.message.content
