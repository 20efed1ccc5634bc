"""The outbox and its dispatcher on a real SQLite file with the real migrations, a fake Discord
port with real shapes, and a ManualClock."""

from __future__ import annotations

import asyncio
import itertools
import logging
import sqlite3
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import aiosqlite
import pytest
from apscheduler.schedulers.asyncio import AsyncIOScheduler

from bot.clock import ManualClock
from bot.db import disk_full, open_database, transaction
from bot.delivery import outbox
from bot.delivery.alarm import ALARM_JOB, SWEEP_JOB, Alarm
from bot.delivery.dispatcher import (
    LOOK_AGAIN_FOR,
    Backoff,
    Dispatcher,
    RecoveryResult,
    RenderContext,
    Renderer,
    Skip,
)
from bot.delivery.outbox import Delivery, PlannedDelivery, ReplanResult
from bot.delivery.port import (
    CANNOT_DM,
    Button,
    DeliveryFailed,
    Destination,
    OutgoingMessage,
    Sent,
)
from bot.migrate import migrate

T0 = datetime(2026, 11, 25, 9, 0, tzinfo=UTC)
CHANNEL = 700
GUILD = 900


class Crash(BaseException):
    """The process dies mid-send (like SIGKILL): nothing after the await runs."""


CREATE_THEN_FAIL = "create then fail"
CREATE_THEN_CRASH = "create then crash"
CRASH_BEFORE = "crash before"


@dataclass
class FakeMessage:
    id: int
    channel_id: int
    message: OutgoingMessage
    nonce: str


@dataclass
class FakePort:
    """Discord as the dispatcher sees it: channels of messages, DMs, enforce_nonce dedupe."""

    closed_dms: set[int] = field(default_factory=set)
    plan: list[DeliveryFailed | str] = field(default_factory=list)
    """What the next send calls do (consumed in order); empty: succeed."""
    messages: list[FakeMessage] = field(default_factory=list)
    send_calls: list[tuple[Destination, str]] = field(default_factory=list)
    lookups: list[tuple[Destination, str]] = field(default_factory=list)
    lookup_failure: DeliveryFailed | None = None
    _ids: itertools.count[int] = field(default_factory=lambda: itertools.count(5000))

    def channel_of(self, destination: Destination) -> int:
        if destination.user_id is not None:
            return 100_000 + destination.user_id
        assert destination.channel_id is not None
        return destination.channel_id

    def in_channel(self, channel_id: int) -> list[FakeMessage]:
        return [m for m in self.messages if m.channel_id == channel_id]

    def _create(self, channel_id: int, message: OutgoingMessage, nonce: str) -> Sent:
        for existing in self.in_channel(channel_id):
            if existing.nonce == nonce:  # enforce_nonce: the first message comes back
                return Sent(channel_id, existing.id)
        created = FakeMessage(next(self._ids), channel_id, message, nonce)
        self.messages.append(created)
        return Sent(channel_id, created.id)

    async def send(self, destination: Destination, message: OutgoingMessage, *, nonce: str) -> Sent:
        self.send_calls.append((destination, nonce))
        if destination.user_id in self.closed_dms:
            raise DeliveryFailed("cannot DM", permanent=True, code=CANNOT_DM, status=403)
        channel_id = self.channel_of(destination)
        step = self.plan.pop(0) if self.plan else None
        if isinstance(step, DeliveryFailed):
            raise step
        if step == CRASH_BEFORE:
            raise Crash
        sent = self._create(channel_id, message, nonce)
        if step == CREATE_THEN_FAIL:
            raise DeliveryFailed("Discord 500 (None)", permanent=False, status=500)
        if step == CREATE_THEN_CRASH:
            raise Crash
        return sent

    async def edit(self, channel_id: int, message_id: int, message: OutgoingMessage) -> None:
        for index, found in enumerate(self.messages):
            if found.id == message_id and found.channel_id == channel_id:
                self.messages[index] = FakeMessage(found.id, channel_id, message, found.nonce)
                return
        raise DeliveryFailed("Discord 404 (10008)", permanent=True, code=10008, status=404)

    async def find_marker(
        self, destination: Destination, marker: str, *, limit: int = 50
    ) -> Sent | None:
        self.lookups.append((destination, marker))
        if self.lookup_failure is not None:
            raise self.lookup_failure
        channel_id = self.channel_of(destination)
        for found in reversed(self.in_channel(channel_id)[-limit:]):
            if found.message.carries_marker(marker):
                return Sent(channel_id, found.id)
        return None


def transient() -> DeliveryFailed:
    return DeliveryFailed("Discord 503", permanent=False, status=503)


@dataclass
class Renderers:
    contexts: list[tuple[int, RenderContext]] = field(default_factory=list)

    async def reminder(
        self, conn: aiosqlite.Connection, delivery: Delivery, context: RenderContext
    ) -> OutgoingMessage | Skip:
        self.contexts.append((delivery.id, context))
        late = " (sorry, this is late)" if context.late else ""
        return OutgoingMessage(
            content=f"Meeting {delivery.subject_id} soon{late}",
            buttons=(Button("Going", f"rsvp:{delivery.subject_id}:going:{delivery.marker}"),),
        )

    async def skipper(
        self, conn: aiosqlite.Connection, delivery: Delivery, context: RenderContext
    ) -> OutgoingMessage | Skip:
        return Skip("member already answered")

    async def unmarked(
        self, conn: aiosqlite.Connection, delivery: Delivery, context: RenderContext
    ) -> OutgoingMessage | Skip:
        # "d1" as a substring of "d12" must not count: the marker is a whole segment.
        return OutgoingMessage(content="hi", buttons=(Button("Go", f"x:{delivery.marker}2"),))

    async def broken(
        self, conn: aiosqlite.Connection, delivery: Delivery, context: RenderContext
    ) -> OutgoingMessage | Skip:
        raise KeyError("a bug")

    def table(self) -> dict[str, Renderer]:
        return {
            "reminder": self.reminder,
            "skipper": self.skipper,
            "unmarked": self.unmarked,
            "broken": self.broken,
        }


