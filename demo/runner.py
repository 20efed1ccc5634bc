"""The demo's moving parts: the emulator with North adopters, the seeded database, the real bot
as a separate process, and the clock skip.

Skipping restarts the bot with a later CLOCK_START rather than telling a running bot to jump:
the bot needs no new way for anything outside it to move its clock (CLOCK_START is already
refused unless the bot points at an emulator on this machine), and start-up already does all
that a jump needs: overdue messages are sent by the downtime policy, the horizon is extended,
the Events list is mirrored and closed months are snapshotted when /trends is next viewed.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import aiosqlite

from bot.config import Settings, load_settings
from bot.db import open_database
from bot.delivery import outbox
from bot.delivery.outbox import Delivery
from bot.groups import service as groups
from bot.zones import load_zone
from tests.e2e.process import BotProcess
from tests.emulator.server import Emulator

from .clock import DemoClock
from .seed import Seeded, seed
from .world import DemoServer, build_north_adopters

log = logging.getLogger("demo")

# How long a bot start may take on a busy machine before the demo gives up on it.
BOT_START_TIMEOUT = 60.0


@dataclass(frozen=True)
class Upcoming:
    at: datetime
    what: str


class Demo:
    def __init__(self, data_dir: Path, start: datetime) -> None:
        self.data_dir = data_dir
        self.clock = DemoClock(start)
        self.emulator = Emulator(clock=self.clock)
        self.emulator.bot_user.username = self.emulator.bot_user.global_name = "Holdfast"
        self.server: DemoServer = build_north_adopters(self.emulator)
        self.seeded: Seeded | None = None
        self.settings: Settings | None = None
        self.bot: BotProcess | None = None
        self.state = "starting"
        """starting, running, restarting (a skip), stopped or failed."""
        self.problem: str | None = None
        self._db: aiosqlite.Connection | None = None
        self._lock = asyncio.Lock()
        self.on_change: Callable[[], None] = self.emulator.notify

    # --- lifecycle ------------------------------------------------------------------------
    async def start(self) -> None:
        await self.emulator.start()
        self.settings = load_settings(
            None,
            DISCORD_TOKEN=self.emulator.bot_token,
            DATABASE_PATH=self.data_dir / "holdfast.sqlite3",
            GUILD_IDS=(self.server.guild.id,),
            DISCORD_API_BASE_URL=self.emulator.api_base_url,
            DISCORD_GATEWAY_URL=self.emulator.gateway_url,
            GUILD_READY_TIMEOUT=0.5,
            LOG_LEVEL="INFO",
        )
        self.seeded = await seed(self.settings, self.server, self.clock.now())
        self._db = await open_database(self.settings.DATABASE_PATH)
        self.bot = BotProcess(self.settings, cwd=self.data_dir)
        await self._start_bot()

    async def _start_bot(self) -> None:
        assert self.bot is not None
        self.bot.extra_env["CLOCK_START"] = self.clock.now().isoformat()
        try:
            await self.bot.start(wait_ready=False)
            await self.bot.wait_for_output("Holdfast is ready", timeout=BOT_START_TIMEOUT)
        except (AssertionError, TimeoutError) as exc:
            self.state, self.problem = "failed", str(exc)
            self.on_change()
            raise
        self.state = "running"
        self.on_change()

    async def stop(self) -> None:
        self.state = "stopped"
        if self.bot is not None and self.bot.process is not None:
            if self.bot.process.returncode is None:
                with contextlib.suppress(AssertionError, ProcessLookupError):
                    await self.bot.stop()
            await self.bot.cleanup()
        if self._db is not None:
            await self._db.close()
            self._db = None
        await self.emulator.stop()

    # --- what Holdfast will do next ---------------------------------------------------------
    async def upcoming(self, limit: int = 5) -> list[Upcoming]:
        """The next few things Holdfast will do, soonest first: messages waiting in the outbox
        and the close of the month (whose check-ins then join the trends)."""
        if self._db is None:
            return []
        rows = await outbox.pending(self._db, limit=50)
        found: dict[datetime, list[Delivery]] = {}
        for row in rows:
            found.setdefault(row.next_attempt_at, []).append(row)
        things = [Upcoming(at, self._describe(group)) for at, group in found.items()]
        now = self.clock.now()
        for group in await groups.live_groups(self._db):
            local = now.astimezone(load_zone(group.timezone))
            year, month = (
                (local.year + 1, 1) if local.month == 12 else (local.year, local.month + 1)
            )
            closes = datetime(year, month, 1, tzinfo=load_zone(group.timezone)).astimezone(UTC)
            things.append(
                Upcoming(
                    closes, f"{local:%B} closes: its check-ins join the trends of {group.name}"
                )
            )
        things.sort(key=lambda t: t.at)
        return things[:limit]

    def _describe(self, rows: list[Delivery]) -> str:
        parts: dict[str, list[str]] = {}
        for row in rows:
            if row.destination.user_id is not None:
                user = self.emulator.users.get(row.destination.user_id)
                where = user.global_name or user.username if user else "someone"
            else:
                channel = self.emulator.channels.get(row.destination.channel_id or 0)
                where = f"#{channel.name}" if channel else "a channel"
            parts.setdefault(row.kind, []).append(where)
        return "; ".join(_KIND_TEXT.get(kind, kind + " to {}").format(_names(who))
                         for kind, who in parts.items())  # fmt: skip

    async def skip(self) -> Upcoming | None:
        """Move the clock to the next thing Holdfast will do: stop the bot, move Discord's clock
        there and start the bot on the new time (it sends what is due as it starts)."""
        async with self._lock:
            things = await self.upcoming(1)
            if not things or self.bot is None:
                return None
            target = things[0]
            self.state = "restarting"
            self.on_change()
            await self.bot.stop()
            self.clock.jump_to(max(target.at, self.clock.now()))
            await self.emulator.advance_scheduled_events()
            await self._start_bot()
            return target


_KIND_TEXT = {
    "announcement": "the meeting is announced in {}",
    "reminder": "a reminder to {}",
    "nudge": "a gentle nudge to {}, who haven't answered yet",
    "rota_ask": "{} is asked to confirm they will hold the meeting",
    "rota_escalation": "nobody has confirmed: {} is asked for someone to step in",
    "checkin_nudge": "a check-in nudge to {}",
    "meeting_changed": "a note about a changed meeting to {}",
    "meeting_notice": "a notice about a changed meeting in {}",
    "waitlist_promoted": "a place comes free for {}",
}


def _names(names: list[str]) -> str:
    unique = list(dict.fromkeys(names))
    if len(unique) <= 3:
        return " and ".join([", ".join(unique[:-1]), unique[-1]] if len(unique) > 1 else unique)
    return f"{', '.join(unique[:2])} and {len(unique) - 2} more"


def default_start() -> datetime:
    """Now, to the minute: the demo starts today."""
    return datetime.now(UTC).replace(second=0, microsecond=0)
