"""Building blocks for running a discord.py client against the emulator."""

from __future__ import annotations

import asyncio
import contextlib
import traceback
from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any, TypeVar

import discord
import yarl
from discord.ext import commands
from discord.gateway import DiscordWebSocket

from .errors import EmulatorTimeout
from .server import Emulator

ClientT = TypeVar("ClientT", bound=discord.Client)
T = TypeVar("T")

FAST_CLIENT_OPTIONS: dict[str, Any] = {
    "guild_ready_timeout": 0.05,
    "chunk_guilds_at_startup": False,
}
"""Options that make a discord.py client ready in well under a second against the emulator."""


@contextlib.contextmanager
def discord_endpoints(emulator: Emulator) -> Iterator[None]:
    """Point discord.py at the emulator (``Route.BASE``, ``DEFAULT_GATEWAY``); restore on exit."""
    old_base = discord.http.Route.BASE
    old_gateway = DiscordWebSocket.DEFAULT_GATEWAY
    discord.http.Route.BASE = emulator.api_base_url
    DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(emulator.gateway_url)
    try:
        yield
    finally:
        discord.http.Route.BASE = old_base
        DiscordWebSocket.DEFAULT_GATEWAY = old_gateway


async def poll_until(
    predicate: Callable[[], T | None], *, what: str, timeout: float = 5.0, interval: float = 0.01
) -> T:
    """Wait for a condition on state the emulator does not own (e.g. the bot's cache)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        result = predicate()
        if result:
            return result
        if loop.time() >= deadline:
            raise EmulatorTimeout(f"timed out after {timeout}s waiting for {what}")
        await asyncio.sleep(interval)


def make_test_bot(*, intents: discord.Intents | None = None, **options: Any) -> commands.Bot:
    """A plain ``commands.Bot`` with fast startup options for emulator tests."""
    if intents is None:
        intents = discord.Intents.default()
        intents.message_content = False
    return commands.Bot(command_prefix="!", intents=intents, **{**FAST_CLIENT_OPTIONS, **options})


@contextlib.asynccontextmanager
async def running_bot(
    emulator: Emulator, bot: ClientT, token: str | None = None, *, timeout: float = 20.0
) -> AsyncIterator[ClientT]:
    """Run ``bot.start(token)`` in a task against the emulator until the block ends.

    Waits until the bot is ready (failing with what went wrong; generous, since a loaded
    2-core CI machine can take seconds to start a bot, and a ready bot returns at once), and on
    exit closes the bot and re-raises anything the start task raised. The guild-ready delay is
    capped at 0.05 s.
    """
    token = emulator.bot_token if token is None else token
    state = bot._connection
    state.guild_ready_timeout = min(
        state.guild_ready_timeout, FAST_CLIENT_OPTIONS["guild_ready_timeout"]
    )
    with discord_endpoints(emulator):
        task = asyncio.create_task(bot.start(token), name="discord-bot")
        try:
            await poll_until(
                lambda: bot.is_ready() or task.done(),
                what="the bot to become ready",
                timeout=timeout,
            )
        except EmulatorTimeout as exc:
            await _stop(bot, task)
            log = [f"{e.kind}:{e.detail}" for e in emulator.gateway.log if e.kind != "dispatch"][
                -10:
            ]
            reqs = [f"{r.method} {r.path} -> {r.status}" for r in emulator.requests[-10:]]
            raise EmulatorTimeout(f"{exc}; gateway: {log}; requests: {reqs}") from None
        if task.done():
            error = task.exception()
            await bot.close()
            detail = "".join(traceback.format_exception(error)) if error else "no exception"
            raise AssertionError(
                f"the bot stopped before it was ready: {error!r}\n{detail}"
            ) from error
        try:
            yield bot
        finally:
            await _stop(bot, task)


async def _stop(bot: discord.Client, task: asyncio.Task[None]) -> None:
    await bot.close()
    try:
        await asyncio.wait_for(task, timeout=5.0)
    except TimeoutError:
        task.cancel()
        raise AssertionError("the bot task did not finish within 5s of bot.close()") from None


async def wait_for_sync(
    emulator: Emulator, *names: str, guild: Any = None, timeout: float = 5.0
) -> Any:
    """Wait until application commands were synced (see :meth:`Emulator.wait_for_commands`)."""
    return await emulator.wait_for_commands(*names, guild=guild, timeout=timeout)
