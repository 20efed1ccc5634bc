"""Files, replies and deleted messages as Discord handles them (issue 7): attachments kept on
every route that takes files, served at their own URLs; upload limit and Attach Files; replies
to unknown messages; no clicks on deleted messages."""

from __future__ import annotations

import io

import aiohttp
import discord
import pytest
from discord.ext import commands

from tests.emulator import (
    Emulator,
    InteractionType,
    MessageGone,
    Overwrite,
    P,
    Server,
    make_test_bot,
    running_bot,
)

ICS = b"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nEND:VCALENDAR\r\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32


def _text_channel(bot: commands.Bot, channel_id: int) -> discord.TextChannel:
    channel = bot.get_channel(channel_id)
    assert isinstance(channel, discord.TextChannel)
    return channel


def _file(data: bytes, name: str) -> discord.File:
    return discord.File(io.BytesIO(data), filename=name)


async def test_attachments_have_their_own_url_type_and_bytes_like_discords_cdn(
    emulator: Emulator, discord_server: Server
) -> None:
    """Attachment object: id, filename, size, url, proxy_url, content_type. Each upload gets
    its own URL (two files with one name too) and discord.py's ``Attachment.read()`` fetches
    the bytes from it."""
    async with running_bot(emulator, make_test_bot()) as bot:
        channel = _text_channel(bot, discord_server.meetings.id)
        sent = await channel.send(
            "charts", files=[_file(PNG, "chart.png"), _file(PNG + b"2", "chart.png")]
        )
        first, second = sent.attachments
        assert first.url != second.url
        assert (first.filename, first.content_type, first.size) == (
            "chart.png",
            "image/png",
            len(PNG),
        )
        assert await first.read() == PNG
        assert await second.read() == PNG + b"2"
        calendar = await channel.send(file=_file(ICS, "meeting.ics"))
        ics = calendar.attachments[0]
        assert ics.content_type == "text/calendar; charset=utf-8"
        async with aiohttp.ClientSession() as session, session.get(ics.url) as resp:
            assert resp.status == 200
            assert await resp.read() == ICS
            assert resp.headers["Content-Type"] == "text/calendar; charset=utf-8"
        assert emulator.attachment_bytes(ics) == ICS
        stored = emulator.messages[calendar.id].attachments[0]
        assert emulator.attachment_bytes(stored) == ICS
        await calendar.delete()
        async with aiohttp.ClientSession() as session, session.get(ics.url) as resp:
            assert resp.status == 404


async def test_files_are_kept_on_interaction_responses_followups_and_edits(
    emulator: Emulator, discord_server: Server
) -> None:
    """Discord keeps files sent with an interaction response (type 4), followups, ``@original``
    edits and message edits; an edit's ``attachments`` array says which existing ones stay
    (Edit Message: "attachments which are not provided in this list will be removed")."""
    bot = make_test_bot()
    edited: list[discord.Message] = []

    @bot.tree.command(name="calendar")
    async def calendar(interaction: discord.Interaction) -> None:
        """Sends a calendar file."""
        await interaction.response.send_message("Your calendar", file=_file(ICS, "meeting.ics"))
        await interaction.followup.send("Chart", file=_file(PNG, "chart.png"))
        await interaction.edit_original_response(
            attachments=[_file(ICS + b"X-UPDATED\r\n", "meeting.ics")]
        )

    @bot.tree.command(name="thinking-file")
    async def thinking_file(interaction: discord.Interaction) -> None:
        """Defers, then answers with a file."""
        await interaction.response.defer()
        await interaction.followup.send("After thinking", file=_file(PNG, "late.png"))

    async with running_bot(emulator, bot):
        await bot.tree.sync()
        await emulator.wait_for_commands("calendar", "thinking-file")
        member = emulator.as_user(discord_server.member)
        run = await member.run("/calendar")
        chart = await run.wait_for_followup("Chart")
        await emulator.wait_until(
            lambda: (
                run.original is not None
                and run.original.attachments
                and emulator.attachment_bytes(run.original.attachments[0]).endswith(
                    b"X-UPDATED\r\n"
                )
            ),
            what="the @original edit with a new calendar",
        )
        assert run.original is not None
        assert [a["filename"] for a in run.original.attachments] == ["meeting.ics"]
        assert [emulator.attachment_bytes(a) for a in chart.attachments] == [PNG]
        late = await member.run("/thinking-file")
        await late.wait_for_text("After thinking")
        assert late.original is not None
        assert [a["filename"] for a in late.original.attachments] == ["late.png"]

        channel = _text_channel(bot, discord_server.general.id)
        message = await channel.send(
            "two files", files=[_file(b"one", "one.txt"), _file(b"two", "two.txt")]
        )
        keep_one = await message.edit(
            attachments=[message.attachments[1], _file(b"three", "three.txt")]
        )
        edited.append(keep_one)
        assert [a.filename for a in keep_one.attachments] == ["two.txt", "three.txt"]
        assert [await a.read() for a in keep_one.attachments] == [b"two", b"three"]
        with pytest.raises(discord.NotFound):
            await message.attachments[0].read()
        cleared = await keep_one.edit(attachments=[])
        assert cleared.attachments == []


