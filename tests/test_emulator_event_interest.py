"""Members clicking Interested on a scheduled event, as Discord tells a bot about it (issue 16).

Sources: Gateway Events "Guild Scheduled Event User Add" / "... User Remove" (fields
``guild_scheduled_event_id``, ``user_id``, ``guild_id``), Gateway "List of Intents"
(GUILD_SCHEDULED_EVENTS, 1 << 16, not privileged), the "Guild Scheduled Event" resource page
(``user_count`` with ``with_user_count``, privacy level GUILD_ONLY "only accessible to guild
members", COMPLETED/CANCELED are final) and "Get Guild Scheduled Event Users" ("Users will
always be returned in ascending order by user_id. If both before and after are provided, only
before is respected", ``limit`` up to 100, member data with ``with_member``), checked against
Discord's OpenAPI spec (``ScheduledEventUserResponse``).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import aiohttp
import discord
import pytest

from bot.clock import ManualClock
from tests.emulator import (
    Emulator,
    ScheduledEvent,
    Server,
    build_guild,
    make_test_bot,
    poll_until,
    running_bot,
)
from tests.emulator.validation import get_validator

NOW = datetime(2026, 3, 1, 18, 0, tzinfo=UTC)


async def api(emu: Emulator, path: str) -> tuple[int, Any]:
    headers = {"Authorization": f"Bot {emu.bot_token}"}
    async with (
        aiohttp.ClientSession(headers=headers) as session,
        session.get(f"{emu.api_base_url}{path}") as resp,
    ):
        return resp.status, await resp.json()


def _payloads(emulator: Emulator, *events: str) -> list[tuple[str, dict[str, Any]]]:
    return [
        (p["t"], p["d"])
        for session in emulator.gateway.sessions.values()
        for p in session.buffer
        if p["t"] in events
    ]


async def _meeting(emulator: Emulator, server: Server, **kw: Any) -> ScheduledEvent:
    return await emulator.create_scheduled_event(
        server.guild,
        "Monthly meeting",
        emulator.clock.now() + timedelta(days=1),
        creator=server.facilitator,
        **kw,
    )


async def test_interested_and_taking_it_back_reach_the_bot_and_the_user_count(
    emulator: Emulator, discord_server: Server
) -> None:
    """USER_ADD / USER_REMOVE carry exactly guild_scheduled_event_id, user_id and guild_id;
    the event's user_count (with_user_count) and Get Guild Scheduled Event Users follow.
    Clicking what is already so sends nothing."""
    emulator.clock = ManualClock(NOW)
    one, two = discord_server.members[:2]
    async with running_bot(emulator, make_test_bot()) as bot:
        event = await _meeting(emulator, discord_server, channel=discord_server.voice)
        await emulator.mark_interested(one, event)
        await emulator.as_user(two).mark_interested(event)
        await emulator.mark_interested(one, event)  # already interested: nothing new
        guild = bot.get_guild(discord_server.guild.id)
        assert guild is not None
        fetched = await guild.fetch_scheduled_event(event.id, with_counts=True)
        assert fetched.user_count == 2
        assert sorted([u.id async for u in fetched.users()]) == sorted([one.id, two.id])
        await emulator.as_user(one).unmark_interested(event)
        fetched = await guild.fetch_scheduled_event(event.id, with_counts=True)
        assert fetched.user_count == 1
        assert [u.id async for u in fetched.users()] == [two.id]
    common = {"guild_scheduled_event_id": str(event.id), "guild_id": str(event.guild_id)}
    assert _payloads(
        emulator, "GUILD_SCHEDULED_EVENT_USER_ADD", "GUILD_SCHEDULED_EVENT_USER_REMOVE"
    ) == [
        ("GUILD_SCHEDULED_EVENT_USER_ADD", {**common, "user_id": str(one.id)}),
        ("GUILD_SCHEDULED_EVENT_USER_ADD", {**common, "user_id": str(two.id)}),
        ("GUILD_SCHEDULED_EVENT_USER_REMOVE", {**common, "user_id": str(one.id)}),
    ]
    status, plain = await api(emulator, f"/guilds/{event.guild_id}/scheduled-events/{event.id}")
    assert status == 200
    assert "user_count" not in plain  # only with with_user_count


async def test_interest_events_need_the_guild_scheduled_events_intent(
    emulator: Emulator, discord_server: Server
) -> None:
    """A session without GUILD_SCHEDULED_EVENTS hears nothing of Interested clicks."""
    emulator.clock = ManualClock(NOW)
    intents = discord.Intents.default()
    intents.guild_scheduled_events = False
    async with running_bot(emulator, make_test_bot(intents=intents)):
        event = await _meeting(emulator, discord_server, channel=discord_server.voice)
        await emulator.mark_interested(discord_server.member, event)
        await emulator.unmark_interested(discord_server.member, event)
        await emulator.as_user(discord_server.member).send("sentinel")
        await emulator.wait_until(
            lambda: _payloads(emulator, "MESSAGE_CREATE"), what="the sentinel message"
        )
    assert (
        _payloads(emulator, "GUILD_SCHEDULED_EVENT_USER_ADD", "GUILD_SCHEDULED_EVENT_USER_REMOVE")
        == []
    )


async def test_finished_deleted_and_other_servers_events_cannot_gain_interest(
    emulator: Emulator, discord_server: Server
) -> None:
    """COMPLETED and CANCELED are final, so Discord offers no Interested button on them (its
    own transitions count: an external event past its end is COMPLETED); a GUILD_ONLY event is
    "only accessible to guild members"."""
    clock = ManualClock(NOW)
    emulator.clock = clock
    member = discord_server.member
    picnic = await _meeting(emulator, discord_server, location="The park")
    await emulator.mark_interested(member, picnic)
    clock.advance(timedelta(days=1, hours=2))  # past its end: Discord completes it
    with pytest.raises(PermissionError, match="completed"):
        await emulator.mark_interested(discord_server.members[1], picnic)
    with pytest.raises(PermissionError, match="completed"):
        await emulator.unmark_interested(member, picnic)
    assert picnic.status == 3
    assert picnic.subscriber_ids == [member.id]

    canceled = await _meeting(emulator, discord_server, channel=discord_server.voice)
    canceled.status = 4
    with pytest.raises(PermissionError, match="canceled"):
        await emulator.mark_interested(member, canceled)
    deleted = await _meeting(emulator, discord_server, channel=discord_server.voice)
    deleted.deleted = True
    with pytest.raises(PermissionError, match="deleted"):
        await emulator.mark_interested(member, deleted)
    other = build_guild(emulator, "Another Circle")
    theirs = await _meeting(emulator, other, channel=other.voice)
    with pytest.raises(PermissionError, match="not a member"):
        await emulator.mark_interested(member, theirs)
    assert canceled.subscriber_ids == deleted.subscriber_ids == theirs.subscriber_ids == []


async def test_event_users_pages_in_ascending_user_id_and_before_wins_over_after(
    emulator: Emulator, discord_server: Server
) -> None:
    """Get Guild Scheduled Event Users: ascending by user id; ``after`` pages forward;
    ``before`` gives the users just below it; with both "only before is respected"; ``limit``
    above 100 is refused like any spec violation; ``with_member`` adds member data "if it
    exists". Every entry has the shape of ScheduledEventUserResponse."""
    emulator.clock = ManualClock(NOW)
    event = await _meeting(emulator, discord_server, channel=discord_server.voice)
    people = sorted(discord_server.members, key=lambda u: u.id)
    for person in reversed(people):
        await emulator.mark_interested(person, event)
    ids = [str(u.id) for u in people]
    base = f"/guilds/{event.guild_id}/scheduled-events/{event.id}/users"

    async def page(query: str) -> list[str]:
        status, body = await api(emulator, f"{base}?{query}")
        assert status == 200, body
        return [entry["user_id"] for entry in body]

    assert await page("limit=2") == ids[:2]
    assert await page(f"limit=2&after={ids[1]}") == ids[2:4]
    assert await page(f"limit=2&before={ids[4]}") == ids[2:4]
    assert await page(f"limit=100&before={ids[2]}&after={ids[0]}") == ids[:2]
    assert await page("") == ids

    await emulator.member_leaves(discord_server.guild, people[0])
    status, with_member = await api(emulator, f"{base}?with_member=true&limit=2")
    assert status == 200
    assert "member" not in with_member[0]  # left the server: no member data
    assert with_member[1]["member"]["user"]["id"] == ids[1]
    assert with_member[1]["user"]["id"] == ids[1]
    assert {e["response"] for e in with_member} == {1}
    _, without = await api(emulator, f"{base}?limit=2")
    assert all("member" not in e for e in without)
    validator = get_validator()
    for entry in [*with_member, *without]:
        assert validator.check_schema("ScheduledEventUserResponse", entry) == []

    emulator.expect_violations()
    status, body = await api(emulator, f"{base}?limit=101")
    assert (status, body["code"]) == (400, 50035)
    assert emulator.violations


