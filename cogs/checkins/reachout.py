"""/reachout: a member asks their group's facilitators to get in touch (they see nothing else)."""

from __future__ import annotations

import discord
from discord import app_commands

from bot.checkins import entries
from bot.discord_port import allowed_mentions
from bot.errors import HoldfastError
from bot.texts import checkins as texts
from cogs._interaction import Interaction, holdfast
from cogs.checkins._shared import dm_usable, installed_in_servers


@app_commands.command(name="reachout")
@dm_usable
@installed_in_servers
async def reachout(interaction: Interaction) -> None:
    """Ask your group's facilitators to get in touch with you (they see nothing else)."""
    bot = holdfast(interaction)
    group = await entries.reachout_group(bot.db, bot.note_keys, interaction.user.id)
    assert group.facilitator_channel_id is not None
    try:
        await bot.get_partial_messageable(group.facilitator_channel_id).send(
            texts.reachout_request(group.facilitator_role_id, interaction.user.id, group.name),
            allowed_mentions=allowed_mentions(roles=(group.facilitator_role_id,)),
        )
    except discord.HTTPException:
        raise HoldfastError(texts.reachout_failed()) from None
    await interaction.response.send_message(texts.reachout_posted(group.name), ephemeral=True)
