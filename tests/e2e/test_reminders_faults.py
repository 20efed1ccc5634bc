"""A reminder fan-out through Discord's bad moments (in-process, ManualClock): 429 with
Retry-After, 500s (one after the message was made), a reset connection and a dropped websocket
while it runs; then downtime across several due times. Nothing lost, nothing doubled."""

from __future__ import annotations

import logging
from collections import Counter
from datetime import timedelta

import pytest

from bot.app import HoldfastBot
from bot.clock import ManualClock
from bot.config import Settings
from bot.db import transaction
from tests.e2e.conftest import start_holdfast
from tests.e2e.reminder_fanout import reminder_dms, reminder_rows, seed_fanout
from tests.e2e.test_delivery import custom_ids
from tests.emulator.factories import build_guild
from tests.emulator.harness import poll_until
from tests.emulator.model import message_text
from tests.emulator.server import Emulator

MESSAGES = "/channels/*/messages"
MEMBERS = 25


def assert_one_message_per_row(
    emulator: Emulator, server: object, rows: list[tuple[int, str, str, int | None]]
) -> None:
    by_member = reminder_dms(emulator, server)  # type: ignore[arg-type]
    for delivery_id, key, state, message_id in rows:
        assert state == "sent", key
        user_id = int(key.split(":")[2])
        [message] = [
            m
            for m in by_member[user_id]
            if any(f"d{delivery_id}" in c.split(":") for c in custom_ids(m))
        ]
        assert message.id == message_id


async def test_faults_during_a_fan_out_lose_nothing_and_double_nothing(
    holdfast: HoldfastBot, emulator: Emulator, clock: ManualClock
) -> None:
    server = build_guild(emulator, "Faulty Circle", facilitators=1, members=MEMBERS, admins=1)
    fanout = await seed_fanout(holdfast.db, emulator, server, clock.now())
    # One member has never had a DM from the bot: opening it meets a 429 too.
    newcomer = server.members[-1]
    async with transaction(holdfast.db):
        await holdfast.db.execute("DELETE FROM dm_channels WHERE user_id = ?", (newcomer.id,))
    emulator.dm_channels.pop(newcomer.id, None)

    def to(index: int) -> str:
        # One fault per member, so each is met by a different send (discord.py retries a
        # 429 or a 500 itself; a fault list on one path would all land on the first send).
        return f"/channels/{emulator.dm_channel_for(server.members[index]).id}/messages"

    injected = [
        emulator.faults.rate_limit("POST", to(0), count=2, retry_after=0.05),
        emulator.faults.processed_then_error("POST", to(3), status=500),
        emulator.faults.server_error("POST", to(6), status=502),
        emulator.faults.connection_reset("POST", to(9)),
        emulator.faults.processed_then_error("POST", to(12), status=503),
        emulator.faults.rate_limit("POST", "/users/@me/channels", retry_after=0.05),
    ]
    clock.set(fanout.meeting.starts_at - timedelta(days=1))
    cycle = holdfast.alarm.wake()
    await poll_until(
        lambda: sum(len(v) for v in reminder_dms(emulator, server).values()) >= 8 or None,
        what="the fan-out to get going",
        timeout=20,
    )
    assert await emulator.gateway.drop() >= 1, "the websocket dropped mid fan-out"
    await cycle
    # Whatever failed for a moment is retried with backoff before the meeting.
    for _ in range(20):
        if all(
            state == "sent"
            for _, _, state, _ in reminder_rows(holdfast.settings.DATABASE_PATH, "1d")
        ):
            break
        clock.advance(timedelta(minutes=1))
        await holdfast.alarm.wake()
    assert all(f.exhausted for f in injected), [f.kind for f in injected if not f.exhausted]
    rows = reminder_rows(holdfast.settings.DATABASE_PATH, "1d")
    assert len(rows) == MEMBERS
    assert_one_message_per_row(emulator, server, rows)
    assert Counter(len(v) for v in reminder_dms(emulator, server).values()) == {1: MEMBERS}
    # The only 429s are the three injected: the pacer provoked none of its own.
    assert sum(1 for r in emulator.requests if r.status == 429) == 3
    await poll_until(
        lambda: emulator.gateway.live_connections or None, what="the gateway to resume"
    )


async def test_downtime_sends_useful_ones_late_once_and_skips_stale_ones(
    emulator: Emulator, holdfast_settings: Settings, clock: ManualClock
) -> None:
    server = build_guild(emulator, "Quiet Circle", facilitators=1, members=3, admins=1)
    async with start_holdfast(emulator, holdfast_settings, clock) as bot:
        fanout = await seed_fanout(bot.db, emulator, server, clock.now())
    path = holdfast_settings.DATABASE_PATH
    # Down from before the 1d reminders until after the 2h ones were due: on restart each
    # member gets one reminder (the 1d one collapses into it) that says it is late.
    clock.set(fanout.meeting.starts_at - timedelta(hours=1))
    async with start_holdfast(emulator, holdfast_settings, clock) as bot:
        assert bot.alarm.startup is not None
        await bot.alarm.startup
    by_member = reminder_dms(emulator, server)
    assert Counter(len(v) for v in by_member.values()) == {1: 3}
    assert all("late" in message_text(v[0]) for v in by_member.values())
    states = Counter((key.split(":")[3], state) for _, key, state, _ in reminder_rows(path))
    assert states == {("1d", "skipped"): 3, ("120m", "sent"): 3}

    # Down again across the meeting's start: nothing more is sent; already-sent stays sent.
    clock.set(fanout.meeting.starts_at + timedelta(minutes=5))
    async with start_holdfast(emulator, holdfast_settings, clock) as bot:
        assert bot.alarm.startup is not None
        await bot.alarm.startup
    assert Counter(len(v) for v in reminder_dms(emulator, server).values()) == {1: 3}


async def test_a_stale_reminder_is_skipped_and_logged(
    emulator: Emulator,
    holdfast_settings: Settings,
    clock: ManualClock,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO, logger="bot")
    server = build_guild(emulator, "Late Circle", facilitators=1, members=2, admins=1)
    async with start_holdfast(emulator, holdfast_settings, clock) as bot:
        fanout = await seed_fanout(bot.db, emulator, server, clock.now())
    clock.set(fanout.meeting.starts_at + timedelta(minutes=1))
    async with start_holdfast(emulator, holdfast_settings, clock) as bot:
        assert bot.alarm.startup is not None
        assert await bot.alarm.startup == 0
    states = Counter(state for _, _, state, _ in reminder_rows(holdfast_settings.DATABASE_PATH))
    assert states == {"skipped": 4}
    assert "skipped: too late" in caplog.text
    assert all(v == [] for v in reminder_dms(emulator, server).values())
