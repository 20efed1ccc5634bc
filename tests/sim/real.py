"""The simulation's second tier (`python -m tests.sim --seeds 0-2 --real`): the same seeded world
as the fast tier (tests/sim/run.py: the same operations, faults, kills, model and invariants),
with Discord being the repo's emulator (tests/emulator/, in this process on 127.0.0.1) and the
port being the real one (bot/discord_port.py `DiscordPyPort`) of a real, unmodified discord.py
client: Holdfast's own `HoldfastBot`, its HTTP pacing and DM channel store included, logged in
over HTTP and the gateway websocket.

The simulation stays the bot's timer, as in the fast tier: it drives the real services and the
real `Dispatcher` on the bot's ManualClock (which the emulator shares, so Discord's nonce window
and message times move with it), and waits for each cycle to end, by which time the emulator
has answered every request. discord.py's own timers (rate-limit waits, heartbeats, reconnects)
run in real time and never decide anything the summary counts.

A kill is as after SIGKILL: the dispatcher's task is abandoned where it stands, every socket of
the client (REST and websocket) is closed without a goodbye, both database connections are
closed without commit, and a new client logs in on the same database; its first cycle recovers
what was in doubt. A tier-2-only fault, chosen from a second random source of the seed (so the
fast tier's choices stay the same), drops the gateway websocket now and then: the client must
resume in the background while deliveries go on.

Invariants are checked over what the emulator received (messages by marker, every request and
its answer) and the database. Here 8 also means: no 429 the bot met that was not injected (a
bucket or the global limit overrun), no request refused as invalid (spec violations, 400), no
route Discord lacks; and 7 is checked over every request body, not only messages.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import random
import tempfile
from pathlib import Path

from bot.app import HoldfastBot
from bot.config import load_settings
from bot.delivery.dm_channels import DmChannels
from tests.emulator.harness import discord_endpoints
from tests.emulator.server import Emulator
from tests.sim.emulated import EmulatedDiscord
from tests.sim.invariants import NOTE_PREFIX, Checker
from tests.sim.run import LogCapture, Options, Result, Simulation

READY_WITHIN = 30.0
"""Real seconds a new client may take to log in and get READY (a loaded CI machine)."""
GATEWAY_DROP_RATE = 0.15
"""Chance, at each periodic step (every 6 simulated hours), that the websocket is dropped."""
TIER_2 = "tier 2:"
"""Story lines only this tier tells start so."""


class SimBot(HoldfastBot):
    """HoldfastBot as it is (its pacing of every request, its `DiscordPyPort`), but for
    setup_hook: the simulation is its timer and its periodic jobs, and owns the database
    connections and the dispatcher, as the fast tier does for bot/app.py."""

    async def setup_hook(self) -> None:
        return None


class RealChecker(Checker):
    """The fast tier's checker, over what the emulator received; and 7 over every request."""

    async def after_step(self) -> None:
        discord = self.sim.discord
        assert isinstance(discord, EmulatedDiscord)
        discord.collect()
        notes = self.sim.model.notes
        for rec in discord.requests_checked:
            text = f"{rec.path} {json.dumps(rec.query)} {rec.body_text()}"
            if NOTE_PREFIX in text and any(note in text for note in notes):
                self.fail(7, f"a check-in note appears in a request: {rec.method} {rec.route}")
        discord.requests_checked.clear()
        await super().after_step()


