"""Discord for the simulation's second tier: the repo's emulator (tests/emulator/), reached over
real HTTP by the real port (bot/discord_port.py `DiscordPyPort`) of a real, unmodified
discord.py client (tests/sim/real.py starts and kills it).

`EmulatedDiscord` keeps the fast tier's interface (tests/sim/memdiscord.py: the same world
building, the same `received`, `faults`, `recent`, `killed` and `limit_violations`), so the same
Simulation and Checker run over it. As the port, it asks the simulation's one seeded random
source for a fault at the same points the fast tier does (each send, each marker lookup) and
turns the answer into the emulator's own fault injection on the request the port is about to
make, then lets the real port make it:

| fault            | what the emulator does (tests/emulator/faults.py)                   |
|------------------|---------------------------------------------------------------------|
| 429              | 429 five times: discord.py waits each out, then gives up (its limit) |
| 5xx-before       | 503 before processing                                               |
| 5xx-after        | the message is created, then 503                                    |
| reset            | the connection is closed before processing                          |
| held             | the message is created, then the connection is dropped unanswered   |
| kill-after-send  | the message is created and its answer held; the bot is killed then  |
| lookup-5xx       | 503 on Get Channel Messages                                         |
| kill-before-send, kill-in-lookup: the bot is killed before the request leaves          |

A fault is counted (as in the fast tier) when it took effect: a 5xx or drop after processing
only once Discord really created the message (a closed DM answers 403 first).

What the emulator received is read back from it: every message the bot created, in order
(`received`, with its marker), and every request with its answer, for invariants 7 and 8: a
429 that was not injected, a request refused as invalid (spec violations, 400/401/413), a route
the emulator lacks, or a check-in note anywhere in a request.
"""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import TypeVar

from bot.clock import ManualClock
from bot.delivery.port import Destination, OutgoingMessage, Sent
from bot.discord_port import DiscordPyPort
from tests.emulator.faults import Fault as EmulatorFault
from tests.emulator.server import Emulator, RecordedRequest
from tests.sim.memdiscord import (
    ClockSnowflakes,
    Fault,
    MemDiscord,
    Received,
    _custom_ids,
    _payload_text,
    markers_in,
)

T = TypeVar("T")

MESSAGES = "/channels/*/messages"
"""Create Message (POST) and Get Channel Messages (GET), on any channel (DMs included)."""
DISCORD_PY_TRIES = 5
"""discord.py's HTTPClient.request tries a request this often (`for tries in range(5)`),
sleeping out each 429's retry_after, before raising HTTPException(429) to the caller."""
HELD_WITHIN = 30.0
"""Real seconds a held send may take to reach the emulator before the run gives up (only a
broken run waits this long)."""
REFUSED = {400: "refused as invalid", 401: "refused as unauthorised", 413: "refused as too big"}


