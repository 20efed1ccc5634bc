"""/trends: for facilitators, how their group has been, month by month (never anyone's answers).
What may be shown, and the audit of every view, are decided in bot/checkins/trends.py."""

from __future__ import annotations

import asyncio
import io

import discord
from discord import app_commands

from bot.checkins import charts, trends
from bot.groups import access
from bot.groups import service as groups
from bot.texts import checkins as texts
from cogs._interaction import Interaction, actor_of, holdfast
from cogs.groups import group_autocomplete


def month_lines(months: list[trends.MonthTrend]) -> list[str]:
    """Newest first; a month below the privacy floor says so and nothing else."""
    return [
        texts.trend_month_shown(
            m.month,
            m.band or "",
            {"mood": m.mood, "stress": m.stress, "supported": m.supported},
            m.distribution,
        )
        if m.shown
        else texts.trend_month_hidden(m.month)
        for m in reversed(months)
    ]


@app_commands.command(name="trends")
@app_commands.describe(group="Which group (empty if there is only one)")
@app_commands.autocomplete(group=group_autocomplete)
@app_commands.guild_only()
async def trends_command(interaction: Interaction, group: str | None = None) -> None:
    """For facilitators: how the group has been, month by month (never anyone's answers)."""
    assert interaction.guild_id is not None
    bot = holdfast(interaction)
    found = await groups.resolve_group(bot.db, interaction.guild_id, group)
    access.require_facilitator(found, actor_of(interaction))
    await interaction.response.defer(ephemeral=True, thinking=True)
    k = bot.settings.PRIVACY_MIN_MEMBERS
    months = await trends.view_trends(bot.db, found, interaction.user.id, k, bot.clock.now())
    embed = discord.Embed(
        title=None,
        description=texts.trends_text(
            texts.trends_heading(found.name, k),
            month_lines(months),
            chart=charts.trends_words(months),
        ),
    )
    embed.set_footer(text=texts.trends_footer())
    # matplotlib loads on the first chart (in this worker thread), not when the bot starts.
    png = await asyncio.to_thread(charts.trends_chart, months, found.name)
    await interaction.followup.send(
        embed=embed,
        file=discord.File(
            io.BytesIO(png),
            filename=texts.trends_chart_filename(),
            description=texts.trends_chart_alt(found.name),
        ),
        ephemeral=True,
    )
