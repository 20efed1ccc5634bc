"""Members in voice and stage channels, as Discord tells a bot about them (issue 16).

Sources: Discord's "Voice State Object" (resources/voice), Gateway Events "Voice State Update"
and "Guild Create" (``voice_states``: "States of members currently in voice channels; lacks the
guild_id key"), "Request Guild Members" (without GUILD_PRESENCES Discord "will only send
members who are in voice, plus the member for you"), Gateway "List of Intents"
(GUILD_VOICE_STATES, 1 << 7), Permissions (CONNECT "Allows for joining of a voice channel"),
"Modify Current User Voice State" (unsuppressing yourself needs MUTE_MEMBERS, requesting to
speak REQUEST_TO_SPEAK) and "Get User Voice State" (10065 Unknown Voice State).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

import aiohttp
import discord
import pytest

from bot.clock import ManualClock
from tests.emulator import (
    Emulator,
    Intent,
    Overwrite,
    P,
    Server,
    build_guild,
    make_test_bot,
    poll_until,
    running_bot,
)
from tests.emulator.validation import get_validator

NOW = datetime(2026, 3, 1, 18, 0, tzinfo=UTC)

Change = tuple[int, int | None, int | None]


def _payloads(emulator: Emulator, event: str) -> list[dict[str, Any]]:
    return [
        p["d"]
        for session in emulator.gateway.sessions.values()
        for p in session.buffer
        if p["t"] == event
    ]


def _voice_bot(intents: discord.Intents | None = None) -> tuple[discord.Client, list[Change]]:
    bot = make_test_bot(intents=intents)
    changes: list[Change] = []

    @bot.event
    async def on_voice_state_update(
        member: discord.Member, before: discord.VoiceState, after: discord.VoiceState
    ) -> None:
        changes.append(
            (
                member.id,
                before.channel.id if before.channel else None,
                after.channel.id if after.channel else None,
            )
        )

    return bot, changes


async def _sentinel(emulator: Emulator, server: Server) -> None:
    """A message every session receives: once it is in the buffer, earlier events are too."""
    await emulator.as_user(server.member).send("sentinel", channel=server.general)
    await emulator.wait_until(
        lambda: _payloads(emulator, "MESSAGE_CREATE"), what="the sentinel message dispatched"
    )


async def test_voice_state_update_on_join_move_and_leave_per_gateway_voice_state_update(
    emulator: Emulator, discord_server: Server
) -> None:
    """Joining, moving and leaving each send VOICE_STATE_UPDATE with a voice state object:
    guild_id, channel_id (null on leaving), user_id, member, one session_id for the whole
    connection, the deaf/mute/self_* flags and request_to_speak_timestamp; each one has the
    shape of Discord's spec (VoiceStateResponse). discord.py sees before/after channels."""
    member = discord_server.member
    bot, changes = _voice_bot()  # default intents: voice_states on, members off
    async with running_bot(emulator, bot):
        person = emulator.as_user(member)
        # discord.py updates one VoiceState object in place, so each change is read before
        # the next one happens.
        steps: list[Callable[[], Awaitable[object]]] = [
            lambda: person.join_voice(discord_server.voice, self_mute=True),
            lambda: person.join_voice(discord_server.stage),
            lambda: emulator.update_voice(member, self_video=True),
            person.leave_voice,
        ]
        for done, step in enumerate(steps, 1):
            await step()
            await poll_until(
                lambda: len(changes) == done,  # noqa: B023 - awaited before the loop moves on
                what=f"on_voice_state_update {done}",
            )
    voice, stage = discord_server.voice.id, discord_server.stage.id
    assert changes == [
        (member.id, None, voice),
        (member.id, voice, stage),
        (member.id, stage, stage),
        (member.id, stage, None),
    ]
    states = _payloads(emulator, "VOICE_STATE_UPDATE")
    assert [s["channel_id"] for s in states] == [str(voice), str(stage), str(stage), None]
    assert {s["guild_id"] for s in states} == {str(discord_server.guild.id)}
    assert {s["user_id"] for s in states} == {str(member.id)}
    assert all(s["member"]["user"]["id"] == str(member.id) for s in states)
    assert len({s["session_id"] for s in states}) == 1
    assert [s["self_mute"] for s in states][:2] == [True, False]
    assert [s["self_video"] for s in states] == [False, False, True, False]
    assert [s["suppress"] for s in states][:3] == [False, True, True]  # stage audience
    assert all(s["request_to_speak_timestamp"] is None for s in states)
    validator = get_validator()
    assert [validator.check_schema("VoiceStateResponse", s) for s in states] == [[]] * 4
    assert emulator.voice_state_of(member) is None


