"""The facilitator rota on a real SQLite file: the ask, confirmation, escalation once (assigned
but silent, or nobody assigned), stepping in; with the dispatcher and the fake port."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import aiosqlite
import pytest
import pytest_asyncio

from bot.clock import ManualClock
from bot.db import open_database
from bot.delivery.dispatcher import Dispatcher
from bot.delivery.port import Destination
from bot.errors import NotAllowed
from bot.groups.model import Actor, Group
from bot.meetings import changes
from bot.migrate import migrate
from bot.reminders import cards, rota
from tests.test_outbox import FakePort
from tests.test_reminders import POLICY, october_meeting, utc

ROTA_RENDERERS = {k: v for k, v in cards.RENDERERS.items() if k.startswith("rota")}
FACILITATOR = 77
OTHER = 78


def holds(group: Group, user_id: int) -> Actor:
    """Someone who may hold the group's meetings: they have its facilitator role."""
    return Actor(user_id, role_ids=frozenset({group.facilitator_role_id}))


@pytest.fixture
def clock() -> ManualClock:
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


SELECT_ROTA_ROWS = """
SELECT idempotency_key AS key, kind, state, due_at, channel_id, user_id
FROM outbox
WHERE kind LIKE 'rota%' AND subject_id = :meeting_id
ORDER BY id
"""


async def rota_rows(db: aiosqlite.Connection, meeting_id: int) -> list[aiosqlite.Row]:
    async with db.execute(SELECT_ROTA_ROWS, {"meeting_id": meeting_id}) as cursor:
        return list(await cursor.fetchall())


async def test_assigned_but_silent_is_asked_then_escalated_once(
    db: aiosqlite.Connection, clock: ManualClock
) -> None:
    group, meeting = await october_meeting(db, clock)
    await rota.assign(
        db, meeting.id, holds(group, FACILITATOR), OTHER, clock.now(), POLICY.reminders
    )
    rows = await rota_rows(db, meeting.id)
    # 29 Oct 19:30 GMT: asked 3 days before (26 Oct 19:30 GMT), escalated 24 h before.
    assert [(r["kind"], r["state"], r["due_at"]) for r in rows] == [
        ("rota_escalation", "pending", "2026-10-28T19:30:00.000000+00:00"),
        ("rota_ask", "pending", "2026-10-26T19:30:00.000000+00:00"),
    ]
    port = FakePort()
    dispatcher = Dispatcher(db, port, clock, ROTA_RENDERERS)
    clock.set(utc(2026, 10, 26, 19, 30))
    assert await dispatcher.run_due() == 1
    [ask] = port.messages
    assert ask.channel_id == port.channel_of(Destination(user_id=FACILITATOR))
    assert [b.label for b in ask.message.buttons] == ["I'll be there"]
    # Nobody confirms: one escalation in the group's channel (it has no facilitators' channel).
    clock.set(utc(2026, 10, 28, 19, 30))
    assert await dispatcher.run_due() == 1
    escalation = port.messages[-1]
    assert escalation.channel_id == group.announce_channel_id
    assert f"<@{FACILITATOR}> was down to hold it" in escalation.message.content
    clock.advance(timedelta(hours=6))
    assert await dispatcher.run_due() == 0
    # A late confirmation changes the plan, never a sent message.
    await rota.confirm(db, meeting.id, FACILITATOR, clock.now(), POLICY.reminders)
    assert [r["state"] for r in await rota_rows(db, meeting.id)] == ["sent", "sent"]