@pytest.fixture
async def conn(tmp_path: Path) -> AsyncIterator[aiosqlite.Connection]:
    path = tmp_path / "holdfast.sqlite3"
    await migrate(path, T0)
    connection = await open_database(path)
    try:
        yield connection
    finally:
        await connection.close()


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(T0)


@pytest.fixture
def port() -> FakePort:
    return FakePort()


@pytest.fixture
def renderers() -> Renderers:
    return Renderers()


@pytest.fixture
def dispatcher(
    conn: aiosqlite.Connection, port: FakePort, clock: ManualClock, renderers: Renderers
) -> Dispatcher:
    return Dispatcher(conn, port, clock, renderers.table(), spread=lambda: 0.0)


def planned(
    key: str,
    *,
    scope: str = "meeting:1",
    kind: str = "reminder",
    due: timedelta = timedelta(0),
    window: timedelta = timedelta(hours=1),
    channel: int | None = CHANNEL,
    user: int | None = None,
    subject: int | None = 1,
) -> PlannedDelivery:
    destination = Destination(user_id=user) if user is not None else Destination(channel_id=channel)
    return PlannedDelivery(
        key=key,
        scope=scope,
        kind=kind,
        destination=destination,
        due_at=T0 + due,
        not_after=T0 + due + window,
        guild_id=GUILD,
        subject_id=subject,
    )


async def plan(
    conn: aiosqlite.Connection, scope: str, desired: list[PlannedDelivery], now: datetime = T0
) -> ReplanResult:
    async with transaction(conn):
        return await outbox.replan(conn, scope, desired, now)


async def row(conn: aiosqlite.Connection, key: str) -> Delivery:
    found = await outbox.by_key(conn, key)
    assert found is not None, key
    return found


async def states(conn: aiosqlite.Connection) -> dict[str, str]:
    async with conn.execute("SELECT idempotency_key, state FROM outbox ORDER BY id") as cursor:
        return {str(k): str(s) for k, s in await cursor.fetchall()}


# --- planning ----------------------------------------------------------------------------------


async def test_replan_inserts_then_is_idempotent(conn: aiosqlite.Connection) -> None:
    desired = [planned("a"), planned("b", due=timedelta(hours=1))]
    assert await plan(conn, "meeting:1", desired) == ReplanResult(inserted=2)
    assert await plan(conn, "meeting:1", desired) == ReplanResult(unchanged=2)
    assert await states(conn) == {"a": "pending", "b": "pending"}
    assert await outbox.next_due(conn) == T0


async def test_pending_lists_what_is_still_to_send_soonest_first(
    conn: aiosqlite.Connection, dispatcher: Dispatcher
) -> None:
    later, soon = planned("later", due=timedelta(hours=3)), planned("soon")
    await plan(conn, "meeting:1", [later, soon, planned("dropped", due=timedelta(hours=1))])
    await plan(conn, "meeting:1", [later, soon])
    assert [d.key for d in await outbox.pending(conn)] == ["soon", "later"]
    assert await dispatcher.run_due() == 1
    assert [d.key for d in await outbox.pending(conn)] == ["later"]
    assert [d.key for d in await outbox.pending(conn, limit=0)] == []


async def test_replan_updates_changed_pending_rows_and_cancels_dropped_ones(
    conn: aiosqlite.Connection,
) -> None:
    await plan(conn, "meeting:1", [planned("a"), planned("b"), planned("c")])
    moved = planned("a", due=timedelta(days=1))
    elsewhere = planned("b", channel=None, user=42)
    result = await plan(conn, "meeting:1", [moved, elsewhere, planned("c")])
    assert result == ReplanResult(updated=2, unchanged=1)
    a = await row(conn, "a")
    assert (a.due_at, a.next_attempt_at, a.not_after) == (
        T0 + timedelta(days=1),
        T0 + timedelta(days=1),
        T0 + timedelta(days=1, hours=1),
    )
    assert (await row(conn, "b")).destination == Destination(user_id=42)

    assert await plan(conn, "meeting:1", [moved]) == ReplanResult(cancelled=2, unchanged=1)
    assert await states(conn) == {"a": "pending", "b": "cancelled", "c": "cancelled"}
    # Wanted again (the meeting is back on): the same row returns to pending.
    assert await plan(conn, "meeting:1", [moved, planned("c")]) == ReplanResult(
        revived=1, unchanged=1
    )
    assert (await row(conn, "c")).state == "pending"


