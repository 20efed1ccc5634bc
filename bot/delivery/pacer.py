"""Holdfast's own pace towards Discord: one global pacer for every REST request.

discord.py keeps each route's bucket from its response headers and waits when one is empty,
but it only learns about the global limit (50 requests a second per bot) from a 429. A fan-out
to hundreds of members would hit it again and again, and Discord bans clients that keep hitting
429s. So every request the bot makes (bot/app.py hooks discord.py's HTTP session; interaction
responses, which the global limit does not count, are exempt) first takes a turn here, whoever
makes it: a fan-out and a crowd pressing Join share one budget. Turns are spaced evenly,
`1 / rate` apart, with a little headroom because Discord counts in its own windows and network
delay can bunch requests up on arrival.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable

# Discord's windows and ours are not aligned, and requests reach it with varying delay.
HEADROOM = 0.95


class Pacer:
    def __init__(
        self,
        rate: float,
        *,
        monotonic: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        if rate <= 0:
            raise ValueError("the pace is a positive number of requests a second")
        self.interval = 1.0 / (rate * HEADROOM)
        self._monotonic = monotonic
        self._sleep = sleep
        self._next = 0.0
        self._lock = asyncio.Lock()
        self.waited = 0.0
        """Seconds spent waiting for a turn (for the benchmark and tests)."""
        self.turns = 0
        """Turns taken so far (for tests)."""

    async def turn(self) -> None:
        """Wait for the next free slot, then take it."""
        async with self._lock:
            now = self._monotonic()
            wait = self._next - now
            if wait > 0:
                self.waited += wait
                await self._sleep(wait)
                now = self._next
            self._next = max(now, self._next) + self.interval
            self.turns += 1
