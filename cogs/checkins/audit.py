"""/audit: for admins, who has looked at group trends, and when."""

from __future__ import annotations

import discord
from discord import app_commands

from bot.checkins import trends
from bot.groups import access
from bot.texts import checkins as texts
from cogs._interaction import Interaction, actor_of, holdfast


@app_commands.command(name="audit")
@app_commands.guild_only()
@app_commands.default_permissions(manage_guild=True)
async def audit(interaction: Interaction) -> None:
    """For admins: who has looked at group trends, and when."""
    assert interaction.guild_id is not None
    access.require_admin(actor_of(interaction))
    bot = holdfast(interaction)
    found = await trends.audit_log(bot.db, interaction.guild_id)
    text = (
        texts.audit_lines([(e.viewer_id, e.viewed_at, e.group_name, e.months) for e in found])
        if found
        else texts.audit_empty()
    )
    await interaction.response.send_message(
        text, ephemeral=True, allowed_mentions=discord.AllowedMentions.none()
    )