async def test_a_dropped_row_never_attempted_becomes_the_new_key_of_its_kind_and_destination(
    conn: aiosqlite.Connection, clock: ManualClock, renderers: Renderers
) -> None:
    """A moved meeting's reminders change key with their time: the rows are rewritten in place
    (one write each, and the table does not grow by a row per move), never across kinds or
    people, and never a row that may be in Discord already."""
    before = [
        planned("remind:1d:a", user=7, due=timedelta(days=1)),
        planned("remind:2h:a", user=7, due=timedelta(hours=2)),
        planned("remind:1d:b", user=8),
        planned("notice:a", kind="notice", user=7, due=timedelta(hours=1)),
    ]
    await plan(conn, "meeting:1", before)
    ids = {p.key: (await row(conn, p.key)).id for p in before}
    # Member 8's row is attempted and the answer lost: it may be in Discord.
    port = NonceWindowOver()
    port.plan = [CREATE_THEN_FAIL]
    dispatcher = Dispatcher(conn, port, clock, renderers.table(), spread=lambda: 0.0)
    assert await dispatcher.run_due() == 0
    assert (await row(conn, "remind:1d:b")).attempts == 1
    moved = [
        planned("remind:1d:a2", user=7, due=timedelta(days=2)),
        planned("remind:2h:a2", user=7, due=timedelta(days=2, hours=22)),
        planned("remind:1d:b2", user=8, due=timedelta(days=2)),
        planned("ask:a", kind="question", user=7),
        planned("remind:1d:c", user=9, due=timedelta(days=2)),
    ]
    result = await plan(conn, "meeting:1", moved, clock.now())
    assert result == ReplanResult(inserted=5, cancelled=4)
    a1, a2 = await row(conn, "remind:1d:a2"), await row(conn, "remind:2h:a2")
    assert {a1.id, a2.id} == {ids["remind:1d:a"], ids["remind:2h:a"]}
    assert (a2.due_at, a2.next_attempt_at, a2.not_after) == (
        T0 + timedelta(days=2, hours=22),
        T0 + timedelta(days=2, hours=22),
        T0 + timedelta(days=2, hours=23),
    )
    assert (a2.state, a2.attempts, a2.nonce, a2.destination) == (
        "pending",
        0,
        None,
        Destination(user_id=7),
    )
    # Another kind, another person, a row already attempted: new rows beside the old.
    for key in ("ask:a", "remind:1d:b2", "remind:1d:c"):
        assert (await row(conn, key)).id not in ids.values()
    assert await states(conn) == {
        "remind:1d:a2": "pending",
        "remind:2h:a2": "pending",
        "remind:1d:b": "pending",  # retired: the dispatcher looks for it before giving it up
        "notice:a": "cancelled",
        "ask:a": "pending",
        "remind:1d:b2": "pending",
        "remind:1d:c": "pending",
    }
    # Moved back: member 7's reminders return the same way, the notice is revived, the row
    # that may be in Discord stays as it is, and the rest are cancelled.
    assert await plan(conn, "meeting:1", before, clock.now()) == ReplanResult(
        inserted=2, cancelled=5, revived=1, kept=1
    )
    back = {(await row(conn, k)).id for k in ("remind:1d:a", "remind:2h:a")}
    assert back == {ids["remind:1d:a"], ids["remind:2h:a"]}
    assert [d.key for d in await outbox.pending(conn)] == [
        "remind:1d:b",
        "notice:a",
        "remind:2h:a",
        "remind:1d:a",
    ]


async def test_replan_only_touches_its_own_scope(conn: aiosqlite.Connection) -> None:
    await plan(conn, "meeting:1", [planned("a")])
    await plan(conn, "meeting:2", [planned("x", scope="meeting:2")])
    assert await plan(conn, "meeting:1", []) == ReplanResult(cancelled=1)
    assert await states(conn) == {"a": "cancelled", "x": "pending"}
    with pytest.raises(ValueError, match="already in 'meeting:1'"):
        await plan(conn, "meeting:2", [planned("a", scope="meeting:2")])
    with pytest.raises(ValueError, match="belongs to"):
        await plan(conn, "meeting:2", [planned("y")])
    with pytest.raises(ValueError, match="twice"):
        await plan(conn, "meeting:1", [planned("a"), planned("a")])


async def test_a_sent_row_is_never_touched_or_planned_again(
    conn: aiosqlite.Connection, dispatcher: Dispatcher, port: FakePort
) -> None:
    await plan(conn, "meeting:1", [planned("a"), planned("b", due=timedelta(hours=2))])
    assert await dispatcher.run_due() == 1
    sent = await row(conn, "a")
    assert sent.state == "sent"

    # Moved, then dropped, then planned again: the sent row stays exactly as it was.
    assert await plan(conn, "meeting:1", [planned("a", due=timedelta(hours=3))]) == ReplanResult(
        cancelled=1, kept=1
    )
    assert await plan(conn, "meeting:1", []) == ReplanResult()
    assert await plan(conn, "meeting:1", [planned("a")]) == ReplanResult(kept=1)
    assert await row(conn, "a") == sent
    assert await dispatcher.run_due() == 0
    assert len(port.messages) == 1


async def test_planning_belongs_to_the_callers_transaction(conn: aiosqlite.Connection) -> None:
    with pytest.raises(RuntimeError, match="caller's transaction"):
        await outbox.replan(conn, "meeting:1", [planned("a")], T0)
    with pytest.raises(RuntimeError, match="caller's transaction"):
        await outbox.enqueue(conn, planned("a"), T0)

    async def change_that_fails() -> None:
        async with transaction(conn):
            await outbox.replan(conn, "meeting:1", [planned("a")], T0)
            raise LookupError("the meeting change failed")

    # Rolled back with the caller's change: nothing planned.
    with pytest.raises(LookupError):
        await change_that_fails()
    assert await states(conn) == {}


async def test_enqueue_is_idempotent(conn: aiosqlite.Connection) -> None:
    async with transaction(conn):
        first = await outbox.enqueue(conn, planned("a"), T0)
        again = await outbox.enqueue(conn, planned("a", due=timedelta(hours=5)), T0)
    assert first == again
    assert (await row(conn, "a")).due_at == T0
    assert await outbox.counts(conn) == {
        "pending": 1,
        "sending": 0,
        "sent": 0,
        "skipped": 0,
        "failed": 0,
        "cancelled": 0,
    }


def test_planned_times_are_checked() -> None:
    with pytest.raises(ValueError, match="not_after is before due_at"):
        planned("a", window=-timedelta(minutes=1))
    with pytest.raises(ValueError, match="timezone-aware"):
        PlannedDelivery(
            "k", "s", "reminder", Destination(channel_id=1), T0.replace(tzinfo=None), T0
        )
    with pytest.raises(ValueError, match="exactly one"):
        Destination(channel_id=1, user_id=2)


# --- sending -------------------------------------------------------------------------------------


async def test_due_rows_are_sent_in_due_order_with_their_marker(
    conn: aiosqlite.Connection, dispatcher: Dispatcher, port: FakePort, clock: ManualClock
) -> None:
    await plan(
        conn,
        "meeting:1",
        [
            planned("later", due=timedelta(minutes=30)),
            planned("dm", due=timedelta(minutes=-1), channel=None, user=42),
            planned("now"),
        ],
    )
    assert await dispatcher.run_due() == 2
    dm, now = await row(conn, "dm"), await row(conn, "now")
    assert [d for d, _ in port.send_calls] == [dm.destination, now.destination]
    assert [m.message.buttons[0].custom_id for m in port.messages] == [
        f"rsvp:1:going:{dm.marker}",
        f"rsvp:1:going:{now.marker}",
    ]
    assert dm.sent == Sent(100_042, port.messages[0].id)
    assert (dm.state, dm.attempts, now.state) == ("sent", 1, "sent")
    assert await outbox.sent_message(conn, "now") == now.sent
    assert await outbox.sent_message(conn, "later") is None
    assert await outbox.next_due(conn) == T0 + timedelta(minutes=30)

    clock.advance(timedelta(minutes=30))
    assert await dispatcher.run_due() == 1
    assert await outbox.next_due(conn) is None
    assert await dispatcher.run_due() == 0
    assert len(port.messages) == 3


