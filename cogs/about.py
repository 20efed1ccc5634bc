"""/about for everyone and /status for admins."""

from __future__ import annotations

import math

import discord
from discord import app_commands
from discord.ext import commands

from bot import __version__, texts
from bot.app import HoldfastBot
from bot.attendance import service as attendance
from bot.reminders.status import delivery_status
from bot.texts import attendance as attendance_texts
from bot.texts import reminders as reminder_texts


class About(commands.Cog):
    def __init__(self, bot: HoldfastBot) -> None:
        self.bot = bot

    @app_commands.command(name="about")
    async def about(self, interaction: discord.Interaction[HoldfastBot]) -> None:
        """What Holdfast does, and how it looks after your check-ins."""
        message = texts.about(self.bot.settings.PRIVACY_MIN_MEMBERS)
        if interaction.guild_id is not None and (
            noting := await attendance.groups_noting(self.bot.db, interaction.guild_id)
        ):
            message += attendance_texts.about_note(noting)
        await interaction.response.send_message(message, ephemeral=True)

    @app_commands.command(name="status")
    @app_commands.default_permissions(manage_guild=True)
    @app_commands.guild_only()
    async def status(self, interaction: discord.Interaction[HoldfastBot]) -> None:
        """For admins: check that Holdfast is running and healthy."""
        latency = self.bot.latency
        message = texts.status(
            version=__version__,
            schema_version=await self.bot.schema_version(),
            guilds=len(self.bot.guilds),
            latency_ms=None
            if math.isinf(latency) or math.isnan(latency)
            else round(latency * 1000),
            up_since=int(self.bot.started_at.timestamp()),
        )
        # This server's deliveries: counts, next due time and recent failure reasons; never
        # who or what, and never another server's.
        assert interaction.guild_id is not None
        found = await delivery_status(self.bot.db, interaction.guild_id)
        message += "\n" + reminder_texts.delivery_status(
            found.counts, found.next_due, found.last_errors
        )
        message += "\n" + await health_lines(self.bot)
        await interaction.response.send_message(message, ephemeral=True)


async def health_lines(bot: HoldfastBot) -> str:
    """Heartbeat, connection and overdue deliveries: what `python -m bot health` checks."""
    return (await bot.health()).status_lines()


async def setup(bot: HoldfastBot) -> None:
    await bot.add_cog(About(bot))
