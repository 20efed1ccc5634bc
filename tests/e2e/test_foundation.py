"""The foundation end to end: the real discord.py client, the emulator, Holdfast's runtime."""

from __future__ import annotations

import asyncio
import signal
import sqlite3
from pathlib import Path

import discord
import pytest
from discord import app_commands
from pydantic import SecretStr

from bot.app import HoldfastBot
from bot.clock import ManualClock
from bot.config import Settings
from bot.migrate import load_migrations
from tests.e2e.conftest import BotProcess, realistic_token, start_holdfast
from tests.emulator.factories import Server
from tests.emulator.server import Emulator

MANAGE_GUILD = 1 << 5


def guild_command_syncs(emulator: Emulator) -> int:
    return sum(
        1
        for r in emulator.requests
        if r.method == "PUT" and r.path.endswith("/commands") and "/guilds/" in r.path
    )


async def test_bot_logs_in_syncs_to_the_test_guild_and_answers_about(
    holdfast: HoldfastBot, emulator: Emulator, discord_server: Server
) -> None:
    commands = await emulator.wait_for_commands("about", "status", guild=discord_server.guild)
    assert {c.name for c in commands} == {
        "about",
        "status",
        "help",
        "group",
        "meeting",
        "series",
        "reminders",
        "rota",
        "trends",
        "audit",
        "suggest",
    }
    # Discord offers only global commands in DMs: with GUILD_IDS set, exactly the commands
    # usable in DMs are synced globally (and not copied to the server, which would show twice).
    dm_commands = {c.name: c for c in emulator.commands_for(None)}
    assert set(dm_commands) == {"checkin", "checkin-nudge", "mycheckins", "reachout", "mydata"}
    assert all(sorted(c.contexts or []) == [0, 1] for c in dm_commands.values())

    reply = await emulator.as_user(discord_server.member).run("/about")
    response = await reply.wait_for_response()
    assert response.ephemeral
    assert "Holdfast" in response.content
    assert "never one person's answers" in response.content


async def test_status_is_for_admins_and_answers_privately(
    holdfast: HoldfastBot, emulator: Emulator, discord_server: Server, clock: ManualClock
) -> None:
    commands = await emulator.wait_for_commands("status", guild=discord_server.guild)
    status = next(c for c in commands if c.name == "status")
    assert int(status.default_member_permissions or 0) == MANAGE_GUILD

    reply = await emulator.as_user(discord_server.admin).run("/status")
    response = await reply.wait_for_response()
    assert response.ephemeral
    assert "Holdfast is running" in response.content
    assert f"database schema {len(load_migrations())}" in response.content
    assert "Servers: 1" in response.content
    assert f"<t:{int(clock.now().timestamp())}:F>" in response.content
    assert "Deliveries: 0 pending, 0 sent, 0 skipped, 0 failed." in response.content
    assert "Next due: nothing waiting." in response.content


async def test_identify_uses_minimal_intents(holdfast: HoldfastBot, emulator: Emulator) -> None:
    identified = [s.intents for s in emulator.gateway.sessions.values()]
    # Guilds; voice states for who is in a meeting's room (groups that note who came); DMs for
    # answers by a word and scheduled events for Interested clicks (issue 16); none privileged,
    # no message content.
    wanted = discord.Intents(
        guilds=True, voice_states=True, dm_messages=True, guild_scheduled_events=True
    )
    assert identified == [wanted.value]
    privileged = discord.Intents(members=True, presences=True, message_content=True)
    assert not (wanted.value & privileged.value)


