"""The emulator's rule for role mentions (``mention_roles``), from Discord's documentation:
Role object ``mentionable``, the MENTION_EVERYONE permission, and the Allowed Mentions object."""

from __future__ import annotations

from tests.emulator import Emulator, Server
from tests.emulator.model import JSON
from tests.emulator.permissions import P


def notified(
    emulator: Emulator, server: Server, content: str, allowed: JSON | None = None
) -> list[str]:
    message = emulator.create_message(
        server.facilitators_channel, emulator.app.bot_user, content=content
    )
    message.allowed_mentions = allowed
    return list(emulator.message_json(message)["mention_roles"])


async def test_a_role_that_is_not_mentionable_is_not_notified(
    emulator: Emulator, discord_server: Server
) -> None:
    role = discord_server.facilitator_role
    assert not role.mentionable
    assert (
        not emulator.permissions_in(discord_server.facilitators_channel, emulator.app.bot_user.id)
        & P.MENTION_EVERYONE
    )
    assert notified(emulator, discord_server, f"<@&{role.id}> hello") == []
    assert role.to_json()["mentionable"] is False


async def test_a_mentionable_role_is_notified_when_allowed_mentions_let_it_through(
    emulator: Emulator, discord_server: Server
) -> None:
    role = discord_server.facilitator_role
    await emulator.update_role(role, mentionable=True)
    text = f"<@&{role.id}> hello"
    assert role.to_json()["mentionable"] is True
    assert notified(emulator, discord_server, text) == [str(role.id)]
    assert notified(emulator, discord_server, text, {"parse": ["roles"]}) == [str(role.id)]
    assert notified(emulator, discord_server, text, {"roles": [str(role.id)]}) == [str(role.id)]
    # Allowed Mentions: "parse": [] or only users suppresses role mentions.
    assert notified(emulator, discord_server, text, {"parse": []}) == []
    assert notified(emulator, discord_server, text, {"parse": ["users"]}) == []
    # A role of another server, or a deleted one, is nobody to notify.
    await emulator.delete_role(role)
    assert notified(emulator, discord_server, text) == []


async def test_mention_everyone_in_the_channel_lets_the_author_ping_any_role(
    emulator: Emulator, discord_server: Server
) -> None:
    role = discord_server.facilitator_role
    channel = discord_server.facilitators_channel
    [mine] = [o for o in channel.overwrites if o.id == emulator.app.bot_user.id]
    mine.allow |= P.MENTION_EVERYONE
    assert notified(emulator, discord_server, f"<@&{role.id}>") == [str(role.id)]
    # Only in that channel: elsewhere the same role is not notified.
    elsewhere = emulator.create_message(
        discord_server.general, emulator.app.bot_user, content=f"<@&{role.id}>"
    )
    assert emulator.message_json(elsewhere)["mention_roles"] == []
