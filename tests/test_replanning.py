"""The re-planning registry: a change names its subject, the registered planners re-plan."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import aiosqlite
import pytest
import pytest_asyncio

from bot.db import open_database, transaction
from bot.delivery import replanning
from bot.delivery.replanning import (
    MeetingChanged,
    MeetingDeleted,
    MembershipChanged,
    NothingRegistered,
    Planner,
    Registry,
)
from bot.migrate import migrate
from bot.planning import Policy

NOW = datetime(2026, 9, 20, 12, 0, tzinfo=UTC)


@pytest_asyncio.fixture
async def db(tmp_path: Path) -> AsyncIterator[aiosqlite.Connection]:
    path = tmp_path / "holdfast.sqlite3"
    await migrate(path, NOW)
    conn = await open_database(path)
    try:
        yield conn
    finally:
        await conn.close()


async def test_planners_run_in_the_order_registered_and_a_second_registration_replaces(
    db: aiosqlite.Connection,
) -> None:
    registry = Registry()
    heard: list[str] = []

    def planner(name: str) -> Planner[MeetingChanged]:
        async def plan(conn: aiosqlite.Connection, subject: MeetingChanged, now: datetime) -> None:
            assert conn.in_transaction, "inside the caller's transaction"
            heard.append(f"{name}:{subject.meeting_id}")

        return plan

    registry.register(MeetingChanged, "first", planner("first"))
    registry.register(MeetingChanged, "second", planner("second"))
    registry.register(MeetingChanged, "first", planner("again"))
    async with transaction(db):
        await registry.replan_for(db, MeetingChanged(7), NOW)
    assert heard == ["again:7", "second:7"]


async def test_a_subject_nobody_plans_for_is_a_wiring_mistake_not_silence(
    db: aiosqlite.Connection,
) -> None:
    async with transaction(db):
        with pytest.raises(NothingRegistered, match="MembershipChanged"):
            await Registry().replan_for(db, MembershipChanged(1, (2,)), NOW)
    with pytest.raises(RuntimeError, match="transaction"):
        await Registry().replan_for(db, MeetingChanged(1), NOW)


def test_the_policy_registers_every_capability_for_every_subject() -> None:
    registry = Policy().registry
    both = ["meetings:announcement", "reminders", "attendance", "reminders:snooze"]
    assert registry.names(MeetingChanged) == both
    assert registry.names(MeetingDeleted) == both
    assert registry.names(MembershipChanged) == ["reminders", "reminders:snooze"]


async def test_services_without_a_policy_use_the_default_and_none_is_refused(
    db: aiosqlite.Connection,
) -> None:
    replanning.use_by_default(None)
    async with transaction(db):
        with pytest.raises(NothingRegistered, match="default"):
            await replanning.replan_for(db, MembershipChanged(1, (2,)), NOW)
