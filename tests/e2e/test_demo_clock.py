"""The demo clock is right: the bot as a separate process on CLOCK_START / CLOCK_SPEED against
the emulator sends reminders on time on the demo clock (not called late) and makes a month's
trends snapshot soon after the demo clock crosses the month's end."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.app import late_grace
from bot.clock import RunningClock
from bot.db import open_database
from bot.groups import service as groups
from bot.groups.model import GroupSettings
from bot.migrate import migrate
from tests.e2e.conftest import BotProcess
from tests.e2e.reminder_fanout import LEADS, reminder_dms, reminder_rows, seed_fanout
from tests.emulator.factories import build_guild
from tests.emulator.harness import poll_until
from tests.emulator.model import message_text
from tests.emulator.server import Emulator


def sent_rows(path: Path, lead: str) -> list[tuple[datetime, datetime]]:
    """(due_at, sent_at) of every sent reminder row of one lead, on the bot's clock."""
    db = sqlite3.connect(path)
    try:
        rows = list(
            db.execute(
                "SELECT idempotency_key, due_at, sent_at FROM outbox "
                "WHERE kind = 'reminder' AND state = 'sent'"
            )
        )
    finally:
        db.close()
    return [
        (datetime.fromisoformat(due), datetime.fromisoformat(sent))
        for key, due, sent in rows
        if key.split(":")[3] == lead
    ]


@pytest.mark.parametrize(
    ("speed", "ahead"),
    [
        # Ten times speed: the reminder is due 40 demo seconds (4 real seconds) after start.
        (10, timedelta(seconds=40)),
        # An hour a second: due 6 demo hours (6 real seconds) after start.
        (3600, timedelta(hours=6)),
    ],
)
async def test_reminders_arrive_on_time_on_a_fast_demo_clock_and_are_not_called_late(
    bot_process: BotProcess, emulator: Emulator, speed: int, ahead: timedelta
) -> None:
    server = build_guild(emulator, "Demo Circle", facilitators=1, members=2, admins=1)
    path = bot_process.settings.DATABASE_PATH
    seeded_at = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
    await migrate(path, seeded_at)
    conn = await open_database(path)
    try:
        fanout = await seed_fanout(conn, emulator, server, seeded_at)
    finally:
        await conn.close()
    due = fanout.meeting.starts_at - timedelta(days=1)
    bot_process.extra_env = {
        "CLOCK_START": (due - ahead).isoformat(),
        "CLOCK_SPEED": str(speed),
        "REMINDER_LEADS": LEADS,
        "NUDGE_DAYS_BEFORE": "0",
    }
    await bot_process.start()
    # Before the fix the alarm waited the demo delay in real seconds (40 s, or 6 hours).
    await poll_until(
        lambda: len(sent_rows(path, "1d")) == 2 or None,
        what="the two 1d reminders to be sent",
        timeout=15,
    )
    assert await bot_process.stop() == 0

    grace = late_grace(RunningClock(due, speed))
    for due_at, sent_at in sent_rows(path, "1d"):
        assert due_at == due
        assert timedelta(0) <= sent_at - due_at <= grace, (sent_at - due_at, grace)
    assert all(state == "sent" for _, _, state, _ in reminder_rows(path, "1d"))
    texts = [message_text(m) for dms in reminder_dms(emulator, server).values() for m in dms]
    assert len(texts) == 2
    assert not any("late" in text for text in texts), texts
    assert emulator.violations == []


async def test_a_months_trends_snapshot_is_made_soon_after_the_demo_clock_crosses_its_end(
    bot_process: BotProcess, emulator: Emulator
) -> None:
    server = build_guild(emulator, "Month Circle", facilitators=1, members=1, admins=1)
    path = bot_process.settings.DATABASE_PATH
    # Eight demo hours (real seconds) before midnight: start-up on a busy machine takes a few.
    start = datetime(2026, 11, 30, 16, 0, tzinfo=UTC)
    month_end = datetime(2026, 12, 1, 0, 0, tzinfo=UTC)  # midnight in London (GMT)
    await migrate(path, start)
    conn = await open_database(path)
    try:
        await groups.create_group(
            conn,
            server.guild.id,
            GroupSettings(
                "Month circle",
                server.meetings.id,
                server.facilitator_role.id,
                server.facilitators_channel.id,
                "Europe/London",
            ),
            start,
        )
    finally:
        await conn.close()
    bot_process.extra_env = {"CLOCK_START": start.isoformat(), "CLOCK_SPEED": "3600"}
    await bot_process.start()

    def november_snapshot() -> datetime | None:
        db = sqlite3.connect(path)
        try:
            row = db.execute(
                "SELECT computed_at FROM trend_snapshots WHERE month = '2026-11'"
            ).fetchone()
        finally:
            db.close()
        return datetime.fromisoformat(row[0]) if row else None

    # Before the fix the hourly job waited a real hour.
    computed_at = await poll_until(november_snapshot, what="November's snapshot", timeout=20)
    assert await bot_process.stop() == 0
    # The job runs every demo hour; a real second of slack on a loaded machine is another.
    assert month_end <= computed_at <= month_end + timedelta(hours=2), computed_at
