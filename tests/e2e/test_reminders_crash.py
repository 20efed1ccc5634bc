"""Delivery guarantees for a fan-out of member reminders: the bot as a separate process killed
with SIGKILL at several points (including the in-doubt one: Discord created the message, the
bot died before marking it sent), restarted, and every member ends with exactly one reminder
per lead. The process runs on CLOCK_START, a clock for the emulator only."""

from __future__ import annotations

import signal
from collections import Counter
from datetime import UTC, datetime, timedelta

from bot.db import open_database
from bot.migrate import migrate
from tests.e2e.conftest import BotProcess
from tests.e2e.reminder_fanout import (
    LEADS,
    count_reminder_dms,
    reminder_dms,
    reminder_rows,
    seed_fanout,
)
from tests.e2e.test_delivery import custom_ids
from tests.emulator.factories import build_guild
from tests.emulator.harness import poll_until
from tests.emulator.model import message_text
from tests.emulator.server import Emulator

MEMBERS = 200


def all_sent(rows: list[tuple[int, str, str, int | None]]) -> bool:
    return bool(rows) and all(state == "sent" for _, _, state, _ in rows)


async def test_sigkill_mid_fanout_to_200_members_including_in_doubt_then_exactly_one_each(
    bot_process: BotProcess, emulator: Emulator
) -> None:
    server = build_guild(emulator, "Big Circle", facilitators=1, members=MEMBERS, admins=1)
    settings = bot_process.settings
    path = settings.DATABASE_PATH
    # Seeded a few days before the meeting (26 Nov 2026, 19:30 GMT).
    seeded_at = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
    await migrate(path, seeded_at)
    conn = await open_database(path)
    try:
        fanout = await seed_fanout(conn, emulator, server, seeded_at)
    finally:
        await conn.close()
    assert len(reminder_rows(path, "1d")) == MEMBERS

    def run_at(instant: datetime) -> None:
        bot_process.extra_env = {
            # A second into the lead's due time: the whole fan-out is due at once.
            "CLOCK_START": (instant + timedelta(seconds=1)).isoformat(),
            "REMINDER_LEADS": LEADS,
            "NUDGE_DAYS_BEFORE": "0",
        }

    # 1. The 1d lead. Killed part-way through the fan-out.
    run_at(fanout.meeting.starts_at - timedelta(days=1))
    await bot_process.start()
    await poll_until(
        lambda: count_reminder_dms(emulator, server) >= 60 or None,
        what="60 reminders to go out",
        timeout=20,
    )
    await bot_process.kill()
    sent_before = count_reminder_dms(emulator, server)
    assert sent_before < MEMBERS

    # 2. Killed at the in-doubt point: Discord made the message, the bot never heard back.
    held = emulator.faults.processed_then_hold("POST", "/channels/*/messages")
    await bot_process.start(wait_ready=False)
    await poll_until(lambda: held.held == 1 or None, what="a send to be held", timeout=20)
    in_doubt = [r for r in reminder_rows(path, "1d") if r[2] == "sending"]
    assert len(in_doubt) == 1, "claimed, sent to Discord, not marked sent"
    await bot_process.kill()
    held.release()

    # 3. Restarted: recovery finds the in-doubt message by its marker; the rest go out.
    await bot_process.start()
    await poll_until(
        lambda: all_sent(reminder_rows(path, "1d")) or None,
        what="every 1d reminder to be sent",
        timeout=30,
    )
    assert await bot_process.stop() == 0
    recovered = in_doubt[0][0]
    assert f"delivery {recovered} was sent before the restart" in bot_process.output

    # 4. The 2h lead, another kill mid-way, another restart.
    run_at(fanout.meeting.starts_at - timedelta(hours=2))
    await bot_process.start()
    await poll_until(
        lambda: count_reminder_dms(emulator, server) >= MEMBERS + 80 or None,
        what="80 of the 2h reminders",
        timeout=20,
    )
    await bot_process.stop(signal.SIGKILL)
    await bot_process.start()
    await poll_until(
        lambda: all_sent(reminder_rows(path)) or None,
        what="every reminder to be sent",
        timeout=30,
    )
    assert await bot_process.stop() == 0

    # Every member: exactly one reminder per lead, each the row's own message, none late.
    rows = reminder_rows(path)
    assert len(rows) == 2 * MEMBERS
    by_member = reminder_dms(emulator, server)
    for delivery_id, key, _state, message_id in rows:
        user_id = int(key.split(":")[2])
        [message] = [
            m
            for m in by_member[user_id]
            if any(f"d{delivery_id}" in c.split(":") for c in custom_ids(m))
        ]
        assert message.id == message_id
    assert Counter(len(v) for v in by_member.values()) == {2: MEMBERS}
    assert not any("late" in message_text(m) for v in by_member.values() for m in v)
    assert emulator.invalid_request_count() == 0