async def test_late_but_useful_is_sent_and_marked_late_too_late_is_skipped(
    conn: aiosqlite.Connection,
    dispatcher: Dispatcher,
    port: FakePort,
    clock: ManualClock,
    renderers: Renderers,
) -> None:
    await plan(
        conn,
        "meeting:1",
        [
            planned("on-time", due=timedelta(minutes=-1)),
            planned("late", due=timedelta(minutes=-3)),
            # "Meeting in 1 hour", and the meeting started a minute ago: never sent.
            planned("too-late", due=timedelta(hours=-1, minutes=-1), window=timedelta(hours=1)),
        ],
    )
    assert await dispatcher.run_due() == 2
    assert await states(conn) == {"on-time": "sent", "late": "sent", "too-late": "skipped"}
    assert (await row(conn, "too-late")).last_error == "too late"
    late_flags = {id_: c.late for id_, c in renderers.contexts}
    assert late_flags == {
        (await row(conn, "late")).id: True,
        (await row(conn, "on-time")).id: False,
    }
    assert len(port.send_calls) == 2


async def test_transient_errors_retry_with_backoff_and_the_same_nonce(
    conn: aiosqlite.Connection, dispatcher: Dispatcher, port: FakePort, clock: ManualClock
) -> None:
    await plan(conn, "meeting:1", [planned("a")])
    port.plan = [transient(), transient(), transient()]
    for wait in (5, 10, 20):
        assert await dispatcher.run_due() == 0
        pending = await row(conn, "a")
        assert pending.state == "pending"
        assert pending.last_error == "Discord 503"
        assert pending.next_attempt_at == clock.now() + timedelta(seconds=wait)
        assert await outbox.next_due(conn) == pending.next_attempt_at
        clock.advance(timedelta(seconds=wait - 1))
        assert await dispatcher.run_due() == 0, "not before the backoff is over"
        clock.advance(timedelta(seconds=1))
    assert await dispatcher.run_due() == 1
    done = await row(conn, "a")
    assert (done.state, done.attempts) == ("sent", 4)
    assert {nonce for _, nonce in port.send_calls} == {done.nonce}
    assert len(port.send_calls) == 4
    assert len(port.messages) == 1


async def test_processed_then_error_is_one_message_thanks_to_the_nonce(
    conn: aiosqlite.Connection, dispatcher: Dispatcher, port: FakePort, clock: ManualClock
) -> None:
    await plan(conn, "meeting:1", [planned("a")])
    port.plan = [CREATE_THEN_FAIL]
    assert await dispatcher.run_due() == 0
    clock.advance(timedelta(seconds=5))
    assert await dispatcher.run_due() == 1
    assert len(port.messages) == 1
    assert (await row(conn, "a")).sent == Sent(CHANNEL, port.messages[0].id)


@dataclass
class NonceWindowOver(FakePort):
    """Discord after its nonce window ("a few minutes"): the same nonce makes a new message."""

    def _create(self, channel_id: int, message: OutgoingMessage, nonce: str) -> Sent:
        created = FakeMessage(next(self._ids), channel_id, message, nonce)
        self.messages.append(created)
        return Sent(channel_id, created.id)


async def test_processed_then_error_then_down_past_the_nonce_window_is_still_one_message(
    conn: aiosqlite.Connection, clock: ManualClock, renderers: Renderers
) -> None:
    # Found by the simulation (tests/sim, seed 1): a 5xx after Discord took the message, then
    # the bot was down longer than the nonce window; the retry posted it a second time.
    port = NonceWindowOver()
    dispatcher = Dispatcher(conn, port, clock, renderers.table(), spread=lambda: 0.0)
    await plan(conn, "meeting:1", [planned("a")])
    port.plan = [CREATE_THEN_FAIL]
    assert await dispatcher.run_due() == 0
    clock.advance(timedelta(minutes=30))
    assert await dispatcher.run_due() == 1
    assert len(port.messages) == 1
    assert (await row(conn, "a")).sent == Sent(CHANNEL, port.messages[0].id)
    assert port.lookups == [(Destination(channel_id=CHANNEL), (await row(conn, "a")).marker)]


async def test_too_late_after_an_attempt_that_reached_discord_is_recorded_sent(
    conn: aiosqlite.Connection, clock: ManualClock, renderers: Renderers
) -> None:
    # Found by the simulation (tests/sim, seed 17): a 5xx after Discord took the message, the
    # bot down until past not_after, and the row was recorded skipped while the member had it.
    port = NonceWindowOver()
    dispatcher = Dispatcher(conn, port, clock, renderers.table(), spread=lambda: 0.0)
    await plan(conn, "meeting:1", [planned("a", window=timedelta(minutes=10))])
    port.plan = [CREATE_THEN_FAIL]
    assert await dispatcher.run_due() == 0
    clock.advance(timedelta(hours=3))
    assert await dispatcher.run_due() == 1
    assert len(port.messages) == 1
    done = await row(conn, "a")
    assert (done.state, done.sent) == ("sent", Sent(CHANNEL, port.messages[0].id))


async def test_too_late_after_an_attempt_that_did_not_reach_discord_is_skipped(
    conn: aiosqlite.Connection, dispatcher: Dispatcher, port: FakePort, clock: ManualClock
) -> None:
    await plan(conn, "meeting:1", [planned("a", window=timedelta(minutes=10))])
    port.plan = [transient()]
    assert await dispatcher.run_due() == 0
    clock.advance(timedelta(hours=3))
    assert await dispatcher.run_due() == 0
    assert port.messages == []
    done = await row(conn, "a")
    assert (done.state, done.last_error) == ("skipped", "too late")


