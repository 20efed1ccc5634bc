"""Members writing to the bot in DMs, as Discord delivers it (issue 16: answers by a word).

Sources: Gateway Events "Message Create" (a message object plus ``guild_id``/``member`` only
in guilds), Gateway "List of Intents" (DIRECT_MESSAGES, 1 << 12, for MESSAGE_CREATE in DMs),
Gateway "Message Content Intent": apps without it "will receive empty values in fields that
contain user-inputted content with a few exceptions: Content in messages that an app sends,
Content in DMs with the app, Content in which the app is mentioned", and the Message Reference
object (a reply: type 0 DEFAULT reference with ``message_id`` and ``channel_id``; the message
is type 19 REPLY with ``referenced_message``).
"""

from __future__ import annotations

from typing import Any

import aiohttp
import discord
import pytest

from tests.emulator import (
    Emulator,
    MessageGone,
    Server,
    build_guild,
    make_test_bot,
    poll_until,
    running_bot,
)


def _payloads(emulator: Emulator, event: str) -> list[dict[str, Any]]:
    return [
        p["d"]
        for session in emulator.gateway.sessions.values()
        for p in session.buffer
        if p["t"] == event
    ]


async def test_a_reply_by_dm_reaches_a_bot_without_message_content_in_the_same_channel(
    emulator: Emulator, discord_server: Server
) -> None:
    """The bot DMs a member (POST /users/@me/channels, then a message); the member replies
    "going" to it. The bot, with DIRECT_MESSAGES but not MESSAGE_CONTENT, gets the content, in
    the channel it wrote to, as a reply whose reference resolves to its own message."""
    bot = make_test_bot()  # default intents: dm_messages on, message_content off
    received: list[discord.Message] = []

    @bot.event
    async def on_message(message: discord.Message) -> None:
        if message.author.id != emulator.bot_user.id:
            received.append(message)

    member = discord_server.member
    async with running_bot(emulator, bot) as running:
        assert not running.intents.message_content
        user = await running.fetch_user(member.id)
        reminder = await user.send("Meeting tomorrow at 19:30. Reply going, maybe or can't.")
        reply = await emulator.as_user(member).send_dm("Going!", reply_to=reminder)
        await poll_until(lambda: received, what="on_message for the member's DM")
        (message,) = received
        assert message.content == "Going!"
        assert message.guild is None
        assert message.channel.id == reminder.channel.id == emulator.dm_channels[member.id]
        assert message.type is discord.MessageType.reply
        assert message.reference is not None
        assert message.reference.message_id == reminder.id
        resolved = message.reference.resolved
        assert isinstance(resolved, discord.Message)
        assert resolved.content == reminder.content
        history = [m.id async for m in reminder.channel.history(limit=10)]
        assert history == [reply.id, reminder.id]
    (created,) = [p for p in _payloads(emulator, "MESSAGE_CREATE") if p["id"] == str(reply.id)]
    assert "guild_id" not in created
    assert "member" not in created
    assert created["type"] == 19
    assert created["message_reference"] == {
        "type": 0,
        "message_id": str(reminder.id),
        "channel_id": str(reminder.channel.id),
    }
    assert created["referenced_message"]["id"] == str(reminder.id)
    assert emulator.dms_to(member) == [emulator.messages[reminder.id]]  # only the bot's


async def test_a_member_who_writes_first_is_in_the_channel_the_bot_opens_later(
    emulator: Emulator, discord_server: Server
) -> None:
    bot = make_test_bot()
    seen: list[discord.Message] = []

    @bot.event
    async def on_message(message: discord.Message) -> None:
        seen.append(message)

    member = discord_server.members[1]
    async with running_bot(emulator, bot) as running:
        first = await emulator.dm_bot(member, "hello, is this the support group bot?")
        await poll_until(lambda: seen, what="on_message")
        channel = await (await running.fetch_user(member.id)).create_dm()
        assert channel.id == first.channel_id == seen[0].channel.id
        assert seen[0].content == "hello, is this the support group bot?"


async def test_dm_messages_need_the_direct_messages_intent(
    emulator: Emulator, discord_server: Server
) -> None:
    """MESSAGE_CREATE in a DM belongs to DIRECT_MESSAGES: a session without it gets none."""
    intents = discord.Intents.default()
    intents.dm_messages = False
    async with running_bot(emulator, make_test_bot(intents=intents)):
        dm = await emulator.dm_bot(discord_server.member, "going")
        await emulator.as_user(discord_server.member).send("sentinel")
        await emulator.wait_until(
            lambda: _payloads(emulator, "MESSAGE_CREATE"), what="the sentinel message"
        )
    assert [p["content"] for p in _payloads(emulator, "MESSAGE_CREATE")] == [""]  # sentinel
    assert all(p["id"] != str(dm.id) for p in _payloads(emulator, "MESSAGE_CREATE"))


