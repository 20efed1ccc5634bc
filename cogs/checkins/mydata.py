"""/mydata export and /mydata delete (with its confirm button): everything Holdfast holds about
the person asking, theirs to take away or to erase."""

from __future__ import annotations

import io
import re
from typing import Any

import discord
from discord import app_commands

from bot.checkins import mydata
from bot.delivery.port import Button
from bot.discord_port import to_view
from bot.texts import checkins as texts
from cogs._interaction import AnyInteraction, Interaction, holdfast
from cogs.checkins._shared import dm_usable, installed_in_servers, private_guard

# On confirmations already shown: never change it.
DELETE = "mydata:delete"


class DeleteMyDataButton(
    discord.ui.DynamicItem[discord.ui.Button[discord.ui.View]], template=DELETE
):
    """Only ever on an ephemeral message, which only the person who asked can click."""

    @classmethod
    async def from_custom_id(
        cls, interaction: AnyInteraction, item: discord.ui.Item[Any], match: re.Match[str]
    ) -> DeleteMyDataButton:
        assert isinstance(item, discord.ui.Button)
        return cls(item)

    async def callback(self, interaction: AnyInteraction) -> None:
        async def work() -> None:
            bot = holdfast(interaction)
            result = await mydata.delete_everything(
                bot.db, bot.note_keys, interaction.user.id, bot.clock.now()
            )
            await interaction.response.edit_message(content=texts.deleted(), view=None)
            for meeting_id in result.meetings_answered:
                bot.refresh_announcement_soon(meeting_id)
            if result.meetings_answered:
                bot.alarm.wake()  # a freed place may have gone to someone waiting

        await private_guard(interaction, work)


def export_files(data: mydata.Export) -> list[discord.File]:
    named = {
        "data.json": data.json_text,
        "checkins.csv": data.checkins_csv,
        "memberships.csv": data.memberships_csv,
        "rsvps.csv": data.rsvps_csv,
    }
    return [
        discord.File(io.BytesIO(body.encode("utf-8")), filename=texts.export_filename(name))
        for name, body in named.items()
    ]


@dm_usable
@installed_in_servers
class MyDataCommands(
    app_commands.Group, name="mydata", description="Everything Holdfast holds about you"
):
    @app_commands.command(name="export")
    async def export(self, interaction: Interaction) -> None:
        """Send me everything Holdfast holds about me (JSON and CSV files, in a DM)."""
        bot = holdfast(interaction)
        await interaction.response.defer(ephemeral=True, thinking=True)
        data = await mydata.export(bot.db, bot.note_keys, interaction.user.id, bot.clock.now())
        try:
            dm = await interaction.user.create_dm()
            await dm.send(texts.export_dm(), files=export_files(data))
        except discord.HTTPException:
            await interaction.followup.send(
                texts.export_here(), files=export_files(data), ephemeral=True
            )
            return
        await interaction.followup.send(texts.export_sent(), ephemeral=True)

    @app_commands.command(name="delete")
    async def delete(self, interaction: Interaction) -> None:
        """Delete everything Holdfast holds about me (asks you to confirm first)."""
        view = to_view((Button(label=texts.delete_button(), custom_id=DELETE, style="danger"),))
        assert view is not None
        await interaction.response.send_message(texts.delete_confirm(), view=view, ephemeral=True)
