"""The emulator's gateway and login: READY, guilds, resume after drops, invalid sessions."""

from __future__ import annotations

import discord
import pytest

from tests.emulator import Emulator, Server, build_guild, make_test_bot, poll_until, running_bot

MEMBERS = discord.Intents.default()
MEMBERS.members = True


async def test_login_ready_and_guild_create(emulator: Emulator, discord_server: Server) -> None:
    bot = make_test_bot(intents=MEMBERS)
    async with running_bot(emulator, bot):
        await emulator.wait_for_bot_connected(timeout=1)
        assert bot.user is not None
        assert bot.user.id == emulator.bot_user.id
        guild = bot.get_guild(discord_server.guild.id)
        assert guild is not None
        assert guild.get_channel(discord_server.meetings.id) is not None
        assert guild.get_member(discord_server.facilitator.id) is not None
        assert emulator.gateway.identifies == 1
        assert emulator.gateway.identify_payloads[0]["intents"] == bot.intents.value
        assert {r.route for r in emulator.requests} >= {"/users/@me", "/oauth2/applications/@me"}
        assert emulator.gateway.connections[0].compress == "zlib-stream"


async def test_bad_token_is_refused(emulator: Emulator, discord_server: Server) -> None:
    bot = make_test_bot()
    with pytest.raises(AssertionError, match="LoginFailure"):
        async with running_bot(emulator, bot, token="not-the-token"):
            pass
    assert emulator.requests[0].status == 401
    assert emulator.gateway.identifies == 0


async def test_dropped_websocket_resumes_without_losing_events(
    emulator: Emulator, discord_server: Server
) -> None:
    bot = make_test_bot(intents=MEMBERS)
    seen: list[int] = []

    @bot.event
    async def on_member_remove(member: discord.Member) -> None:
        seen.append(member.id)

    async with running_bot(emulator, bot):
        assert await emulator.gateway.drop(code=4000) == 1
        # While the bot is disconnected, two members leave.
        leavers = discord_server.members[:2]
        for user in leavers:
            await emulator.member_leaves(discord_server.guild, user)
        await poll_until(lambda: len(seen) == 2, what="both GUILD_MEMBER_REMOVE events")
        assert seen == [u.id for u in leavers]
        assert emulator.gateway.resumes == 1
        assert emulator.gateway.identifies == 1


async def test_op7_reconnect_and_tcp_abort_resume(
    emulator: Emulator, discord_server: Server
) -> None:
    bot = make_test_bot()
    async with running_bot(emulator, bot):
        await emulator.gateway.request_reconnect()
        await emulator.wait_until(lambda: emulator.gateway.resumes == 1, what="a RESUME after op 7")
        await emulator.gateway.drop(abort=True)
        await emulator.wait_until(
            lambda: emulator.gateway.resumes == 2, what="a RESUME after an abort"
        )
        assert emulator.gateway.identifies == 1


async def test_invalid_session_makes_the_bot_identify_again(
    emulator: Emulator, discord_server: Server
) -> None:
    bot = make_test_bot()
    identified_again: list[bool] = []

    async def no_identify_delay(shard_id: int | None, *, initial: bool = False) -> None:
        # discord.py waits 5 s before every re-IDENTIFY; skip that in the test.
        identified_again.append(not initial)

    bot.before_identify_hook = no_identify_delay  # type: ignore[method-assign]
    async with running_bot(emulator, bot):
        await emulator.gateway.invalidate_session(resumable=False)
        await emulator.wait_until(
            lambda: emulator.gateway.identifies == 2, what="a second IDENTIFY"
        )
        await poll_until(bot.is_ready, what="the bot to be ready again")
        assert identified_again == [False, True]
        assert emulator.gateway.resumes == 0


async def test_silent_gateway_times_out_and_resumes(
    emulator: Emulator, discord_server: Server
) -> None:
    emulator.gateway.heartbeat_interval_ms = 100
    bot = make_test_bot(intents=MEMBERS, heartbeat_timeout=0.5)
    seen: list[int] = []

    @bot.event
    async def on_member_remove(member: discord.Member) -> None:
        seen.append(member.id)

    async with running_bot(emulator, bot):
        emulator.gateway.go_silent()
        await emulator.member_leaves(discord_server.guild, discord_server.member)
        await emulator.wait_until(
            lambda: emulator.gateway.resumes == 1, what="a RESUME after silence", timeout=5
        )
        await poll_until(lambda: seen, what="the event sent while silent")
        assert seen == [discord_server.member.id]


async def test_close_4004_stops_the_bot(emulator: Emulator, discord_server: Server) -> None:
    bot = make_test_bot()
    runner = running_bot(emulator, bot)
    await runner.__aenter__()
    await emulator.gateway.close_with(4004)
    await poll_until(bot.is_closed, what="the bot to close")
    with pytest.raises(discord.ConnectionClosed) as info:
        await runner.__aexit__(None, None, None)
    assert info.value.code == 4004


async def test_large_guild_is_chunked_at_startup(emulator: Emulator) -> None:
    server = build_guild(emulator, members=300)
    bot = make_test_bot(intents=MEMBERS, chunk_guilds_at_startup=True)
    async with running_bot(emulator, bot):
        guild = bot.get_guild(server.guild.id)
        assert guild is not None
        assert guild.large
        assert guild.chunked
        assert len(guild.members) == 300 + 4  # + facilitator, admin, owner and the bot
        assert emulator.gateway.count("request_members") == 1