async def test_voice_state_updates_need_the_guild_voice_states_intent(
    emulator: Emulator, discord_server: Server
) -> None:
    """ "List of Intents": VOICE_STATE_UPDATE belongs to GUILD_VOICE_STATES. A session without
    it hears nothing of people joining, and GUILD_CREATE brings no voice_states."""
    early = discord_server.members[1]
    await emulator.join_voice(early, discord_server.voice)
    intents = discord.Intents.default()
    intents.voice_states = False
    bot, changes = _voice_bot(intents)
    async with running_bot(emulator, bot):
        (session,) = [s for s in emulator.gateway.sessions.values() if s.valid]
        assert not session.intents & Intent.GUILD_VOICE_STATES
        await emulator.join_voice(discord_server.member, discord_server.voice)
        await emulator.leave_voice(early)
        await _sentinel(emulator, discord_server)
        voice = bot.get_channel(discord_server.voice.id)
        assert isinstance(voice, discord.VoiceChannel)
        assert voice.voice_states == {}
    assert changes == []
    assert _payloads(emulator, "VOICE_STATE_UPDATE") == []
    (guild_create,) = _payloads(emulator, "GUILD_CREATE")
    assert guild_create["voice_states"] == []


async def test_guild_create_carries_voice_states_and_the_members_in_voice(
    emulator: Emulator, discord_server: Server
) -> None:
    """Someone already in voice when the bot connects is in GUILD_CREATE: their voice state
    (without guild_id) and, even without the members intent, their member object. discord.py
    builds VoiceChannel.members and Member.voice from them (Guild._from_data)."""
    in_voice = discord_server.members[2]
    await emulator.join_voice(in_voice, discord_server.voice, self_deaf=True)
    async with running_bot(emulator, make_test_bot()) as bot:
        guild = bot.get_guild(discord_server.guild.id)
        assert guild is not None
        voice = guild.get_channel(discord_server.voice.id)
        assert isinstance(voice, discord.VoiceChannel)
        assert [m.id for m in voice.members] == [in_voice.id]
        cached = guild.get_member(in_voice.id)
        assert cached is not None
        assert cached.voice is not None
        assert cached.voice.channel == voice
        assert cached.voice.self_deaf
        assert guild.get_member(discord_server.members[3].id) is None  # not in voice: not sent
    (guild_create,) = _payloads(emulator, "GUILD_CREATE")
    (state,) = guild_create["voice_states"]
    assert "guild_id" not in state
    assert (state["user_id"], state["channel_id"]) == (str(in_voice.id), str(voice.id))
    sent = {m["user"]["id"] for m in guild_create["members"]}
    assert sent == {str(emulator.bot_user.id), str(in_voice.id)}


