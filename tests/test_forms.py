"""The forms' one submit path reads what was typed as discord.py itself does: a real discord.py bot
opens a modal with a field in an action row and one in a Label (discord.py 2.7's ui.Label), the
emulator submits it as Discord does ("Modal Submit Data Structure": the modal's custom id and
its components as component interaction response structures), and `submitted_values` finds the
same values that discord.py's own Modal handed its fields."""

from __future__ import annotations

import asyncio
from typing import Any

import discord
from discord import app_commands
from discord.ext import commands

from cogs._forms import submitted_values
from tests.emulator import Emulator, Server, make_test_bot, running_bot


class TwoFields(discord.ui.Modal, title="Two fields"):
    in_row: discord.ui.TextInput[TwoFields] = discord.ui.TextInput(
        label="In a row", custom_id="row", required=False
    )
    in_label: discord.ui.Label[TwoFields] = discord.ui.Label(
        text="In a label",
        component=discord.ui.TextInput(
            custom_id="label", style=discord.TextStyle.paragraph, required=False
        ),
    )

    def __init__(self, seen: asyncio.Future[dict[str, str]]) -> None:
        super().__init__(custom_id="form:two")
        self.seen = seen

    async def on_submit(self, interaction: discord.Interaction) -> None:
        inner = self.in_label.component
        assert isinstance(inner, discord.ui.TextInput)
        self.seen.set_result({"row": self.in_row.value, "label": inner.value})
        await interaction.response.send_message("thanks", ephemeral=True)


async def test_submitted_values_agree_with_discord_py_for_rows_and_labels(
    emulator: Emulator, discord_server: Server
) -> None:
    loop = asyncio.get_running_loop()
    by_discord_py: asyncio.Future[dict[str, str]] = loop.create_future()
    submits: list[dict[str, Any]] = []

    class Cog(commands.Cog):
        @app_commands.command(name="form", description="A form")
        async def form(self, interaction: discord.Interaction) -> None:
            await interaction.response.send_modal(TwoFields(by_discord_py))

        @commands.Cog.listener()
        async def on_interaction(self, interaction: discord.Interaction) -> None:
            if interaction.type is discord.InteractionType.modal_submit:
                submits.append(dict(interaction.data or {}))

    bot = make_test_bot()
    await bot.add_cog(Cog())
    async with running_bot(emulator, bot):
        await bot.tree.sync()
        await emulator.wait_for_commands("form")
        member = emulator.as_user(discord_server.member)
        opened = await member.run("/form")
        await opened.wait_for_modal()
        typed = {"row": "short answer", "label": "a longer one\nover two lines"}
        done = await member.submit_modal(opened, typed)
        await done.wait_for_text("thanks")
        assert await asyncio.wait_for(by_discord_py, 5) == typed
    (data,) = submits
    assert set(data) == {"custom_id", "components"}
    assert data["custom_id"] == "form:two"
    assert [c["type"] for c in data["components"]] == [1, 18]
    assert submitted_values(data["components"]) == typed


def test_submitted_values_ignore_what_is_not_a_typed_field() -> None:
    components: list[object] = [
        {"type": 10, "id": 1},  # a text display: nothing typed
        {"type": 18, "id": 2, "component": {"type": 3, "id": 3, "custom_id": "s", "values": []}},
        {"type": 1, "id": 4, "components": [{"type": 4, "id": 5, "custom_id": "t", "value": ""}]},
        "not a component",
    ]
    assert submitted_values(components) == {"t": ""}
    assert submitted_values(None) == {}