async def test_a_person_writes_only_what_discord_lets_them(
    emulator: Emulator, discord_server: Server
) -> None:
    """Nobody can message a bot they share no server with; a reply needs a message the person
    can see in that DM; a message is 1 to 4,000 characters. A member with DMs from server
    members turned off can still write to the bot (the setting limits what they receive)."""
    member = discord_server.member
    stranger = emulator.create_user("stranger")
    with pytest.raises(PermissionError, match="shares no server"):
        await emulator.dm_bot(stranger, "hi")
    with pytest.raises(ValueError, match="empty"):
        await emulator.dm_bot(member, "   ")
    with pytest.raises(ValueError, match="4000"):
        await emulator.dm_bot(member, "x" * 4001)
    assert (await emulator.dm_bot(member, "x" * 4000)).content == "x" * 4000
    elsewhere = await emulator.as_user(member).send("in #general", channel=discord_server.general)
    with pytest.raises(LookupError, match="cannot reply"):
        await emulator.dm_bot(member, "going", reply_to=elsewhere)
    mine = await emulator.dm_bot(member, "first")
    emulator.messages[mine.id].deleted = True
    with pytest.raises(MessageGone):
        await emulator.dm_bot(member, "going", reply_to=mine)
    closed = build_guild(emulator, "Quiet Circle", members=1, dms_closed=1).member
    assert closed.dms_closed
    assert (await emulator.dm_bot(closed, "can't")).content == "can't"
    assert emulator.dm_channels.get(stranger.id) is None


async def test_without_message_content_a_guild_replys_referenced_message_is_withheld_too(
    emulator: Emulator, discord_server: Server
) -> None:
    """The replied-to message in ``referenced_message`` is a message object: the same
    exceptions decide whether an app without MESSAGE_CONTENT sees its content (the bot's own
    message: yes; another member's: no). DMs keep everything."""
    async with running_bot(emulator, make_test_bot()) as running:
        general = running.get_channel(discord_server.general.id)
        assert isinstance(general, discord.TextChannel)
        own = await general.send("Who is coming on Thursday?")
        a, b = (emulator.as_user(u) for u in discord_server.members[:2])
        chat = await a.send("lovely weather", channel=discord_server.general)
        to_chat = await b.send("it is!", channel=discord_server.general, reply_to=chat)
        to_bot = await b.send("me", channel=discord_server.general, reply_to=own)
        reminder = await (await running.fetch_user(b.user.id)).send("See you Thursday")
        in_dm = await b.send_dm("thanks", reply_to=reminder)
        await emulator.wait_until(
            lambda: len(_payloads(emulator, "MESSAGE_CREATE")) == 6, what="six messages"
        )
    sent = {p["id"]: p for p in _payloads(emulator, "MESSAGE_CREATE")}
    reply_to_chat = sent[str(to_chat.id)]
    assert (reply_to_chat["content"], reply_to_chat["referenced_message"]["content"]) == ("", "")
    assert reply_to_chat["message_reference"]["guild_id"] == str(discord_server.guild.id)
    reply_to_bot = sent[str(to_bot.id)]
    assert reply_to_bot["content"] == ""  # a reply is not a mention unless it says so
    assert reply_to_bot["referenced_message"]["content"] == "Who is coming on Thursday?"
    dm = sent[str(in_dm.id)]
    assert (dm["content"], dm["referenced_message"]["content"]) == ("thanks", "See you Thursday")


async def test_the_control_api_sends_dms_and_refuses_a_stranger() -> None:
    emu = Emulator()
    emu.control_api = True
    server = build_guild(emu)
    emu.create_user("outsider")
    await emu.start()
    try:
        reminder = emu.create_message(emu.dm_channel_for(server.member), emu.bot_user, content="?")
        url = f"{emu.base_url}/_emulator/act"
        async with aiohttp.ClientSession() as session:
            act = {"user": "member1", "say": "maybe", "dm": True, "reply_to": str(reminder.id)}
            async with session.post(url, json=act) as resp:
                assert resp.status == 200
                sent = emu.messages[int((await resp.json())["sent"]["id"])]
            async with session.post(
                url, json={"user": "outsider", "say": "hi", "dm": True}
            ) as resp:
                assert resp.status == 403
        assert sent.channel_id == reminder.channel_id
        assert sent.message_reference is not None
        assert sent.message_reference["message_id"] == str(reminder.id)
    finally:
        await emu.stop()
