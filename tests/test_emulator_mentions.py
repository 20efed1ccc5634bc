"""Who a message mentions, as Discord works it out: the content says whom, `allowed_mentions` says
whom may be notified, and permissions say whether roles and @everyone can be at all.

Discord's docs (resources/message, "Allowed Mentions Object" and "Allowed Mentions Reference"):
mentions are parsed from the content when `allowed_mentions` is not passed (for interactions and
webhooks only user mentions are); `"parse": []` "will suppress all mentions"; listed ids are
mentioned only if the content mentions them; the field "will always validate against message
content ... and check against user/bot permissions" (MENTION_EVERYONE for @everyone, @here and
roles that are not mentionable, Role Object `mentionable`)."""

from __future__ import annotations

import discord
from discord.ext import commands

from tests.emulator import Emulator, P, Server, make_test_bot, running_bot

MESSAGES = "/channels/{channel_id}/messages"


def _channel(bot: commands.Bot, channel_id: int) -> discord.TextChannel:
    channel = bot.get_channel(channel_id)
    assert isinstance(channel, discord.TextChannel)
    return channel


def _grant_bot(emulator: Emulator, server: Server, permission: int) -> None:
    for role_id in server.guild.members[emulator.app.bot_user.id].role_ids:
        emulator.roles[role_id].permissions |= permission


def _mentions(emulator: Emulator, message: discord.Message) -> tuple[set[int], set[int], bool]:
    data = emulator.message_json(emulator.messages[message.id])
    return (
        {int(u["id"]) for u in data["mentions"]},
        {int(r) for r in data["mention_roles"]},
        data["mention_everyone"],
    )


async def test_allowed_mentions_reference_without_the_field_everything_in_the_content_is_parsed(
    emulator: Emulator, discord_server: Server
) -> None:
    s = discord_server
    _grant_bot(emulator, s, P.MENTION_EVERYONE)
    content = f"@everyone <@{s.member.id}> <@&{s.facilitator_role.id}>"
    async with running_bot(emulator, make_test_bot()) as bot:
        sent = await _channel(bot, s.general.id).send(content)
    [post] = emulator.requests_to("POST", MESSAGES)
    assert "allowed_mentions" not in post.body
    assert _mentions(emulator, sent) == ({s.member.id}, {s.facilitator_role.id}, True)


async def test_allowed_mentions_reference_parse_empty_suppresses_all_mentions(
    emulator: Emulator, discord_server: Server
) -> None:
    s = discord_server
    _grant_bot(emulator, s, P.MENTION_EVERYONE)
    content = f"@everyone @here <@{s.member.id}> <@!{s.member.id}> <@&{s.facilitator_role.id}>"
    async with running_bot(emulator, make_test_bot()) as bot:
        sent = await _channel(bot, s.general.id).send(
            content, allowed_mentions=discord.AllowedMentions.none()
        )
        assert (sent.mentions, sent.role_mentions, sent.mention_everyone) == ([], [], False)
    assert _mentions(emulator, sent) == (set(), set(), False)


async def test_allowed_mentions_reference_only_listed_ids_in_the_content_are_mentioned(
    emulator: Emulator, discord_server: Server
) -> None:
    s = discord_server
    _grant_bot(emulator, s, P.MENTION_EVERYONE)
    victim, intended, absent = s.members[0], s.members[1], s.members[2]
    content = f"@everyone <@{victim.id}> <@{intended.id}> <@&{s.member_role.id}>"
    async with running_bot(emulator, make_test_bot()) as bot:
        sent = await _channel(bot, s.general.id).send(
            content,
            allowed_mentions=discord.AllowedMentions(
                everyone=False,
                users=[discord.Object(intended.id), discord.Object(absent.id)],
                roles=[discord.Object(s.facilitator_role.id)],
            ),
        )
    # The victim is in the content but not allowed; `absent` is allowed but not in the
    # content; the member role is written but not allowed, the facilitator role the reverse.
    assert _mentions(emulator, sent) == ({intended.id}, set(), False)


async def test_roles_and_everyone_need_mention_everyone_or_a_mentionable_role(
    emulator: Emulator, discord_server: Server
) -> None:
    s = discord_server
    content = f"@everyone <@&{s.facilitator_role.id}> <@&{s.member_role.id}>"
    s.member_role.mentionable = True
    async with running_bot(emulator, make_test_bot()) as bot:
        sent = await _channel(bot, s.general.id).send(
            content, allowed_mentions=discord.AllowedMentions.all()
        )
    # Without MENTION_EVERYONE only the mentionable role is mentioned, and not @everyone.
    assert _mentions(emulator, sent) == (set(), {s.member_role.id}, False)