async def test_joining_needs_view_channel_and_connect_and_a_voice_channel(
    emulator: Emulator, discord_server: Server
) -> None:
    """Permissions: CONNECT "Allows for joining of a voice channel", and nobody joins a
    channel they cannot see. The control API refuses what Discord would not let them do."""
    member = discord_server.member
    discord_server.voice.overwrites = [
        Overwrite(id=discord_server.member_role.id, type=0, deny=P.CONNECT)
    ]
    with pytest.raises(PermissionError, match="CONNECT"):
        await emulator.join_voice(member, discord_server.voice)
    discord_server.voice.overwrites = [
        Overwrite(id=discord_server.guild.everyone_role_id, type=0, deny=P.VIEW_CHANNEL)
    ]
    with pytest.raises(PermissionError):
        await emulator.join_voice(member, discord_server.voice)
    # A member allowed back in by their own overwrite may join.
    discord_server.voice.overwrites.append(
        Overwrite(id=member.id, type=1, allow=P.VIEW_CHANNEL | P.CONNECT)
    )
    await emulator.join_voice(member, discord_server.voice)
    stranger = emulator.create_user("stranger")
    with pytest.raises(PermissionError, match="not a member"):
        await emulator.join_voice(stranger, discord_server.stage)
    with pytest.raises(ValueError, match="not a voice or stage channel"):
        await emulator.join_voice(discord_server.members[1], discord_server.general)
    assert emulator.voice_state_of(stranger) is None
    assert emulator.voice_state_of(discord_server.members[1]) is None


async def test_stage_audience_is_suppressed_and_speaking_needs_mute_members(
    emulator: Emulator, discord_server: Server
) -> None:
    """On a stage a member joins suppressed (audience). "You must have the MUTE_MEMBERS
    permission to unsuppress yourself"; "You must have the REQUEST_TO_SPEAK permission to
    request to speak" (Modify Current User Voice State). The request is stamped with
    Discord's clock (emu.clock)."""
    emulator.clock = ManualClock(NOW)
    stage = discord_server.stage
    listener = await emulator.join_voice(discord_server.member, stage)
    assert (listener.suppress, listener.request_to_speak_timestamp) == (True, None)
    asking = await emulator.join_voice(discord_server.members[1], stage, request_to_speak=True)
    assert (asking.suppress, asking.request_to_speak_timestamp) == (True, NOW)
    with pytest.raises(PermissionError, match="MUTE_MEMBERS"):
        await emulator.join_voice(discord_server.members[2], stage, speaker=True)
    speaker = await emulator.join_voice(discord_server.admin, stage, speaker=True)
    assert not speaker.suppress
    stage.overwrites = [
        Overwrite(id=discord_server.member_role.id, type=0, deny=P.REQUEST_TO_SPEAK)
    ]
    with pytest.raises(PermissionError, match="REQUEST_TO_SPEAK"):
        await emulator.join_voice(discord_server.members[3], stage, request_to_speak=True)
    with pytest.raises(ValueError, match="stage"):
        await emulator.join_voice(discord_server.members[3], discord_server.voice, speaker=True)
    sent = _payloads(emulator, "VOICE_STATE_UPDATE")  # no bot connected: nothing dispatched
    assert sent == []


async def test_deleting_the_channel_or_leaving_the_server_disconnects_first(
    emulator: Emulator, discord_server: Server
) -> None:
    """A member cannot stay in a deleted channel or a server they left: the bot hears a
    VOICE_STATE_UPDATE with channel_id null before CHANNEL_DELETE / GUILD_MEMBER_REMOVE."""
    intents = discord.Intents.default()
    intents.members = True
    async with running_bot(emulator, make_test_bot(intents=intents)):
        await emulator.join_voice(discord_server.members[0], discord_server.voice)
        await emulator.join_voice(discord_server.members[1], discord_server.voice)
        await emulator.join_voice(discord_server.members[2], discord_server.stage)
        await emulator.delete_channel(discord_server.voice)
        await emulator.member_leaves(discord_server.guild, discord_server.members[2])
        await _sentinel(emulator, discord_server)
    (session,) = emulator.gateway.sessions.values()
    order = [
        (
            p["t"],
            p["d"].get("user_id") or p["d"].get("user", {}).get("id"),
            p["d"].get("channel_id"),
        )
        for p in session.buffer
        if p["t"] in ("VOICE_STATE_UPDATE", "CHANNEL_DELETE", "GUILD_MEMBER_REMOVE")
    ]
    m0, m1, m2 = (str(u.id) for u in discord_server.members[:3])
    voice, stage = str(discord_server.voice.id), str(discord_server.stage.id)
    assert order == [
        ("VOICE_STATE_UPDATE", m0, voice),
        ("VOICE_STATE_UPDATE", m1, voice),
        ("VOICE_STATE_UPDATE", m2, stage),
        ("VOICE_STATE_UPDATE", m0, None),
        ("VOICE_STATE_UPDATE", m1, None),
        ("CHANNEL_DELETE", None, None),
        ("VOICE_STATE_UPDATE", m2, None),
        ("GUILD_MEMBER_REMOVE", m2, None),
    ]
    assert emulator.voice.by_user == {}
    with pytest.raises(LookupError):
        await emulator.join_voice(discord_server.members[0], discord_server.voice)


