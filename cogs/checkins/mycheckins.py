"""/mycheckins: a member's own check-ins and a chart of them, shown only to them."""

from __future__ import annotations

import asyncio
import io

import discord
from discord import app_commands

from bot.checkins import charts, entries
from bot.texts import checkins as texts
from cogs._interaction import Interaction, holdfast
from cogs.checkins._shared import dm_usable, installed_in_servers

SHOWN = 10


@app_commands.command(name="mycheckins")
@dm_usable
@installed_in_servers
async def mycheckins(interaction: Interaction) -> None:
    """Your own check-ins and a chart of them (only you see this)."""
    bot = holdfast(interaction)
    await interaction.response.defer(ephemeral=True, thinking=True)
    own = await entries.own_checkins(bot.db, bot.note_keys, interaction.user.id)
    text = texts.own_history(
        [
            (c.created_at, c.answers.mood, c.answers.stress, c.answers.supported, c.note)
            for c in own[:SHOWN]
        ],
        chart=charts.own_words(own),
    )
    if not own:
        await interaction.followup.send(text, ephemeral=True)
        return
    # matplotlib loads on the first chart (in this worker thread), not when the bot starts.
    zone = await entries.reader_zone(bot.db, interaction.user.id)
    png = await asyncio.to_thread(charts.own_chart, own, zone)
    await interaction.followup.send(
        text,
        file=discord.File(
            io.BytesIO(png), filename=texts.own_chart_filename(), description=texts.own_chart_alt()
        ),
        ephemeral=True,
    )
