"""Groups, series, meetings and answers against a real SQLite file with the real migrations."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from pathlib import Path

import aiosqlite
import pytest
import pytest_asyncio

from bot.checkins import mydata
from bot.checkins.crypto import load_note_keys
from bot.clock import ManualClock
from bot.db import open_database, transaction
from bot.delivery import outbox as outbox_rows
from bot.delivery.dispatcher import Dispatcher, RenderContext, Skip
from bot.delivery.port import Destination, OutgoingMessage, Sent
from bot.errors import Conflict, HoldfastError, NotAllowed, NotFound
from bot.groups import service as groups
from bot.groups.model import Actor, Group, GroupChange, GroupSettings
from bot.meetings import announcements, cards, changes, queries, rsvp, series
from bot.meetings.model import Answer, Meeting, Place, PlaceKind, SeriesDraft
from bot.meetings.recurrence import Rule
from bot.migrate import migrate
from bot.planning import Policy
from bot.reminders import plan as reminders_plan
from bot.reminders import rota
from bot.reminders.model import PrefsChange
from bot.reminders.service import update_prefs
from tests.test_outbox import FakePort

GUILD = 111111111111111111
CHANNEL = 222222222222222222
ROLE = 333333333333333333
VOICE = 444444444444444444
POLICY = Policy(announce_lead=timedelta(days=14))

SELECT_OUTBOX = """
SELECT idempotency_key AS key, kind, state, due_at, not_after, channel_id, user_id
FROM outbox
ORDER BY id
"""


@pytest.fixture
def clock() -> ManualClock:
    # A Sunday in September: the next "last Thursday" is the 24th (BST), then 29 Oct (GMT).
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


def last_thursday(capacity: int | None = None) -> SeriesDraft:
    return SeriesDraft(
        title="Monthly meet-up",
        rule=Rule.last_weekday(3),
        local_time=time(19, 30),
        duration_minutes=90,
        place=Place.channel(PlaceKind.VOICE, VOICE),
        capacity=capacity,
    )


async def one_place_member_1_going_member_2_waiting(
    db: aiosqlite.Connection, clock: ManualClock
) -> tuple[Group, Meeting]:
    group = await make_group(db, clock)
    change = await series.create_series(
        db, group, last_thursday(capacity=1), 9, clock.now(), POLICY
    )
    meeting = (await queries.series_meetings(db, change.series.id))[0]
    for user in (1, 2):
        await groups.join_group(db, group, user, clock.now())
        await rsvp.answer_meeting(db, meeting.id, user, Answer.GOING, clock.now())
        clock.advance(timedelta(seconds=1))
    return group, meeting


async def outbox(db: aiosqlite.Connection) -> list[aiosqlite.Row]:
    async with db.execute(SELECT_OUTBOX) as cursor:
        return list(await cursor.fetchall())


async def test_group_names_are_unique_per_server_ignoring_case(
    db: aiosqlite.Connection, clock: ManualClock
) -> None:
    await make_group(db, clock, "North adopters")
    with pytest.raises(Conflict, match="already a group"):
        await make_group(db, clock, "north  ADOPTERS")


async def test_unknown_time_zone_is_refused_kindly(
    db: aiosqlite.Connection, clock: ManualClock
) -> None:
    with pytest.raises(HoldfastError, match="Europe/London"):
        await groups.create_group(
            db, GUILD, GroupSettings("North", CHANNEL, ROLE, None, "Mars/Olympus"), clock.now()
        )


async def test_resolve_group_picks_the_only_group_or_asks_which(
    db: aiosqlite.Connection, clock: ManualClock
) -> None:
    with pytest.raises(NotFound, match="no groups"):
        await groups.resolve_group(db, GUILD, None)
    north = await make_group(db, clock, "North")
    assert (await groups.resolve_group(db, GUILD, None)).id == north.id
    await make_group(db, clock, "South")
    with pytest.raises(HoldfastError, match="Which group"):
        await groups.resolve_group(db, GUILD, None)
    assert (await groups.resolve_group(db, GUILD, "south")).name == "South"


async def test_joining_twice_changes_nothing(db: aiosqlite.Connection, clock: ManualClock) -> None:
    group = await make_group(db, clock)
    assert (await groups.join_group(db, group, 1, clock.now())).changed
    assert not (await groups.join_group(db, group, 1, clock.now())).changed
    assert await groups.member_ids(db, group) == [1]


async def test_preview_crosses_the_october_clock_change(
    db: aiosqlite.Connection, clock: ManualClock
) -> None:
    starts = series.preview(last_thursday(), "Europe/London", clock.now(), count=3)
    assert starts == [
        datetime(2026, 9, 24, 18, 30, tzinfo=UTC),  # 19:30 BST
        datetime(2026, 10, 29, 19, 30, tzinfo=UTC),  # 19:30 GMT, after 25 October
        datetime(2026, 11, 26, 19, 30, tzinfo=UTC),
    ]


async def test_creating_a_series_stores_meetings_and_plans_announcements(
    db: aiosqlite.Connection, clock: ManualClock
) -> None:
    group = await make_group(db, clock)
    change = await series.create_series(db, group, last_thursday(), 9, clock.now(), POLICY)
    meetings = await queries.series_meetings(db, change.series.id)
    assert [m.starts_at for m in meetings[:3]] == [
        datetime(2026, 9, 24, 18, 30, tzinfo=UTC),
        datetime(2026, 10, 29, 19, 30, tzinfo=UTC),
        datetime(2026, 11, 26, 19, 30, tzinfo=UTC),
    ]
    # Reminders and the rota's escalations are planned too (tests/test_reminders.py).
    rows = [r for r in await outbox(db) if r["kind"] == "announcement"]
    assert len(rows) == len(meetings)
    first = rows[0]
    assert first["kind"] == "announcement"
    assert first["channel_id"] == CHANNEL
    assert first["state"] == "pending"
    # Inside the 14-day lead: announced at once; later meetings 14 days before they start.
    assert datetime.fromisoformat(first["due_at"]) == clock.now()
    assert datetime.fromisoformat(rows[1]["due_at"]) == datetime(2026, 10, 15, 19, 30, tzinfo=UTC)
    assert datetime.fromisoformat(rows[1]["not_after"]) == meetings[1].starts_at


async def test_day_31_falls_on_the_last_day_of_shorter_months(
    db: aiosqlite.Connection, clock: ManualClock
) -> None:
    draft = SeriesDraft(
        "Month end", Rule.day_of_month(31), time(10, 0), 60, Place.external("Library")
    )
    starts = series.preview(draft, "Europe/London", clock.now(), count=6)
    assert [s.date().isoformat() for s in starts] == [
        "2026-09-30",
        "2026-10-31",
        "2026-11-30",
        "2026-12-31",
        "2027-01-31",
        "2027-02-28",
    ]


async def test_answers_change_and_a_repeat_click_changes_nothing(
    db: aiosqlite.Connection, clock: ManualClock
) -> None:
    group = await make_group(db, clock)
    change = await series.create_series(db, group, last_thursday(), 9, clock.now(), POLICY)
    meeting = (await queries.series_meetings(db, change.series.id))[0]
    await groups.join_group(db, group, 1, clock.now())
    first = await rsvp.answer_meeting(db, meeting.id, 1, Answer.GOING, clock.now())
    again = await rsvp.answer_meeting(db, meeting.id, 1, Answer.GOING, clock.now())
    assert first.changed
    assert not again.changed
    assert again.counts.going == 1
    maybe = await rsvp.answer_meeting(db, meeting.id, 1, Answer.MAYBE, clock.now())
    assert (maybe.counts.going, maybe.counts.maybe) == (0, 1)


async def test_only_members_can_answer(db: aiosqlite.Connection, clock: ManualClock) -> None:
    group = await make_group(db, clock)
    change = await series.create_series(db, group, last_thursday(), 9, clock.now(), POLICY)
    meeting = (await queries.series_meetings(db, change.series.id))[0]
    with pytest.raises(NotAllowed, match="not in"):
        await rsvp.answer_meeting(db, meeting.id, 5, Answer.GOING, clock.now())


async def test_a_full_meeting_waitlists_and_a_freed_place_goes_to_the_first_waiting(
    db: aiosqlite.Connection, clock: ManualClock
) -> None:
    group = await make_group(db, clock)
    change = await series.create_series(
        db, group, last_thursday(capacity=1), 9, clock.now(), POLICY
    )
    meeting = (await queries.series_meetings(db, change.series.id))[0]
    for user in (1, 2, 3):
        await groups.join_group(db, group, user, clock.now())
    await rsvp.answer_meeting(db, meeting.id, 1, Answer.GOING, clock.now())
    clock.advance(timedelta(minutes=1))
    second = await rsvp.answer_meeting(db, meeting.id, 2, Answer.GOING, clock.now())
    clock.advance(timedelta(minutes=1))
    third = await rsvp.answer_meeting(db, meeting.id, 3, Answer.GOING, clock.now())
    assert (second.answer, second.waitlist_position) == (Answer.WAITLIST, 1)
    assert (third.answer, third.waitlist_position) == (Answer.WAITLIST, 2)
    dropped = await rsvp.answer_meeting(db, meeting.id, 1, Answer.NO, clock.now())
    assert dropped.promoted == [2]
    who = await rsvp.attendees(db, meeting.id)
    assert who[Answer.GOING] == [2]
    assert who[Answer.WAITLIST] == [3]
    promoted = [r for r in await outbox(db) if r["kind"] == "waitlist_promoted"]
    assert [(r["user_id"], r["state"]) for r in promoted] == [(2, "pending")]


async def test_a_waiting_member_who_clicks_going_again_keeps_their_place_in_the_queue(
    db: aiosqlite.Connection, clock: ManualClock
) -> None:
    group, meeting = await one_place_member_1_going_member_2_waiting(db, clock)
    await groups.join_group(db, group, 3, clock.now())
    third = await rsvp.answer_meeting(db, meeting.id, 3, Answer.GOING, clock.now())
    assert (third.answer, third.waitlist_position) == (Answer.WAITLIST, 2)
    clock.advance(timedelta(minutes=5))

    again = await rsvp.answer_meeting(db, meeting.id, 2, Answer.GOING, clock.now())
    assert (again.answer, again.changed, again.waitlist_position) == (Answer.WAITLIST, False, 1)
    assert (await rsvp.attendees(db, meeting.id))[Answer.WAITLIST] == [2, 3]
    # The place that frees up goes to member 2, who was waiting first, not to member 3.
    dropped = await rsvp.answer_meeting(db, meeting.id, 1, Answer.NO, clock.now())
    assert dropped.promoted == [2]
    who = await rsvp.attendees(db, meeting.id)
    assert (who[Answer.GOING], who[Answer.WAITLIST]) == ([2], [3])


async def test_concurrent_clicks_never_overfill_a_meeting(
    db: aiosqlite.Connection, clock: ManualClock
) -> None:
    group = await make_group(db, clock)
    change = await series.create_series(
        db, group, last_thursday(capacity=3), 9, clock.now(), POLICY
    )
    meeting = (await queries.series_meetings(db, change.series.id))[0]
    users = list(range(1, 21))
    for user in users:
        await groups.join_group(db, group, user, clock.now())
    results = await asyncio.gather(
        *(rsvp.answer_meeting(db, meeting.id, u, Answer.GOING, clock.now()) for u in users)
    )
    assert sum(r.answer is Answer.GOING for r in results) == 3
    assert (await rsvp.count_answers(db, meeting.id)).going == 3
    assert (await rsvp.count_answers(db, meeting.id)).waitlist == 17


async def test_cancelling_tells_those_who_answered_and_stops_the_announcement(
    db: aiosqlite.Connection, clock: ManualClock
) -> None:
    group = await make_group(db, clock)
    change = await series.create_series(db, group, last_thursday(), 9, clock.now(), POLICY)
    meeting = (await queries.series_meetings(db, change.series.id))[1]
    for user, answer in ((1, Answer.GOING), (2, Answer.MAYBE), (3, Answer.NO)):
        await groups.join_group(db, group, user, clock.now())
        await rsvp.answer_meeting(db, meeting.id, user, answer, clock.now())
    result = await changes.cancel_meeting(db, meeting, clock.now(), POLICY)
    assert result.after.cancelled
    rows = await outbox(db)
    announcement = next(r for r in rows if r["key"] == f"announce:{meeting.id}")
    assert announcement["state"] == "cancelled"
    told = sorted(r["user_id"] for r in rows if r["kind"] == "meeting_changed")
    assert told == [1, 2]
    with pytest.raises(Conflict, match="cancelled"):
        await rsvp.answer_meeting(db, meeting.id, 1, Answer.GOING, clock.now())
    with pytest.raises(Conflict, match="already cancelled"):
        await changes.cancel_meeting(db, result.after, clock.now(), POLICY)


async def test_moving_refuses_the_past_and_a_clash_with_another_meeting(
    db: aiosqlite.Connection, clock: ManualClock
) -> None:
    group = await make_group(db, clock)
    change = await series.create_series(db, group, last_thursday(), 9, clock.now(), POLICY)
    first, second = (await queries.series_meetings(db, change.series.id))[:2]
    with pytest.raises(HoldfastError, match="already passed"):
        await changes.move_meeting(
            db, second, clock.now() - timedelta(hours=1), None, clock.now(), POLICY
        )
    with pytest.raises(Conflict, match="overlap"):
        await changes.move_meeting(
            db, second, first.starts_at + timedelta(minutes=30), None, clock.now(), POLICY
        )
    moved = await changes.move_meeting(
        db, second, second.starts_at + timedelta(days=1), None, clock.now(), POLICY
    )
    assert moved.after.moved
    assert moved.after.starts_at == datetime(2026, 10, 30, 19, 30, tzinfo=UTC)


async def test_editing_a_series_moves_unchanged_meetings_and_keeps_moved_ones(
    db: aiosqlite.Connection, clock: ManualClock
) -> None:
    group = await make_group(db, clock)
    change = await series.create_series(db, group, last_thursday(), 9, clock.now(), POLICY)
    first, second, third = (await queries.series_meetings(db, change.series.id))[:3]
    await groups.join_group(db, group, 1, clock.now())
    await rsvp.answer_meeting(db, first.id, 1, Answer.GOING, clock.now())
    moved_to = second.starts_at + timedelta(days=1)
    await changes.move_meeting(db, second, moved_to, None, clock.now(), POLICY)
    current = await queries.get_series(db, change.series.id)
    edited = last_thursday()
    edited = SeriesDraft(
        edited.title,
        Rule.last_weekday(1),
        time(18, 0),
        90,
        edited.place,  # last Tuesday 18:00
    )
    result = await series.edit_series(db, current, edited, clock.now(), POLICY)
    after_first = await queries.get_meeting(db, first.id)
    assert after_first.starts_at == datetime(2026, 9, 29, 17, 0, tzinfo=UTC)
    assert first.id in result.retimed
    # The answer stays with "the next meeting".
    assert (await rsvp.attendees(db, first.id))[Answer.GOING] == [1]
    assert (await queries.get_meeting(db, second.id)).starts_at == moved_to
    assert (await queries.get_meeting(db, third.id)).starts_at.date().isoformat() == "2026-10-27"
    told = [r for r in await outbox(db) if r["kind"] == "meeting_changed"]
    assert [r["user_id"] for r in told] == [1]


async def test_raising_or_removing_the_limit_moves_those_waiting_up_in_order(
    db: aiosqlite.Connection, clock: ManualClock
) -> None:
    group, meeting = await one_place_member_1_going_member_2_waiting(db, clock)
    await groups.join_group(db, group, 3, clock.now())
    await rsvp.answer_meeting(db, meeting.id, 3, Answer.GOING, clock.now())
    current = await queries.get_series(db, meeting.series_id)
    await series.edit_series(db, current, last_thursday(capacity=2), clock.now(), POLICY)
    who = await rsvp.attendees(db, meeting.id)
    assert who[Answer.GOING] == [1, 2]
    assert who[Answer.WAITLIST] == [3]
    current = await queries.get_series(db, meeting.series_id)
    await series.edit_series(db, current, last_thursday(capacity=None), clock.now(), POLICY)
    assert (await rsvp.attendees(db, meeting.id))[Answer.GOING] == [1, 2, 3]
    promoted = [r for r in await outbox(db) if r["kind"] == "waitlist_promoted"]
    assert sorted(r["user_id"] for r in promoted) == [2, 3]
    # Their reminders are planned like everyone going.
    reminded = {r["user_id"] for r in await outbox(db) if r["kind"] == "reminder"}
    assert {2, 3} <= reminded


async def test_leaving_frees_a_place_for_the_waitlist(
    db: aiosqlite.Connection, clock: ManualClock
) -> None:
    group, meeting = await one_place_member_1_going_member_2_waiting(db, clock)
    left = await rsvp.leave_group(db, group, 1, clock.now())
    assert left.changed
    who = await rsvp.attendees(db, meeting.id)
    assert who[Answer.GOING] == [2]
    assert not await groups.is_member(db, group, 1)


async def test_ending_a_series_cancels_what_was_announced_and_drops_the_rest(
    db: aiosqlite.Connection, clock: ManualClock
) -> None:
    group = await make_group(db, clock)
    change = await series.create_series(db, group, last_thursday(), 9, clock.now(), POLICY)
    ended = await series.end_series(db, change.series, clock.now(), POLICY)
    assert ended.series.ended_at is not None
    assert await queries.upcoming_meetings(db, group.id, clock.now()) == []
    assert {r["state"] for r in await outbox(db)} == {"cancelled"}
    with pytest.raises(Conflict):
        await series.end_series(db, ended.series, clock.now(), POLICY)


async def test_a_confirm_button_clicked_twice_saves_one_series(
    db: aiosqlite.Connection, clock: ManualClock
) -> None:
    group = await make_group(db, clock)
    draft_id = await series.save_draft(db, group, last_thursday(), 9, clock.now())
    stored = await series.take_draft(db, draft_id)
    await series.create_series(db, group, stored.draft, 9, clock.now(), POLICY, draft_id)
    with pytest.raises(Conflict, match="already saved"):
        await series.create_series(db, group, stored.draft, 9, clock.now(), POLICY, draft_id)
    assert len(await queries.live_series(db, group.id)) == 1


async def test_a_new_channel_and_zone_carry_the_meetings_with_them(
    db: aiosqlite.Connection, clock: ManualClock
) -> None:
    group = await make_group(db, clock)
    change = await series.create_series(db, group, last_thursday(), 9, clock.now(), POLICY)
    first = (await queries.series_meetings(db, change.series.id))[0]
    await groups.join_group(db, group, 1, clock.now())
    await rsvp.answer_meeting(db, first.id, 1, Answer.GOING, clock.now())
    new_channel = 555555555555555555
    result = await series.change_group(
        db,
        group,
        GroupChange(announce_channel_id=new_channel, timezone="America/New_York"),
        clock.now(),
        POLICY,
    )
    assert result.group.timezone == "America/New_York"
    moved = await queries.get_meeting(db, first.id)
    # Still 19:30 on the last Thursday, now in New York (EDT, UTC-4, in September).
    assert moved.starts_at == datetime(2026, 9, 24, 23, 30, tzinfo=UTC)
    pending = [
        r for r in await outbox(db) if r["kind"] == "announcement" and r["state"] == "pending"
    ]
    assert pending
    assert {r["channel_id"] for r in pending} == {new_channel}
    told = [r["user_id"] for r in await outbox(db) if r["kind"] == "meeting_changed"]
    assert told == [1]


async def test_a_message_about_a_meeting_that_no_longer_exists_is_skipped_not_failed(
    db: aiosqlite.Connection, clock: ManualClock
) -> None:
    group = await make_group(db, clock)
    change = await series.create_series(db, group, last_thursday(), 9, clock.now(), POLICY)
    meeting = (await queries.series_meetings(db, change.series.id))[1]
    delivery = await outbox_rows.by_key(db, f"announce:{meeting.id}")
    assert delivery is not None
    async with transaction(db):
        await db.execute("DELETE FROM meetings WHERE id = :id", {"id": meeting.id})
    context = RenderContext(now=clock.now(), late=False)
    rendered = await cards.render_announcement(db, delivery, context)
    assert rendered == Skip("the meeting no longer exists")


async def test_deleting_my_data_frees_my_place_for_the_first_person_waiting(
    tmp_path: Path, db: aiosqlite.Connection, clock: ManualClock
) -> None:
    _, meeting = await one_place_member_1_going_member_2_waiting(db, clock)
    keys = (await load_note_keys(db, (), tmp_path / "holdfast.sqlite3", clock.now())).keys
    await mydata.delete_everything(db, keys, 1, clock.now())
    assert (await rsvp.attendees(db, meeting.id))[Answer.GOING] == [2]
    promoted = [r for r in await outbox(db) if r["kind"] == "waitlist_promoted"]
    assert [r["user_id"] for r in promoted] == [2]
    # The one who moved up is reminded like anyone going.
    reminded = {r["user_id"] for r in await outbox(db) if r["kind"] == "reminder"}
    assert 2 in reminded


async def test_deleting_my_data_asks_for_someone_to_hold_the_meeting_i_was_down_for(
    tmp_path: Path, db: aiosqlite.Connection, clock: ManualClock
) -> None:
    group = await make_group(db, clock)
    change = await series.create_series(db, group, last_thursday(), 9, clock.now(), POLICY)
    meeting = (await queries.series_meetings(db, change.series.id))[0]
    holder = Actor(7, role_ids=frozenset({group.facilitator_role_id}))
    await rota.assign(db, meeting.id, holder, 7, clock.now(), POLICY.reminders)
    await rota.confirm(db, meeting.id, 7, clock.now(), POLICY.reminders)

    def escalations(rows: list[aiosqlite.Row]) -> list[aiosqlite.Row]:
        return [
            r
            for r in rows
            if r["kind"] == "rota_escalation"
            and r["state"] == "pending"
            and r["channel_id"]
            and r["key"].startswith(f"rota-escalate:{meeting.id}:")
        ]

    assert escalations(await outbox(db)) == [], "confirmed: nobody needs asking"
    keys = (await load_note_keys(db, (), tmp_path / "holdfast.sqlite3", clock.now())).keys
    await mydata.delete_everything(db, keys, 7, clock.now())
    assert len(escalations(await outbox(db))) == 1


async def test_reminders_by_mention_follow_the_group_to_its_new_channel(
    db: aiosqlite.Connection, clock: ManualClock
) -> None:
    group = await make_group(db, clock)
    change = await series.create_series(db, group, last_thursday(), 9, clock.now(), POLICY)
    meeting = (await queries.series_meetings(db, change.series.id))[1]
    await groups.join_group(db, group, 1, clock.now())
    await update_prefs(db, 1, PrefsChange(via="channel"), clock.now(), POLICY.reminders)
    await rsvp.answer_meeting(db, meeting.id, 1, Answer.GOING, clock.now())

    def mention_channels(rows: list[aiosqlite.Row]) -> set[int]:
        return {
            r["channel_id"] for r in rows if r["kind"] == "reminder" and r["state"] == "pending"
        }

    assert mention_channels(await outbox(db)) == {CHANNEL}
    new_channel = 555555555555555555
    await series.change_group(
        db, group, GroupChange(announce_channel_id=new_channel), clock.now(), POLICY
    )
    assert mention_channels(await outbox(db)) == {new_channel}


@dataclass
class ChangeWhileSending(FakePort):
    """Discord takes a while over the announcement; a facilitator's change commits meanwhile,
    when there is nothing posted yet to edit."""

    during_send: Callable[[], Awaitable[None]] | None = None

    async def send(self, destination: Destination, message: OutgoingMessage, *, nonce: str) -> Sent:
        if self.during_send is not None:
            change, self.during_send = self.during_send, None
            await change()
        return await super().send(destination, message, nonce=nonce)


def shown(message: OutgoingMessage) -> str:
    return " ".join(f"{card.title} {card.description} {card.footer}" for card in message.cards)


@pytest.mark.parametrize("change", ["note", "cancel"])
async def test_a_change_made_while_the_announcement_is_on_its_way_still_reaches_it(
    db: aiosqlite.Connection, clock: ManualClock, change: str
) -> None:
    group = await make_group(db, clock)
    created = await series.create_series(db, group, last_thursday(), 9, clock.now(), POLICY)
    meeting = (await queries.series_meetings(db, created.series.id))[0]
    port = ChangeWhileSending()
    missed: list[bool] = []

    async def facilitator_changes_it() -> None:
        if change == "note":
            await changes.set_note(
                db, meeting, "Guest: a post-adoption worker", clock.now(), POLICY
            )
        else:
            await changes.cancel_meeting(db, meeting, clock.now(), POLICY)
        missed.append(not await announcements.refresh_announcement(db, port, meeting.id))

    port.during_send = facilitator_changes_it
    dispatcher = Dispatcher(
        db,
        port,
        clock,
        {"announcement": cards.render_announcement},
        current=cards.CURRENT,
    )
    assert await dispatcher.run_due() >= 1
    assert missed == [True], "nothing was posted yet when the change asked for an edit"
    marker = (await announced(db, meeting)).marker
    posted = next(m for m in port.messages if m.message.carries_marker(marker))
    if change == "note":
        assert "post-adoption worker" in shown(posted.message)
    else:
        assert all(button.disabled for button in posted.message.buttons)


async def test_an_announcement_sent_unchanged_is_not_edited(
    db: aiosqlite.Connection, clock: ManualClock
) -> None:
    group = await make_group(db, clock)
    await series.create_series(db, group, last_thursday(), 9, clock.now(), POLICY)
    port = EditCounting()
    dispatcher = Dispatcher(
        db, port, clock, {"announcement": cards.render_announcement}, current=cards.CURRENT
    )
    assert await dispatcher.run_due() == 1
    assert port.edits == 0


@dataclass
class EditCounting(FakePort):
    edits: int = 0

    async def edit(self, channel_id: int, message_id: int, message: OutgoingMessage) -> None:
        self.edits += 1
        await super().edit(channel_id, message_id, message)


async def announced(db: aiosqlite.Connection, meeting: Meeting) -> outbox_rows.Delivery:
    found = await outbox_rows.by_key(db, f"announce:{meeting.id}")
    assert found is not None
    return found


async def trips_to_answer(
    db: aiosqlite.Connection, clock: ManualClock, members: int, guild_id: int
) -> int:
    """How many trips to the database's thread one member's answer takes (a group of
    `members`, a series planned, everyone else already answered)."""
    group = await groups.create_group(
        db, guild_id, GroupSettings("North", CHANNEL, ROLE, None, "Europe/London"), clock.now()
    )
    change = await series.create_series(db, group, last_thursday(), 9, clock.now(), POLICY)
    meeting = (await queries.series_meetings(db, change.series.id))[0]
    for user in range(1, members + 1):
        await groups.join_group(db, group, guild_id + user, clock.now(), POLICY)
    for user in range(2, members + 1):
        await rsvp.answer_meeting(db, meeting.id, guild_id + user, Answer.MAYBE, clock.now())
    trips = 0
    real = db._execute  # type: ignore[attr-defined]

    async def counted(*args: object, **kwargs: object) -> object:
        nonlocal trips
        trips += 1
        return await real(*args, **kwargs)

    db._execute = counted  # type: ignore[attr-defined]
    try:
        result = await rsvp.answer_meeting(
            db, meeting.id, guild_id + 1, Answer.GOING, clock.now(), POLICY
        )
    finally:
        del db._execute  # type: ignore[attr-defined]
    assert result.changed
    assert (result.counts.going, result.counts.maybe) == (1, members - 1)
    return trips


async def test_one_answer_takes_a_few_trips_to_the_database_whatever_the_groups_size(
    db: aiosqlite.Connection, clock: ManualClock
) -> None:
    # Each statement is a trip to the connection's thread and back (about 0.1 ms): most of what
    # a click costs. Reads that need only the meeting go together, and so do the writes a plan
    # decided, so an answer takes the same few trips in a group of 3 as in one of 40.
    small = await trips_to_answer(db, clock, 3, 1_000)
    large = await trips_to_answer(db, clock, 40, 2_000)
    assert small == large
    assert large <= 10


async def plan_of(db: aiosqlite.Connection, sql: str, params: dict[str, object]) -> list[str]:
    async with db.execute(f"EXPLAIN QUERY PLAN {sql}", params) as cursor:
        return [str(row[3]) for row in await cursor.fetchall()]


async def test_an_answers_reads_look_up_by_index_and_never_sort_the_group(
    db: aiosqlite.Connection,
) -> None:
    # After every answer the meeting's answers are counted, and the member's facts are read:
    # an index answers the first alone (0013), and the second looks the member up by id
    # rather than walking the whole group in joining order.
    counting = await plan_of(db, rsvp.COUNT_ANSWERS, {"meeting_id": 1})
    assert counting == ["SEARCH rsvps USING COVERING INDEX rsvps_meeting_answer (meeting_id=?)"]
    members = await plan_of(db, groups.SELECT_MEMBER_IDS, {"group_id": 1})
    assert members == [
        "SEARCH group_members USING COVERING INDEX group_members_joined (group_id=?)"
    ]
    some = await plan_of(
        db, reminders_plan.SELECT_SOME_RECIPIENTS, {"meeting_id": 1, "user_ids": "[1]"}
    )
    assert some[0] == "SEARCH gm USING INDEX group_members_user (user_id=?)"
