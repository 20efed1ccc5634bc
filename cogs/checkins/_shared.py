"""What the check-in commands share: where they can be used, and a guard that keeps a card's
answers out of the log."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

from discord import app_commands

from bot import texts as root_texts
from bot.app import send_ephemeral
from bot.errors import HoldfastError
from cogs._interaction import AnyInteraction

log = logging.getLogger("cogs.checkins")

# Usable in a server and in DMs with the bot; registered globally even when GUILD_IDS is set.
dm_usable = app_commands.allowed_contexts(guilds=True, dms=True, private_channels=False)
installed_in_servers = app_commands.allowed_installs(guilds=True, users=False)


async def private_guard(interaction: AnyInteraction, work: Callable[[], Awaitable[None]]) -> None:
    """Like `guarded`, but the log never names the button: a check-in's custom id carries the
    answers picked so far, and nothing about a check-in may reach the log."""
    try:
        await work()
    except HoldfastError as error:
        await send_ephemeral(interaction, str(error))
    except Exception:
        log.exception("a check-in button or form failed")
        await send_ephemeral(interaction, root_texts.something_went_wrong())
