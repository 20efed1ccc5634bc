"""One pace for every request the bot makes: a crowd pressing Join at once never pushes it over
Discord's global limit of 50 requests a second (the emulator's Discord-like limits, not roomy).

Interaction callbacks and followup webhooks are exempt from the global limit (Discord's "Rate
Limits" topic: "Interaction endpoints are not bound to the bot's Global Rate Limit"), so only
the rest is paced and a member's reply never waits behind the crowd's DMs.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import discord

from bot.app import HoldfastBot, pace_requests
from bot.clock import ManualClock
from bot.delivery.pacer import Pacer
from tests.e2e.conftest import emulator_settings, start_holdfast
from tests.e2e.test_meetings import create_group
from tests.emulator import Emulator, Server
from tests.emulator.factories import build_guild

CROWD = 100


async def test_a_hundred_members_joining_within_a_second_meet_no_429(
    emulator: Emulator, clock: ManualClock, tmp_path: Path
) -> None:
    server = build_guild(emulator, "Busy Circle", facilitators=1, members=CROWD, admins=1)
    settings = emulator_settings(tmp_path, emulator, server)
    async with start_holdfast(emulator, settings, clock):
        welcome = await create_group(emulator, server)
        emulator.rate_limits.reset()  # a fresh second for the crowd
        clicks = await asyncio.gather(
            *(
                emulator.as_user(person).click(welcome, "Join this group")
                for person in server.members
            )
        )
        replies = await asyncio.gather(
            *(click.wait_for_text("North adopters", timeout=30) for click in clicks)
        )
        dms = await asyncio.gather(
            *(
                emulator.wait_for_dm(person, contains="Welcome to North adopters", timeout=30)
                for person in server.members
            )
        )
    assert len(replies) == len(dms) == CROWD
    assert all("You're in North adopters" in reply for reply in replies)
    rate_limited = [r for r in emulator.requests if r.status == 429]
    assert [f"{r.method} {r.path}" for r in rate_limited] == []
    assert emulator.rate_limits.hits_429 == 0


async def test_a_request_through_bot_http_takes_a_turn(holdfast: HoldfastBot) -> None:
    turns = holdfast.pacer.turns
    await holdfast.http.request(discord.http.Route("GET", "/users/@me"))
    assert holdfast.pacer.turns == turns + 1


async def test_a_join_takes_one_turn_per_rest_request_and_none_for_its_replies(
    holdfast: HoldfastBot, emulator: Emulator, discord_server: Server
) -> None:
    welcome = await create_group(emulator, discord_server)
    turns, seen = holdfast.pacer.turns, len(emulator.requests)
    person = discord_server.members[0]
    joined = await emulator.as_user(person).click(welcome, "Join this group")
    await joined.wait_for_text("You're in North adopters")
    await emulator.wait_for_dm(person, contains="Welcome to North adopters")
    sent = emulator.requests[seen:]
    replies = [r for r in sent if r.path.startswith(("/interactions/", "/webhooks/"))]
    rest = [f"{r.method} {r.path}" for r in sent if r not in replies]
    assert replies  # the callback and the followup went out, without a turn
    assert any(path.startswith("POST /users/@me/channels") for path in rest)  # the DM
    assert holdfast.pacer.turns - turns == len(rest)


async def test_one_request_per_route_is_in_flight_and_other_channels_go_side_by_side() -> None:
    """With many requests of one bucket in flight, discord.py's count of the bucket is
    overwritten by answers arriving out of order, and a burst overruns the route (the 100 joins
    above saw 429s on POST /users/@me/channels)."""

    class RecordingHTTP:
        def __init__(self) -> None:
            self.calls = 0
            self.release = asyncio.Event()

        async def request(self, route: discord.http.Route, **kwargs: object) -> None:
            self.calls += 1
            if self.calls == 1:
                await self.release.wait()

    http = RecordingHTTP()
    pace_requests(http, Pacer(1e9))  # type: ignore[arg-type]
    route = discord.http.Route("POST", "/users/@me/channels")
    burst = [asyncio.create_task(http.request(route)) for _ in range(5)]
    for _ in range(50):  # let every task run as far as it can
        await asyncio.sleep(0)
    assert http.calls == 1, "the rest wait for the first answer"
    # Another channel is another bucket: it does not wait.
    elsewhere = discord.http.Route("POST", "/channels/{channel_id}/messages", channel_id=7)
    await asyncio.wait_for(http.request(elsewhere), timeout=2)
    assert http.calls == 2
    http.release.set()
    await asyncio.gather(*burst)
    assert http.calls == 6