# Found by the simulation (tests/sim, seeds 25 and 32 of a year with 20 groups): a 5xx after
# Discord took a reminder, the bot down past the nonce window, and then a change re-planned the
# row before its retry: the member left (the row was cancelled though they had the message, and
# a later plan could revive and send it again), or chose reminders in the channel (the retry
# went there, and they had it twice).
async def test_a_row_planning_drops_after_an_attempt_that_reached_discord_ends_sent(
    conn: aiosqlite.Connection, clock: ManualClock, renderers: Renderers
) -> None:
    port = NonceWindowOver()
    dispatcher = Dispatcher(conn, port, clock, renderers.table(), spread=lambda: 0.0)
    await plan(conn, "meeting:1", [planned("a", window=timedelta(hours=3))])
    port.plan = [CREATE_THEN_FAIL]
    assert await dispatcher.run_due() == 0
    clock.advance(timedelta(minutes=30))
    assert await plan(conn, "meeting:1", [], clock.now()) == ReplanResult(cancelled=1)
    assert (await row(conn, "a")).state == "pending"  # not cancelled: it may be in Discord
    await dispatcher.run_due()
    done = await row(conn, "a")
    assert (done.state, done.sent) == ("sent", Sent(CHANNEL, port.messages[0].id))
    # Wanted again later: it stays what it is, and nothing goes twice.
    assert await plan(conn, "meeting:1", [planned("a", window=timedelta(hours=3))], clock.now())
    await dispatcher.run_due()
    assert len(port.messages) == 1


async def test_a_row_planning_drops_after_an_attempt_that_did_not_reach_discord_is_skipped(
    conn: aiosqlite.Connection, clock: ManualClock, renderers: Renderers
) -> None:
    port = NonceWindowOver()
    dispatcher = Dispatcher(conn, port, clock, renderers.table(), spread=lambda: 0.0)
    await plan(conn, "meeting:1", [planned("a", window=timedelta(hours=3))])
    port.plan = [transient()]
    assert await dispatcher.run_due() == 0
    clock.advance(timedelta(minutes=30))
    await plan(conn, "meeting:1", [], clock.now())
    await dispatcher.run_due()
    assert (await row(conn, "a")).state == "skipped"
    assert port.messages == []


async def test_planning_never_sends_an_attempted_row_somewhere_else(
    conn: aiosqlite.Connection, clock: ManualClock, renderers: Renderers
) -> None:
    port = NonceWindowOver()
    dispatcher = Dispatcher(conn, port, clock, renderers.table(), spread=lambda: 0.0)
    await plan(conn, "meeting:1", [planned("a", user=7, window=timedelta(hours=3))])
    port.plan = [CREATE_THEN_FAIL]
    assert await dispatcher.run_due() == 0
    clock.advance(timedelta(minutes=30))
    in_channel = planned("a", window=timedelta(hours=3))  # they now want reminders in the channel
    assert await plan(conn, "meeting:1", [in_channel], clock.now()) == ReplanResult(kept=1)
    await dispatcher.run_due()
    assert len(port.messages) == 1
    assert (await row(conn, "a")).sent == Sent(port.channel_of(Destination(user_id=7)), 5000)


async def test_a_look_that_fails_past_the_window_is_tried_again_and_finds_the_message(
    conn: aiosqlite.Connection, clock: ManualClock, renderers: Renderers
) -> None:
    # Found by the simulation (tests/sim, seed 32 of a year with 20 groups): a 5xx after Discord
    # took a reminder, the bot down past the meeting's start, and the look on restart failed:
    # the row ended failed though the member had the message.
    port = NonceWindowOver()
    dispatcher = Dispatcher(conn, port, clock, renderers.table(), spread=lambda: 0.0)
    await plan(conn, "meeting:1", [planned("a", window=timedelta(minutes=10))])
    port.plan = [CREATE_THEN_FAIL]
    assert await dispatcher.run_due() == 0
    clock.advance(timedelta(hours=3))
    port.lookup_failure = transient()
    assert await dispatcher.run_due() == 0
    assert (await row(conn, "a")).state == "pending"  # not given up: it may be there
    port.lookup_failure = None
    clock.advance(timedelta(minutes=10))
    assert await dispatcher.run_due() == 1
    done = await row(conn, "a")
    assert (done.state, done.sent) == ("sent", Sent(CHANNEL, port.messages[0].id))
    assert len(port.messages) == 1


async def test_a_look_that_keeps_failing_is_given_up_a_day_past_the_window(
    conn: aiosqlite.Connection, clock: ManualClock, renderers: Renderers
) -> None:
    port = NonceWindowOver()
    dispatcher = Dispatcher(conn, port, clock, renderers.table(), spread=lambda: 0.0)
    await plan(conn, "meeting:1", [planned("a", window=timedelta(minutes=10))])
    port.plan = [CREATE_THEN_FAIL]
    assert await dispatcher.run_due() == 0
    port.lookup_failure = transient()
    for _ in range(200):
        clock.advance(timedelta(minutes=10))
        await dispatcher.run_due()
        if (await row(conn, "a")).state != "pending":
            break
    done = await row(conn, "a")
    assert done.state == "failed"
    assert clock.now() > done.not_after + LOOK_AGAIN_FOR - timedelta(minutes=10)
    assert len(port.messages) == 1  # never sent anew


async def test_a_retry_whose_look_fails_waits_and_tries_again(
    conn: aiosqlite.Connection, dispatcher: Dispatcher, port: FakePort, clock: ManualClock
) -> None:
    await plan(conn, "meeting:1", [planned("a")])
    port.plan = [transient()]
    assert await dispatcher.run_due() == 0
    port.lookup_failure = transient()
    clock.advance(timedelta(seconds=5))
    assert await dispatcher.run_due() == 0
    assert (await row(conn, "a")).state == "pending"
    assert port.messages == []
    port.lookup_failure = None
    clock.advance(timedelta(seconds=10))
    assert await dispatcher.run_due() == 1
    assert len(port.messages) == 1


