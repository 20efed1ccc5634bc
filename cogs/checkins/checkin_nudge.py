"""/checkin-nudge: a gentle DM now and then with a one-click way into a check-in (off by default).
The nudge itself, its planning and its message are in bot/checkins/nudges.py."""

from __future__ import annotations

from discord import app_commands

from bot.checkins import nudges
from bot.texts import checkins as texts
from bot.zones import zone_suggestions
from cogs._interaction import Interaction, holdfast
from cogs.checkins._shared import dm_usable, installed_in_servers


async def zone_autocomplete(
    interaction: Interaction, current: str
) -> list[app_commands.Choice[str]]:
    return [app_commands.Choice(name=z, value=z) for z in zone_suggestions(current)]


@app_commands.command(name="checkin-nudge")
@app_commands.describe(
    how="Weekly, monthly, or off (nudges are off unless you turn them on)",
    day="Weekly: a weekday, e.g. Sunday. Monthly: a day from 1 to 28",
    at="The time, e.g. 19:30 or 7pm",
    timezone="Your time zone, e.g. Europe/London",
)
@app_commands.choices(
    how=[
        app_commands.Choice(name="Weekly", value="weekly"),
        app_commands.Choice(name="Monthly", value="monthly"),
        app_commands.Choice(name="Off", value="off"),
    ]
)
@app_commands.autocomplete(timezone=zone_autocomplete)
@dm_usable
@installed_in_servers
async def checkin_nudge(
    interaction: Interaction,
    how: str,
    day: str | None = None,
    at: str | None = None,
    timezone: str | None = None,
) -> None:
    """A gentle DM now and then with a one-click way into a check-in (off by default)."""
    bot = holdfast(interaction)
    now = bot.clock.now()
    if how == "off":
        await nudges.stop_nudge(bot.db, interaction.user.id, now)
        await interaction.response.send_message(texts.nudge_off(), ephemeral=True)
        return
    cadence: nudges.Cadence = "weekly" if how == "weekly" else "monthly"
    zone = timezone or bot.settings.DEFAULT_TIMEZONE
    nudge = nudges.parse_nudge(interaction.user.id, cadence, day, at, zone)
    await nudges.set_nudge(bot.db, nudge, now)
    bot.alarm.wake()
    await interaction.response.send_message(
        texts.nudge_set(cadence, nudge.day, nudge.local_time.strftime("%H:%M"), nudge.zone),
        ephemeral=True,
    )