class EmulatedDiscord(MemDiscord):
    """The emulator as the simulation's Discord; the port of the client currently logged in."""

    def __init__(
        self, clock: ManualClock, pick_fault: Callable[[str], Fault | None], emulator: Emulator
    ) -> None:
        super().__init__(clock, pick_fault)
        # Discord's wall clock is the simulation's (nonce window, timestamps, snowflakes), so
        # ids and times are the same in every run of a seed.
        emulator.clock = clock
        emulator.snowflake = ClockSnowflakes(clock)
        self.emulator = emulator
        self.world = emulator
        self.bot = emulator.bot_user
        self._port: DiscordPyPort | None = None
        self._messages_seen = 0
        self._requests_seen = 0
        self.requests_checked: list[RecordedRequest] = []
        """Requests read back since the checker last looked (it searches them for notes)."""
        self.parked: list[asyncio.Task[Sent]] = []
        """Real requests a kill left waiting for an answer (they end when the client dies)."""
        self.armed: list[EmulatorFault] = []
        self.held_for_kill: list[EmulatorFault] = []
        self.admin = self.add_admin()

    # --- the client ---------------------------------------------------------------------------

    @property
    def port(self) -> DiscordPyPort:
        assert self._port is not None, "no client is logged in"
        return self._port

    def attach(self, port: DiscordPyPort | None) -> None:
        """The port of the client now logged in (None while none is)."""
        self._port = port

    async def after_kill(self) -> None:
        """The client is gone: answers held for it go nowhere, faults armed for it are
        dropped, and the requests it left waiting end (they fail: their connections closed)."""
        for fault in [*self.held_for_kill, *self.armed]:
            fault.release()
            if fault in self.emulator.faults.active:
                self.emulator.faults.active.remove(fault)
        self.held_for_kill.clear()
        self.armed.clear()
        if self.parked:
            await asyncio.gather(*self.parked, return_exceptions=True)
        self.parked.clear()

    # --- what the emulator received -----------------------------------------------------------

    def collect(self) -> None:
        """Read back what reached the emulator since the last look: the bot's new messages
        (into `received`) and every request (limits and rate limits into `limit_violations`)."""
        emulator = self.emulator
        new = itertools.islice(emulator.messages.values(), self._messages_seen, None)
        by_channel = {channel: user for user, channel in emulator.dm_channels.items()}
        for message in new:
            self._messages_seen += 1
            if message.author.id != self.bot.id or message.ephemeral:
                continue
            self.received.append(
                Received(
                    at=message.timestamp,
                    message_id=message.id,
                    channel_id=message.channel_id,
                    dm_user=by_channel.get(message.channel_id),
                    markers=markers_in(_custom_ids(message.components)),
                    text=_payload_text({"content": message.content, "embeds": message.embeds}),
                    pinged=(),
                )
            )
        requests = emulator.requests[self._requests_seen :]
        self._requests_seen += len(requests)
        self.requests_checked += requests
        for index, rec in enumerate(requests, start=self._requests_seen - len(requests)):
            what = f"{rec.method} {rec.route}"
            if rec.status == 429 and rec.fault != "status":
                # Only an injected 429 (fault "status") is expected; the emulator's own
                # ("rate_limited", a bucket or the global limit; "cloudflare_ban") is the
                # bot breaking Discord's limits, unless injected ones filled the bucket.
                if not self._filled_by_injected(index):
                    self.limit_violations.append(
                        f"{what}: a 429 that was not injected ({rec.fault})"
                    )
            elif rec.status in REFUSED:
                self.limit_violations.append(f"{what}: {rec.status}, {REFUSED[rec.status]}")
        for violation in emulator.violations:
            self.limit_violations.append(f"spec violation: {violation}")
        emulator.violations.clear()
        for route in emulator.unimplemented:
            self.limit_violations.append(f"a route Discord lacks or the emulator does: {route}")
        emulator.unimplemented.clear()

    def _filled_by_injected(self, index: int) -> bool:
        """Whether the emulator's own 429 on request `index` is owed to injected 429s.

        The emulator counts every authorised request in its route's bucket, an injected 429
        too, while discord.py reads no rate-limit headers from a 429 (discord/http.py:
        `if response.status != 429: ratelimit.update(...)`). Five injected 429s on a channel's
        5-per-5-s message bucket leave it full without discord.py knowing, so its next send
        there meets a real 429. That one is the injection's: without the injected requests in
        the bucket's window, the bucket would have had room."""
        requests = self.emulator.requests
        rec = requests[index]
        if rec.fault != "rate_limited":
            return False  # a Cloudflare ban is never excused
        limit = self.emulator.rate_limits._limit_for(rec.method, rec.route, rec.path)
        since = rec.timestamp - timedelta(seconds=limit.per)
        window = [
            r
            for r in requests[:index]
            if r.method == rec.method and r.path == rec.path and r.timestamp > since
        ]
        injected = sum(1 for r in window if r.fault == "status" and r.status == 429)
        counted = sum(1 for r in window if r.status != 429 or r.fault == "status")
        return injected > 0 and counted - injected < limit.limit

    # --- the port -----------------------------------------------------------------------------

    def _arm(self, fault: Fault | None) -> EmulatorFault | None:
        faults = self.emulator.faults
        armed: EmulatorFault | None
        if fault == "429":
            armed = faults.rate_limit("POST", MESSAGES, count=DISCORD_PY_TRIES)
        elif fault == "5xx-before":
            armed = faults.server_error("POST", MESSAGES, status=503)
        elif fault == "5xx-after":
            armed = faults.processed_then_error("POST", MESSAGES, status=503)
        elif fault == "reset":
            armed = faults.connection_reset("POST", MESSAGES)
        elif fault == "held":
            armed = faults.processed_then_reset("POST", MESSAGES)
        elif fault == "kill-after-send":
            armed = faults.processed_then_hold("POST", MESSAGES)
        elif fault == "lookup-5xx":
            armed = faults.server_error("GET", MESSAGES, status=503)
        else:
            armed = None
        if armed is not None:
            self.armed.append(armed)
        return armed

    def _disarm(self, fault: Fault | None, armed: EmulatorFault | None, since: int) -> None:
        """Take the fault out, and count it if it took effect on a request made since."""
        if armed is None or armed not in self.armed:
            return  # none, or a kill took it (after_kill releases it)
        self.armed.remove(armed)
        if armed in self.emulator.faults.active:
            self.emulator.faults.active.remove(armed)
        took = {429: 429, 503: 503}.get(armed.status, 0)
        for rec in self.emulator.requests[since:]:
            if rec.fault == armed.kind.value and rec.status in (took, 599):
                assert fault is not None
                self._count(fault)
                return

    async def _faulted(
        self, fault: Fault | None, call: Callable[[], Awaitable[T]], *, kill_when_held: bool
    ) -> T:
        armed = self._arm(fault)
        since = len(self.emulator.requests)
        try:
            if not kill_when_held or armed is None:
                return await call()
            return await self._kill_when_held(armed, call)
        finally:
            self._disarm(fault, armed, since)

    async def _kill_when_held(self, armed: EmulatorFault, call: Callable[[], Awaitable[T]]) -> T:
        """Send; once Discord has made the message and holds its answer, the bot is killed
        (if the send ends first, e.g. a closed DM's 403, it was not: as in the fast tier)."""
        inner: asyncio.Task[T] = asyncio.ensure_future(call())
        held = asyncio.ensure_future(
            self.emulator.wait_until(
                lambda: armed.held > 0, what="a held send", timeout=HELD_WITHIN
            )
        )
        done, _ = await asyncio.wait({inner, held}, return_when=asyncio.FIRST_COMPLETED)
        if inner in done:
            held.cancel()
            return inner.result()
        held.result()
        self.parked.append(inner)  # type: ignore[arg-type]
        self.armed.remove(armed)
        self.held_for_kill.append(armed)  # released once the client is gone, not before
        await self._kill("kill-after-send")
        raise AssertionError("unreachable: a kill never returns")

    async def send(self, destination: Destination, message: OutgoingMessage, *, nonce: str) -> Sent:
        self.requests += 1
        fault = self.pick_fault("send")
        if fault == "kill-before-send":
            await self._kill(fault)

        async def call() -> Sent:
            return await self.port.send(destination, message, nonce=nonce)

        return await self._faulted(fault, call, kill_when_held=fault == "kill-after-send")

    async def edit(self, channel_id: int, message_id: int, message: OutgoingMessage) -> None:
        self.requests += 1
        await self.port.edit(channel_id, message_id, message)

    async def find_marker(
        self, destination: Destination, marker: str, *, limit: int = 50
    ) -> Sent | None:
        self.requests += 1
        fault = self.pick_fault("lookup")
        if fault == "kill-in-lookup":
            await self._kill(fault)

        async def call() -> Sent | None:
            return await self.port.find_marker(destination, marker, limit=limit)

        return await self._faulted(fault, call, kill_when_held=False)