async def test_transient_errors_until_not_after_end_in_failed(
    conn: aiosqlite.Connection, dispatcher: Dispatcher, port: FakePort, clock: ManualClock
) -> None:
    await plan(conn, "meeting:1", [planned("a", window=timedelta(seconds=30))])
    port.plan = [transient() for _ in range(10)]
    assert await dispatcher.run_due() == 0  # retry at +5 s
    clock.advance(timedelta(seconds=5))
    assert await dispatcher.run_due() == 0  # retry at +15 s
    clock.advance(timedelta(seconds=10))
    assert await dispatcher.run_due() == 0  # +35 s would be past not_after: give up
    failed = await row(conn, "a")
    assert failed.state == "failed"
    assert failed.last_error == "gave up after 3 attempt(s): Discord 503"
    assert await outbox.next_due(conn) is None
    clock.advance(timedelta(minutes=5))
    assert await dispatcher.run_due() == 0
    assert len(port.send_calls) == 3


async def test_a_permanent_failure_is_recorded_once_and_never_retried(
    conn: aiosqlite.Connection, dispatcher: Dispatcher, port: FakePort, clock: ManualClock
) -> None:
    port.closed_dms = {42}
    await plan(conn, "meeting:1", [planned("dm", channel=None, user=42)])
    assert await dispatcher.run_due() == 0
    failed = await row(conn, "dm")
    assert (failed.state, failed.attempts, failed.last_error) == ("failed", 1, "cannot DM")
    clock.advance(timedelta(minutes=10))
    assert await dispatcher.run_due() == 0
    assert len(port.send_calls) == 1


async def test_a_renderer_may_skip(
    conn: aiosqlite.Connection, dispatcher: Dispatcher, port: FakePort
) -> None:
    await plan(conn, "meeting:1", [planned("a", kind="skipper")])
    assert await dispatcher.run_due() == 0
    skipped = await row(conn, "a")
    assert (skipped.state, skipped.last_error) == ("skipped", "member already answered")
    assert port.send_calls == []


async def test_one_bad_row_does_not_stop_the_others(
    conn: aiosqlite.Connection,
    dispatcher: Dispatcher,
    port: FakePort,
    caplog: pytest.LogCaptureFixture,
) -> None:
    port.closed_dms = {42}
    await plan(
        conn,
        "meeting:1",
        [
            planned("unmarked", kind="unmarked", due=timedelta(seconds=-5)),
            planned("broken", kind="broken", due=timedelta(seconds=-4)),
            planned("nobody", kind="no-such-kind", due=timedelta(seconds=-3)),
            planned("closed", channel=None, user=42, due=timedelta(seconds=-2)),
            planned("fine"),
        ],
    )
    assert await dispatcher.run_due() == 1
    assert await states(conn) == {
        "unmarked": "failed",
        "broken": "failed",
        "nobody": "failed",
        "closed": "failed",
        "fine": "sent",
    }
    assert (await row(conn, "unmarked")).last_error == "renderer error: MarkerMissingError"
    assert (await row(conn, "broken")).last_error == "renderer error: KeyError"
    assert (await row(conn, "nobody")).last_error == "no renderer for kind 'no-such-kind'"
    # The unmarked message was never sent: without its marker a crash could duplicate it.
    assert [d for d, _ in port.send_calls] == [
        Destination(user_id=42),
        Destination(channel_id=CHANNEL),
    ]
    assert "Meeting 1 soon" not in caplog.text, "message content never reaches the log"


@dataclass
class PortThatLooks(FakePort):
    """When asked to send, reads the row through a second connection, as another process (or
    a crash-and-restart) would: only what has been committed is there to see."""

    db_path: Path | None = None
    seen: list[tuple[str, int, str | None]] = field(default_factory=list)

    async def send(self, destination: Destination, message: OutgoingMessage, *, nonce: str) -> Sent:
        assert self.db_path is not None
        other = sqlite3.connect(self.db_path)
        try:
            found = other.execute(SELECT_STATE_ELSEWHERE, {"key": "a"}).fetchone()
        finally:
            other.close()
        self.seen.append((str(found[0]), int(found[1]), found[2]))
        return await super().send(destination, message, nonce=nonce)


SELECT_STATE_ELSEWHERE = """
SELECT state, attempts, nonce
FROM outbox
WHERE idempotency_key = :key
"""


async def test_the_claim_is_committed_before_discord_is_called(
    conn: aiosqlite.Connection, clock: ManualClock, renderers: Renderers, tmp_path: Path
) -> None:
    port = PortThatLooks(db_path=tmp_path / "holdfast.sqlite3")
    dispatcher = Dispatcher(conn, port, clock, renderers.table(), new_nonce=lambda: "n-1")
    await plan(conn, "meeting:1", [planned("a")])
    assert await dispatcher.run_due() == 1
    # Had the process died inside send, a restart would find the row in doubt, never pending.
    assert port.seen == [("sending", 1, "n-1")]
    assert port.send_calls == [(Destination(channel_id=CHANNEL), "n-1")]
    assert (await row(conn, "a")).state == "sent"


# --- in doubt ------------------------------------------------------------------------------------


async def test_in_doubt_and_already_sent_is_recorded_without_a_second_send(
    conn: aiosqlite.Connection, dispatcher: Dispatcher, port: FakePort, clock: ManualClock
) -> None:
    await plan(conn, "meeting:1", [planned("a"), planned("b")])
    port.plan = [CREATE_THEN_CRASH]
    with pytest.raises(Crash):
        await dispatcher.run_due()
    assert await states(conn) == {"a": "sending", "b": "pending"}

    # A new process on the same database (same file, fresh dispatcher).
    restarted = Dispatcher(conn, port, clock, dispatcher.renderers)
    assert await restarted.recover_in_doubt() == RecoveryResult(found=1)
    a = await row(conn, "a")
    assert (a.state, a.sent) == ("sent", Sent(CHANNEL, port.messages[0].id))
    assert port.lookups == [(a.destination, a.marker)]
    assert await restarted.run_due() == 1
    assert len(port.send_calls) == 2, "a once, b once"
    assert len(port.messages) == 2


