"""What every cog does the same way: who is asking, and turning domain errors into kind replies."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

import discord

from bot import texts
from bot.app import HoldfastBot, send_ephemeral
from bot.errors import HoldfastError
from bot.groups.model import Actor

log = logging.getLogger(__name__)

Interaction = discord.Interaction[HoldfastBot]


def actor_of(interaction: Interaction) -> Actor:
    """The person asking, from what Discord sent with the interaction (no member lookups)."""
    user = interaction.user
    roles = (
        frozenset(role.id for role in user.roles) if isinstance(user, discord.Member) else frozenset()
    )
    permissions = interaction.permissions
    return Actor(
        user_id=user.id,
        role_ids=roles,
        is_admin=permissions.manage_guild or permissions.administrator,
    )


async def guarded(interaction: Interaction, work: Callable[[], Awaitable[None]]) -> None:
    """Run a button or modal handler; a domain error becomes a kind, private reply.

    discord.py only logs exceptions from dynamic items, which would leave the member with
    "This interaction failed"; this makes sure they always hear something.
    """
    try:
        await work()
    except HoldfastError as error:
        await send_ephemeral(interaction, str(error))
    except Exception:
        custom_id = (interaction.data or {}).get("custom_id", "?")
        log.exception("button %s failed", custom_id)
        await send_ephemeral(interaction, texts.something_went_wrong())
