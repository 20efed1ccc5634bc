"""`python -m tests.emulator`: the demo server a person points a real bot at."""

from __future__ import annotations

import aiohttp
import discord

from tests.emulator import make_test_bot, running_bot
from tests.emulator.__main__ import parse_args, start_demo


async def test_demo_prints_settings_and_serves_a_bot() -> None:
    emulator, server, lines = await start_demo(parse_args(["--port", "0", "--token", "tok"]))
    try:
        settings = dict(
            line.split("=", 1) for line in lines if line.startswith(("DISCORD_", "GUILD_IDS"))
        )
        assert settings == {
            "DISCORD_API_BASE_URL": emulator.api_base_url,
            "DISCORD_GATEWAY_URL": emulator.gateway_url,
            "DISCORD_TOKEN": "tok",
            "GUILD_IDS": str(server.guild.id),
        }
        bot = make_test_bot()

        @bot.tree.command(name="help", description="Help")
        async def help_(interaction: discord.Interaction) -> None:
            await interaction.response.send_message("Here to help")

        async with running_bot(emulator, bot, "tok"):
            await bot.tree.sync()
            await emulator.wait_for_commands("help")
            async with aiohttp.ClientSession() as session:
                act = {"user": "member1", "run": "/help"}
                async with session.post(f"{emulator.base_url}/_emulator/act", json=act) as resp:
                    assert (await resp.json())["texts"][0] == "Here to help"
                async with session.get(f"{emulator.base_url}/_emulator/state") as resp:
                    state = await resp.json()
        general = state["guilds"][0]["channels"]["general"]
        assert [m["text"] for m in general] == ["Here to help"]
        assert server.guild.name == "Demo Peer Support"
    finally:
        await emulator.stop()


async def test_a_member_running_an_admin_command_is_refused_with_the_reason_not_a_500() -> None:
    """Discord hides a command whose default_member_permissions the person lacks
    (Application Commands: Permissions); the control API answers 403 with why."""
    emulator, _server, _lines = await start_demo(parse_args(["--port", "0", "--token", "tok"]))
    try:
        bot = make_test_bot()

        @bot.tree.command(name="status", description="Status")
        @discord.app_commands.default_permissions(manage_guild=True)
        async def status(interaction: discord.Interaction) -> None:
            await interaction.response.send_message("all well")

        async with running_bot(emulator, bot, "tok"):
            await bot.tree.sync()
            await emulator.wait_for_commands("status")
            async with aiohttp.ClientSession() as session:
                act = {"user": "member1", "run": "/status"}
                async with session.post(f"{emulator.base_url}/_emulator/act", json=act) as resp:
                    assert resp.status == 403
                    answer = await resp.json()
                act = {"user": "admin1", "run": "/status"}
                async with session.post(f"{emulator.base_url}/_emulator/act", json=act) as resp:
                    assert resp.status == 200
                    assert (await resp.json())["texts"][0] == "all well"
        assert "member1 cannot see /status" in answer["error"]
        assert "Traceback" not in answer["error"]
    finally:
        await emulator.stop()