async def test_unchanged_commands_are_not_synced_again_after_a_restart(
    emulator: Emulator, holdfast_settings: Settings, clock: ManualClock, discord_server: Server
) -> None:
    async with start_holdfast(emulator, holdfast_settings, clock):
        await emulator.wait_for_commands("about", guild=discord_server.guild)
    assert guild_command_syncs(emulator) == 1

    async with start_holdfast(emulator, holdfast_settings, clock) as bot:
        assert [o.synced for o in bot.sync_outcomes] == [False, False]
    assert guild_command_syncs(emulator) == 1

    class WithAnotherCommand(HoldfastBot):
        async def setup_hook(self) -> None:
            @app_commands.command(name="ping")
            async def ping(interaction: discord.Interaction) -> None:
                """Check the bot answers."""
                await interaction.response.send_message("pong", ephemeral=True)

            self.tree.add_command(ping)
            await super().setup_hook()

    async with start_holdfast(emulator, holdfast_settings, clock, WithAnotherCommand) as bot:
        # The server's set changed; the global (DM) set did not, so only the server syncs.
        assert [o.synced for o in bot.sync_outcomes] == [True, False]
        await emulator.wait_for_commands("about", "status", "ping", guild=discord_server.guild)
    assert guild_command_syncs(emulator) == 2


async def test_shutdown_finishes_a_command_already_in_flight(
    emulator: Emulator, holdfast_settings: Settings, clock: ManualClock, discord_server: Server
) -> None:
    started = asyncio.Event()
    release = asyncio.Event()

    class WithSlowCommand(HoldfastBot):
        async def setup_hook(self) -> None:
            @app_commands.command(name="slow")
            async def slow(interaction: discord.Interaction) -> None:
                """Takes its time."""
                await interaction.response.defer(ephemeral=True)
                started.set()
                await release.wait()
                await interaction.followup.send("finished", ephemeral=True)

            self.tree.add_command(slow)
            await super().setup_hook()

    async with start_holdfast(emulator, holdfast_settings, clock, WithSlowCommand) as bot:
        await emulator.wait_for_commands("slow", guild=discord_server.guild)
        handle = await emulator.as_user(discord_server.member).run("/slow")
        await asyncio.wait_for(started.wait(), 5)
        closing = asyncio.create_task(bot.close())
        await asyncio.sleep(0)
        assert not closing.done(), "close waits for the handler that is still running"
        release.set()
        await asyncio.wait_for(closing, 10)
        # After a deferral Discord shows the first followup in place of "thinking…".
        assert await handle.wait_for_text("finished") == "finished"
        assert bot.is_closed()
        with pytest.raises(RuntimeError):
            _ = bot.db


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
async def test_process_stops_cleanly_on_signal(
    bot_process: BotProcess, emulator: Emulator, discord_server: Server, sig: signal.Signals
) -> None:
    await bot_process.start()
    reply = await emulator.as_user(discord_server.member).run("/about")
    assert (await reply.wait_for_response()).ephemeral

    assert await bot_process.stop(sig) == 0
    out = bot_process.output
    assert "database closed" in out
    assert "Holdfast stopped cleanly." in out
    assert "Traceback" not in out
    assert bot_process.settings.token not in out


async def test_sigkill_then_restart_on_the_same_database(
    bot_process: BotProcess, emulator: Emulator, discord_server: Server
) -> None:
    await bot_process.start()
    assert await bot_process.kill() == -signal.SIGKILL
    syncs_before = guild_command_syncs(emulator)

    await bot_process.start()
    assert guild_command_syncs(emulator) == syncs_before, "nothing changed, so no re-sync"
    reply = await emulator.as_user(discord_server.member).run("/about")
    assert "Holdfast" in (await reply.wait_for_response()).content
    assert await bot_process.stop() == 0

    db = sqlite3.connect(bot_process.settings.DATABASE_PATH)
    try:
        assert db.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    finally:
        db.close()


async def test_only_one_process_per_database(
    bot_process: BotProcess, second_bot_process: BotProcess
) -> None:
    await bot_process.start()
    await second_bot_process.start(wait_ready=False)
    assert await second_bot_process.wait_exit() == 1
    assert "already running" in second_bot_process.output
    assert "Traceback" not in second_bot_process.output


