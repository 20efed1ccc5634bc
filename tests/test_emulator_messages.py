"""Messages on the wire: nonces, rate limits, 5xx retries, permissions, DMs and validation."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import aiohttp
import discord
import pytest
from discord.ext import commands

from tests.emulator import (
    Emulator,
    Overwrite,
    P,
    Server,
    build_guild,
    make_test_bot,
    poll_until,
    running_bot,
)

MESSAGES = "/channels/{channel_id}/messages"


def _text_channel(bot: commands.Bot, channel_id: int) -> discord.TextChannel:
    channel = bot.get_channel(channel_id)
    assert isinstance(channel, discord.TextChannel)
    return channel


async def test_enforce_nonce_returns_the_existing_message(
    emulator: Emulator, discord_server: Server
) -> None:
    async with running_bot(emulator, make_test_bot()) as bot:
        channel = _text_channel(bot, discord_server.meetings.id)
        first = await channel.send("Reminder: meeting tonight", nonce="reminder-42")
        again = await channel.send("Reminder: meeting tonight", nonce="reminder-42")
        assert again.id == first.id
        other = await channel.send("Reminder: meeting tonight", nonce="reminder-43")
        assert other.id != first.id
        assert len(emulator.messages_in(discord_server.meetings)) == 2
        assert len(emulator.requests_to("POST", MESSAGES)) == 3


async def test_429_then_success(emulator: Emulator, discord_server: Server) -> None:
    fault = emulator.faults.rate_limit("POST", "/channels/*/messages", retry_after=0.05)
    async with running_bot(emulator, make_test_bot()) as bot:
        await _text_channel(bot, discord_server.general.id).send("hello")
    assert fault.hits == 1
    assert [r.status for r in emulator.requests_to("POST", MESSAGES)] == [429, 200]
    assert [m.content for m in emulator.messages_in(discord_server.general)] == ["hello"]


async def test_bucket_headers_make_discord_py_wait_instead_of_failing(
    emulator: Emulator, discord_server: Server
) -> None:
    emulator.rate_limits.set_route("POST", "/channels/*/messages", limit=2, per=0.3)
    emulator.rate_limits.global_limit = 3
    emulator.rate_limits.global_per = 0.3
    async with running_bot(emulator, make_test_bot()) as bot:
        channel = _text_channel(bot, discord_server.general.id)
        for i in range(4):
            await channel.send(f"message {i}")
    posts = emulator.requests_to("POST", MESSAGES)
    assert [m.content for m in emulator.messages_in(discord_server.general)] == [
        f"message {i}" for i in range(4)
    ]
    assert all(r.status in (200, 429) for r in posts)
    assert posts[-1].timestamp - posts[0].timestamp >= timedelta(seconds=0.25)


async def test_500_is_retried(emulator: Emulator, discord_server: Server) -> None:
    emulator.faults.server_error("POST", "/channels/*/messages", status=500)
    async with running_bot(emulator, make_test_bot()) as bot:
        await _text_channel(bot, discord_server.general.id).send("after a 500")
    assert [r.status for r in emulator.requests_to("POST", MESSAGES)] == [500, 200]
    assert len(emulator.messages_in(discord_server.general)) == 1


async def test_processed_then_500_with_nonce_creates_one_message(
    emulator: Emulator, discord_server: Server
) -> None:
    emulator.faults.processed_then_error("POST", "/channels/*/messages", status=500)
    async with running_bot(emulator, make_test_bot()) as bot:
        sent = await _text_channel(bot, discord_server.general.id).send("once", nonce="n-1")
    assert [r.status for r in emulator.requests_to("POST", MESSAGES)] == [500, 200]
    assert [m.id for m in emulator.messages_in(discord_server.general)] == [sent.id]


async def test_processed_then_500_without_nonce_duplicates(
    emulator: Emulator, discord_server: Server
) -> None:
    """A client retrying a POST without a nonce after an ambiguous 502 creates a duplicate."""
    emulator.faults.processed_then_error("POST", "/channels/*/messages", status=502)
    url = f"{emulator.api_base_url}/channels/{discord_server.general.id}/messages"
    headers = {"Authorization": f"Bot {emulator.bot_token}"}
    async with aiohttp.ClientSession(headers=headers) as session:
        for expected in (502, 200):
            async with session.post(url, json={"content": "twice"}) as resp:
                assert resp.status == expected
    assert [m.content for m in emulator.messages_in(discord_server.general)] == ["twice", "twice"]


async def test_dm_to_member_with_dms_closed_is_50007(
    emulator: Emulator, discord_server: Server
) -> None:
    closed = emulator.create_user("private-person", dms_closed=True)
    emulator.add_member(discord_server.guild, closed, dispatch=False)
    async with running_bot(emulator, make_test_bot()) as bot:
        open_user = await bot.fetch_user(discord_server.member.id)
        await open_user.send("Your check-in is ready")
        await emulator.wait_for_dm(discord_server.member, contains="check-in")
        user = await bot.fetch_user(closed.id)
        with pytest.raises(discord.Forbidden) as info:
            await user.send("hello")
    assert info.value.code == 50007
    assert emulator.dms_to(closed) == []


async def test_permissions_are_enforced(emulator: Emulator, discord_server: Server) -> None:
    bot_role = next(
        r
        for r in discord_server.guild.members[emulator.bot_user.id].role_ids
        if r != discord_server.guild.id
    )
    discord_server.general.overwrites.append(Overwrite(id=bot_role, type=0, deny=P.SEND_MESSAGES))
    hidden = emulator.create_channel(discord_server.guild, "hidden")
    hidden.overwrites.append(Overwrite(id=discord_server.guild.id, type=0, deny=P.VIEW_CHANNEL))
    async with running_bot(emulator, make_test_bot()) as bot:
        with pytest.raises(discord.Forbidden) as no_send:
            await _text_channel(bot, discord_server.general.id).send("hi")
        assert no_send.value.code == 50013
        with pytest.raises(discord.Forbidden) as no_view:
            await bot.http.send_message(hidden.id, params=_params("hi"))
        assert no_view.value.code == 50001
        # The facilitators' channel is private, but the bot has a member overwrite.
        await _text_channel(bot, discord_server.facilitators_channel.id).send("for facilitators")
        # Without Manage Events the bot cannot create scheduled events.
        guild = bot.get_guild(discord_server.guild.id)
        assert guild is not None
        emulator.roles[bot_role].permissions &= ~(P.MANAGE_EVENTS | P.CREATE_EVENTS)
        with pytest.raises(discord.Forbidden) as no_events:
            await guild.create_scheduled_event(
                name="Meeting",
                start_time=datetime.now(UTC) + timedelta(days=1),
                entity_type=discord.EntityType.voice,
                channel=discord.Object(discord_server.voice.id),
                privacy_level=discord.PrivacyLevel.guild_only,
            )
        assert no_events.value.code == 50013


def _params(content: str) -> discord.http.MultipartParameters:
    return discord.http.handle_message_parameters(content=content)


async def test_invalid_body_is_rejected_naming_the_field(
    emulator: Emulator, discord_server: Server
) -> None:
    emulator.expect_violations()
    async with running_bot(emulator, make_test_bot()) as bot:
        with pytest.raises(discord.HTTPException) as info:
            await _text_channel(bot, discord_server.general.id).send("x" * 2001)
    assert info.value.status == 400
    assert info.value.code == 50035
    assert "content" in str(info.value)
    assert len(emulator.violations) == 1
    assert "body.content" in emulator.violations[0].problems[0]
    assert emulator.messages_in(discord_server.general) == []


async def test_history_edit_delete_and_unknowns(emulator: Emulator, discord_server: Server) -> None:
    member = emulator.as_user(discord_server.member)
    posted = [await member.send(f"m{i}", channel=discord_server.general) for i in range(5)]
    async with running_bot(emulator, make_test_bot()) as bot:
        channel = _text_channel(bot, discord_server.general.id)
        newest = [m.content async for m in channel.history(limit=3)]
        assert newest == ["m4", "m3", "m2"]
        after = [
            m.content
            async for m in channel.history(after=discord.Object(posted[1].id), oldest_first=True)
        ]
        assert after == ["m2", "m3", "m4"]
        before = [m.content async for m in channel.history(before=discord.Object(posted[2].id))]
        assert before == ["m1", "m0"]
        mine = await channel.send("sentinel-note draft")
        await mine.edit(content="final")
        fetched = await channel.fetch_message(mine.id)
        assert fetched.content == "final"
        await mine.delete()
        with pytest.raises(discord.NotFound) as gone:
            await channel.fetch_message(mine.id)
        assert gone.value.code == 10008
        await emulator.delete_channel(discord_server.meetings)
        with pytest.raises(discord.NotFound) as no_channel:
            await bot.http.send_message(discord_server.meetings.id, params=_params("hi"))
        assert no_channel.value.code == 10003
    assert len(emulator.requests_containing("sentinel-note")) == 1


async def test_scheduled_events_and_roles(emulator: Emulator, discord_server: Server) -> None:
    intents = discord.Intents.default()
    intents.members = True
    bot = make_test_bot(intents=intents)
    created: list[str] = []

    @bot.event
    async def on_scheduled_event_create(event: discord.ScheduledEvent) -> None:
        created.append(event.name)

    async with running_bot(emulator, bot):
        guild = bot.get_guild(discord_server.guild.id)
        assert guild is not None
        start = datetime.now(UTC) + timedelta(days=3)
        event = await guild.create_scheduled_event(
            name="Monthly meeting",
            start_time=start,
            entity_type=discord.EntityType.voice,
            channel=discord.Object(discord_server.voice.id),
            privacy_level=discord.PrivacyLevel.guild_only,
        )
        await poll_until(
            lambda: created == ["Monthly meeting"], what="GUILD_SCHEDULED_EVENT_CREATE"
        )
        stored = emulator.scheduled_events[event.id]
        assert stored.name == "Monthly meeting"
        assert stored.scheduled_start_time == start.replace(microsecond=start.microsecond)
        await event.edit(name="Monthly meeting (moved)")
        assert stored.name == "Monthly meeting (moved)"
        fetched = await guild.fetch_scheduled_events()
        assert [e.name for e in fetched] == ["Monthly meeting (moved)"]
        await event.delete()
        assert stored.deleted

        interested: list[int] = []

        @bot.event
        async def on_scheduled_event_user_add(
            event: discord.ScheduledEvent, user: discord.User
        ) -> None:
            interested.append(user.id)

        theirs = await emulator.create_scheduled_event(
            discord_server.guild,
            "Facilitator's own event",
            start,
            creator=discord_server.facilitator,
            channel=discord_server.voice,
        )
        await poll_until(lambda: "Facilitator's own event" in created, what="the event created")
        await emulator.as_user(discord_server.member).mark_interested(theirs)
        await poll_until(lambda: interested == [discord_server.member.id], what="the RSVP event")
        users = [u.id async for u in guild.get_scheduled_event(theirs.id).users()]  # type: ignore[union-attr]
        assert users == [discord_server.member.id]

        member = await guild.fetch_member(discord_server.member.id)
        role = guild.get_role(discord_server.facilitator_role.id)
        assert role is not None
        await member.add_roles(role)
        assert (
            discord_server.facilitator_role.id in discord_server.guild.members[member.id].role_ids
        )
        await member.remove_roles(role)
        assert (
            discord_server.facilitator_role.id
            not in discord_server.guild.members[member.id].role_ids
        )
        await emulator.delete_role(discord_server.member_role)
        with pytest.raises(discord.NotFound) as unknown_role:
            await member.add_roles(discord.Object(discord_server.member_role.id))
        assert unknown_role.value.code == 10011


async def test_big_server_starts_fast_and_members_join(emulator: Emulator) -> None:
    server = build_guild(emulator, facilitators=3, members=200)
    intents = discord.Intents.default()
    intents.members = True
    bot = make_test_bot(intents=intents)
    joined: list[int] = []

    @bot.event
    async def on_member_join(member: discord.Member) -> None:
        joined.append(member.id)

    async with running_bot(emulator, bot, timeout=2):
        guild = bot.get_guild(server.guild.id)
        assert guild is not None
        assert guild.member_count == 3 + 200 + 3  # + admin, owner and the bot
        assert len(guild.members) == guild.member_count
        newcomer = emulator.create_user("newcomer")
        await emulator.member_joins(server.guild, newcomer, roles=[server.member_role])
        await poll_until(lambda: joined == [newcomer.id], what="on_member_join")


async def test_default_global_limit_is_discords_50_per_second(
    emulator: Emulator, discord_server: Server
) -> None:
    # This test is about the global limit: with the channel's own 5 / 5 s bucket discord.py
    # would spend a minute waiting on it and never reach 50/s.
    emulator.rate_limits.roomy()
    async with running_bot(emulator, make_test_bot()) as bot:
        channel = _text_channel(bot, discord_server.general.id)
        await asyncio.gather(*(channel.send(f"burst {i}") for i in range(60)))
    posts = emulator.requests_to("POST", MESSAGES)
    assert sum(1 for r in posts if r.status == 200) == 60
    assert any(r.status == 429 for r in posts), "60 messages at once pass the 50/s global limit"
    assert len(emulator.messages_in(discord_server.general)) == 60
