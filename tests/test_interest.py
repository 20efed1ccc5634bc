"""Discord's Interested button counts as Maybe (issue 16), on a real SQLite file with the real
migrations and a ManualClock."""

from __future__ import annotations

from datetime import timedelta

import aiosqlite

from bot.clock import ManualClock
from bot.delivery.dispatcher import Dispatcher
from bot.groups import service as groups
from bot.meetings import interest, rsvp
from bot.meetings.model import Answer
from tests.test_outbox import FakePort
from tests.test_reminders import POLICY, clock, db, october_meeting

__all__ = ["clock", "db"]  # the fixtures, shared with test_reminders

EVENT = 987654321


async def answer(db: aiosqlite.Connection, meeting_id: int, user_id: int) -> str | None:
    async with db.execute(
        "SELECT answer FROM rsvps WHERE meeting_id = :m AND user_id = :u",
        {"m": meeting_id, "u": user_id},
    ) as cursor:
        row = await cursor.fetchone()
    return None if row is None else str(row[0])


async def pending_reminders(db: aiosqlite.Connection, user_id: int) -> int:
    async with db.execute(
        "SELECT COUNT(*) FROM outbox WHERE kind = 'reminder' AND state = 'pending' "
        "AND user_id = :u",
        {"u": user_id},
    ) as cursor:
        return int((await cursor.fetchone())[0])


async def mirrored(db: aiosqlite.Connection, clock: ManualClock) -> tuple[int, int]:
    group, meeting = await october_meeting(db, clock)
    async with db.execute(
        "UPDATE meetings SET event_id = :e WHERE id = :m", {"e": EVENT, "m": meeting.id}
    ):
        pass
    await db.commit()
    for user in (1, 2):
        await groups.join_group(db, group, user, clock.now())
    return group.id, meeting.id


async def test_interested_is_maybe_with_its_reminders_and_taking_it_back_removes_it(
    db: aiosqlite.Connection, clock: ManualClock
) -> None:
    _, meeting_id = await mirrored(db, clock)
    outcome = await interest.set_interest(db, EVENT, 1, True, clock.now(), POLICY)
    assert outcome == ("maybe", meeting_id)
    assert await answer(db, meeting_id, 1) == "maybe"
    assert await pending_reminders(db, 1) == 3  # Maybe's reminders: 7d, 1d, 2h
    # Discord sends USER_ADD again after a reconnect replay: nothing changes.
    again = await interest.set_interest(db, EVENT, 1, True, clock.now(), POLICY)
    assert again == ("nothing", meeting_id)
    clock.advance(timedelta(minutes=1))
    removed = await interest.set_interest(db, EVENT, 1, False, clock.now(), POLICY)
    assert removed == ("removed", meeting_id)
    assert await answer(db, meeting_id, 1) is None
    assert await pending_reminders(db, 1) == 0


async def test_an_answer_of_their_own_is_never_touched(
    db: aiosqlite.Connection, clock: ManualClock
) -> None:
    _, meeting_id = await mirrored(db, clock)
    # Member 1 said Can't make it, then clicks Interested: still Can't make it.
    await rsvp.answer_meeting(db, meeting_id, 1, Answer.NO, clock.now(), POLICY)
    await interest.set_interest(db, EVENT, 1, True, clock.now(), POLICY)
    assert await answer(db, meeting_id, 1) == "no"
    await interest.set_interest(db, EVENT, 1, False, clock.now(), POLICY)
    assert await answer(db, meeting_id, 1) == "no"
    # Member 2: Interested (Maybe), then Going with the button, then takes interest back.
    await interest.set_interest(db, EVENT, 2, True, clock.now(), POLICY)
    clock.advance(timedelta(minutes=1))
    await rsvp.answer_meeting(db, meeting_id, 2, Answer.GOING, clock.now(), POLICY)
    await interest.set_interest(db, EVENT, 2, False, clock.now(), POLICY)
    assert await answer(db, meeting_id, 2) == "going"
    # Member 3: Interested (Maybe), then Going and back to Maybe with the buttons while still
    # interested: that Maybe is their own and stays when the interest goes.
    group_id = (await interest.meeting_for_event(db, EVENT)).group_id  # type: ignore[union-attr]
    await groups.join_group(db, await groups.get_group(db, group_id), 3, clock.now())
    await interest.set_interest(db, EVENT, 3, True, clock.now(), POLICY)
    clock.advance(timedelta(minutes=1))
    await rsvp.answer_meeting(db, meeting_id, 3, Answer.GOING, clock.now(), POLICY)
    await rsvp.answer_meeting(db, meeting_id, 3, Answer.MAYBE, clock.now(), POLICY)
    await interest.set_interest(db, EVENT, 3, False, clock.now(), POLICY)
    assert await answer(db, meeting_id, 3) == "maybe"