async def test_discord_py_drops_user_add_for_users_it_has_not_cached(
    emulator: Emulator, discord_server: Server
) -> None:
    """Not an emulator rule but a trap it shows: discord.py 2.7 dispatches
    on_scheduled_event_user_add only for users in its cache (state.py
    parse_guild_scheduled_event_user_add: "referencing unknown user ID ... Discarding") and
    has no raw event for it. Without the members intent the payload arrives, the event does
    not: a bot must read the raw gateway payload (or the users endpoint) instead."""
    emulator.clock = ManualClock(NOW)
    intents = discord.Intents.none()
    intents.guilds = True
    intents.guild_scheduled_events = True
    bot = make_test_bot(intents=intents, enable_debug_events=True)
    heard: list[int] = []
    raw: list[str] = []
    created: list[int] = []

    @bot.event
    async def on_scheduled_event_user_add(
        event: discord.ScheduledEvent, user: discord.User
    ) -> None:
        heard.append(user.id)

    @bot.event
    async def on_socket_event_type(event_type: str) -> None:
        raw.append(event_type)

    @bot.event
    async def on_scheduled_event_create(event: discord.ScheduledEvent) -> None:
        created.append(event.id)

    async with running_bot(emulator, bot):
        event = await _meeting(emulator, discord_server, channel=discord_server.voice)
        await emulator.mark_interested(discord_server.member, event)
        later = await _meeting(emulator, discord_server, channel=discord_server.voice)
        await poll_until(lambda: later.id in created, what="the later event created")
    assert "GUILD_SCHEDULED_EVENT_USER_ADD" in raw
    assert heard == []


async def test_the_control_api_marks_interest_and_refuses_a_finished_event() -> None:
    emu = Emulator()
    emu.control_api = True
    emu.clock = ManualClock(NOW)
    server = build_guild(emu)
    await emu.start()
    try:
        event = await _meeting(emu, server, channel=server.voice)
        url = f"{emu.base_url}/_emulator/act"
        async with aiohttp.ClientSession() as session:
            act = {"user": "member1", "interested": str(event.id)}
            async with session.post(url, json=act) as resp:
                assert (resp.status, await resp.json()) == (200, {"user_count": 1})
            event.status = 4
            act = {"user": "member1", "uninterested": str(event.id)}
            async with session.post(url, json=act) as resp:
                assert resp.status == 403
                assert "canceled" in (await resp.json())["error"]
        assert event.subscriber_ids == [server.member.id]
    finally:
        await emu.stop()