class RealSimulation(Simulation):
    def __init__(self, options: Options, folder: Path, emulator: Emulator) -> None:
        super().__init__(options, folder)
        self.emulator = emulator
        self.discord: EmulatedDiscord = EmulatedDiscord(self.clock, self.pick_fault, emulator)
        self.extra = random.Random(f"tier-2 {options.seed}")
        self.client: SimBot | None = None
        self.client_task: asyncio.Task[None] | None = None
        self.clients = 0
        self.gateway_drops = 0

    # --- the client ---------------------------------------------------------------------------

    async def connect(self) -> None:
        """A new client logs in (HTTP) and connects (gateway), as a restarted bot does; its
        port is the simulation's from now on, with the DM channels stored in the database."""
        settings = load_settings(
            None,
            DISCORD_TOKEN=self.emulator.bot_token,
            DATABASE_PATH=self.path,
            DISCORD_API_BASE_URL=self.emulator.api_base_url,
            DISCORD_GATEWAY_URL=self.emulator.gateway_url,
            GUILD_READY_TIMEOUT=0.05,
            LOG_LEVEL="INFO",
        )
        client = SimBot(settings, self.clock)
        task = asyncio.create_task(client.start(self.emulator.bot_token), name="sim-client")
        ready = asyncio.ensure_future(client.wait_until_ready())
        done, _ = await asyncio.wait(
            {task, ready}, timeout=READY_WITHIN, return_when=asyncio.FIRST_COMPLETED
        )
        if ready not in done:
            ready.cancel()
            task.cancel()
            problem = task.exception() if task in done else "timed out"
            raise RuntimeError(f"the simulation's client did not become ready: {problem!r}")
        client.port.dm_channels = DmChannels(self.dconn, self.clock.now)
        self.client, self.client_task = client, task
        self.clients += 1
        self.discord.attach(client.port)

    async def kill_client(self) -> None:
        """As SIGKILL: every socket closed where it stands (no close frame, no answer awaited),
        then the client object is disposed of; nothing of it runs again."""
        client, task = self.client, self.client_task
        self.discord.attach(None)
        self.client = self.client_task = None
        if client is None or task is None:
            return
        task.cancel()
        connector = client.http.connector
        if connector is not None:
            await connector.close()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await task
        await self.discord.after_kill()
        with contextlib.suppress(Exception):
            await client.close()  # frees what is left (the keep-alive thread); sockets are gone

    async def stop_client(self) -> None:
        """At the end: the client is connected again whatever the websocket went through (a
        broken run raises), then stops cleanly."""
        client, task = self.client, self.client_task
        self.discord.attach(None)
        self.client = self.client_task = None
        if client is None or task is None:
            return
        try:
            if self.gateway_drops and not task.done():
                sessions = self.emulator.gateway.sessions.values()
                await self.emulator.wait_until(
                    lambda: any(s.valid and s.conn is not None for s in sessions),
                    what="the client to be connected again after dropped websockets",
                    timeout=READY_WITHIN,
                )
        finally:
            await client.close()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await task

    # --- the fast tier's steps, with the client ---------------------------------------------

    async def start(self) -> None:
        await super().start()
        self.checker = RealChecker(self)
        await self.connect()

    async def restart(self, why: str) -> None:
        await self.kill_client()
        await super().restart(why)
        await self.connect()

    async def periodic(self) -> None:
        await super().periodic()
        if self.extra.random() < GATEWAY_DROP_RATE:
            abort = self.extra.random() < 0.5
            await self.emulator.gateway.drop(abort=abort)
            self.story.append(
                f"{self.clock.now():%Y-%m-%d %H:%M:%S} {TIER_2} websocket dropped"
                + (" (connection aborted)" if abort else " (close 4000)")
            )
            self.gateway_drops += 1

    async def run(self) -> Result:
        # discord.py's own log lines too, at its most talkative (it logs request bodies at
        # DEBUG): a note must not reach them either.
        discord_log = LogCapture()
        logger = logging.getLogger("discord")
        logger.addHandler(discord_log)
        old_level = logger.level
        logger.setLevel(logging.DEBUG)
        try:
            result = await super().run()
        finally:
            logger.removeHandler(discord_log)
            logger.setLevel(old_level)
            await self.stop_client()
        for line in discord_log.lines:
            if NOTE_PREFIX in line and any(note in line for note in self.model.notes):
                self.checker.fail(7, "a check-in note appears in discord.py's logs")
        return result


async def run_real_seed(options: Options) -> Result:
    """One seed through tier 2: a fresh emulator and database, the real client."""
    with tempfile.TemporaryDirectory(prefix=f"holdfast-sim2-{options.seed}-") as folder:
        async with Emulator() as emulator:
            with discord_endpoints(emulator):
                return await RealSimulation(options, Path(folder), emulator).run()