async def test_someone_not_in_the_group_is_offered_join_once(
    db: aiosqlite.Connection, clock: ManualClock
) -> None:
    _, meeting_id = await mirrored(db, clock)
    stranger = 77
    assert await interest.set_interest(db, EVENT, stranger, True, clock.now(), POLICY) == (
        "offered_join",
        meeting_id,
    )
    port = FakePort()
    dispatcher = Dispatcher(db, port, clock, dict(interest.RENDERERS))
    assert await dispatcher.run_due() == 1
    [offer] = port.messages
    assert "You showed interest in **Monthly meet-up**" in offer.message.content
    [button] = offer.message.buttons
    assert button.label == "Join this group"
    assert button.custom_id.startswith("join:")
    assert await answer(db, meeting_id, stranger) is None
    # Taking it back and clicking again: no second offer.
    await interest.set_interest(db, EVENT, stranger, False, clock.now(), POLICY)
    await interest.set_interest(db, EVENT, stranger, True, clock.now(), POLICY)
    assert await dispatcher.run_due() == 0
    assert len(port.messages) == 1


async def test_reconcile_follows_discords_list(
    db: aiosqlite.Connection, clock: ManualClock
) -> None:
    _, meeting_id = await mirrored(db, clock)
    await interest.set_interest(db, EVENT, 1, True, clock.now(), POLICY)
    [found] = await interest.mirrored_meetings(db, clock.now())
    assert (found.meeting_id, found.event_id) == (meeting_id, EVENT)
    clock.advance(timedelta(minutes=1))
    # While the bot was away: 1 took it back, 2 clicked it.
    changed = await interest.reconcile(db, meeting_id, {2}, clock.now(), POLICY)
    assert changed == {1: "removed", 2: "maybe"}
    assert (await answer(db, meeting_id, 1), await answer(db, meeting_id, 2)) == (None, "maybe")
    assert await interest.reconcile(db, meeting_id, {2}, clock.now(), POLICY) == {}


async def test_a_maybe_given_again_after_leaving_and_rejoining_goes_when_the_interest_does(
    db: aiosqlite.Connection, clock: ManualClock
) -> None:
    """Found by the simulation (seed 0, 150 days × 4 groups, --ops 3): leaving took the Maybe but
    kept the first click's time, so the Maybe given on rejoining looked like the member's own
    and stayed when they took the interest back."""
    group_id, meeting_id = await mirrored(db, clock)
    group = await groups.get_group(db, group_id)
    await interest.set_interest(db, EVENT, 1, True, clock.now(), POLICY)
    clock.advance(timedelta(hours=9))
    assert (await rsvp.leave_group(db, group, 1, clock.now(), POLICY)).changed
    assert await answer(db, meeting_id, 1) is None
    clock.advance(timedelta(days=4))
    await groups.join_group(db, group, 1, clock.now())
    clock.advance(timedelta(days=3))
    # Still interested on Discord: the next look at the list gives the Maybe again.
    assert await interest.reconcile(db, meeting_id, {1}, clock.now(), POLICY) == {1: "maybe"}
    clock.advance(timedelta(days=2))
    removed = await interest.set_interest(db, EVENT, 1, False, clock.now(), POLICY)
    assert removed == ("removed", meeting_id)
    assert await answer(db, meeting_id, 1) is None
    assert await pending_reminders(db, 1) == 0
