"""Running it for real: systemd's readiness and watchdog (a fake notify socket), the heartbeat
that `python -m bot health` reads from a running bot, and /status showing the same facts."""

from __future__ import annotations

import asyncio
import os
import secrets
import socket
import sqlite3
import subprocess
import sys
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import pytest_asyncio

from bot import health
from bot.app import HoldfastBot
from bot.config import Settings
from bot.db import open_database
from bot.migrate import migrate
from tests.e2e.process import ROOT, BotProcess
from tests.e2e.reminder_fanout import LEADS, seed_fanout
from tests.emulator.factories import Server, build_guild
from tests.emulator.harness import poll_until
from tests.emulator.server import Emulator


@dataclass
class NotifySocket:
    """What systemd would listen on: a unix datagram socket in the abstract namespace (the
    '@' form of NOTIFY_SOCKET, sd_notify(3)), recording every datagram received."""

    name: str = field(default_factory=lambda: f"@holdfast-test-{secrets.token_hex(6)}")
    received: list[str] = field(default_factory=list)
    arrived: asyncio.Event = field(default_factory=asyncio.Event)

    async def wait_for(self, message: str, *, after: int = 0, timeout: float = 20) -> int:
        """Index of the first datagram from `after` on that holds `message` as a line."""

        async def found() -> int:
            while True:
                for i in range(after, len(self.received)):
                    if message in self.received[i].splitlines():
                        return i
                self.arrived.clear()
                await self.arrived.wait()

        return await asyncio.wait_for(found(), timeout)

    async def wait_count(self, prefix: str, count: int, *, timeout: float = 20) -> list[int]:
        """Indexes of the first `count` datagrams starting with `prefix`, once there are."""

        async def counted() -> list[int]:
            while True:
                found = [i for i, m in enumerate(self.received) if m.startswith(prefix)]
                if len(found) >= count:
                    return found[:count]
                self.arrived.clear()
                await self.arrived.wait()

        return await asyncio.wait_for(counted(), timeout)


@pytest_asyncio.fixture
async def notify_socket() -> AsyncIterator[NotifySocket]:
    listener = NotifySocket()
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind("\0" + listener.name[1:])
    sock.setblocking(False)
    loop = asyncio.get_running_loop()

    async def read() -> None:
        while True:
            data = await loop.sock_recv(sock, 4096)
            listener.received.append(data.decode())
            listener.arrived.set()

    reader = asyncio.create_task(read())
    try:
        yield listener
    finally:
        reader.cancel()
        sock.close()


def run_health(settings: Settings) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in Settings.model_fields}
    env.update(DATABASE_PATH=str(settings.DATABASE_PATH), PYTHONPATH=str(ROOT))
    return subprocess.run(
        [sys.executable, "-m", "bot", "health"],
        cwd=settings.DATABASE_PATH.parent,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


async def test_systemd_is_told_ready_then_pinged_and_health_passes_against_the_running_bot(
    bot_process: BotProcess, notify_socket: NotifySocket
) -> None:
    bot_process.extra_env = {"NOTIFY_SOCKET": notify_socket.name, "WATCHDOG_USEC": "1000000"}
    await bot_process.start()
    ready = await notify_socket.wait_for("READY=1")
    first = await notify_socket.wait_for("WATCHDOG=1", after=ready + 1)
    await notify_socket.wait_for("WATCHDOG=1", after=first + 1)

    path = bot_process.settings.DATABASE_PATH
    await poll_until(
        lambda: health.check_file(path, datetime.now(UTC)).healthy or None,
        what="a connected heartbeat",
        timeout=10,
    )
    result = run_health(bot_process.settings)
    assert result.returncode == 0, result
    assert result.stdout.startswith("Healthy: heartbeat")

    pings = len(notify_socket.received)
    assert await bot_process.stop() == 0
    await notify_socket.wait_for("STOPPING=1", after=pings)


async def test_watchdog_pings_stop_while_the_dispatcher_is_wedged_and_resume_after(
    bot_process: BotProcess, notify_socket: NotifySocket, emulator: Emulator
) -> None:
    server = build_guild(emulator, "Wedge Circle", facilitators=1, members=1, admins=1)
    path = bot_process.settings.DATABASE_PATH
    seeded_at = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
    await migrate(path, seeded_at)
    conn = await open_database(path)
    try:
        await seed_fanout(conn, emulator, server, seeded_at)
    finally:
        await conn.close()
    # The meeting's announcement is due at start; Discord makes it and never answers.
    held = emulator.faults.processed_then_hold("POST", "/channels/*/messages")
    bot_process.extra_env = {
        "NOTIFY_SOCKET": notify_socket.name,
        "WATCHDOG_USEC": "1000000",
        "CLOCK_START": (seeded_at + timedelta(minutes=1)).isoformat(),
        "REMINDER_LEADS": LEADS,
        "NUDGE_DAYS_BEFORE": "0",
    }
    await bot_process.start()
    await notify_socket.wait_for("READY=1")
    await poll_until(lambda: held.held == 1 or None, what="a send to be held", timeout=20)

    # The heartbeat carries on (the loop and the database are fine) and says why it does not
    # ping, three times in a row.
    stalled = await notify_socket.wait_count("STATUS=Deliveries have made no progress", 3)
    between = notify_socket.received[stalled[0] : stalled[2]]
    assert "WATCHDOG=1" not in between, "no pings while wedged: systemd restarts the bot"
    assert "no progress" in bot_process.output

    held.release()
    await notify_socket.wait_for("WATCHDOG=1", after=stalled[2])
    assert await bot_process.stop() == 0


async def test_status_shows_the_health_facts(
    holdfast: HoldfastBot, emulator: Emulator, discord_server: Server
) -> None:
    await poll_until(lambda: holdfast.connected or None, what="the gateway to connect", timeout=5)
    await poll_until(
        lambda: (
            health.check_file(holdfast.settings.DATABASE_PATH, datetime.now(UTC)).healthy or None
        ),
        what="a connected heartbeat",
        timeout=5,
    )
    reply = await emulator.as_user(discord_server.admin).run("/status")
    response = await reply.wait_for_response()
    assert "**Health:** healthy" in response.content
    assert "Discord: connected · overdue deliveries: 0" in response.content


async def test_the_running_bot_copies_the_wal_back_so_no_commit_waits_for_it(
    bot_process: BotProcess,
) -> None:
    """Pages another writer left in the WAL reach the database file through the running bot's
    keeper (every second, on its own connection), not on some later member's commit."""
    await bot_process.start()
    path = bot_process.settings.DATABASE_PATH
    await poll_until(
        lambda: health.check_file(path, datetime.now(UTC)).healthy or None,
        what="a connected heartbeat",
        timeout=20,
    )
    writer = sqlite3.connect(path, isolation_level=None)
    try:
        writer.execute("PRAGMA wal_autocheckpoint = 0")  # this writer never copies them itself
        before = path.stat().st_size
        writer.execute("BEGIN IMMEDIATE")
        writer.executemany(
            "INSERT INTO bot_state (key, value, updated_at) VALUES (?, ?, '')",
            [(f"wal-ballast:{n}", "x" * 4000) for n in range(500)],
        )
        writer.execute("COMMIT")
        await poll_until(
            lambda: path.stat().st_size >= before + 500 * 4000 or None,
            what="the bot to copy the WAL into the database file",
            timeout=20,
        )
    finally:
        writer.close()
    assert await bot_process.stop() == 0