async def test_in_doubt_and_not_sent_is_sent_again_with_the_same_nonce(
    conn: aiosqlite.Connection, dispatcher: Dispatcher, port: FakePort, clock: ManualClock
) -> None:
    await plan(conn, "meeting:1", [planned("a", channel=None, user=42)])
    port.plan = [CRASH_BEFORE]
    with pytest.raises(Crash):
        await dispatcher.run_due()
    first_nonce = port.send_calls[0][1]
    assert (await row(conn, "a")).nonce == first_nonce

    clock.advance(timedelta(minutes=1))
    restarted = Dispatcher(conn, port, clock, dispatcher.renderers)
    assert await restarted.cycle() == 1
    a = await row(conn, "a")
    assert (a.state, a.attempts) == ("sent", 2)
    assert [nonce for _, nonce in port.send_calls] == [first_nonce, first_nonce]
    assert len(port.messages) == 1
    assert len(port.lookups) == 1, "recovery's look stands for the send's, in the same cycle"


async def test_in_doubt_past_not_after_and_not_sent_is_skipped(
    conn: aiosqlite.Connection, dispatcher: Dispatcher, port: FakePort, clock: ManualClock
) -> None:
    await plan(conn, "meeting:1", [planned("a", window=timedelta(minutes=10))])
    port.plan = [CRASH_BEFORE]
    with pytest.raises(Crash):
        await dispatcher.run_due()
    clock.advance(timedelta(hours=1))
    assert await dispatcher.cycle() == 0
    assert await states(conn) == {"a": "skipped"}
    assert len(port.send_calls) == 1


async def test_in_doubt_lookup_errors(
    conn: aiosqlite.Connection, dispatcher: Dispatcher, port: FakePort, clock: ManualClock
) -> None:
    await plan(conn, "meeting:1", [planned("a")])
    port.plan = [CRASH_BEFORE]
    with pytest.raises(Crash):
        await dispatcher.run_due()
    # Discord is down: stays in doubt, nothing sent blind.
    port.lookup_failure = transient()
    assert await dispatcher.recover_in_doubt() == RecoveryResult(unresolved=1)
    assert await dispatcher.run_due() == 0
    assert (await row(conn, "a")).state == "sending"
    # The channel was deleted meanwhile: nothing there to find, nothing to send to.
    port.lookup_failure = DeliveryFailed("channel gone", permanent=True, code=10003, status=404)
    assert await dispatcher.recover_in_doubt() == RecoveryResult(failed=1)
    assert (await row(conn, "a")).last_error == "channel gone"


def test_backoff_doubles_from_five_seconds_up_to_ten_minutes_with_jitter() -> None:
    backoff = Backoff()
    delays = [backoff.delay(n, 0.0).total_seconds() for n in range(1, 10)]
    assert delays == [5, 10, 20, 40, 80, 160, 320, 600, 600]
    assert backoff.delay(1, 0.5) == timedelta(seconds=5.5)


# --- the alarm -----------------------------------------------------------------------------------


async def test_alarm_arms_for_the_earliest_due_time_measured_on_the_bots_clock(
    conn: aiosqlite.Connection, dispatcher: Dispatcher, port: FakePort, clock: ManualClock
) -> None:
    real = datetime(2030, 1, 1, tzinfo=UTC)
    scheduler = AsyncIOScheduler(timezone=UTC)
    scheduler.start(paused=True)
    alarm = Alarm(dispatcher, scheduler, real_now=lambda: real)
    try:
        await plan(conn, "meeting:1", [planned("a"), planned("b", due=timedelta(minutes=10))])
        assert await alarm.start() == 1
        assert alarm.armed_for == T0 + timedelta(minutes=10)
        assert scheduler.get_job(ALARM_JOB).next_run_time == real + timedelta(minutes=10)

        clock.advance(timedelta(minutes=10))
        assert await alarm.wake() == 1
        assert alarm.armed_for is None
        assert scheduler.get_job(ALARM_JOB) is None
        await alarm.stop()
        assert await alarm.wake() == 0, "stopped: nothing more is sent"
    finally:
        scheduler.shutdown(wait=False)
    assert len(port.messages) == 2


async def test_on_a_clock_ten_times_real_speed_the_alarm_and_sweep_wait_a_tenth_as_long(
    conn: aiosqlite.Connection, dispatcher: Dispatcher, clock: ManualClock
) -> None:
    clock.speed = 10.0
    real = datetime(2030, 1, 1, tzinfo=UTC)
    scheduler = AsyncIOScheduler(timezone=UTC)
    scheduler.start(paused=True)
    alarm = Alarm(dispatcher, scheduler, real_now=lambda: real)
    try:
        await plan(conn, "meeting:1", [planned("a", due=timedelta(minutes=5))])
        await alarm.start()
        assert alarm.armed_for == T0 + timedelta(minutes=5)
        # Five demo minutes are thirty real seconds, not five real minutes.
        assert scheduler.get_job(ALARM_JOB).next_run_time == real + timedelta(seconds=30)
        assert scheduler.get_job(SWEEP_JOB).trigger.interval == timedelta(seconds=6)
    finally:
        await alarm.stop()
        scheduler.shutdown(wait=False)


async def test_a_sweep_during_a_long_run_returns_at_once_and_starts_no_second_run(
    conn: aiosqlite.Connection, dispatcher: Dispatcher
) -> None:
    """APScheduler warns "maximum number of running instances reached" whenever a job is still
    running at its next interval; a sweep that waited for a long fan-out did so every minute.
    The sweep returns at once, and a run already under way is left to finish and re-arm."""
    entered, release = asyncio.Event(), asyncio.Event()
    runs = 0

    async def long_run() -> int:
        nonlocal runs
        runs += 1
        entered.set()
        await release.wait()
        return 0

    dispatcher.cycle = long_run  # type: ignore[method-assign]
    scheduler = AsyncIOScheduler(timezone=UTC)
    scheduler.start(paused=True)
    alarm = Alarm(dispatcher, scheduler)
    try:
        await asyncio.wait_for(alarm._fire(), timeout=2)
        await asyncio.wait_for(entered.wait(), timeout=2)
        for _ in range(3):
            await asyncio.wait_for(alarm._fire(), timeout=2)
        assert runs == 1
        release.set()
        await asyncio.gather(*alarm._tasks)
        await asyncio.wait_for(alarm._fire(), timeout=2)
        await asyncio.gather(*alarm._tasks)
        assert runs == 2, "once the run is over, the next sweep runs again"
    finally:
        release.set()
        await alarm.stop()
        scheduler.shutdown(wait=False)


