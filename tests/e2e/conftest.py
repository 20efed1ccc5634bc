"""Holdfast against the Discord emulator: in-process (with the controllable clock) and as a
separate process that a test can SIGTERM, SIGKILL and restart on the same database."""

from __future__ import annotations

import base64
import contextlib
import secrets
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio

from bot.app import HoldfastBot
from bot.clock import ManualClock
from bot.config import Settings, load_settings
from bot.migrate import migrate
from tests.e2e.process import BotProcess
from tests.emulator.factories import Server
from tests.emulator.harness import running_bot
from tests.emulator.server import Emulator


def realistic_token(user_id: int) -> str:
    """A token shaped like Discord's: base64(user id) . timestamp . HMAC."""
    head = base64.urlsafe_b64encode(str(user_id).encode()).decode().rstrip("=")
    return f"{head}.{secrets.token_urlsafe(4)}.{secrets.token_urlsafe(27)}"


@pytest.fixture
def clock(emulator: Emulator) -> ManualClock:
    """The bot's clock, shared with the emulator so Discord's wall-clock windows move with it."""
    manual = ManualClock(datetime(2026, 11, 25, 9, 0, tzinfo=UTC))
    emulator.clock = manual
    return manual


def emulator_settings(
    tmp_path: Path, emulator: Emulator, *servers: Server, **overrides: Any
) -> Settings:
    """Holdfast's settings for a bot against `emulator`, synced to `servers`; `overrides` are
    any other settings a test needs."""
    return load_settings(
        None,
        **{
            "DISCORD_TOKEN": emulator.bot_token,
            "DATABASE_PATH": tmp_path / "holdfast.sqlite3",
            "GUILD_IDS": tuple(server.guild.id for server in servers),
            "DISCORD_API_BASE_URL": emulator.api_base_url,
            "DISCORD_GATEWAY_URL": emulator.gateway_url,
            "GUILD_READY_TIMEOUT": 0.05,
            "LOG_LEVEL": "INFO",
            **overrides,
        },
    )


@pytest.fixture
def holdfast_settings(tmp_path: Path, emulator: Emulator, discord_server: Server) -> Settings:
    return emulator_settings(tmp_path, emulator, discord_server)


@contextlib.asynccontextmanager
async def start_holdfast(
    emulator: Emulator,
    settings: Settings,
    clock: ManualClock,
    bot_class: type[HoldfastBot] = HoldfastBot,
) -> AsyncIterator[HoldfastBot]:
    """Migrate the database and run Holdfast in this process until the block ends."""
    await migrate(settings.DATABASE_PATH, clock.now())
    bot = bot_class(settings, clock)
    async with running_bot(emulator, bot, settings.token):
        yield bot


@pytest_asyncio.fixture
async def holdfast(
    emulator: Emulator, holdfast_settings: Settings, clock: ManualClock
) -> AsyncIterator[HoldfastBot]:
    async with start_holdfast(emulator, holdfast_settings, clock) as bot:
        yield bot


@pytest_asyncio.fixture
async def bot_process(holdfast_settings: Settings, tmp_path: Path) -> AsyncIterator[BotProcess]:
    """A Holdfast process (not started yet): `await bot_process.start()`."""
    handle = BotProcess(holdfast_settings, cwd=tmp_path)
    try:
        yield handle
    finally:
        await handle.cleanup()


@pytest_asyncio.fixture
async def second_bot_process(
    holdfast_settings: Settings, tmp_path: Path
) -> AsyncIterator[BotProcess]:
    """Another Holdfast on the same database, for the one-process-per-database lock."""
    handle = BotProcess(holdfast_settings, cwd=tmp_path)
    try:
        yield handle
    finally:
        await handle.cleanup()