async def test_confirming_stops_the_escalation_and_only_the_assigned_may_confirm(
    db: aiosqlite.Connection, clock: ManualClock
) -> None:
    group, meeting = await october_meeting(db, clock)
    await rota.assign(
        db, meeting.id, holds(group, FACILITATOR), FACILITATOR, clock.now(), POLICY.reminders
    )
    with pytest.raises(NotAllowed):
        await rota.confirm(db, meeting.id, OTHER, clock.now(), POLICY.reminders)
    await rota.confirm(db, meeting.id, FACILITATOR, clock.now(), POLICY.reminders)
    await rota.confirm(db, meeting.id, FACILITATOR, clock.now(), POLICY.reminders)  # twice: fine
    assert {r["state"] for r in await rota_rows(db, meeting.id)} == {"cancelled"}
    # Reassigned to someone else: unconfirmed again, asked and (if silent) escalated.
    await rota.assign(
        db, meeting.id, holds(group, OTHER), FACILITATOR, clock.now(), POLICY.reminders
    )
    live = [r for r in await rota_rows(db, meeting.id) if r["state"] == "pending"]
    assert sorted(r["kind"] for r in live) == ["rota_ask", "rota_escalation"]
    assert next(r for r in live if r["kind"] == "rota_ask")["user_id"] == OTHER


async def test_nobody_assigned_escalates_and_stepping_in_settles_it(
    db: aiosqlite.Connection, clock: ManualClock
) -> None:
    _group, meeting = await october_meeting(db, clock)
    [row] = await rota_rows(db, meeting.id)
    assert (row["kind"], row["due_at"]) == ("rota_escalation", "2026-10-28T19:30:00.000000+00:00")
    port = FakePort()
    dispatcher = Dispatcher(db, port, clock, ROTA_RENDERERS)
    clock.set(utc(2026, 10, 28, 19, 30))
    assert await dispatcher.run_due() == 1
    assert "Nobody is down to hold it yet" in port.messages[0].message.content
    entry = await rota.step_in(db, meeting.id, OTHER, clock.now(), POLICY.reminders)
    assert (entry.facilitator_id, entry.confirmed) == (OTHER, True)
    [after] = await rota_rows(db, meeting.id)
    assert after["state"] == "sent"


async def test_a_cancelled_meeting_needs_no_facilitator(
    db: aiosqlite.Connection, clock: ManualClock
) -> None:
    group, meeting = await october_meeting(db, clock)
    await rota.assign(
        db, meeting.id, holds(group, FACILITATOR), OTHER, clock.now(), POLICY.reminders
    )
    await changes.cancel_meeting(db, meeting, clock.now(), POLICY)
    assert {r["state"] for r in await rota_rows(db, meeting.id)} == {"cancelled"}


async def test_admins_listed_are_told_by_dm_once_too(
    db: aiosqlite.Connection, clock: ManualClock
) -> None:
    policy = replace(POLICY.reminders, admins=(901, 902))
    group, meeting = await october_meeting(db, clock)
    await rota.assign(db, meeting.id, holds(group, FACILITATOR), OTHER, clock.now(), policy)
    port = FakePort()
    dispatcher = Dispatcher(db, port, clock, ROTA_RENDERERS)
    clock.set(utc(2026, 10, 28, 19, 30))
    await dispatcher.run_due()
    to_admins = [m for m in port.messages if m.channel_id in (100_901, 100_902)]
    assert len(to_admins) == 2
    assert all("For admins" in m.message.content for m in to_admins)
    assert all(m.message.buttons[0].custom_id.startswith("next:") for m in to_admins)
    clock.advance(timedelta(hours=1))
    assert await dispatcher.run_due() == 0


async def test_only_the_groups_facilitators_and_admins_can_be_put_on_the_rota(
    db: aiosqlite.Connection, clock: ManualClock
) -> None:
    group, meeting = await october_meeting(db, clock)
    member = Actor(OTHER, role_ids=frozenset({group.facilitator_role_id + 1}))
    with pytest.raises(NotAllowed, match="facilitators"):
        await rota.assign(db, meeting.id, member, FACILITATOR, clock.now(), POLICY.reminders)
    # Refused: nothing is recorded and nothing is planned but the escalation.
    assert [r["kind"] for r in await rota_rows(db, meeting.id)] == ["rota_escalation"]
    admin = Actor(OTHER, is_admin=True)
    entry = await rota.assign(db, meeting.id, admin, FACILITATOR, clock.now(), POLICY.reminders)
    assert entry.facilitator_id == OTHER
    entry = await rota.assign(
        db, meeting.id, holds(group, FACILITATOR), FACILITATOR, clock.now(), POLICY.reminders
    )
    assert entry.facilitator_id == FACILITATOR