async def test_a_deleted_rows_id_and_marker_are_never_given_to_a_new_row(
    conn: aiosqlite.Connection,
) -> None:
    # Found by the simulation (tests/sim, seed 3): /mydata delete removed the newest row, the
    # next row got its id, so two messages in Discord carried one marker (d<id>) and in-doubt
    # recovery could take the old one for the new.
    async with transaction(conn):
        await outbox.enqueue(conn, planned("a"), T0)
        gone = await outbox.enqueue(conn, planned("member's", user=7, channel=None), T0)
    async with transaction(conn):
        await conn.execute("DELETE FROM outbox WHERE user_id = :user_id", {"user_id": 7})
    async with transaction(conn):
        new = await outbox.enqueue(conn, planned("b"), T0)
    assert new > gone


# --- messages kept current -----------------------------------------------------------------------


@dataclass
class Board:
    """A message that shows something that changes (like an announcement's counts)."""

    says: str = "v1"

    def message(self, delivery: Delivery) -> OutgoingMessage:
        return OutgoingMessage(content=self.says, buttons=(Button("Go", f"x:{delivery.marker}"),))

    async def render(
        self, conn: aiosqlite.Connection, delivery: Delivery, context: RenderContext
    ) -> OutgoingMessage:
        return self.message(delivery)

    async def current(self, conn: aiosqlite.Connection, delivery: Delivery) -> OutgoingMessage:
        return self.message(delivery)


async def test_a_kept_current_message_sent_before_a_crash_is_brought_up_to_date_on_recovery(
    conn: aiosqlite.Connection, port: FakePort, clock: ManualClock
) -> None:
    board = Board()
    dispatcher = Dispatcher(
        conn, port, clock, {"board": board.render}, current={"board": board.current}
    )
    await plan(conn, "meeting:1", [planned("a", kind="board")])
    port.plan = [CREATE_THEN_CRASH]
    with pytest.raises(Crash):
        await dispatcher.run_due()
    board.says = "v2"  # changed while the bot was down; what was sent is unknown now
    assert await dispatcher.recover_in_doubt() == RecoveryResult(found=1)
    assert [m.message.content for m in port.messages] == ["v2"]


async def test_a_kind_not_kept_current_is_never_edited_after_sending(
    conn: aiosqlite.Connection, port: FakePort, clock: ManualClock
) -> None:
    board = Board()
    dispatcher = Dispatcher(conn, port, clock, {"board": board.render})
    await plan(conn, "meeting:1", [planned("a", kind="board")])
    port.plan = [CREATE_THEN_CRASH]
    with pytest.raises(Crash):
        await dispatcher.run_due()
    board.says = "v2"
    assert await dispatcher.recover_in_doubt() == RecoveryResult(found=1)
    assert [m.message.content for m in port.messages] == ["v1"]


def a_real_full_disk_error(folder: Path) -> sqlite3.Error:
    """SQLite's own SQLITE_FULL: a database that may not grow by one more page."""
    db = sqlite3.connect(folder / "tiny.sqlite3")
    try:
        db.execute("PRAGMA max_page_count = 1")
        db.execute("CREATE TABLE t (x)")
    except sqlite3.Error as error:
        return error
    finally:
        db.close()
    raise AssertionError("the tiny database had room after all")


async def test_a_full_disk_mid_run_is_one_plain_sentence_for_the_admin_not_a_traceback(
    dispatcher: Dispatcher, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    full = a_real_full_disk_error(tmp_path)

    async def cycle() -> int:
        raise full

    dispatcher.cycle = cycle  # type: ignore[method-assign]
    scheduler = AsyncIOScheduler(timezone=UTC)
    scheduler.start(paused=True)

    def explain(error: BaseException) -> str | None:
        found = disk_full(error, tmp_path)
        return str(found) if found is not None else None

    alarm = Alarm(dispatcher, scheduler, explain=explain)
    try:
        with caplog.at_level(logging.ERROR, logger="bot.delivery.alarm"):
            assert await alarm.wake() == 0
    finally:
        await alarm.stop()
        scheduler.shutdown(wait=False)
    [record] = [r for r in caplog.records if r.name == "bot.delivery.alarm"]
    assert f"Holdfast could not write to {tmp_path}: the disk is full" in record.getMessage()
    assert record.exc_info is None, "a sentence, not a traceback"


@pytest.mark.parametrize(
    "name",
    [
        "INSERT_DELIVERY",
        "INSERT_DELIVERY_ROW",
        "UPDATE_PENDING_PLAN",
        "REVIVE_CANCELLED",
        "CLAIM",
        "MARK_SENT",
        "MARK_FINAL",
        "REQUEUE",
    ],
)
async def test_writing_one_outbox_row_builds_no_temporary_table(
    conn: aiosqlite.Connection, name: str
) -> None:
    # Planning writes thousands of rows at once (a series for a big group). A check written as
    # `state IN (…)` made SQLite build a temporary table for every row written (a third of the
    # insert's cost); migration 0012 writes it as plain comparisons. EXPLAIN shows the plan.
    sql = getattr(outbox, name)
    names = "key scope kind guild_id channel_id user_id subject_id due_at not_after now id nonce"
    params = dict.fromkeys([*names.split(), "message_id", "state", "reason", "at"], 1)
    bound = (1,) * sql.count("?") if "?" in sql else params
    async with conn.execute(f"EXPLAIN {sql}", bound) as cursor:
        opcodes = [row[1] for row in await cursor.fetchall()]
    assert "OpenEphemeral" not in opcodes
