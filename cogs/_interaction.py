"""What every cog does the same way: who is asking, and turning domain errors into kind replies."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

import discord

from bot.app import HoldfastBot, send_ephemeral
from bot.errors import HoldfastError
from bot.groups.model import Actor

log = logging.getLogger(__name__)

Interaction = discord.Interaction[HoldfastBot]
AnyInteraction = discord.Interaction[Any]
"""What discord.py hands dynamic items (typed for any client)."""


def holdfast(interaction: AnyInteraction) -> HoldfastBot:
    client = interaction.client
    assert isinstance(client, HoldfastBot)
    return client


def actor_of(interaction: AnyInteraction) -> Actor:
    """The person asking, from what Discord sent with the interaction (no member lookups)."""
    user = interaction.user
    roles = (
        frozenset(role.id for role in user.roles)
        if isinstance(user, discord.Member)
        else frozenset()
    )
    permissions = interaction.permissions
    return Actor(
        user_id=user.id,
        role_ids=roles,
        is_admin=permissions.manage_guild or permissions.administrator,
    )


def actor_for(user: discord.User | discord.Member) -> Actor:
    """Someone named in a command option, as Discord resolved them: their roles and server
    permissions (from the cached roles) if they are in this server; nothing otherwise."""
    if not isinstance(user, discord.Member):
        return Actor(user_id=user.id, is_bot=user.bot)
    permissions = user.guild_permissions
    return Actor(
        user_id=user.id,
        role_ids=frozenset(role.id for role in user.roles),
        is_admin=permissions.manage_guild or permissions.administrator,
        is_bot=user.bot,
    )


async def guarded(interaction: AnyInteraction, work: Callable[[], Awaitable[None]]) -> None:
    """Run a button or modal handler; a domain error becomes a kind, private reply.

    discord.py only logs exceptions from dynamic items, which would leave the member with
    "This interaction failed"; this makes sure they always hear something.
    """
    try:
        await work()
    except HoldfastError as error:
        await send_ephemeral(interaction, str(error))
    except Exception as error:
        data: dict[str, Any] = dict(interaction.data or {})
        # The button's kind only: the rest of a custom id may carry a check-in's answers.
        kind = ":".join(str(data.get("custom_id", "?")).split(":")[:2])
        await send_ephemeral(
            interaction, holdfast(interaction).failure_reply(error, f"button {kind}")
        )