async def test_upload_over_10_mib_is_413_request_entity_too_large(
    emulator: Emulator, discord_server: Server
) -> None:
    """A bot in an unboosted guild may upload 10 MiB per file; Discord refuses a bigger one
    with 413 / 40005 "Request entity too large" (discord-api-docs issue 8572)."""
    assert emulator.attachment_size_limit == 10 * 1024 * 1024
    async with running_bot(emulator, make_test_bot()) as bot:
        channel = _text_channel(bot, discord_server.general.id)
        with pytest.raises(discord.HTTPException) as info:
            await channel.send(file=_file(b"\0" * (10 * 1024 * 1024 + 1), "big.bin"))
        assert (info.value.status, info.value.code) == (413, 40005)
        assert "Request entity too large" in info.value.text
    assert emulator.messages_in(discord_server.general) == []


async def test_files_need_attach_files_permission(
    emulator: Emulator, discord_server: Server
) -> None:
    """ATTACH_FILES "allows for uploading images and files": without it a file upload to a
    guild channel is 403 / 50013 Missing Permissions (text alone still goes through)."""
    bot_role = next(
        r
        for r in discord_server.guild.members[emulator.bot_user.id].role_ids
        if r != discord_server.guild.id
    )
    discord_server.general.overwrites.append(Overwrite(id=bot_role, type=0, deny=P.ATTACH_FILES))
    discord_server.general.overwrites.append(
        Overwrite(id=discord_server.guild.id, type=0, deny=P.ATTACH_FILES)
    )
    async with running_bot(emulator, make_test_bot()) as bot:
        channel = _text_channel(bot, discord_server.general.id)
        with pytest.raises(discord.Forbidden) as info:
            await channel.send("calendar", file=_file(ICS, "meeting.ics"))
        assert info.value.code == 50013
        await channel.send("text only")
    assert [m.content for m in emulator.messages_in(discord_server.general)] == ["text only"]


async def test_files_go_to_a_dm_which_has_no_attach_files_overwrites(
    emulator: Emulator, discord_server: Server
) -> None:
    """A DM has no guild permissions to deny: discord.py's ``DMChannel.permissions_for`` gives
    ``Permissions._dm_permissions()`` (built on ``Permissions.text()``, attach_files included),
    so a bot may send a member their exported data as files."""
    async with running_bot(emulator, make_test_bot()) as bot:
        dm = await bot.create_dm(discord.Object(id=discord_server.member.id))
        sent = await dm.send("your data", file=_file(b'{"a": 1}', "data.json"))
        assert sent.attachments[0].filename == "data.json"
    assert emulator.attachment_bytes(emulator.dms_to(discord_server.member)[0].attachments[0]) == (
        b'{"a": 1}'
    )


async def test_reply_to_an_unknown_message_fails_unless_fail_if_not_exists_is_false(
    emulator: Emulator, discord_server: Server
) -> None:
    """Message Reference: ``fail_if_not_exists`` "whether to error if the referenced message
    doesn't exist instead of sending as a normal (non-reply) message, default true"."""
    member = emulator.as_user(discord_server.member)
    question = await member.send("when is the meeting?", channel=discord_server.general)
    elsewhere = await member.send("elsewhere", channel=discord_server.meetings)
    async with running_bot(emulator, make_test_bot()) as bot:
        channel = _text_channel(bot, discord_server.general.id)
        reply = await channel.send(
            "Tuesday",
            reference=discord.MessageReference(message_id=question.id, channel_id=channel.id),
        )
        assert reply.type is discord.MessageType.reply
        assert reply.reference is not None
        assert reply.reference.message_id == question.id
        assert isinstance(reply.reference.resolved, discord.Message)
        for missing in (question.id + 12345, elsewhere.id):
            ref = discord.MessageReference(message_id=missing, channel_id=channel.id)
            with pytest.raises(discord.HTTPException) as info:
                await channel.send("lost", reference=ref)
            assert info.value.code == 50035
            assert "Unknown message" in info.value.text
        lenient = discord.MessageReference(
            message_id=question.id + 12345, channel_id=channel.id, fail_if_not_exists=False
        )
        plain = await channel.send("sent anyway", reference=lenient)
        assert plain.reference is None
        assert plain.type is discord.MessageType.default
    assert [m.content for m in emulator.messages_in(discord_server.general)] == [
        "when is the meeting?",
        "Tuesday",
        "sent anyway",
    ]


async def test_nobody_can_click_a_button_on_a_deleted_message(
    emulator: Emulator, discord_server: Server
) -> None:
    """A deleted message disappears from every client, so no component interaction can come
    from it: the actor refuses, and the emulator never builds such an INTERACTION_CREATE."""
    bot = make_test_bot()

    class Going(discord.ui.View):
        @discord.ui.button(label="Going", custom_id="going")
        async def going(
            self, interaction: discord.Interaction, button: discord.ui.Button[Going]
        ) -> None:
            await interaction.response.send_message("noted", ephemeral=True)

    async with running_bot(emulator, bot):
        channel = _text_channel(bot, discord_server.general.id)
        sent = await channel.send("Meeting on Tuesday", view=Going())
        message = emulator.messages[sent.id]
        await sent.delete()
        member = emulator.as_user(discord_server.member)
        with pytest.raises(MessageGone, match="was deleted"):
            await member.click(message, "Going")
        with pytest.raises(ValueError, match="still exists"):
            emulator.interactions.create(
                type=InteractionType.MESSAGE_COMPONENT,
                user=discord_server.member,
                channel=discord_server.general,
                data={"custom_id": "going", "component_type": 2},
                source_message=message,
            )
    assert emulator.interactions.by_id == {}