async def test_rejected_token_gets_a_one_line_explanation(
    emulator: Emulator, holdfast_settings: Settings, tmp_path: Path
) -> None:
    wrong = realistic_token(emulator.bot_user.id)
    settings = holdfast_settings.model_copy(update={"DISCORD_TOKEN": SecretStr(wrong)})
    process = BotProcess(settings, cwd=tmp_path)
    try:
        await process.start(wait_ready=False)
        assert await process.wait_exit() == 1
    finally:
        await process.cleanup()
    errors = [line for line in process.lines if "ERROR" in line]
    assert len(errors) == 1, process.output
    assert "Discord did not accept DISCORD_TOKEN" in errors[0]
    assert "Traceback" not in process.output
    assert wrong not in process.output


async def test_status_is_hidden_from_members_like_on_discord(
    holdfast: HoldfastBot, emulator: Emulator, discord_server: Server
) -> None:
    await emulator.wait_for_commands("status", guild=discord_server.guild)
    with pytest.raises(PermissionError, match="cannot see /status"):
        await emulator.as_user(discord_server.member).run("/status")
    # Synced to the server only (GUILD_IDS), so Discord offers it nowhere else.
    with pytest.raises(LookupError, match="no synced command /status for this channel"):
        await emulator.as_user(discord_server.admin).run("/status", dm=True)


async def test_a_server_the_bot_is_not_in_gets_a_clear_message_and_the_rest_still_work(
    emulator: Emulator,
    holdfast_settings: Settings,
    clock: ManualClock,
    discord_server: Server,
    caplog: pytest.LogCaptureFixture,
) -> None:
    stranger = 123456789012345678
    settings = holdfast_settings.model_copy(
        update={"GUILD_IDS": (stranger, discord_server.guild.id)}
    )
    async with start_holdfast(emulator, settings, clock) as bot:
        # The unknown server fails, the real one and the global (DM) set sync.
        assert [(o.synced, o.failed) for o in bot.sync_outcomes] == [
            (False, True),
            (True, False),
            (True, False),
        ]
        reply = await emulator.as_user(discord_server.member).run("/about")
        assert (await reply.wait_for_response()).ephemeral
    errors = [r for r in caplog.records if r.levelname == "ERROR"]
    assert [r.getMessage() for r in errors] == [
        f"GUILD_IDS includes {stranger}, but Holdfast is not in that server. Invite it "
        "(see the README) or remove the id from GUILD_IDS."
    ]
    assert errors[0].exc_info is None


async def test_an_unexpected_failure_at_start_is_one_line_not_a_traceback(
    bot_process: BotProcess, emulator: Emulator
) -> None:
    emulator.faults.server_error("GET", "/oauth2/applications/@me", status=403)
    await bot_process.start(wait_ready=False)
    assert await bot_process.wait_exit() == 1
    assert "stopped because of an unexpected problem" in bot_process.output
    assert "LOG_LEVEL=DEBUG" in bot_process.output
    assert "Traceback" not in bot_process.output
    assert "voice will NOT be supported" not in bot_process.output


@pytest.mark.parametrize("defer_first", [False, True], ids=["unanswered", "deferred"])
async def test_a_failing_command_gets_a_kind_reply_and_the_log_keeps_the_words_out(
    emulator: Emulator,
    holdfast_settings: Settings,
    clock: ManualClock,
    discord_server: Server,
    caplog: pytest.LogCaptureFixture,
    defer_first: bool,
) -> None:
    sentinel = "sentinel-private-words-4711"

    class WithBrokenCommand(HoldfastBot):
        async def setup_hook(self) -> None:
            @app_commands.command(name="broken")
            async def broken(interaction: discord.Interaction, note: str) -> None:
                """Always fails."""
                if defer_first:
                    await interaction.response.defer(ephemeral=True)
                raise RuntimeError("the service fell over")

            self.tree.add_command(broken)
            await super().setup_hook()

    async with start_holdfast(emulator, holdfast_settings, clock, WithBrokenCommand):
        await emulator.wait_for_commands("broken", guild=discord_server.guild)
        handle = await emulator.as_user(discord_server.member).run("/broken", note=sentinel)
        text = await handle.wait_for_text("Sorry, something went wrong")
        assert "nothing was changed" in text
        assert handle.ephemeral
    assert "command /broken failed" in caplog.text
    assert sentinel not in caplog.text
    assert not emulator.requests_containing(sentinel)