async def test_an_account_is_in_one_voice_channel_at_a_time(emulator: Emulator) -> None:
    """Joining voice in another server disconnects the first connection (channel null there)
    and starts a new voice session; a move within a server keeps the session."""
    first = build_guild(emulator, "First Circle")
    second = build_guild(emulator, "Second Circle")
    person = emulator.create_user("in-both")
    emulator.add_member(first.guild, person, dispatch=False)
    emulator.add_member(second.guild, person, dispatch=False)
    async with running_bot(emulator, make_test_bot()):
        a = await emulator.join_voice(person, first.voice)
        moved = await emulator.join_voice(person, first.stage)
        b = await emulator.join_voice(person, second.voice)
        await emulator.wait_until(
            lambda: len(_payloads(emulator, "VOICE_STATE_UPDATE")) == 4,
            what="four voice state updates",
        )
    assert moved.session_id == a.session_id
    assert b.session_id != a.session_id
    states = _payloads(emulator, "VOICE_STATE_UPDATE")
    assert [(s["guild_id"], s["channel_id"]) for s in states] == [
        (str(first.guild.id), str(first.voice.id)),
        (str(first.guild.id), str(first.stage.id)),
        (str(first.guild.id), None),
        (str(second.guild.id), str(second.voice.id)),
    ]
    assert emulator.voice_state_of(person, first.guild) is None
    assert emulator.voice_state_of(person, second.guild) is b


async def test_get_user_voice_state_or_10065_unknown_voice_state(
    emulator: Emulator, discord_server: Server
) -> None:
    """GET /guilds/{guild.id}/voice-states/{user.id} (discord.py Member.fetch_voice) returns
    the voice state; a member not in voice is 404 with JSON code 10065."""
    await emulator.join_voice(discord_server.member, discord_server.stage, request_to_speak=True)
    async with running_bot(emulator, make_test_bot()) as bot:
        guild = bot.get_guild(discord_server.guild.id)
        assert guild is not None
        member = await guild.fetch_member(discord_server.member.id)
        state = await member.fetch_voice()
        assert state.channel is not None
        assert state.channel.id == discord_server.stage.id
        assert state.suppress
        assert state.requested_to_speak_at is not None
        absent = await guild.fetch_member(discord_server.members[1].id)
        with pytest.raises(discord.NotFound) as unknown:
            await absent.fetch_voice()
        assert unknown.value.code == 10065


async def test_the_control_api_joins_and_leaves_voice_and_refuses_without_connect() -> None:
    """The standalone control API acts the same rules: 403 with the reason where Discord
    would not let the person join."""
    emu = Emulator()
    emu.control_api = True
    server = build_guild(emu)
    await emu.start()
    try:
        url = f"{emu.base_url}/_emulator/act"
        async with aiohttp.ClientSession() as session:
            act = {"user": "member1", "join_voice": "Meeting Room"}
            async with session.post(url, json=act) as resp:
                assert resp.status == 200
                assert (await resp.json())["voice"]["channel_id"] == str(server.voice.id)
            server.stage.overwrites = [Overwrite(id=server.member_role.id, type=0, deny=P.CONNECT)]
            async with session.post(url, json={"user": "member2", "join_voice": "Stage"}) as resp:
                assert resp.status == 403
                assert "CONNECT" in (await resp.json())["error"]
            async with session.post(url, json={"user": "member1", "leave_voice": True}) as resp:
                assert resp.status == 200
                assert (await resp.json())["left"]["channel_id"] == str(server.voice.id)
        assert emu.voice.by_user == {}
    finally:
        await emu.stop()
