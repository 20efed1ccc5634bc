"""Clicks, reads and a big fan-out at the same moment, on the bot's two connections: nobody ever
gets "database is locked".

A read left open on a connection while another handler's `BEGIN IMMEDIATE` runs on it makes
SQLite answer busy at once (the read's snapshot is stale once the dispatcher's connection has
committed, and the busy timeout does not apply to that upgrade). Real SQLite files, the real
migrations, the real domain functions and the real dispatcher; only Discord is a fake.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from pathlib import Path

import aiosqlite
import pytest
import pytest_asyncio

from bot.clock import ManualClock
from bot.db import open_database, transaction
from bot.delivery import outbox
from bot.delivery.dispatcher import Dispatcher, RenderContext, Skip
from bot.delivery.dm_channels import DmChannels
from bot.delivery.outbox import Delivery, PlannedDelivery
from bot.delivery.port import Button, Destination, OutgoingMessage, Sent
from bot.groups import service as groups
from bot.groups.model import GroupSettings
from bot.meetings import queries, rsvp, series
from bot.meetings.model import Answer, Meeting, Place, PlaceKind, SeriesDraft
from bot.meetings.recurrence import Rule
from bot.migrate import migrate
from bot.planning import Policy
from tests.test_outbox import FakePort

GUILD = 111111111111111111
CHANNEL = 222222222222222222
ROLE = 333333333333333333
VOICE = 444444444444444444
POLICY = Policy(announce_lead=timedelta(days=14))
FAN_OUT = 500
CLICKS = 200  # and as many `/meeting list` reads

INSERT_MEMBERS = """
INSERT INTO group_members (group_id, user_id, joined_at)
VALUES (:group_id, :user_id, :now)
"""


@dataclass
class BusyDiscord(FakePort):
    """Discord as the fan-out sees it; while it sends, members keep clicking and listing: every
    few sends, one more click and one more `/meeting list` start (as handlers, in tasks)."""

    on_send: Callable[[int], None] = lambda sent: None
    dm_channels: DmChannels | None = None

    async def send(self, destination: Destination, message: OutgoingMessage, *, nonce: str) -> Sent:
        self.on_send(len(self.send_calls))
        await asyncio.sleep(0)  # a request takes at least a turn of the event loop
        user_id = destination.user_id
        # As DiscordPyPort: a member's first DM opens the channel and stores its id.
        dms = self.dm_channels
        if dms is not None and user_id is not None and await dms.get(user_id) is None:
            await dms.put(user_id, self.channel_of(destination))
        return await super().send(destination, message, nonce=nonce)


async def reminder(
    conn: aiosqlite.Connection, delivery: Delivery, context: RenderContext
) -> OutgoingMessage | Skip:
    return OutgoingMessage(
        content="The meeting is soon",
        buttons=(Button("Going", f"rsvp:{delivery.subject_id}:going:{delivery.marker}"),),
    )


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(datetime(2026, 9, 20, 12, 0, tzinfo=UTC))


@pytest_asyncio.fixture
async def connections(
    tmp_path: Path, clock: ManualClock
) -> AsyncIterator[tuple[aiosqlite.Connection, aiosqlite.Connection]]:
    path = tmp_path / "holdfast.sqlite3"
    await migrate(path, clock.now())
    # As bot/app.py: one connection shared by every handler, one for the dispatcher.
    shared = await open_database(path)
    delivery = await open_database(path)
    try:
        yield shared, delivery
    finally:
        await delivery.close()
        await shared.close()


COUNT_STATE = "SELECT COUNT(*) FROM bot_state"
INSERT_STATE = "INSERT INTO bot_state (key, value, updated_at) VALUES (:key, '1', '')"


async def test_a_read_still_open_never_makes_another_handlers_transaction_fail(
    connections: tuple[aiosqlite.Connection, aiosqlite.Connection],
) -> None:
    shared, other = connections
    await other.execute(INSERT_STATE, {"key": "before"})
    reading = asyncio.Event()
    go_on = asyncio.Event()

    async def slow_reader() -> int:
        async with shared.execute(COUNT_STATE) as cursor:
            reading.set()
            await go_on.wait()  # e.g. the handler awaits Discord before fetching its row
            row = await cursor.fetchone()
        assert row is not None
        return int(row[0])

    async def writer() -> None:
        async with transaction(shared):
            await shared.execute(INSERT_STATE, {"key": "click"})

    reader = asyncio.create_task(slow_reader())
    await reading.wait()
    await other.execute(INSERT_STATE, {"key": "delivery"})  # the dispatcher commits meanwhile
    await writer()  # would fail with "database is locked" beside an open stale read
    go_on.set()
    assert await reader == 1


async def test_a_read_never_sees_another_handlers_transaction_that_is_rolled_back(
    connections: tuple[aiosqlite.Connection, aiosqlite.Connection],
) -> None:
    shared, _ = connections
    inserted = asyncio.Event()
    roll_back = asyncio.Event()

    async def failing_handler() -> None:
        async with transaction(shared):
            await shared.execute(INSERT_STATE, {"key": "half-done"})
            inserted.set()
            await roll_back.wait()
            raise RuntimeError("the handler fails after its first write")

    async def count() -> int:
        async with shared.execute(COUNT_STATE) as cursor:
            row = await cursor.fetchone()
        assert row is not None
        return int(row[0])

    handler = asyncio.create_task(failing_handler())
    await inserted.wait()
    reader = asyncio.create_task(count())  # another member's read arrives mid-transaction
    roll_back.set()
    with pytest.raises(RuntimeError):
        await handler
    assert await reader == 0


async def test_clicks_and_reads_during_a_500_member_fan_out_never_fail(
    connections: tuple[aiosqlite.Connection, aiosqlite.Connection], clock: ManualClock
) -> None:
    shared, delivery_conn = connections
    now = clock.now()
    group = await groups.create_group(
        shared, GUILD, GroupSettings("North", CHANNEL, ROLE, None, "Europe/London"), now
    )
    draft = SeriesDraft(
        title="Monthly meet-up",
        rule=Rule.last_weekday(3),
        local_time=time(19, 30),
        duration_minutes=90,
        place=Place.channel(PlaceKind.VOICE, VOICE),
    )
    # No announcements: only the fan-out is due now.
    change = await series.create_series(
        shared, group, draft, 3, now, Policy(announce_lead=timedelta(0))
    )
    meeting = (await queries.series_meetings(shared, change.series.id))[0]
    everyone = range(1, FAN_OUT + 1)
    fan_out = [
        PlannedDelivery(
            key=f"stress:{user}",
            scope="stress",
            kind="stress",
            destination=Destination(user_id=user),
            due_at=now,
            not_after=now + timedelta(hours=1),
            guild_id=GUILD,
            subject_id=meeting.id,
        )
        for user in everyone
    ]
    async with transaction(shared):
        await shared.executemany(
            INSERT_MEMBERS,
            [{"group_id": group.id, "user_id": u, "now": now.isoformat()} for u in everyone],
        )
        await outbox.replan(shared, "stress", fan_out, now)

    answers = [Answer.GOING, Answer.MAYBE, Answer.NO]
    members: list[asyncio.Task[tuple[rsvp.RsvpResult, list[Meeting]]]] = []

    async def click_then_list(user: int) -> tuple[rsvp.RsvpResult, list[Meeting]]:
        # A click's handler reads again straight after its transaction (cogs/meetings.py looks
        # up whether the click came from the announcement); here the read is `/meeting list`.
        answered = await rsvp.answer_meeting(
            shared, meeting.id, user, answers[user % 3], clock.now(), POLICY
        )
        return answered, await queries.upcoming_meetings(shared, group.id, clock.now())

    def members_act(sent: int) -> None:
        # 200 members act while the first 400 of the 500 messages go out.
        if sent % 2 == 0 and len(members) < CLICKS:
            members.append(asyncio.create_task(click_then_list(len(members) + 1)))

    # The delivery port's DM channels live on the dispatcher's connection, as in bot/app.py.
    port = BusyDiscord(on_send=members_act, dm_channels=DmChannels(delivery_conn, clock.now))
    dispatcher = Dispatcher(delivery_conn, port, clock, {"stress": reminder})
    sent = await dispatcher.run_due()
    outcomes = await asyncio.gather(*members, return_exceptions=True)

    failures = [repr(o) for o in outcomes if isinstance(o, BaseException)]
    assert failures == []
    assert len(outcomes) == CLICKS
    assert sent == FAN_OUT
    assert len(port.messages) == FAN_OUT
    counts = await rsvp.count_answers(shared, meeting.id)
    # Users 1..200: a third each (user % 3 == 0 Going, 1 Maybe, 2 Can't make it).
    assert (counts.going, counts.maybe, counts.no) == (66, 67, 67)
    expected = [m.id for m in await queries.upcoming_meetings(shared, group.id, clock.now())]
    assert expected
    assert all([m.id for m in listed] == expected for _, listed in outcomes)  # type: ignore[misc]
